"""moto's ASL interpreter (``moto.stepfunctions.parser``) as the local system's workflow engine.

Every patch is a context manager that installs on enter and restores on exit;
:func:`patched` is all of them, as :class:`local.runtime.LocalSystem` uses them. What each one
does and why is in ``docs/local-engine.md``; the targets are checked by
``tests/unit/test_moto_contract.py``.

Time (:func:`scaled_timers`)
    ``Wait`` states, the timeouts and heartbeats of tasks that wait for someone else, ``Retry``
    back-off and a machine's own ``TimeoutSeconds`` run ``clock.scale`` times faster.
Threads (:func:`inline_evaluation`)
    moto runs every execution on three threads: the execution worker, one more for the
    machine-level timeout, and one per task state for the task's timeout - held for as long
    as the execution waits on a task token. Here the program and the tasks whose timeout
    needs no watcher thread (no timeout of their own, or a ``.waitForTaskToken`` wait, whose
    waits end at the task's deadline themselves) are evaluated on the execution's own thread:
    one thread per waiting execution. moto's list of every thread it ever started
    (``TMP_THREADS``, never read) no longer grows.
Speed (:func:`cached_programs`, :func:`shared_clients`, :func:`memoized_jsonpath`)
    The definition is parsed once per state machine (a deep copy per execution, never a shared
    tree), the boto3 clients of Lambda and service tasks are built once, JSONPath expressions
    are parsed once.
Stop (:func:`interruptible_stop`)
    ``StopExecution`` ends an execution waiting on a task token at once, ABORTED.
"""

from __future__ import annotations

import copy
import functools
import logging
import sys
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from datetime import UTC
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat import Heartbeat
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError, Timeout
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_activitiy import StateTaskActivity
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, HeartbeatEndpoint
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution import Execution as ParserExecution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from local.moto._targets import Target
from local.timescale import TimeScale

LOG = logging.getLogger(__name__)

_PARSER = "moto.stepfunctions.parser"
_COMPONENT = f"{_PARSER}.asl.component"
PROGRAM_CACHE_SIZE = 64  # distinct definitions kept parsed (the system has one; tests make more)
JSONPATH_CACHE_SIZE = 4096

# --- the targets ------------------------------------------------------------------------------
_WAIT = f"{_COMPONENT}.state.wait.wait_function"
_TASK = f"{_COMPONENT}.state.exec.state_task"
_CALLBACK = f"{_PARSER}.asl.eval.callback.callback"
WAIT_EVAL = Target(f"{_WAIT}.wait_function.WaitFunction", "_eval_body",
                   "Wait (Seconds, SecondsPath) waits seconds / scale", "(self, env)")
WAIT_INTERVAL = Target(f"{_WAIT}.wait_function.WaitFunction", "_wait_interval",
                       "a wait in float seconds, interrupted when the execution stops", "(self, env, wait_seconds)")
TIMESTAMP_WAIT = Target(f"{_WAIT}.timestamp.Timestamp", "_get_wait_seconds",
                        "Timestamp(Path) waits for the scaled clock (moto compares with a naive local now())",
                        "(self, env)", "a412921a3b8d")
TIMEOUT_EVAL = Target(f"{_COMPONENT}.common.timeouts.timeout.Timeout", "_eval_body",
                      "TimeoutSeconds(Path) of a task that waits for someone else: / scale", "(self, env)", "0c02536d1209")
HEARTBEAT_EVAL = Target(f"{_COMPONENT}.common.timeouts.heartbeat.Heartbeat", "_eval_body",
                        "HeartbeatSeconds(Path): / scale", "(self, env)", "0c02536d1209")
CALLBACK_PATTERN = Target(f"{_TASK}.service.state_task_service_callback.StateTaskServiceCallback",
                          "_eval_integration_pattern", "marks a .waitForTaskToken wait, whose timeout is scaled",
                          "(self, env, resource_runtime_part, normalised_parameters, state_credentials)")
ACTIVITY_EXECUTION = Target(f"{_TASK}.state_task_activitiy.StateTaskActivity", "_eval_execution",
                            "marks an activity wait, whose timeout is scaled", "(self, env)")
RETRY_TIME = Target(f"{_COMPONENT}.common.retry.retrier_decl", "time", "Retry back-off: time.sleep / scale")
PROGRAM_EVAL = Target(f"{_COMPONENT}.program.program.Program", "eval",
                      "on the caller's thread (moto starts one more to watch the machine's TimeoutSeconds, "
                      "which is scaled here)", "(self, env)", "b8bfa1cb68d3")
