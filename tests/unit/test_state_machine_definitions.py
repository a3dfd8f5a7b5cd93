"""Static checks on the ASL files ops edit: what any edit must keep true."""

from __future__ import annotations

from typing import Any

import pytest

from infra.resources import load_asl, state_machine_files

SEVERITIES = ("P1", "P2", "P3")


def policy(asl: dict[str, Any]) -> dict[str, Any]:
    return asl["States"]["ServiceLevelPolicy"]["Result"]


def all_states(states: dict[str, Any]) -> dict[str, Any]:
    found = dict(states)
    for state in states.values():
        if state.get("Type") == "Map":
            found.update(all_states(state["ItemProcessor"]["States"]))
    return found


def successors(state: dict[str, Any]) -> set[str]:
    nxt = {state["Next"]} if "Next" in state else set()
    nxt |= {c["Next"] for c in state.get("Choices", [])}
    if "Default" in state:
        nxt.add(state["Default"])
    nxt |= {c["Next"] for c in state.get("Catch", [])}
    return nxt


@pytest.fixture(params=sorted(state_machine_files()))
def asl(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load_asl(request.param)


def test_every_transition_targets_an_existing_state(asl: dict[str, Any]) -> None:
    def check(states: dict[str, Any], start: str) -> None:
        assert start in states
        for name, state in states.items():
            for target in successors(state):
                assert target in states, f"{name} -> {target}"
            if state.get("Type") == "Map":
                inner = state["ItemProcessor"]
                check(inner["States"], inner["StartAt"])

    check(asl["States"], asl["StartAt"])


def test_every_state_is_reachable_and_can_reach_an_end(asl: dict[str, Any]) -> None:
    states = asl["States"]
    reachable, todo = set(), [asl["StartAt"]]
    while todo:
        name = todo.pop()
        if name not in reachable:
            reachable.add(name)
            todo.extend(successors(states[name]))
    assert reachable == set(states), f"unreachable: {set(states) - reachable}"
    ends = {n for n, s in states.items() if s.get("End") or s["Type"] in ("Succeed", "Fail")}
    can_end = set(ends)
    changed = True
    while changed:
        changed = False
        for name, state in states.items():
            if name not in can_end and successors(state) & can_end:
                can_end.add(name)
                changed = True
    assert can_end == set(states), f"cannot end: {set(states) - can_end}"


def test_each_severity_is_routed_by_the_policy(asl: dict[str, Any]) -> None:
    p = policy(asl)
    assert set(SEVERITIES) <= set(p)


def test_windows_are_positive_and_ordered(asl: dict[str, Any]) -> None:
    p = policy(asl)
    for sev in SEVERITIES:
        fc, rs = p[sev]["first_contact_s"], p[sev]["resolution_s"]
        assert isinstance(fc, int) and isinstance(rs, int) and 0 < fc < rs, sev
        assert float(p[sev]["voucher_cny"]) > 0
    assert p["P1"]["first_contact_s"] <= p["P2"]["first_contact_s"] <= p["P3"]["first_contact_s"]
    assert p["P1"]["resolution_s"] <= p["P2"]["resolution_s"] <= p["P3"]["resolution_s"]
    f = p["follow_up"]
    assert all(isinstance(f[k], int) and f[k] > 0 for k in ("survey_delay_s", "reminder_after_s", "answer_window_s"))
    assert f["reminder_after_s"] < f["answer_window_s"]


def test_timings_appear_only_in_the_policy_state(asl: dict[str, Any]) -> None:
    for name, state in all_states(asl["States"]).items():
        if name == "ServiceLevelPolicy":
            continue
        assert "Seconds" not in state and "TimeoutSeconds" not in state, f"{name} has a literal timing"


def test_lambda_tasks_only_use_known_placeholders(asl: dict[str, Any]) -> None:
    from infra.resources import ASL_FUNCTION_PLACEHOLDERS

    for name, state in all_states(asl["States"]).items():
        if state.get("Type") != "Task":
            continue
        ref = state["Resource"] if state["Resource"].startswith("${") else state["Parameters"].get("FunctionName", "")
        assert ref.startswith("${") and ref[2:-1] in ASL_FUNCTION_PLACEHOLDERS, f"{name}: {ref}"
