"""The service-level policy model: the real file validates, every invalid edit ops could make
is rejected with the key named, and the policy round-trips onto a ticket."""

from __future__ import annotations

import copy
import json
import warnings
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters.dynamodb import dump
from chalicelib.policy import (
    ALWAYS_OPEN,
    BusinessHours,
    PolicyError,
    ServiceLevelPolicy,
    check,
    from_definition,
    load,
    policy_result,
)
from chalicelib.policy.__main__ import main as policy_cli
from infra.resources import load_asl, state_machine_files


@pytest.fixture
def result() -> dict[str, Any]:
    """A fresh copy of the real ServiceLevelPolicy Result, to edit."""
    return copy.deepcopy(policy_result(load_asl("lifecycle")))


def problems(data: Any) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        ServiceLevelPolicy.parse(data)
    return caught.value.problems


# -- the real file ---------------------------------------------------------------------------------
def test_the_real_definition_holds_a_valid_policy_in_the_documented_shape() -> None:
    # Given the definition ops edit / When its policy is loaded
    policy = load(state_machine_files()["lifecycle"])
    # Then every severity runs 24x7 by default, with the documented windows and vouchers
    assert [(s.first_contact_s, s.resolution_s, s.voucher_cny, s.hours) for s in (policy.P1, policy.P2, policy.P3)] == [
        (1800, 86400, Decimal("10.00"), "24x7"), (7200, 172800, Decimal("5.00"), "24x7"),
        (28800, 259200, Decimal("5.00"), "24x7")]
    assert all(policy.hours_for(s, team) is ALWAYS_OPEN for s in ("P1", "P2", "P3") for team in policy.calendars)
    # And the ladder is the documented one, repeating at the last level
    assert [(lv.level, lv.alert, lv.customer, lv.next_window_fraction, lv.repeat) for lv in policy.escalation.levels] == [
        (1, "team_lead", "apology_voucher", 0.5, False), (2, "manager", "progress_update", 0.25, False),
        (3, "director", None, 0.125, True)]
    assert policy.escalation.at_risk_fraction == 0.75
    # And each team has a calendar in Shanghai time on China's official holidays
    assert set(policy.calendars) == {"product", "logistics", "service"}
    assert {c.timezone for c in policy.calendars.values()} == {"Asia/Shanghai"}
    assert {c.holidays for c in policy.calendars.values()} == {"CN"}
    assert policy.follow_up.pending_timeout_s == 432000 and policy.follow_up.max_reopens == 2


def test_the_real_definition_warns_about_the_unpublished_year_only() -> None:
    definition = load_asl("lifecycle")
    # Given December 2026: holidays 0.109 has 2027's statutory days but no make-up working days
    late_2026 = check(definition, today=date(2026, 12, 1))
    assert late_2026.ok
    assert len(late_2026.warnings) == 1
    warning = late_2026.warnings[0]
    assert warning.startswith("2027: ") and "not published" in warning and "product, logistics, service" in warning
    # And 2025-2026 are published: nothing to warn about early in 2025
    assert check(definition, today=date(2025, 3, 1)).warnings == []
    # And what applies today is shown in make test's warnings summary, for ops to act on
    today = check(definition, today=datetime.now(UTC).date())
    assert today.ok
    for line in today.warnings:
        warnings.warn(line, UserWarning, stacklevel=1)