EVALUATE_WITH_TIMEOUT = Target(f"{_COMPONENT}.state.exec.execute_state.ExecutionState", "_evaluate_with_timeout",
                               "a state with no timeout of its own, or waiting on a task token, on the execution's "
                               "thread (moto starts one more per state, held while it waits)", "(self, env)",
                               "024c6f9bf003")
CALLBACK_WAIT = Target(f"{_CALLBACK}.CallbackEndpoint", "wait", "a task-token wait ends at its task's deadline",
                       "(self, timeout=None)", "07677ef59b8d")
HEARTBEAT_WAIT = Target(f"{_CALLBACK}.HeartbeatEndpoint", "clear_and_wait",
                        "a heartbeat wait ends at its task's deadline", "(self)", "dd42ecf09a1c")
INTERRUPT_ALL = Target(f"{_CALLBACK}.CallbackEndpoint", "interrupt_all",
                       "what StopExecution calls to wake an execution's task-token waits", "(self)")
THREAD_REGISTRY = Target(f"{_PARSER}.utils", "TMP_THREADS",
                         "moto appends every thread it starts and never removes one (nor reads the list)")
EXECUTION_STOP = Target(f"{_PARSER}.backend.execution.Execution", "stop",
                        "StopExecution also wakes the execution's task-token waits", "(self, stop_date, error, cause)")
SET_ERROR = Target(f"{_PARSER}.asl.eval.environment.Environment", "set_error",
                   "a stopped execution stays ABORTED when its woken wait reports a timeout", "(self, error)")
ENTRYPOINT = Target(f"{_PARSER}.backend.execution_worker.ExecutionWorker", "_get_evaluation_entrypoint",
                    "the definition parsed once per state machine, deep-copied per execution (moto parses it "
                    "on every StartExecution)", "(self)", "e773c5ce42b6")
PARSE = Target(f"{_PARSER}.asl.parse.asl_parser.AmazonStateLanguageParser", "parse",
               "what the program cache calls once per definition", "(definition)")
BOTO_CLIENT_FOR = Target(f"{_PARSER}.asl.utils.boto_client", "boto_client_for",
                         "one boto3 client per region and service instead of one per task (its credentials "
                         "argument is unused)", "(region, service, state_credentials=None)", "1f44dc2ac8aa")
LAMBDA_EVAL_CLIENT = Target(f"{_TASK}.lambda_eval_utils", "boto_client_for",
                            "the Lambda tasks' boto_client_for, imported by name", same_as=BOTO_CLIENT_FOR)
JSONPATH_PARSE = Target(f"{_PARSER}.asl.utils.json_path", "parse",
                        "JSONPath expressions (jsonpath_ng.ext) parsed once, not on every evaluation",
                        "(path, debug=None)")
RESULT_PATH_PARSE = Target(f"{_COMPONENT}.common.path.result_path", "parse",
                           "ResultPath expressions (jsonpath_ng) parsed once, not on every evaluation", "(string)")

TARGETS = (WAIT_EVAL, WAIT_INTERVAL, TIMESTAMP_WAIT, TIMEOUT_EVAL, HEARTBEAT_EVAL, CALLBACK_PATTERN,
           ACTIVITY_EXECUTION, RETRY_TIME, PROGRAM_EVAL, EVALUATE_WITH_TIMEOUT, CALLBACK_WAIT, HEARTBEAT_WAIT,
           INTERRUPT_ALL, THREAD_REGISTRY, EXECUTION_STOP, SET_ERROR, ENTRYPOINT, PARSE, BOTO_CLIENT_FOR,
           LAMBDA_EVAL_CLIENT, JSONPATH_PARSE, RESULT_PATH_PARSE)


# --- time -------------------------------------------------------------------------------------
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


