"""A small interpreter of the Amazon States Language for the simulator's virtual clock.

It follows a definition state by state (``Pass``, ``Task``, ``Choice``, ``Wait``, ``Map``,
``Parallel``, ``Succeed``, ``Fail``), with the data flow of the language (``InputPath``,
``Parameters`` / ``ItemSelector`` with ``.$`` keys and the context object ``$$``,
``ResultSelector``, ``ResultPath``, ``OutputPath``), ``Retry`` and ``Catch`` by error name,
``TimeoutSeconds(Path)`` of tasks that wait for a task token. JSONPath is ``jsonpath_ng``'s.

An execution is a generator: it runs the states that take no time at once and *yields* when
time has to pass — a :class:`Sleep` (a ``Wait`` state, a retry's back-off) or a
:class:`Callback` (a ``.waitForTaskToken`` task) — and the caller (the discrete-event loop of
:mod:`local.simulate.engine`) sends back what happened: ``None`` after a sleep, a
:class:`Resumed` or :data:`TIMED_OUT` after a callback. Nothing here knows the complaint
system: Lambda functions are the callables of ``functions``, keyed by the names the
definition's ``Resource`` (or a ``lambda:invoke`` task's ``FunctionName``) resolves to.

What AWS bills is counted as AWS counts it: every state entered is one state transition
(inner states of a ``Map`` or ``Parallel`` included, each retry attempt one more), and every
function call one Lambda invocation (:class:`Counters`).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jsonpath_ng import parse as jsonpath_parse

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
WAIT_FOR_TOKEN = ".waitForTaskToken"
PLACEHOLDER = re.compile(r"^\$\{(?P<name>[A-Za-z0-9_]+)\}$")
LAMBDA_ARN = re.compile(r"^arn:aws:lambda:[^:]*:[^:]*:function:(?P<name>[^:]+)")
_SIMPLE = re.compile(r"\$(\.[A-Za-z_][A-Za-z0-9_]*)+")
MAX_STATES_PER_RUN = 100_000  # entering more states without a pause is a loop in the definition


class DefinitionError(ValueError):
    """The definition uses something this interpreter does not do, or is malformed."""


class StatesError(Exception):
    """An error as Step Functions names it (``States.Timeout``, a Lambda's error type ...)."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error, self.cause = error, cause


class ExecutionFailed(StatesError):
    """The execution ended in a ``Fail`` state or with an uncaught error."""


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Callback:
    """The execution waits for ``token``; past ``timeout_s`` (if any) it times out."""

    token: str
    timeout_s: float | None


@dataclass(frozen=True)
class Resumed:
    """SendTaskSuccess (``error`` None) or SendTaskFailure of a task token."""

    output: Any = None
    error: str | None = None
    cause: str = ""


TIMED_OUT = Resumed(error="States.Timeout", cause="the task timed out")
Request = Sleep | Callback
Execution = Generator[Request, Resumed | None, Any]


@dataclass
class Counters:
    """What AWS would bill: state transitions, and Lambda invocations per function."""

    transitions: int = 0
    invocations: dict[str, int] = field(default_factory=dict)

    @property
    def lambda_invocations(self) -> int:
        return sum(self.invocations.values())


# -- JSONPath ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def _compiled(path: str) -> Any:
    return jsonpath_parse(path)


def read_path(path: str, data: Any, context: Any) -> Any:
    """The value at a reference path: ``$...`` in ``data``, ``$$...`` in the context object."""
    if path.startswith("$$"):
        path, data = path[1:], context
    if path == "$":
        return data
    if _SIMPLE.fullmatch(path):  # $.a.b: a walk through objects, the common case
        node = data
        for key in path[2:].split("."):
            if not isinstance(node, dict) or key not in node:
                raise StatesError("States.Runtime", f"the JSONPath {path!r} matched nothing in the state's input")
            node = node[key]
        return node
    matches = _compiled(path).find(data)
    if not matches:
        raise StatesError("States.Runtime", f"the JSONPath {path!r} matched nothing in the state's input")
    if len(matches) == 1 and not _is_multi(path):
        return matches[0].value
    return [m.value for m in matches]


def _is_multi(path: str) -> bool:
    return any(token in path for token in ("[*]", "..", "?(", ":"))


def write_path(path: str | None, data: Any, result: Any) -> Any:
    """``ResultPath``: ``$`` replaces, ``None`` keeps ``data``, else ``result`` goes at the path
    of a copy of ``data`` (missing objects on the way are created)."""
    if path is None:
        return data
    if path == "$":
        return result
    if not re.fullmatch(r"\$(\.[A-Za-z0-9_]+)+", path):
        raise DefinitionError(f"ResultPath {path!r}: only $.a.b paths are supported")
    # copies only the objects on the path: states never change their input in place
    out = dict(data) if isinstance(data, dict) else {}
    node = out
    keys = path[2:].split(".")
    for key in keys[:-1]:
        child = node.get(key)
        child = node[key] = dict(child) if isinstance(child, dict) else {}
        node = child
    node[keys[-1]] = result
    return out


def render(template: Any, data: Any, context: Any) -> Any:
    """``Parameters`` / ``ItemSelector`` / ``ResultSelector``: keys ending in ``.$`` take the
    value at their path; everything else is copied."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str):
                    raise DefinitionError(f"{key}: a .$ key needs a path string")
                if value.startswith("States."):
                    raise DefinitionError(f"{key}: intrinsic functions are not supported ({value})")
                out[key[:-2]] = read_path(value, data, context)
            else:
                out[key] = render(value, data, context)
        return out
    if isinstance(template, list):
        return [render(v, data, context) for v in template]
    return template


# -- Choice rules ---------------------------------------------------------------------------------
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b, "LessThan": lambda a, b: a < b, "GreaterThan": lambda a, b: a > b,
    "LessThanEquals": lambda a, b: a <= b, "GreaterThanEquals": lambda a, b: a >= b,
}
_TYPES: dict[str, Callable[[Any], bool]] = {
    "String": lambda v: isinstance(v, str), "Numeric": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool), "Timestamp": lambda v: isinstance(v, str),
}


def _timestamp(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def choice_matches(rule: Mapping[str, Any], data: Any, context: Any) -> bool:
    if "And" in rule:
        return all(choice_matches(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(choice_matches(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not choice_matches(rule["Not"], data, context)
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise DefinitionError(f"Choice rule without Variable: {dict(rule)}")
    try:
        value = read_path(variable, data, context)
        present = True
    except StatesError:
        value, present = None, False
    for key, expected in rule.items():
        if key in ("Variable", "Next"):
            continue
        if key == "IsPresent":
            return present is bool(expected)
        if not present:
            raise StatesError("States.Runtime", f"Choice: {variable} is not in the input")
        if key == "IsNull":
            return (value is None) is bool(expected)
        if key.startswith("Is") and key[2:] in _TYPES:
            return _TYPES[key[2:]](value) is bool(expected)
        if key.endswith("Path"):
            key, expected = key[:-4], read_path(expected, data, context)
        for kind, is_kind in _TYPES.items():
            if key.startswith(kind) and key[len(kind):] in _COMPARISONS:
                if not is_kind(value):
                    return False
                compare = _COMPARISONS[key[len(kind):]]
                if kind == "Timestamp":
                    return compare(_timestamp(value), _timestamp(expected))
                return compare(value, expected)
        if key == "StringMatches":
            return isinstance(value, str) and re.fullmatch(_glob(str(expected)), value) is not None
        raise DefinitionError(f"Choice operator {key} is not supported")
    raise DefinitionError(f"Choice rule on {variable} has no comparison")


def _glob(pattern: str) -> str:
    return "".join(".*" if ch == "*" else re.escape(ch) for ch in pattern)


# -- errors --------------------------------------------------------------------------------------
def _matches(names: list[str], error: str) -> bool:
    if error in names or "States.ALL" in names:
        return True
    return "States.TaskFailed" in names and error != "States.Timeout" and not error.startswith("States.")


def _as_states_error(exc: Exception) -> StatesError:
    if isinstance(exc, StatesError):
        return exc
    return StatesError(type(exc).__name__, str(exc))  # a Lambda's errorType is its exception's class


# -- the interpreter ------------------------------------------------------------------------------
Function = Callable[[Any], Any]


class Interpreter:
    """Runs executions of one definition. ``functions`` maps a function's name to what runs it;
    ``placeholders`` maps ``${Name}`` of the definition to a function name (the deploy's
    ``DefinitionSubstitutions``); ``new_token(execution_name)`` issues task tokens."""

    def __init__(self, definition: Mapping[str, Any], *, functions: Mapping[str, Function],
                 placeholders: Mapping[str, str], new_token: Callable[[str], str],
                 counters: Counters | None = None) -> None:
        if not isinstance(definition.get("States"), dict) or definition.get("StartAt") not in definition["States"]:
            raise DefinitionError("the definition needs States and a StartAt naming one of them")
        self.definition = definition
        self.functions, self.placeholders, self.new_token = functions, placeholders, new_token
        self.counters = counters or Counters()

    def execute(self, name: str, data: Any, now: Callable[[], datetime]) -> Execution:
        """An execution (a generator; see the module docstring). Returns the output; raises
        :class:`ExecutionFailed`."""
        context = {"Execution": {"Name": name, "Input": data}, "StateMachine": {"Name": "simulated"}}
        try:
            return (yield from self._run(self.definition, data, context, now))
        except StatesError as exc:
            raise ExecutionFailed(exc.error, exc.cause) from exc

    # -- states ------------------------------------------------------------------------------
    def _run(self, machine: Mapping[str, Any], data: Any, context: dict[str, Any],
             now: Callable[[], datetime]) -> Execution:
        states = machine["States"]
        name = machine["StartAt"]
        entered_without_pause = 0
        while True:
            state = states.get(name)
            if not isinstance(state, dict):
                raise DefinitionError(f"no state named {name!r}")
            self.counters.transitions += 1
            entered_without_pause += 1
            if entered_without_pause > MAX_STATES_PER_RUN:
                raise DefinitionError(f"more than {MAX_STATES_PER_RUN} states without a pause: a loop at {name}")
            context = {**context, "State": {"Name": name, "EnteredTime": now().isoformat()}}
            kind = state.get("Type")
            if kind == "Succeed":
                return self._output(state, self._input(state, data, context), context)
            if kind == "Fail":
                raise StatesError(state.get("Error", "States.Fail"), state.get("Cause", ""))
            if kind == "Choice":
                effective = self._input(state, data, context)
                name = next((rule["Next"] for rule in state.get("Choices", [])
                             if choice_matches(rule, effective, context)), state.get("Default"))
                if name is None:
                    raise StatesError("States.NoChoiceMatched", "no Choice rule matched and there is no Default")
                data = self._output(state, effective, context)
                continue
            try:
                if kind == "Pass":
                    data = self._pass(state, data, context)
                elif kind == "Wait":
                    seconds = self._wait_seconds(state, self._input(state, data, context), context, now)
                    entered_without_pause = 0
                    yield Sleep(seconds)
                    data = self._output(state, self._input(state, data, context), context)
                elif kind in ("Task", "Map", "Parallel"):
                    result = yield from self._with_retries(state, data, context, now)
                    entered_without_pause = 0
                    data = self._output(state, write_path(state.get("ResultPath", "$"), data, result), context)
                else:
                    raise DefinitionError(f"state {name}: type {kind!r} is not supported")
            except StatesError as exc:
                catcher = next((c for c in state.get("Catch", []) if _matches(c.get("ErrorEquals", []), exc.error)), None)
                if catcher is None:
                    raise
                data = write_path(catcher.get("ResultPath", "$"), data, {"Error": exc.error, "Cause": exc.cause})
                name = catcher["Next"]
                continue
            if state.get("End"):
                return data
            name = state["Next"]

    def _input(self, state: Mapping[str, Any], data: Any, context: Any) -> Any:
        path = state.get("InputPath", "$")
        return {} if path is None else read_path(path, data, context)

    def _output(self, state: Mapping[str, Any], data: Any, context: Any) -> Any:
        path = state.get("OutputPath", "$")
        return {} if path is None else read_path(path, data, context)

    def _pass(self, state: Mapping[str, Any], data: Any, context: Any) -> Any:
        effective = self._input(state, data, context)
        if "Parameters" in state:
            effective = render(state["Parameters"], effective, context)
        result = copy.deepcopy(state["Result"]) if "Result" in state else effective
        return self._output(state, write_path(state.get("ResultPath", "$"), data, result), context)

    def _wait_seconds(self, state: Mapping[str, Any], data: Any, context: Any, now: Callable[[], datetime]) -> float:
        if "Seconds" in state:
            return float(state["Seconds"])
        if "SecondsPath" in state:
            return float(read_path(state["SecondsPath"], data, context))
        stamp = state.get("Timestamp") or (read_path(state["TimestampPath"], data, context)
                                           if "TimestampPath" in state else None)
        if stamp is None:
            raise DefinitionError("a Wait state needs Seconds(Path) or Timestamp(Path)")
        return max(0.0, (_timestamp(stamp) - now()).total_seconds())

    def _with_retries(self, state: Mapping[str, Any], data: Any, context: dict[str, Any],
                      now: Callable[[], datetime]) -> Execution:
        attempts: dict[int, int] = {}
        while True:
            try:
                effective = self._input(state, data, context)
                if state["Type"] == "Task":
                    result = yield from self._task(state, effective, context, now)
                elif state["Type"] == "Map":
                    result = yield from self._map(state, effective, context, now)
                else:
                    result = yield from self._parallel(state, effective, context, now)
                if "ResultSelector" in state:
                    result = render(state["ResultSelector"], result, context)
                return result
            except StatesError as exc:
                for index, retrier in enumerate(state.get("Retry", [])):
                    if _matches(retrier.get("ErrorEquals", []), exc.error):
                        done = attempts.get(index, 0)
                        if done >= retrier.get("MaxAttempts", 3):
                            raise
                        attempts[index] = done + 1
                        self.counters.transitions += 1  # a retry is billed as a transition
                        delay = retrier.get("IntervalSeconds", 1) * retrier.get("BackoffRate", 2.0) ** done
                        yield Sleep(min(delay, retrier.get("MaxDelaySeconds", delay)))
                        break
                else:
                    raise

    def _function(self, resource: str) -> str:
        placeholder = PLACEHOLDER.match(resource)
        if placeholder:
            name = self.placeholders.get(placeholder["name"])
            if name is None:
                raise DefinitionError(f"no function for the placeholder {resource}")
            return name
        arn = LAMBDA_ARN.match(resource)
        if arn:
            return arn["name"]
        if resource in self.functions:
            return resource
        raise DefinitionError(f"Resource {resource!r} is not a Lambda function this simulation knows")

    def _invoke(self, function: str, payload: Any) -> Any:
        run = self.functions.get(function)
        if run is None:
            raise DefinitionError(f"no function named {function!r}")
        self.counters.invocations[function] = self.counters.invocations.get(function, 0) + 1
        try:
            return run(json.loads(json.dumps(payload)))  # what crosses to Lambda is JSON
        except DefinitionError:
            raise
        except Exception as exc:  # a function error: the state's Retry / Catch decide
            raise _as_states_error(exc) from exc

    def _task(self, state: Mapping[str, Any], effective: Any, context: dict[str, Any],
              now: Callable[[], datetime]) -> Execution:
        resource = state.get("Resource", "")
        callback = resource.endswith(WAIT_FOR_TOKEN)
        base = resource[: -len(WAIT_FOR_TOKEN)] if callback else resource
        token = None
        if callback:
            token = self.new_token(context["Execution"]["Name"])
            context = {**context, "Task": {"Token": token}}
        parameters = render(state["Parameters"], effective, context) if "Parameters" in state else effective
        if base == LAMBDA_INVOKE:
            if not isinstance(parameters, dict) or "FunctionName" not in parameters:
                raise DefinitionError("a lambda:invoke task needs Parameters.FunctionName")
            function = self._function(str(parameters["FunctionName"]))
            returned = self._invoke(function, parameters.get("Payload", effective))
            result: Any = {"Payload": returned, "StatusCode": 200, "ExecutedVersion": "$LATEST"}
        elif base.startswith("arn:aws:states:::"):
            raise DefinitionError(f"service integration {resource!r} is not simulated")
        else:
            if callback:
                raise DefinitionError(f"{resource}: .waitForTaskToken needs a service integration")
            result = self._invoke(self._function(base), parameters)
        if token is None:
            return result
        timeout = state.get("TimeoutSeconds")
        if "TimeoutSecondsPath" in state:
            timeout = read_path(state["TimeoutSecondsPath"], effective, context)
        answer = yield Callback(token, float(timeout) if timeout is not None else None)
        if answer is None:
            raise DefinitionError("a task-token wait was resumed without an answer")
        if answer.error is not None:
            raise StatesError(answer.error, answer.cause)
        return answer.output

    def _map(self, state: Mapping[str, Any], effective: Any, context: dict[str, Any],
             now: Callable[[], datetime]) -> Execution:
        items = read_path(state.get("ItemsPath", "$"), effective, context)
        if not isinstance(items, list):
            raise StatesError("States.Runtime", f"Map: ItemsPath {state.get('ItemsPath', '$')} is not a list")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if not isinstance(processor, dict):
            raise DefinitionError("a Map state needs an ItemProcessor")
        selector = state.get("ItemSelector", state.get("Parameters"))
        results = []
        for index, item in enumerate(items):  # concurrency changes nothing on a virtual clock
            item_context = {**context, "Map": {"Item": {"Index": index, "Value": item}}}
            item_input = render(selector, effective, item_context) if selector is not None else item
            results.append((yield from self._run(processor, item_input, item_context, now)))
        return results

    def _parallel(self, state: Mapping[str, Any], effective: Any, context: dict[str, Any],
                  now: Callable[[], datetime]) -> Execution:
        results = []
        for branch in state.get("Branches", []):
            results.append((yield from self._run(branch, effective, context, now)))
        return results
