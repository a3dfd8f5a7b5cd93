"""``LocalSystem``: the whole product in one Python process on moto, no Docker.

Used by ``python -m local serve`` and by the e2e test fixtures::

    with LocalSystem(port=0, aws_port=0, time_scale=3600) as system:
        system.api_url, system.aws_url, system.token("C-1001", "customers"),
        system.client("stepfunctions"), system.names["table"] ...

Start order: fake credentials + the app's environment -> ``mock_aws`` (executing Step
Functions, Docker-less Lambda) + the patches of :mod:`local.moto` (``docs/local-engine.md``) +
the Lambda dispatcher -> moto server on ``aws_port`` (same backends) -> import the app -> Chalice's
functions -> the ``infra.resources`` stack -> SES sender -> SQS pollers -> HTTP API.
``stop()`` undoes it in reverse: executions stopped, threads joined, patches removed,
environment restored.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import moto
from botocore.config import Config as BotoConfig
from chalice.app import Chalice
from moto import mock_aws
from moto.server import ThreadedMotoServer

import local.moto
from infra import resources as infra
from local import stack, streams
from local.events import TimelineTap
from local.http import ApiServer, chalice_config
from local.lambda_dispatch import Handler, LambdaDispatcher
from local.sqs_poller import SqsEventSourcePoller
from local.timescale import TimeScale
from local.tokens import DEFAULT_SECRET_PATH, TokenIssuer

LOG = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_STAGE = "local"
REGION = stack.REGION
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
DEFAULT_EMAIL_SENDER = "no-reply@complaints.example.com"
# Over the variables of .chalice/config.json, under the resource variables: keep the console
# for lifecycle events (Powertools logs WARNING+, no EMF metric lines, no X-Ray).
LOCAL_APP_ENV = {
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
# Variables that would send the in-process clients somewhere else than moto.
_CLEARED_ENV = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
_IN_PROCESS = BotoConfig(retries={"total_max_attempts": 1})


class LocalSystem:
    """Everything of the product, in this process. Use as a context manager."""

    _active_lock = threading.Lock()
    _active: LocalSystem | None = None

    def __init__(
        self,
        *,
        app: Chalice | str = "app",
        stage: str = LOCAL_STAGE,
        host: str = "127.0.0.1",
        port: int = 8000,
        aws_port: int = 4566,
        time_scale: float = 60.0,
        email_sender: str = DEFAULT_EMAIL_SENDER,
        secret_path: Path = DEFAULT_SECRET_PATH,
        event_sink: Callable[[str], None] | None = None,
        extra_env: dict[str, str] | None = None,
        project_dir: Path = REPO_ROOT,
    ) -> None:
        self.stage = stage
        self.host = host
        self.clock = TimeScale(scale=float(time_scale))
        self.issuer = TokenIssuer.for_checkout(secret_path)
        self.names = infra.names(stage)
        self.env: dict[str, str] = {}
        self.resources: dict[str, str] = {}  # logical id -> physical id of the stack
        self.template_fixes = stack.TemplateFixes()
        self.account_id = ""
        self._app_spec = app
        self._app: Chalice | None = None
        self._port = port
        self._aws_port = aws_port
        self._email_sender = email_sender
        self._event_sink = event_sink
        self._extra_env = dict(extra_env or {})
        self._project_dir = project_dir
        self._dispatcher = LambdaDispatcher()
        self._exit = ExitStack()
        self._saved_env: dict[str, str | None] = {}
        self._moto_server: ThreadedMotoServer | None = None
        self._api: ApiServer | None = None
        self._pollers: list[SqsEventSourcePoller] = []
        self.stream_pollers: list[streams.DynamoDBStreamPoller] = []
        self._role_arn = ""
        self._started = False
        self.stopped_executions: dict[str, str] = {}  # execution ARN -> status, filled by stop()
        self._clients: dict[tuple[str, bool], Any] = {}
        self._clients_lock = threading.Lock()

    # --- public surface ---------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        assert self._api is not None, "LocalSystem not started"
        return self._api.url

    @property
    def aws_url(self) -> str:
        assert self._moto_server is not None, "LocalSystem not started"
        host, port = self._moto_server.get_host_and_port()
        return f"http://{host}:{port}"

    @property
    def app(self) -> Chalice:
        assert self._app is not None, "LocalSystem not started"
        return self._app

    @property
    def import_queue_url(self) -> str:
        return self.resources["ImportQueue"]

    @property
    def function_names(self) -> list[str]:
        return self._dispatcher.function_names

    def token(self, user: str, group: str | list[str]) -> str:
        """A dev JWT the local API accepts (same claims as a Cognito ID token)."""
        return self.issuer.mint(user, group)

    def client(self, service: str, *, in_process: bool = False) -> Any:
        """A boto3 client (cached) on the moto endpoint, or, ``in_process``, straight to the
        backends through ``mock_aws`` (what the app's own clients do)."""
        key = (service, in_process)
        with self._clients_lock:
            if key not in self._clients:
                if in_process:
                    self._clients[key] = boto3.client(service, region_name=REGION, config=_IN_PROCESS)
                else:
                    self._clients[key] = boto3.client(
                        service,
                        region_name=REGION,
                        endpoint_url=self.aws_url,
                        aws_access_key_id="local",
                        aws_secret_access_key="local",
                    )
            return self._clients[key]

    def system_now(self) -> datetime:
        """The system clock (scaled), as ``chalicelib.clock`` reads it."""
        return self.clock.now().astimezone(UTC)

    def add_function(self, name: str, handler: Handler, timeout: int = 60) -> str:
        """Create one more Lambda function running ``handler`` (tests); returns its ARN."""
        arn = stack.create_function(self.client("lambda", in_process=True), name, f"local.{name}", self._role_arn, timeout)
        self._dispatcher.register(name, handler)
        return arn

    # --- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> LocalSystem:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> LocalSystem:
        with LocalSystem._active_lock:
            if LocalSystem._active is not None:
                raise RuntimeError("a LocalSystem is already running in this process (moto is process-wide)")
            LocalSystem._active = self
        self._started = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._set_env(self._base_env())
        if moto.__version__ != local.moto.MOTO_VERSION:
            LOG.warning("moto %s is installed; the local engine's patches were written for moto %s "
                        "(tests/unit/test_moto_contract.py says what moved)", moto.__version__, local.moto.MOTO_VERSION)
        self._exit.enter_context(mock_aws(config=MOTO_CONFIG))
        self._exit.enter_context(local.moto.engine(self.clock))
        self._exit.enter_context(self._dispatcher.installed())
        _check_port_free(self.host, self._aws_port)  # ThreadedMotoServer.start() would hang on a busy port
        self._moto_server = ThreadedMotoServer(ip_address=self.host, port=self._aws_port, verbose=False)
        self._moto_server.start()

        sts = self.client("sts", in_process=True)
        self.account_id = str(sts.get_caller_identity()["Account"])
        self.env = (
            stack.chalice_environment(self._project_dir, self.stage)
            | LOCAL_APP_ENV
            | stack.expected_environment(self.stage, self.account_id)
            | {
                "EMAIL_SENDER": self._email_sender,
                "TIME_SCALE": repr(self.clock.scale),
                "CLOCK_EPOCH": repr(self.clock.epoch),
                # presigned upload/download URLs must reach moto from outside the process
                "UPLOADS_ENDPOINT_URL": self.aws_url,
            }
            | self._extra_env
        )
        self._set_env(self.env)
        _reset_app_caches()
        self._app = self._load_app()
        _reset_app_caches()
        if self._event_sink is not None:
            self._exit.enter_context(TimelineTap(self.env["TABLE_NAME"], self._event_sink).installed())

        self._deploy()
        self._api = ApiServer(
            self._app,
            chalice_config(self._app, self.stage, self._project_dir),
            self.issuer,
            self.host,
            self._port,
        )
        self._api.start()

    def _base_env(self) -> dict[str, str | None]:
        env: dict[str, str | None] = {name: None for name in _CLEARED_ENV}
        env |= {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
        return env

    def _load_app(self) -> Chalice:
        if isinstance(self._app_spec, Chalice):
            return self._app_spec
        if str(self._project_dir) not in sys.path:
            sys.path.insert(0, str(self._project_dir))
        module = importlib.import_module(self._app_spec)
        app = getattr(module, "app", None)
        if not isinstance(app, Chalice):
            raise RuntimeError(f"module {self._app_spec!r} has no Chalice `app`")
        return app

    def _deploy(self) -> None:
        assert self._app is not None
        lambda_client = self.client("lambda", in_process=True)
        self._role_arn = stack.create_lambda_role(self.client("iam", in_process=True), self.stage)
        functions = stack.app_functions(self._app, self.stage)
        arns: dict[str, str] = {}
        for fn in functions:
            config = chalice_config(self._app, self.stage, self._project_dir, function_name=fn.name)
            arns[fn.logical_id] = stack.create_function(
                lambda_client,
                fn.function_name,
                fn.handler_string,
                self._role_arn,
                timeout=int(config.lambda_timeout or 60),
                memory=int(config.lambda_memory_size or 128),
            )
            self._dispatcher.register(fn.function_name, fn.handler)

        template, self.template_fixes = stack.resolve_external_references(
            infra.resources(self.stage), arns, self.account_id
        )
        for logical_id, dummy in self.template_fixes.dummy_arns.items():
            LOG.warning("infra.resources refers to %s, which is not in the stack: using %s", logical_id, dummy)
        self.resources = stack.create_stack(self.client("cloudformation", in_process=True), self.stage, template)
        stack.check_environment(self.env, self.resources, self.stage)
        function_env = {k: v for k, v in self.env.items() if not k.startswith("AWS_")}
        for fn in functions:
            lambda_client.update_function_configuration(
                FunctionName=fn.function_name, Environment={"Variables": function_env}
            )

        ses = self.client("ses", in_process=True)
        ses.verify_email_identity(EmailAddress=self._email_sender)
        ses.verify_domain_identity(Domain=self._email_sender.rsplit("@", 1)[-1])

        for fn in functions:
            if fn.sqs is not None:
                self._start_sqs_mapping(fn, lambda_client)
        # on_dynamodb_record handlers (local/streams.py)
        self.stream_pollers = self._exit.enter_context(streams.event_sources(self))

    def _start_sqs_mapping(self, fn: stack.LocalFunction, lambda_client: Any) -> None:
        """Create the mapping Chalice would (batch size, ReportBatchItemFailures), detach moto's
        own synchronous push delivery from the queue, and poll it like Lambda does."""
        from moto.awslambda.utils import get_backend as lambda_backend

        assert fn.sqs is not None
        sqs = self.client("sqs", in_process=True)
        queue_url = stack.queue_for_event_source(fn.sqs, self.resources, sqs)
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        mapping = lambda_client.create_event_source_mapping(
            EventSourceArn=queue_arn,
            FunctionName=fn.function_name,
            BatchSize=fn.sqs.batch_size,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            Enabled=True,
        )
        local.moto.sqs.detach_push_delivery(self.account_id, REGION, queue_url, mapping["FunctionArn"])
        backend = lambda_backend(self.account_id, REGION)
        uuid = mapping["UUID"]

        def enabled() -> bool:
            esm = backend.get_event_source_mapping(uuid)
            return bool(esm and esm.enabled)

        poller = SqsEventSourcePoller(
            sqs=sqs,
            lambda_client=lambda_client,
            queue_url=queue_url,
            queue_arn=queue_arn,
            function_name=fn.function_name,
            region=REGION,
            batch_size=fn.sqs.batch_size,
            report_item_failures=True,
            is_enabled=enabled,
        )
        poller.start()
        self._pollers.append(poller)

    def stop(self) -> None:
        """Stop everything this system started (idempotent, a few seconds at most)."""
        if not self._started:
            return
        self._started = False
        try:
            if self._api is not None:
                _quietly(self._api.stop)
            for poller in self._pollers:  # a long-polling receive ends while the executions stop
                poller.request_stop()
            _quietly(lambda: self.stopped_executions.update(self._stop_executions()))
            for poller in self._pollers:
                _quietly(poller.stop)
            if self._moto_server is not None:
                _quietly(self._moto_server.stop)
            self._exit.close()
        finally:
            self._clients.clear()
            self._restore_env()
            _reset_app_caches()
            with LocalSystem._active_lock:
                LocalSystem._active = None

    def _stop_executions(self, timeout: float = 5.0) -> dict[str, str]:
        """Stop every running execution; their final statuses (ABORTED unless they ended)."""
        sfn = self.client("stepfunctions", in_process=True)
        running: list[str] = []
        for machine in sfn.list_state_machines()["stateMachines"]:
            paginator = sfn.get_paginator("list_executions")
            for page in paginator.paginate(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"):
                running += [e["executionArn"] for e in page["executions"]]
        for arn in running:
            _quietly(partial(sfn.stop_execution, executionArn=arn, error="LocalSystemStopped"))
        deadline = time.monotonic() + timeout
        statuses: dict[str, str] = {}
        for arn in running:
            statuses[arn] = sfn.describe_execution(executionArn=arn)["status"]
            while statuses[arn] == "RUNNING" and time.monotonic() < deadline:
                time.sleep(0.02)
                statuses[arn] = sfn.describe_execution(executionArn=arn)["status"]
        return statuses

    # --- environment ------------------------------------------------------------------------

    def _set_env(self, values: dict[str, str] | dict[str, str | None]) -> None:
        for key, value in values.items():
            if key not in self._saved_env:
                self._saved_env[key] = os.environ.get(key)
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()


def _reset_app_caches() -> None:
    """Forget the app's settings, clients and adapters (they were built from another env)."""
    from chalicelib.config import settings

    settings.cache_clear()
    try:
        from chalicelib import bootstrap
    except ImportError:  # an app without the bootstrap module (the test apps)
        return
    bootstrap.reset()


def _check_port_free(host: str, port: int) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))  # OSError "Address already in use"


def _quietly(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:
        LOG.exception("while stopping the local system")
