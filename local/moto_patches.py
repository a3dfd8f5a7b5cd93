"""The patches that turn moto 5.2.x into the local system's engine.

Each function returns a context manager that installs its patches on enter and removes them
on exit, so nothing outlives the :class:`~local.runtime.LocalSystem` that needed it. See
``/work/shared/notes/moto-local-runtime.md`` for the measured facts behind them.

* :func:`scaled_step_functions` - Wait states, callback/activity task timeouts, heartbeats,
  Retry back-off and execution timeouts of moto's ASL interpreter run ``scale`` times faster.
* :func:`scaled_sqs` - SQS visibility timeouts and delays run ``scale`` times faster
  (never below one second).
* :func:`interruptible_stop_execution` - ``StopExecution`` ends an execution that waits for a
  task token at once (moto otherwise leaves it RUNNING until the token's timeout).
* :func:`state_machines_from_cloudformation` - ``AWS::StepFunctions::StateMachine`` from a
  stack lands in the *executing* backend, with ``DefinitionSubstitutions`` applied.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC
from typing import Any
from unittest import mock

from moto.core.utils import unix_time_millis
from moto.sqs.models import Message
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat import Heartbeat
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import Timeout
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_activitiy import (
    StateTaskActivity,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend.execution import Execution as ParserExecution
from moto.stepfunctions.parser.utils import TMP_THREADS

from local.timescale import TimeScale

LOG = logging.getLogger(__name__)

# SQS: a scaled visibility timeout or delay is never shorter than this (local.md).
SQS_MIN_REAL_SECONDS = 1.0


# --- Step Functions -------------------------------------------------------------------------

_external_wait = threading.local()


@contextmanager
def _waiting_for_external_signal() -> Iterator[None]:
    """Mark the current thread as evaluating a task that waits for someone else (a task token,
    an activity worker): only such tasks get scaled timeouts."""
    previous = getattr(_external_wait, "active", False)
    _external_wait.active = True
    try:
        yield
    finally:
        _external_wait.active = previous


def _wait_real_seconds(env: Environment, seconds: float) -> None:
    """Sleep ``seconds`` (float) unless the execution stops first; spurious wake-ups resume."""
    deadline = time.monotonic() + seconds
    while env.is_running():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        env.program_state_event.wait(remaining)


class _ScaledSleepTime(types.ModuleType):
    """Stands in for the ``time`` module of ``retrier_decl``: only ``sleep`` is scaled."""

    def __init__(self, clock: TimeScale) -> None:
        super().__init__("time")
        self._clock = clock

    def sleep(self, seconds: float) -> None:
        time.sleep(self._clock.real(seconds))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def scaled_step_functions(clock: TimeScale) -> ExitStack:
    """Patch moto's ASL interpreter so its timers run ``clock.scale`` times faster.

    * ``Wait`` (Seconds, SecondsPath): waits seconds / scale. ``Timestamp(Path)``: waits until
      the *scaled* system clock reaches the timestamp (the app writes due times with it).
    * ``TimeoutSeconds(Path)`` / ``HeartbeatSeconds(Path)`` of tasks that wait for an external
      signal (``.waitForTaskToken``, activities) and the machine-level ``TimeoutSeconds``: / scale.
      A plain Lambda or service task keeps its timeout in real seconds: its work (Python code)
      runs at real speed, so a scaled timeout would only produce false ``States.Timeout``s.
    * Retry back-off (``time.sleep`` in ``retrier_decl``): / scale.
    """
    stack = ExitStack()

    def wait_eval_body(self: WaitFunction, env: Environment) -> None:
        _wait_real_seconds(env, clock.real(self._get_wait_seconds(env=env)))

    def wait_interval(self: WaitFunction, env: Environment, wait_seconds: float) -> None:
        _wait_real_seconds(env, wait_seconds)

    def timestamp_wait_seconds(self: Timestamp, env: Environment) -> float:
        # moto 5.2.5 compares with datetime.now() (naive local time); the local system's
        # timestamps come from the scaled system clock, so compare with that (UTC).
        self.string.eval(env=env)
        text: str = env.stack.pop()
        moment = self._from_timestamp_string(timestamp=text)
        if moment is None:
            raise FailureEventException(self._create_failure_event(env, text))
        return moment.replace(tzinfo=UTC).timestamp() - clock.now_timestamp()

    def timeout_eval_body(self: Timeout, env: Environment) -> None:
        seconds = self._eval_seconds(env=env)
        if getattr(_external_wait, "active", False) and not self.is_default_value():
            seconds = clock.real(seconds)
        env.stack.append(seconds)

    def heartbeat_eval_body(self: Heartbeat, env: Environment) -> None:
        env.stack.append(clock.real(self._eval_seconds(env=env)))

    original_integration = StateTaskServiceCallback._eval_integration_pattern

    def eval_integration_pattern(self: StateTaskServiceCallback, env: Environment, *args: Any, **kwargs: Any) -> None:
        if self.resource.condition == ResourceCondition.WaitForTaskToken:
            with _waiting_for_external_signal():
                return original_integration(self, env, *args, **kwargs)
        return original_integration(self, env, *args, **kwargs)

    original_activity = StateTaskActivity._eval_execution

    def eval_activity(self: StateTaskActivity, env: Environment) -> None:
        with _waiting_for_external_signal():
            return original_activity(self, env)

    def program_eval(self: Program, env: Environment) -> None:
        # Program.eval of moto 5.2.5 with the machine-level TimeoutSeconds scaled.
        timeout = clock.real(self.timeout_seconds.timeout_seconds) if self.timeout_seconds else None
        env.next_state_name = self.start_at.start_at_name
        worker = threading.Thread(target=super(Program, self).eval, args=(env,), daemon=True)
        TMP_THREADS.append(worker)
        worker.start()
        worker.join(timeout=timeout)
        if worker.is_alive():
            env.set_timed_out()

    stack.enter_context(mock.patch.object(WaitFunction, "_eval_body", wait_eval_body))
    stack.enter_context(mock.patch.object(WaitFunction, "_wait_interval", wait_interval))
    stack.enter_context(mock.patch.object(Timestamp, "_get_wait_seconds", timestamp_wait_seconds))
    stack.enter_context(mock.patch.object(Timeout, "_eval_body", timeout_eval_body))
    stack.enter_context(mock.patch.object(Heartbeat, "_eval_body", heartbeat_eval_body))
    stack.enter_context(
        mock.patch.object(StateTaskServiceCallback, "_eval_integration_pattern", eval_integration_pattern)
    )
    stack.enter_context(mock.patch.object(StateTaskActivity, "_eval_execution", eval_activity))
    stack.enter_context(mock.patch.object(Program, "eval", program_eval))
    stack.enter_context(mock.patch.object(retrier_decl, "time", _ScaledSleepTime(clock)))
    return stack


def interruptible_stop_execution() -> ExitStack:
    """``StopExecution`` also wakes the execution's ``.waitForTaskToken`` / heartbeat waits.

    moto 5.2.5 only flags the environment as stopped: an execution blocked on a task token
    stays RUNNING (and keeps its threads) until that task's timeout, which for the lifecycle's
    SLA waits means hours. Waking the callback endpoints lets it end at once; the wake-up
    looks like a task timeout to the interpreter, so ``set_error`` is made to leave a stopped
    execution alone (it ends ABORTED, as on AWS, not FAILED with States.Timeout).
    """

    def set_error(self: Environment, error: Any) -> None:
        with self._state_mutex:
            if isinstance(self._program_state, ProgramStopped):
                return
            original_set_error(self, error)

    def stop(self: ParserExecution, stop_date: Any, error: str | None, cause: str | None) -> None:
        original_stop(self, stop_date, error, cause)
        worker = self.exec_worker
        if worker is not None:
            for endpoint in list(worker.env.callback_pool_manager._pool.values()):
                endpoint.interrupt_all()

    original_stop = ParserExecution.stop
    original_set_error = Environment.set_error
    stack = ExitStack()
    stack.enter_context(mock.patch.object(ParserExecution, "stop", stop))
    stack.enter_context(mock.patch.object(Environment, "set_error", set_error))
    return stack


# --- DynamoDB -------------------------------------------------------------------------------

_DYNAMODB_LOCK = threading.RLock()


def serialized_dynamodb() -> ExitStack:
    """One DynamoDB request at a time inside moto.

    moto's backend is not thread-safe: ``transact_write_items`` deep-copies a table for its
    rollback while another thread (the API, a Lambda, the event printer) writes to it, and the
    copy fails with "dictionary changed size during iteration". DynamoDB itself serialises
    per item; here every request holds one lock for the few milliseconds moto needs.
    """
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _DYNAMODB_LOCK:
            return original(self)

    stack = ExitStack()
    stack.enter_context(mock.patch.object(DynamoHandler, "call_action", call_action))
    return stack


_rollback = threading.local()


@contextmanager
def cheap_transaction_rollback() -> Iterator[None]:
    """moto 5.2.5's ``DynamoDBBackend.transact_write_items`` takes its rollback backup by
    deep-copying the whole table once per *item* of the transaction: a 100-item transaction
    on a table of N items copies 100 x N items (``bench.imports`` times it as shipped). Here
    the backup is the prior version of each item the transaction touches, restored if the
    transaction fails: the same outcome, at a cost that does not grow with the table (a 3-item
    transaction on a 5,000-item table: 8.2 s as shipped, 4.8 ms with this). The local system
    and the benchmarks run under it. Thread-safe."""
    from unittest import mock

    import moto.dynamodb.models as ddb_models

    original = ddb_models.DynamoDBBackend.transact_write_items
    real_copy = ddb_models.copy

    class _NoTableCopy:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_copy, name)

        @staticmethod
        def deepcopy(obj: Any, *args: Any) -> Any:
            if getattr(_rollback, "active", False) and isinstance(obj, ddb_models.Table):
                return obj  # backed up item by item, below
            return real_copy.deepcopy(obj, *args)

    def _key(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
        if op_type != "Put":
            return dict(op["Key"])
        table = backend.get_table(op["TableName"])
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
        return key

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        before: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            try:
                op_type, op = next(iter(entry.items()))
                key = _key(backend, op_type, op)
                current = backend.get_item(op["TableName"], key)
            except Exception:  # malformed: the original raises the right error before writing
                continue
            before.append((op["TableName"], key, real_copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        _rollback.active = True
        try:
            return original(backend, transact_items)
        except Exception:
            _rollback.active = False
            for table_name, key, attrs in reversed(before):
                if attrs is not None:
                    backend.put_item(table_name, attrs)
                elif backend.get_item(table_name, key) is not None:
                    backend.delete_item(table_name, key)
            raise
        finally:
            _rollback.active = False

    with (
        mock.patch.object(ddb_models, "copy", _NoTableCopy()),
        mock.patch.object(ddb_models.DynamoDBBackend, "transact_write_items", transact_write_items),
    ):
        yield


# --- SQS ------------------------------------------------------------------------------------


def scaled_sqs(clock: TimeScale) -> ExitStack:
    """Visibility timeouts and delays of every queue last ``seconds / scale`` (min 1 s)."""

    def real_millis(seconds: float) -> float:
        if not seconds or float(seconds) <= 0:
            return 0.0
        return max(float(seconds) / clock.scale, SQS_MIN_REAL_SECONDS) * 1000

    def change_visibility(self: Message, visibility_timeout: int) -> None:
        self.visible_at = unix_time_millis() + real_millis(visibility_timeout)

    def delay(self: Message, delay_seconds: int) -> None:
        self.delayed_until = unix_time_millis() + real_millis(delay_seconds)

    stack = ExitStack()
    stack.enter_context(mock.patch.object(Message, "change_visibility", change_visibility))
    stack.enter_context(mock.patch.object(Message, "delay", delay))
    return stack


# --- CloudFormation -------------------------------------------------------------------------


def _substitute(definition: str, substitutions: dict[str, Any]) -> str:
    for name, value in substitutions.items():
        definition = definition.replace("${" + name + "}", str(value))
    return definition


def _state_machine_from_cfn(
    cls: type[StateMachine],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> StateMachine:
    from moto.stepfunctions.responses import get_backend

    properties = cloudformation_json["Properties"]
    name = properties.get("StateMachineName", resource_name)
    definition = properties.get("DefinitionString")
    if definition is None:
        definition = json.dumps(properties.get("Definition", {}))
    definition = _substitute(definition, properties.get("DefinitionSubstitutions") or {})
    tags = [{"key": t["Key"], "value": t["Value"]} for t in properties.get("Tags", [])]
    return get_backend(account_id, region_name).create_state_machine(
        name,
        definition,
        properties.get("RoleArn", ""),
        tags=tags or None,
        loggingConfiguration=properties.get("LoggingConfiguration"),
        tracingConfiguration=properties.get("TracingConfiguration"),
        sm_type=properties.get("StateMachineType", "STANDARD"),
    )


def _delete_state_machine_from_cfn(
    cls: type[StateMachine], resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    from moto.stepfunctions.responses import get_backend

    get_backend(account_id, region_name).delete_state_machine(resource_name)


def state_machines_from_cloudformation() -> ExitStack:
    """``AWS::StepFunctions::StateMachine`` in a stack -> the executing backend (the one the
    API uses with ``execute_state_machine``), ``DefinitionSubstitutions`` applied."""
    stack = ExitStack()
    create: Callable[..., Any] = classmethod(_state_machine_from_cfn)  # type: ignore[arg-type]
    delete: Callable[..., Any] = classmethod(_delete_state_machine_from_cfn)  # type: ignore[arg-type]
    stack.enter_context(mock.patch.object(StateMachine, "create_from_cloudformation_json", create))
    stack.enter_context(mock.patch.object(StateMachine, "delete_from_cloudformation_json", delete))
    return stack


# --- noise ----------------------------------------------------------------------------------


# logger -> level while the local system runs: werkzeug's per-request lines of the moto
# server, and the ASL interpreter's ERROR line (with a page-long repr) for every error a
# Retry/Catch handles - the execution history records those anyway.
_QUIET_LOGGERS = {
    "werkzeug": logging.WARNING,
    "moto.stepfunctions.parser.asl.component.eval_component": logging.CRITICAL,
}


# Warnings that say nothing to a developer of this app, once per process: chalice's local
# server on every Cognito-authorized route (the local system verifies the token itself), and
# Powertools' "no metrics" on every invocation of a function whose metrics are all single ones.
_QUIET_WARNINGS = (
    r"CognitoUserPoolAuthorizer is not a supported in local mode",
    r"No application metrics to publish",
)


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Silence the noisy loggers and warnings above; restore everything afterwards."""
    previous = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
    for name, level in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    with warnings.catch_warnings():
        for message in _QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        try:
            yield
        finally:
            for name, level in previous.items():
                logging.getLogger(name).setLevel(level)
