"""What the benchmarks share: AWS call counting on the app's own clients, timing helpers,
a quiet console, a moto stack without the executing engine, and the results files.

Nothing here asserts a timing: the benchmarks print figures and write them to
``bench/results/<name>.json``; ``python -m bench`` collects them into one table.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"
REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}

if str(REPO) not in sys.path:  # `python bench/x.py` as well as `python -m bench.x`
    sys.path.insert(0, str(REPO))


# -- AWS calls ------------------------------------------------------------------------------
@dataclass
class CallCounter:
    """Counts the API calls made through boto3 clients (botocore ``before-call`` events: one
    per API call, whatever the retries), by ``service.Operation``.

    ``only_thread``: count only calls made on that thread (the app's clients are shared with
    the workflow's Lambda steps, which run on the interpreter's threads at the same time)."""

    only_thread: int | None = None
    calls: Counter[str] = field(default_factory=Counter)
    params: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    keep_params: bool = False
    _clients: list[Any] = field(default_factory=list)

    def _hook(self, event_name: str, params: dict[str, Any] | None = None, **_: Any) -> None:
        if self.only_thread is not None and threading.get_ident() != self.only_thread:
            return
        _stage, service, operation = event_name.split(".", 2)
        key = f"{service}.{operation}"
        self.calls[key] += 1
        if self.keep_params and params is not None:
            self.params.setdefault(key, []).append(_api_params(params))

    def attach(self, *clients: Any) -> CallCounter:
        for client in clients:
            # first: a handler that answers the call (botocore's Stubber) ends the event there
            client.meta.events.register_first("before-call.*.*", self._hook)
            self._clients.append(client)
        return self

    def detach(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-call.*.*", self._hook)
        self._clients.clear()

    def reset(self) -> None:
        self.calls.clear()
        self.params.clear()

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def snapshot(self) -> dict[str, int]:
        return dict(sorted(self.calls.items()))

    @contextlib.contextmanager
    def counting(self) -> Iterator[CallCounter]:
        self.reset()
        yield self


def _api_params(request: dict[str, Any]) -> dict[str, Any]:
    """The API parameters of a serialized request (``before-call`` gets the request dict; the
    JSON protocols - DynamoDB, Step Functions - carry them as the JSON body)."""
    body = request.get("body")
    if isinstance(body, bytes | str) and body[:1] in (b"{", "{"):
        try:
            parsed = json.loads(body)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return body if isinstance(body, dict) else {}


def app_clients(*services: str) -> list[Any]:
    """The boto3 clients the app itself uses (``chalicelib.adapters.aws.client`` is its cache)."""
    from chalicelib.adapters import aws

    return [aws.client(s) for s in services]


# -- time ------------------------------------------------------------------------------------
def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


# -- console ---------------------------------------------------------------------------------
@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Swallow what the app prints while measured: Powertools' ``single_metric`` prints one
    EMF line per metric to stdout (even with POWERTOOLS_METRICS_DISABLED), and the local
    system logs warnings. The benchmark's own report is printed after the block."""
    import logging
    import warnings

    sink = io.StringIO()
    previous = logging.root.manager.disable
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                yield
        finally:
            logging.disable(previous)


# -- environment -------------------------------------------------------------------------------
@contextlib.contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def reset_app_caches() -> None:
    from chalicelib import bootstrap, intake

    bootstrap.reset()  # settings, clients, services
    intake.reset()


@dataclass(frozen=True)
class MotoStack:
    env: dict[str, str]
    resources: dict[str, str]

    @property
    def table(self) -> str:
        return self.env["TABLE_NAME"]

    @property
    def state_machine_arn(self) -> str:
        return self.env["LIFECYCLE_STATE_MACHINE_ARN"]


@contextlib.contextmanager
def moto_stack(stage: str = "bench") -> Iterator[MotoStack]:
    """The system's resources (``infra.resources`` through ``local.stack``, as the local
    runtime creates them) in a plain ``mock_aws``: Step Functions records executions but does
    not run them, no Lambda functions, no HTTP. For benchmarks of one handler's AWS work."""
    from moto import mock_aws

    from infra import resources as infra
    from local import stack as local_stack
    from local.moto import cloudformation

    cleared: dict[str, str | None] = {k: None for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN")}
    with environment({**cleared, **FAKE_CREDENTIALS}), mock_aws(), cloudformation.state_machines():
        import boto3

        account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
        env = (
            local_stack.chalice_environment(REPO, stage)
            | local_stack.expected_environment(stage, account)
            | {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true",
               "POWERTOOLS_TRACE_DISABLED": "true"}
        )
        template, _ = local_stack.resolve_external_references(infra.resources(stage), {}, account)
        cfn = boto3.client("cloudformation", region_name=REGION)
        resources = local_stack.create_stack(cfn, stage, template)
        with environment(dict(env)):
            reset_app_caches()
            try:
                yield MotoStack(env=env, resources=resources)
            finally:
                reset_app_caches()


# moto's whole-table transaction backup, replaced by an item-level one in local/moto/dynamodb.py
# (the local system runs with it too; re-entrant)
from local.moto.dynamodb import transactions as cheap_transaction_rollback  # noqa: E402

__all__ = ["cheap_transaction_rollback"]


# -- results ---------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    import platform

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **data}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def fmt(value: float, digits: int = 2) -> str:
    if value != value:  # NaN
        return "n/a"
    return f"{value:.{digits}f}"


@contextlib.contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """A detached ``git worktree`` of ``revision`` in a temporary directory (removed after):
    the code before a change, measured in the same run as after it."""
    with tempfile.TemporaryDirectory(prefix="bench-before-") as tmp:
        path = Path(tmp) / "checkout"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(path), revision], cwd=REPO, check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=REPO, check=False)