def scaled_timers(clock: TimeScale) -> ExitStack:
    """moto's ASL timers run ``clock.scale`` times faster.

    * ``Wait`` (Seconds, SecondsPath): waits seconds / scale. ``Timestamp(Path)``: waits until
      the *scaled* system clock reaches the timestamp (the app writes due times with it).
    * ``TimeoutSeconds(Path)`` / ``HeartbeatSeconds(Path)`` of tasks that wait for an external
      signal (``.waitForTaskToken``, activities): / scale. A plain Lambda or service task keeps
      its timeout in real seconds: its work (Python code) runs at real speed, so a scaled
      timeout would only produce false ``States.Timeout``\\ s. (A machine's own
      ``TimeoutSeconds`` is scaled by :func:`inline_evaluation`.)
    * Retry back-off (``time.sleep`` in ``retrier_decl``): / scale.
    """

    def wait_eval_body(self: WaitFunction, env: Environment) -> None:
        _wait_real_seconds(env, clock.real(self._get_wait_seconds(env=env)))

    def wait_interval(self: WaitFunction, env: Environment, wait_seconds: float) -> None:
        _wait_real_seconds(env, wait_seconds)

    def timestamp_wait_seconds(self: Timestamp, env: Environment) -> float:
        # moto compares with datetime.now() (naive local time); the local system's timestamps
        # come from the scaled system clock, so compare with that (UTC).
        self.string.eval(env=env)
        text: str = env.stack.pop()
        moment = self._from_timestamp_string(timestamp=text)
        if moment is None:
            raise FailureEventException(self._create_failure_event(env, text))
        return moment.replace(tzinfo=UTC).timestamp() - clock.now_timestamp()

    def timeout_eval_body(self: Timeout, env: Environment) -> None:
        seconds: float = self._eval_seconds(env=env)
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

    stack = ExitStack()
    stack.enter_context(WAIT_EVAL.replaced_by(wait_eval_body))
    stack.enter_context(WAIT_INTERVAL.replaced_by(wait_interval))
    stack.enter_context(TIMESTAMP_WAIT.replaced_by(timestamp_wait_seconds))
    stack.enter_context(TIMEOUT_EVAL.replaced_by(timeout_eval_body))
    stack.enter_context(HEARTBEAT_EVAL.replaced_by(heartbeat_eval_body))
    stack.enter_context(CALLBACK_PATTERN.replaced_by(eval_integration_pattern))
    stack.enter_context(ACTIVITY_EXECUTION.replaced_by(eval_activity))
    stack.enter_context(RETRY_TIME.replaced_by(_ScaledSleepTime(clock)))
    return stack


# --- threads ----------------------------------------------------------------------------------
_task = threading.local()  # .deadline: time.monotonic() by which the inline task must be done


def _capped(timeout: float | None) -> float | None:
    """``timeout`` shortened to what is left before the inline task's deadline, if any."""
    deadline: float | None = getattr(_task, "deadline", None)
    if deadline is None:
        return timeout
    left = max(0.0, deadline - time.monotonic())
    return left if timeout is None else min(timeout, left)


def _waits_for_task_token(state: ExecutionState) -> bool:
    return isinstance(state, StateTaskServiceCallback) and state.resource.condition == ResourceCondition.WaitForTaskToken


def runs_inline(state: ExecutionState) -> bool:
    """Whether :func:`inline_evaluation` evaluates ``state`` on the execution's own thread: a
    ``.waitForTaskToken`` task (its waits end at its deadline by themselves), or a state with
    no timeout of its own (nothing to watch). Activities, ``.sync`` integrations and tasks with
    a ``TimeoutSeconds`` of their own keep moto's watcher thread, which abandons a task that
    overruns at its deadline."""
    if isinstance(state, StateTaskActivity):
        return False
    if _waits_for_task_token(state):
        return True
    if isinstance(state, StateTaskServiceCallback) and state.resource.condition is not None:
        return False
    return bool(state.timeout.is_default_value())


class _Registry(list[threading.Thread]):
    """Stands in for ``TMP_THREADS``: moto appends every thread it starts and never reads it."""

    def append(self, thread: threading.Thread) -> None:
        return None


