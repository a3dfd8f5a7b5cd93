"""The state machine and the code agree (``chalicelib/workflow_events.py``): every ``action``
the ASL sends names a step and carries exactly that step's fields; every step is used; every
``$.step.<x>`` the ASL reads is a field of a step's answer; the errors it retries and catches
by name are the ones the code raises; a wait loops to itself, times out into the step that
does what is due, and ends the workflow on ``ComplaintClosed``. Rename a state's field or a
step and this is the test that fails."""

from __future__ import annotations

import re
from typing import Any, get_args, get_type_hints

import pytest
from pydantic import BaseModel

from chalicelib import steps
from chalicelib.steps import STEPS
from chalicelib.workflow_events import COMPLAINT_CLOSED, StepEvent, StepResult
from infra.resources import load_asl, state_machine_files

STEP_MODELS: dict[str, type[BaseModel]] = {
    get_args(model.model_fields["action"].annotation)[0]: model for model in get_args(get_args(StepEvent)[0])
}


def states(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(asl["States"])


def payload(state: dict[str, Any]) -> dict[str, Any] | None:
    """What a Task hands the lifecycle function (``Parameters``, or their ``Payload`` for
    ``lambda:invoke``); None for other tasks."""
    params = state.get("Parameters") or {}
    if state.get("Resource") == "${LifecycleStepFunctionArn}":
        return dict(params)
    if params.get("FunctionName") == "${LifecycleStepFunctionArn}":
        return dict(params["Payload"])
    return None


def fields(payload: dict[str, Any]) -> set[str]:
    return {key.removesuffix(".$") for key in payload}


@pytest.fixture(params=sorted(state_machine_files()))
def asl(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load_asl(request.param)


def test_every_action_names_a_step_with_exactly_its_fields_and_every_step_is_used(asl: dict[str, Any]) -> None:
    used: set[str] = set()
    for name, state in states(asl).items():
        sent = payload(state)
        if sent is None:
            continue
        action = sent["action"]
        assert action in STEPS, f"{name} sends action {action!r}, which no step handles"
        assert fields(sent) == set(STEP_MODELS[action].model_fields), f"{name} and {STEP_MODELS[action].__name__} disagree"
        used.add(action)
    assert used == set(STEPS) == set(STEP_MODELS)


def test_steps_that_answer_a_plan_write_it_where_the_wait_reads_it(asl: dict[str, Any]) -> None:
    for name, state in states(asl).items():
        sent = payload(state)
        if sent is None:
            continue
        answers = get_type_hints(STEPS[sent["action"]])["return"]
        if answers is StepResult or str(state["Resource"]).endswith(".waitForTaskToken"):
            # a wait's result is the output its token is answered with: a StepResult too
            assert state.get("ResultPath") == "$.step", name
        else:  # an answer that is no plan must not overwrite the one the wait reads
            assert state.get("ResultPath") != "$.step", name


def test_everything_read_from_a_step_answer_is_a_field_of_it(asl: dict[str, Any]) -> None:
    text = str(asl)
    read = set(re.findall(r"\$\.step\.([A-Za-z_]+)", text))
    assert read and read <= set(StepResult.model_fields), read - set(StepResult.model_fields)


def test_the_errors_the_asl_names_are_the_errors_the_code_raises(asl: dict[str, Any]) -> None:
    named = {error for state in states(asl).values() for rule in [*state.get("Retry", []), *state.get("Catch", [])]
             for error in rule["ErrorEquals"] if not error.startswith(("States.", "Lambda."))}
    assert named == {COMPLAINT_CLOSED, steps.TransientError.__name__}


def test_a_wait_ends_in_the_next_wait_a_timeout_or_the_end(asl: dict[str, Any]) -> None:
    waits = {name: s for name, s in states(asl).items() if str(s.get("Resource", "")).endswith(".waitForTaskToken")}
    for name, state in waits.items():
        # an action's output (the next plan) replaces the plan the wait was entered with
        assert state["Next"] == name and state["ResultPath"] == "$.step" and state["TimeoutSecondsPath"] == "$.step.wait_s"
        catches = {tuple(c["ErrorEquals"]): c["Next"] for c in state["Catch"]}
        timeout = states(asl)[catches[("States.Timeout",)]]
        assert payload(timeout) == {"action": "timeout", "complaint_id.$": "$.complaint_id"}
        assert timeout["Next"] == name and timeout["ResultPath"] == "$.step"
        assert states(asl)[catches[(COMPLAINT_CLOSED,)]]["Type"] == "Succeed"
        # ComplaintClosed is the end, never retried (States.TaskFailed would match it)
        assert state["Retry"][0] == {"ErrorEquals": [COMPLAINT_CLOSED], "MaxAttempts": 0}
    assert waits, "no wait"
