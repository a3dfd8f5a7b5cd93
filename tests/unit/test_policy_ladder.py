"""The escalation ladder and at-risk warnings, read from the policy's data (the real file's
ladder, then the two worked examples of state_machines/README.md: retime level 2, add a
level 4)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.policy import ALWAYS_OPEN, ServiceLevelPolicy, alert_topic, at_risk, climb, next_deadline, policy_result
from infra.resources import load_asl

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def result() -> dict[str, Any]:
    return copy.deepcopy(policy_result(load_asl("lifecycle")))


@pytest.fixture
def policy(result: dict[str, Any]) -> ServiceLevelPolicy:
    return ServiceLevelPolicy.parse(result)


def s(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_first_breach_reaches_level_one_with_half_the_window_next(policy: ServiceLevelPolicy) -> None:
    # Given a P1 first-contact clock (30 min, 24x7) started at T0 / When its deadline passes
    rungs = climb(policy.escalation, ALWAYS_OPEN, level=0, due=s(1800), original_window_s=1800, now=s(1800))
    # Then level 1: the team lead, apology + voucher, next deadline half the window later
    assert [(r.level.level, r.alert, r.level.customer, r.repeat, r.times) for r in rungs] == [
        (1, "team_lead", "apology_voucher", False, 1)]
    assert rungs[0].missed == s(1800)
    assert rungs[0].next_due is not None and rungs[0].next_due.at == s(1800 + 900)
    assert alert_topic(rungs[0].alert, "logistics") == "team:logistics"


def test_nothing_climbs_before_the_deadline(policy: ServiceLevelPolicy) -> None:
    assert climb(policy.escalation, ALWAYS_OPEN, level=0, due=s(1800), original_window_s=1800, now=s(1799)) == []


def test_a_long_overdue_clock_climbs_every_level_once_and_collapses_the_repeats(policy: ServiceLevelPolicy) -> None:
    # Given deadlines at 1800 (-> L1, +900), 2700 (-> L2, +450), 3150 (-> L3, +225), then L3 every 225 s
    now = s(3150 + 225 * 10 + 1)
    rungs = climb(policy.escalation, ALWAYS_OPEN, level=0, due=s(1800), original_window_s=1800, now=now)
    # Then one rung per level, and the ten repeats since 3375 are one rung, not ten alerts
    assert [(r.level.level, r.repeat, r.times, r.missed) for r in rungs] == [
        (1, False, 1, s(1800)), (2, False, 1, s(2700)), (3, False, 1, s(3150)), (3, True, 10, s(3375))]
    assert [r.next_due.at for r in rungs if r.next_due] == [s(2700), s(3150), s(3375), s(3375 + 225 * 10)]
    assert [alert_topic(r.alert, "product") for r in rungs] == ["team:product", "level:2", "level:3", "level:3"]
    assert [r.level.customer for r in rungs] == ["apology_voucher", "progress_update", None, None]


def test_a_last_level_without_repeat_ends_the_ladder(result: dict[str, Any]) -> None:
    result["escalation"]["levels"][2]["repeat"] = False
    policy = ServiceLevelPolicy.parse(result)
    rungs = climb(policy.escalation, ALWAYS_OPEN, level=2, due=s(0), original_window_s=1800, now=s(10_000))
    assert [(r.level.level, r.next_due) for r in rungs] == [(3, None)]
    assert policy.escalation.after(3) is None
    assert climb(policy.escalation, ALWAYS_OPEN, level=3, due=s(0), original_window_s=1800, now=s(10_000)) == []


def test_manual_escalation_is_the_next_level_and_stays_on_the_last(policy: ServiceLevelPolicy) -> None:
    assert [policy.escalation.manual(level).level for level in range(5)] == [1, 2, 3, 3, 3]


def test_worked_example_retime_level_two(result: dict[str, Any]) -> None:
    # Given ops give level 2 half the original window instead of a quarter
    result["escalation"]["levels"][1]["next_window_fraction"] = 0.5
    policy = ServiceLevelPolicy.parse(result)
    # When a P3 resolution clock (72 h) reaches level 2
    rungs = climb(policy.escalation, ALWAYS_OPEN, level=1, due=s(0), original_window_s=259200, now=s(0))
    # Then the next deadline is 36 h after the breach (was 18 h)
    assert rungs[0].level.level == 2 and rungs[0].next_due is not None
    assert rungs[0].next_due.at == s(129600)


def test_worked_example_add_a_level_four(result: dict[str, Any]) -> None:
    # Given ops add an on-call level 4 that repeats, and level 3 stops repeating
    levels = result["escalation"]["levels"]
    levels[2]["repeat"] = False
    levels.append({"level": 4, "alert": "director", "customer": "progress_update", "next_window_fraction": 0.0625,
                   "repeat": True})
    policy = ServiceLevelPolicy.parse(result)
    # When a P1 first-contact clock is long overdue
    rungs = climb(policy.escalation, ALWAYS_OPEN, level=0, due=s(1800), original_window_s=1800, now=s(4000))
    # Then it climbs 1, 2, 3, 4 and repeats level 4 every 112.5 s -> 112 s (whole seconds)
    assert [(r.level.level, r.repeat) for r in rungs] == [(1, False), (2, False), (3, False), (4, False), (4, True)]
    assert rungs[3].missed == s(3375) and rungs[3].next_due is not None and rungs[3].next_due.at == s(3375 + 112)
    assert rungs[3].level.customer == "progress_update"


def test_ladder_windows_run_in_the_clocks_business_hours(result: dict[str, Any]) -> None:
    # Given P3 on business hours for the product team (Mon-Fri 09:00-18:00 Shanghai)
    result["P3"]["hours"] = "business"
    policy = ServiceLevelPolicy.parse(result)
    hours = policy.hours_for("P3", "product")
    # When its 8 h first-contact deadline is missed on Friday 2026-11-27 at 17:00
    missed = datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)
    rungs = climb(policy.escalation, hours, level=0, due=missed, original_window_s=28800, now=missed)
    # Then level 1's 4 h window is 1 h on Friday and 3 h on Monday
    assert rungs[0].next_due is not None
    assert rungs[0].next_due.at == datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
    assert next_deadline(hours, missed, policy.escalation.level(1), 28800) == rungs[0].next_due
    # And a 24x7 severity of the same team is not affected
    assert policy.hours_for("P1", "product") is ALWAYS_OPEN


def test_repeats_are_counted_in_working_time(result: dict[str, Any]) -> None:
    result["P3"]["hours"] = "business"
    policy = ServiceLevelPolicy.parse(result)
    hours = policy.hours_for("P3", "product")
    # Level 3 repeats every 0.125 x 8 h = 1 h of working time; reached Friday 2026-11-27 16:00
    reached = datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI)
    monday = datetime(2026, 11, 30, 9, 30, tzinfo=SHANGHAI)
    rungs = climb(policy.escalation, hours, level=3, due=reached, original_window_s=28800, now=monday)
    # Then repeats fell due on Friday at 16:00, 17:00 and 18:00 (closing time); the next one is Monday 10:00
    assert [(r.level.level, r.repeat, r.times) for r in rungs] == [(3, True, 3)]
    assert rungs[0].next_due is not None and rungs[0].next_due.at == datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


def test_the_at_risk_moment_is_the_fraction_of_the_window_in_working_time(result: dict[str, Any]) -> None:
    result["P3"]["hours"] = "business"
    policy = ServiceLevelPolicy.parse(result)
    hours = policy.hours_for("P3", "product")
    # 0.75 x 8 h = 6 h from Friday 2026-02-13 15:00: 3 h on Friday, 3 h on the make-up Saturday 02-14
    warn = at_risk(hours, policy.escalation, datetime(2026, 2, 13, 15, 0, tzinfo=SHANGHAI), 28800)
    assert warn is not None and warn.at == datetime(2026, 2, 14, 12, 0, tzinfo=SHANGHAI)
    # 24x7: simply 75 % of the window
    warn_24x7 = at_risk(ALWAYS_OPEN, policy.escalation, T0, 1800)
    assert warn_24x7 is not None and warn_24x7.at == s(1350)
    # null turns warnings off
    result["escalation"]["at_risk_fraction"] = None
    assert at_risk(ALWAYS_OPEN, ServiceLevelPolicy.parse(result).escalation, T0, 1800) is None


def test_a_ladder_deadline_on_an_unpublished_year_is_flagged(result: dict[str, Any]) -> None:
    result["P3"]["hours"] = "business"
    policy = ServiceLevelPolicy.parse(result)
    missed = datetime(2026, 12, 31, 17, 0, tzinfo=SHANGHAI)
    rungs = climb(policy.escalation, policy.hours_for("P3", "product"), level=0, due=missed, original_window_s=28800,
                  now=missed)
    assert rungs[0].next_due is not None and rungs[0].next_due.unconfirmed_years == (2027,)
