"""The simulator's ASL interpreter on small definitions: data flow, Choice, Wait, Retry and
Catch by error name, task-token waits with their timeout, Map — and the transitions and
Lambda invocations AWS would bill for them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from local.simulate.asl import (
    TIMED_OUT,
    Callback,
    ExecutionFailed,
    Interpreter,
    Resumed,
    Sleep,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def run(definition: dict[str, Any], data: Any, functions: dict[str, Any], answers: list[Resumed | None] | None = None,
        ) -> tuple[Any, list[Any], Interpreter]:
    """Run to the end; answer each pause from ``answers`` (None after a Sleep)."""
    interpreter = Interpreter(definition, functions=functions, placeholders={"Fn": "fn"},
                              new_token=lambda name: f"token-{name}")
    execution = interpreter.execute("exec-1", data, lambda: NOW)
    pauses: list[Any] = []
    queue = list(answers or [])
    answer: Resumed | None = None
    while True:
        try:
            pause = execution.send(answer)
        except StopIteration as done:
            return done.value, pauses, interpreter
        pauses.append(pause)
        answer = None if isinstance(pause, Sleep) else queue.pop(0)


def test_pass_choice_and_parameters_follow_the_data_flow() -> None:
    definition = {
        "StartAt": "Policy",
        "States": {
            "Policy": {"Type": "Pass", "Result": {"limit": 3}, "ResultPath": "$.policy", "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "${Fn}", "Parameters": {"id.$": "$.id", "limit.$": "$.policy.limit",
                                                                         "fixed": "x"},
                     "ResultPath": "$.step", "Next": "Route"},
            "Route": {"Type": "Choice", "Choices": [
                {"Variable": "$.step.next", "StringEquals": "big", "Next": "Big"},
                {"And": [{"Variable": "$.step.n", "NumericGreaterThan": 1}, {"Variable": "$.id", "IsPresent": True}],
                 "Next": "Done"}], "Default": "Big"},
            "Big": {"Type": "Fail", "Error": "TooBig"},
            "Done": {"Type": "Succeed", "OutputPath": "$.step"},
        },
    }
    seen: list[Any] = []

    def fn(event: Any) -> Any:
        seen.append(event)
        return {"next": "small", "n": event["limit"]}

    output, pauses, interpreter = run(definition, {"id": "C-1"}, {"fn": fn})
    assert seen == [{"id": "C-1", "limit": 3, "fixed": "x"}]
    assert output == {"next": "small", "n": 3}
    assert pauses == []
    assert interpreter.counters.transitions == 4  # Policy, Call, Route, Done
    assert interpreter.counters.invocations == {"fn": 1}


def test_retry_backs_off_then_catch_routes_the_error() -> None:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:fn",
                     "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 2, "MaxAttempts": 2,
                                "BackoffRate": 3.0}],
                     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
                     "End": True},
            "Failed": {"Type": "Pass", "End": True},
        },
    }

    class TransientError(Exception):
        pass

    def fn(event: Any) -> Any:
        raise TransientError("throttled")

    output, pauses, interpreter = run(definition, {"id": "C-1"}, {"fn": fn})
    assert pauses == [Sleep(2), Sleep(6)]  # IntervalSeconds, then x BackoffRate
    assert output == {"id": "C-1", "error": {"Error": "TransientError", "Cause": "throttled"}}
    assert interpreter.counters.invocations == {"fn": 3}
    assert interpreter.counters.transitions == 1 + 2 + 1  # Call, two retries, Failed


def test_a_task_token_wait_times_out_into_its_catch_or_resumes_with_the_output() -> None:
    definition = {
        "StartAt": "Await",
        "States": {
            "Await": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                      "Parameters": {"FunctionName": "${Fn}", "Payload": {"token.$": "$$.Task.Token", "id.$": "$.id"}},
                      "TimeoutSecondsPath": "$.wait_s", "ResultPath": "$.answer",
                      "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": "Expired"}],
                      "End": True},
            "Expired": {"Type": "Pass", "Result": "expired", "ResultPath": "$.answer", "End": True},
        },
    }
    tokens: list[str] = []
    functions = {"fn": lambda event: tokens.append(event["token"]) or {"registered": True}}

    output, pauses, _ = run(definition, {"id": "C-1", "wait_s": 90}, functions, [TIMED_OUT])
    assert pauses == [Callback("token-exec-1", 90.0)] and tokens == ["token-exec-1"]
    assert output["answer"] == "expired"

    output, _, interpreter = run(definition, {"id": "C-1", "wait_s": 90}, functions, [Resumed(output={"by": "agent"})])
    assert output["answer"] == {"by": "agent"}
    assert interpreter.counters.transitions == 1


def test_wait_and_map_count_every_inner_state() -> None:
    definition = {
        "StartAt": "Delay",
        "States": {
            "Delay": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Each"},
            "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"id.$": "$.id", "item.$": "$$.Map.Item.Value"},
                     "ItemProcessor": {"StartAt": "Send", "States": {
                         "Send": {"Type": "Task", "Resource": "${Fn}", "Next": "Sent"},
                         "Sent": {"Type": "Succeed"}}},
                     "ResultPath": "$.sent", "End": True},
        },
    }
    output, pauses, interpreter = run(definition, {"id": "C-1", "delay": 60, "items": ["a", "b", "c"]},
                                      {"fn": lambda e: f"{e['id']}:{e['item']}"})
    assert pauses == [Sleep(60)]
    assert output["sent"] == ["C-1:a", "C-1:b", "C-1:c"]  # each item's output: Succeed passes its input on
    assert interpreter.counters.transitions == 2 + 3 * 2
    assert interpreter.counters.invocations == {"fn": 3}


def test_an_uncaught_error_or_a_fail_state_fails_the_execution() -> None:
    definition = {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "${Fn}", "End": True}}}

    def fn(event: Any) -> Any:
        raise ValueError("bad event")

    with pytest.raises(ExecutionFailed) as failed:
        run(definition, {}, {"fn": fn})
    assert (failed.value.error, failed.value.cause) == ("ValueError", "bad event")
