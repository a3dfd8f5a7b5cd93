"""The state machine and the code agree (``chalicelib/workflow_events.py``): every ``action``
the ASL sends names a step and carries exactly that step's fields; every step is used; the
``Route`` choices are exactly the plans ``lifecycle.plan`` can answer; every ``$.step.<x>``
the ASL reads is a field of a step's answer; the ``Notify`` map hands the ``notify`` function
exactly its event. Rename a state's field or a step and this is the test that fails."""

from __future__ import annotations

import re
from typing import Any, get_args, get_type_hints

import pytest
from pydantic import BaseModel

from chalicelib.lifecycle import Next
from chalicelib.steps import STEPS
from chalicelib.workflow_events import NotifyEvent, StepEvent, StepResult
from infra.resources import load_asl, state_machine_files

STEP_MODELS: dict[str, type[BaseModel]] = {
    get_args(model.model_fields["action"].annotation)[0]: model for model in get_args(get_args(StepEvent)[0])
}


def states(asl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = dict(asl["States"])
    for state in asl["States"].values():
        if state.get("Type") == "Map":
            found.update(states(state["ItemProcessor"]))
    return found


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


def test_steps_that_answer_a_plan_write_it_where_route_reads_it(asl: dict[str, Any]) -> None:
    for name, state in states(asl).items():
        sent = payload(state)
        if sent is None:
            continue
        answers = get_type_hints(STEPS[sent["action"]])["return"]
        if answers is StepResult:
            assert state.get("ResultPath") == "$.step", name
        else:  # an answer that is no plan must not overwrite the one Route reads
            assert state.get("ResultPath") != "$.step", name


def test_route_choices_are_exactly_the_plans(asl: dict[str, Any]) -> None:
    route = asl["States"]["Route"]
    assert {c["Variable"] for c in route["Choices"]} == {"$.step.next"}
    assert {c["StringEquals"] for c in route["Choices"]} == set(get_args(Next))
    assert route["Default"] in asl["States"]


def test_everything_read_from_a_step_answer_is_a_field_of_it(asl: dict[str, Any]) -> None:
    text = str(asl)
    read = set(re.findall(r"\$\.step\.([A-Za-z_]+)", text))
    assert read and read <= set(StepResult.model_fields), read - set(StepResult.model_fields)


def test_the_notify_map_hands_the_notify_function_its_event(asl: dict[str, Any]) -> None:
    maps = [s for s in asl["States"].values() if s.get("Type") == "Map"]
    for state in maps:
        assert state["ItemsPath"] == "$.step.notifications"
        assert fields(state["ItemSelector"]) == set(NotifyEvent.model_fields)
        senders = [s for s in state["ItemProcessor"]["States"].values() if s.get("Resource") == "${NotifyFunctionArn}"]
        assert len(senders) == 1 and "Parameters" not in senders[0]  # the item as it is
    assert maps, "no Notify map"