# -- invalid edits: each names its key --------------------------------------------------------------
def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split("/")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[int(last) if isinstance(node, list) else last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


class _Delete:
    def __repr__(self) -> str:  # a stable test id (pytest-xdist compares them across workers)
        return "<deleted>"


DELETE = _Delete()

INVALID_EDITS = [
    # (edit, value, the line the error must contain)
    ("P3/first_contact", 600, "P3.first_contact: unknown key (did you mean 'first_contact_s'?)"),
    ("escalation/level", [], "escalation.level: unknown key (did you mean 'levels'?)"),
    ("P2/resolution_s", -5, "P2.resolution_s: must be a positive number of seconds, got -5"),
    ("P1/first_contact_s", 0, "P1.first_contact_s: must be a positive number of seconds, got 0"),
    ("follow_up/survey_delay_s", 7200.5, "follow_up.survey_delay_s: must be a whole number, got 7200.5"),
    ("follow_up/answer_window_s", "259200", "follow_up.answer_window_s: must be a whole number, got '259200'"),
    ("P3/resolution_s", 10**9, "P3.resolution_s: must be at most 31536000 s (365 days)"),
    ("follow_up/pending_timeout_s", DELETE, "follow_up.pending_timeout_s: missing (required)"),
    ("P2", DELETE, "P2: missing (required)"),
    ("P1/voucher_cny", "-1.00", "P1.voucher_cny: must not be negative"),
    ("P1/voucher_cny", "10.005", "P1.voucher_cny: must have at most 2 decimal places"),
    ("P1/hours", "24/7", "P1.hours: input should be '24x7' or 'business', got '24/7'"),
    ("P1/first_contact_s", 90000, "P1.first_contact_s: must not be longer than resolution_s (90000 > 86400)"),
    ("P2/first_contact_s", 1000, "P2.first_contact_s: must not be shorter than P1.first_contact_s (1000 < 1800)"),
    ("escalation/levels/1/next_window_fraction", 1.5,
     "escalation.levels[1].next_window_fraction: must be in (0, 1], got 1.5"),
    ("escalation/levels/0/next_window_fraction", 0, "escalation.levels[0].next_window_fraction: must be in (0, 1], got 0"),
    ("escalation/at_risk_fraction", -0.25, "escalation.at_risk_fraction: must be in (0, 1], got -0.25"),
    ("escalation/at_risk_fraction", "0.75", "escalation.at_risk_fraction: must be a number, got '0.75'"),
    ("escalation/at_risk_fraction", DELETE, "escalation.at_risk_fraction: missing (required)"),
    ("escalation/levels/1", DELETE,
     "escalation.levels[1].level: levels must be numbered 1..2 in order: expected 2, got 3 (a level is missing)"),
    ("escalation/levels/0/repeat", True, "escalation.levels[0].repeat: only the last level may repeat"),
    ("escalation/levels", [], "escalation.levels: give at least one level"),
    ("escalation/levels/2/alert", "ceo",
     "escalation.levels[2].alert: input should be 'team_lead', 'manager' or 'director', got 'ceo'"),
    ("escalation/levels/1/customer", "sms", "escalation.levels[1].customer: input should be 'apology_voucher' or "
     "'progress_update', got 'sms'"),
    ("calendars/product/timezone", "Asia/Shangai",
     "calendars.product.timezone: unknown time zone 'Asia/Shangai': use an IANA name like 'Asia/Shanghai'"),
    ("calendars/product/week", {"mon-fry": ["09:00-18:00"]}, "calendars.product.week.mon-fry: bad day range"),
    ("calendars/product/week", {"fri-mon": ["09:00-18:00"]},
     "calendars.product.week.fri-mon: bad day range: days run mon…sun, so write 'fri-sun' and 'mon-mon'"),
    ("calendars/product/week", {"mon-fri": ["9:00-18:00"]}, "calendars.product.week.mon-fri[0]: bad interval '9:00-18:00'"),
    ("calendars/product/week", {"mon-fri": ["09:00-18:00", "18:00-09:00"]},
     "calendars.product.week.mon-fri[1]: bad interval '18:00-09:00'"),
    ("calendars/product/week", {"mon-fri": ["09:00-24:30"]}, "calendars.product.week.mon-fri[0]: bad interval"),
    ("calendars/product/week", {"mon-fri": ["09:00-12:30", "12:00-18:00"]},
     "calendars.product.week.mon-fri: intervals 09:00-12:30 and 12:00-18:00 overlap"),
    ("calendars/product/week", {"mon-fri": ["09:00-18:00"], "fri": ["19:00-20:00"]},
     "calendars.product.week.fri: fri is already given by 'mon-fri': list each day once"),
    ("calendars/product/week", {}, "calendars.product.week: never open: give at least one day range with opening hours"),
    ("calendars/product/week", {"mon-sun": []}, "calendars.product.week: never open"),
    ("calendars/product/holidays", "US", "calendars.product.holidays: input should be 'CN', got 'US'"),
    ("calendars/service/open", ["2027-02-05"], "calendars.service.open: 2027-02-05 is also listed in closed"),
    ("calendars/service/closed", ["2027-02-30"], "calendars.service.closed[0]: "),
    ("calendars/prodcut", {"timezone": "UTC", "week": {"mon": ["09:00-10:00"]}},
     "calendars.prodcut: no team is called 'prodcut' (teams: product, logistics, service)"),
    ("follow_up/reopen_at_or_below", 5, "follow_up.reopen_at_or_below: input should be less than or equal to 4, got 5"),
    ("follow_up/reminder_after_s", 259200, "follow_up.reminder_after_s: must be shorter than answer_window_s"),
]


@pytest.mark.parametrize(("path", "value", "expected"), INVALID_EDITS, ids=[f"{p}={v!r}"[:60] for p, v, _ in INVALID_EDITS])
def test_an_invalid_edit_is_rejected_with_its_key_named(result: dict[str, Any], path: str, value: Any, expected: str) -> None:
    # Given ops' edit of the real policy
    _set(result, path, value)
    # When it is validated / Then the error names the key and what is wrong
    found = problems(result)
    assert any(line.startswith(expected) for line in found), found


def test_business_hours_need_a_calendar_for_every_team(result: dict[str, Any]) -> None:
    result["P3"]["hours"] = "business"
    del result["calendars"]["logistics"]
    assert problems(result) == ["calendars: P3 runs on business hours but team 'logistics' has no calendar"]


def test_every_problem_of_an_edit_is_reported_at_once(result: dict[str, Any]) -> None:
    result["P1"]["resolution_s"] = -1
    result["escalation"]["levels"][2]["next_window_fraction"] = 2
    result["follow_up"]["reminder"] = 10
    found = problems(result)
    assert len(found) == 3
    assert {line.split(":")[0] for line in found} == {"P1.resolution_s", "escalation.levels[2].next_window_fraction",
                                                      "follow_up.reminder"}


def test_a_definition_without_the_policy_state_is_rejected() -> None:
    with pytest.raises(PolicyError, match=r"States\.ServiceLevelPolicy: missing"):
        from_definition({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    with pytest.raises(PolicyError, match="must be a Pass state with a Result"):
        from_definition({"States": {"ServiceLevelPolicy": {"Type": "Task", "Resource": "arn:x"}}})


def test_the_check_command_fails_on_an_invalid_edit_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an edited copy of the real definition with a level-2 fraction of 1.5
    definition = load_asl("lifecycle")
    definition["States"]["ServiceLevelPolicy"]["Result"]["escalation"]["levels"][1]["next_window_fraction"] = 1.5
    edited = tmp_path / "lifecycle.asl.json"
    edited.write_text(json.dumps(definition), encoding="utf-8")
    # When ops check it / Then it fails and names the key
    assert policy_cli([str(edited), "--today", "2026-12-01"]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out
    assert "error: escalation.levels[1].next_window_fraction: must be in (0, 1], got 1.5" in out
    # And the real file passes, printing the 2027 warning
    assert policy_cli([str(state_machine_files()["lifecycle"]), "--today", "2026-12-01"]) == 0
    assert "warning: 2027: " in capsys.readouterr().out


def test_an_unreadable_definition_is_an_error_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.asl.json"
    broken.write_text("{not json", encoding="utf-8")
    assert policy_cli([str(broken)]) == 1
    assert "cannot read" in capsys.readouterr().out


# -- on a ticket ------------------------------------------------------------------------------------
def test_the_policy_round_trips_compactly_through_a_ticket(result: dict[str, Any]) -> None:
    # Given a policy with business hours, extra dates and the defaults
    result["P3"]["hours"] = "business"
    result["calendars"]["product"]["open"] = ["2027-02-07"]
    policy = ServiceLevelPolicy.parse(result)
    # When it is kept on a ticket (a DynamoDB string) and read back
    text = policy.to_ticket()
    assert dump({"policy": text})["policy"] == {"S": text}  # no float in a DynamoDB map
    back = ServiceLevelPolicy.from_ticket(text)
    # Then it is the same policy, compactly
    assert back == policy
    assert len(text) < 1200
    assert '"repeat":false' not in text and '"hours":"24x7"' not in text  # defaults are left out
    # And it computes the same due times (2027-02-07 is an extra open Sunday for product)
    start = datetime(2027, 2, 6, 10, tzinfo=UTC)
    due, due_back = policy.hours_for("P3", "product").add(start, 3600), back.hours_for("P3", "product").add(start, 3600)
    assert isinstance(back.hours_for("P3", "product"), BusinessHours)
    assert due == due_back
    assert due.at == datetime(2027, 2, 7, 2, 0, tzinfo=UTC)  # Sunday 09:00 Shanghai + 1 h