def inline_evaluation(clock: TimeScale | None = None) -> ExitStack:
    """Fewer threads per execution (see the module docstring); with ``clock``, a machine's own
    ``TimeoutSeconds`` is scaled too."""
    original_evaluate = ExecutionState._evaluate_with_timeout

    def program_eval(self: Program, env: Environment) -> None:
        # Program.eval of moto 5.2.5: the watcher thread only when the machine has a timeout.
        env.next_state_name = self.start_at.start_at_name
        if not self.timeout_seconds:
            try:
                super(Program, self).eval(env)
            except Exception:  # moto's worker thread would print it and carry on
                LOG.exception("ASL program ended with an exception")
            return
        timeout = float(self.timeout_seconds.timeout_seconds)
        worker = threading.Thread(target=super(Program, self).eval, args=(env,), daemon=True)
        worker.start()
        worker.join(timeout=clock.real(timeout) if clock is not None else timeout)
        if worker.is_alive():
            env.set_timed_out()

    def evaluate_with_timeout(self: ExecutionState, env: Environment) -> None:
        # ExecutionState._evaluate_with_timeout of moto 5.2.5, on this thread.
        if not runs_inline(self):
            return original_evaluate(self, env)
        token_wait = _waits_for_task_token(self)
        with _waiting_for_external_signal() if token_wait else nullcontext():
            self.timeout.eval(env=env)  # the same (scaled) seconds its token wait will use
        timeout_seconds: float = env.stack.pop()

        frame: Environment = env.open_frame()
        frame.states.reset(input_value=env.states.get_input())
        frame.stack = copy.deepcopy(env.stack)
        deadline = time.monotonic() + timeout_seconds
        outer = getattr(_task, "deadline", None)
        _task.deadline = deadline if token_wait else None
        try:
            self._eval_execution(frame)
            execution_outputs = list(frame.stack)
            finished_on_time = time.monotonic() <= deadline
        finally:
            _task.deadline = outer
            frame.set_ended()
            env.close_frame(frame)
        if not finished_on_time:
            raise EvalTimeoutError()

        execution_output = execution_outputs.pop()
        env.stack.append(execution_output)
        if not self._is_language_query_jsonpath():
            env.states.set_result(execution_output)
        if self.assign_decl:
            self.assign_decl.eval(env=env)
        if self.result_selector:
            self.result_selector.eval(env=env)
        if self.result_path:
            self.result_path.eval(env)
        else:
            res = env.stack.pop()
            env.states.reset(input_value=res)

    def callback_wait(self: CallbackEndpoint, timeout: float | None = None) -> Any:
        self._notify_event.wait(timeout=_capped(timeout))
        return self._outcome

    def heartbeat_wait(self: HeartbeatEndpoint) -> bool:
        self._next_heartbeat_event.clear()
        return self._next_heartbeat_event.wait(timeout=_capped(self._heartbeat_seconds))

    stack = ExitStack()
    stack.enter_context(PROGRAM_EVAL.replaced_by(program_eval))
    stack.enter_context(EVALUATE_WITH_TIMEOUT.replaced_by(evaluate_with_timeout))
    stack.enter_context(CALLBACK_WAIT.replaced_by(callback_wait))
    stack.enter_context(HEARTBEAT_WAIT.replaced_by(heartbeat_wait))
    stack.enter_context(_forget_started_threads())
    return stack


@contextmanager
def _forget_started_threads() -> Iterator[None]:
    """Every module of the interpreter that imported ``TMP_THREADS`` gets a registry that keeps
    nothing (a list of every thread ever started, alive or not, is a leak in a long run)."""
    registry = THREAD_REGISTRY.original()
    replacement = _Registry()
    with ExitStack() as stack:
        for module in _interpreter_modules():
            if getattr(module, THREAD_REGISTRY.name, None) is registry:
                stack.enter_context(_replaced(module, THREAD_REGISTRY.name, replacement))
        yield


# --- speed ------------------------------------------------------------------------------------
class _Programs:
    """Definition -> its parsed program, never evaluated (copy it before use). Parsed once:
    executions that start together wait for the one parse (a plain ``lru_cache`` would let
    each of them parse)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._programs: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, definition: str) -> Any:
        with self._lock:
            program = self._programs.get(definition)
            if program is None:
                program = AmazonStateLanguageParser.parse(definition)[0]
                self._programs[definition] = program
                while len(self._programs) > self._size:
                    self._programs.popitem(last=False)
            else:
                self._programs.move_to_end(definition)
            return program

    def clear(self) -> None:
        with self._lock:
            self._programs.clear()


parsed_program = _Programs(PROGRAM_CACHE_SIZE)


def cached_programs() -> ExitStack:
    """An execution starts from a deep copy of its definition's parsed program.

    moto re-parses the definition (ANTLR + preprocessor) on every StartExecution. A parsed
    program is a tree of components that mostly hold per-execution state in the ``Environment``,
    but not only: components cache a heap key on first use, and Map/Parallel build workers on
    them. So each execution gets its own deep copy of a pristine (never evaluated) parse,
    exactly as a fresh parse would give it, and nothing is shared between executions."""

    def entrypoint(self: ExecutionWorker) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        return copy.deepcopy(parsed_program(definition))

    stack = ExitStack()
    stack.enter_context(ENTRYPOINT.replaced_by(entrypoint))
    stack.callback(parsed_program.clear)
    return stack


_clients_lock = threading.Lock()


def shared_clients() -> ExitStack:
    """One boto3 client per (region, service, endpoint) for the interpreter's tasks.

    moto's ``boto_client_for`` builds a new client for every Lambda or service task (a botocore
    client costs milliseconds: loading the service model, the endpoint resolver, the event
    hooks). Its arguments never differ but for region and service (the state's credentials are
    ignored: the client always signs with fake keys), and boto3 clients are thread-safe once
    built. Built under a lock: creating clients from boto3's default session is not."""
    original = BOTO_CLIENT_FOR.original()
    clients: dict[tuple[str, str, bool], Any] = {}

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        from moto.core.models import botocore_stubber

        key = (region, service, bool(botocore_stubber.enabled))
        client = clients.get(key)
        if client is None:
            with _clients_lock:
                client = clients.get(key)
                if client is None:
                    client = clients[key] = original(region=region, service=service, state_credentials=state_credentials)
        return client

    stack = ExitStack()
    for module in _interpreter_modules():
        if getattr(module, BOTO_CLIENT_FOR.name, None) is original:
            stack.enter_context(_replaced(module, BOTO_CLIENT_FOR.name, boto_client_for))
    stack.callback(clients.clear)
    return stack


def memoized_jsonpath() -> ExitStack:
    """JSONPath expressions are parsed once: ``jsonpath_ng``'s ``parse`` builds a PLY parser
    and parses the expression on every evaluation of every path (InputPath, ResultPath,
    Parameters' ``.$`` keys, Choice variables...). A parsed expression is immutable in use
    (``find`` / ``update`` read it and write only to the data), so one is shared by all."""
    stack = ExitStack()
    for target in (JSONPATH_PARSE, RESULT_PATH_PARSE):
        parse = target.original()
        stack.enter_context(target.replaced_by(functools.lru_cache(maxsize=JSONPATH_CACHE_SIZE)(parse)))
    return stack


# --- stop -------------------------------------------------------------------------------------
def interruptible_stop() -> ExitStack:
    """``StopExecution`` also wakes the execution's ``.waitForTaskToken`` / heartbeat waits.

    moto only flags the environment as stopped: an execution blocked on a task token stays
    RUNNING (and keeps its thread) until that task's timeout, which for the lifecycle's SLA
    waits means hours. Waking the callback endpoints lets it end at once; the wake-up looks
    like a task timeout to the interpreter, so ``set_error`` is made to leave a stopped
    execution alone (it ends ABORTED, as on AWS, not FAILED with States.Timeout).
    """
    original_stop = ParserExecution.stop
    original_set_error = Environment.set_error

    def set_error(self: Environment, error: Any) -> None:
        with self._state_mutex:
            if isinstance(self._program_state, ProgramStopped):
                return
            original_set_error(self, error)

    def stop(self: ParserExecution, stop_date: Any, error: str | None, cause: str | None) -> None:
        original_stop(self, stop_date, error, cause)
        worker = self.exec_worker
        if worker is not None and worker.env is not None:
            for endpoint in list(worker.env.callback_pool_manager._pool.values()):
                endpoint.interrupt_all()

    stack = ExitStack()
    stack.enter_context(EXECUTION_STOP.replaced_by(stop))
    stack.enter_context(SET_ERROR.replaced_by(set_error))
    return stack


# --- all of them ------------------------------------------------------------------------------
def patched(clock: TimeScale) -> ExitStack:
    """Every patch of this module, as the local system runs."""
    stack = ExitStack()
    for patch in (scaled_timers(clock), inline_evaluation(clock), cached_programs(), shared_clients(),
                  memoized_jsonpath(), interruptible_stop()):
        stack.enter_context(patch)
    return stack


# --- helpers ----------------------------------------------------------------------------------
def _interpreter_modules() -> list[types.ModuleType]:
    """The interpreter's modules loaded now (every module the engine uses is, once moto's
    Step Functions backend has been imported)."""
    import moto.stepfunctions.parser.backend.execution  # noqa: F401 - loads the whole interpreter

    return [m for name, m in list(sys.modules.items()) if name.startswith(_PARSER) and m is not None]


@contextmanager
def _replaced(owner: Any, name: str, value: Any) -> Iterator[None]:
    from unittest import mock

    with mock.patch.object(owner, name, value):
        yield

