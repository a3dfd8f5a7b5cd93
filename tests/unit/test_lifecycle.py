"""The lifecycle rules of docs/lifecycle.md and docs/policy.md, on tickets in memory (no AWS),
under the real ServiceLevelPolicy of state_machines/lifecycle.asl.json (or an edited copy)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib import lifecycle
from chalicelib.lifecycle import ActionNotAllowed, Plan, plan
from chalicelib.models import ComplaintIn, ResolveIn, Status
from chalicelib.notifications import CustomerMessage, StaffAlert
from chalicelib.policy import ServiceLevelPolicy, policy_result
from chalicelib.ticket import Ticket
from chalicelib.triage import TriageResult
from infra.resources import load_asl

T0 = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)  # a Sunday, 16:00 in Shanghai
RESULT: dict[str, Any] = policy_result(load_asl("lifecycle"))
POLICY = ServiceLevelPolicy.parse(RESULT)


def edited(change: Callable[[dict[str, Any]], None]) -> ServiceLevelPolicy:
    """An edited copy of the real policy, as ops would edit the file."""
    data = copy.deepcopy(RESULT)
    change(data)
    return ServiceLevelPolicy.parse(data)


def no_at_risk(data: dict[str, Any]) -> None:
    data["escalation"]["at_risk_fraction"] = None


QUIET = edited(no_at_risk)  # the ladder alone


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def received(raised_at: datetime = T0, category: str | None = None) -> Ticket:
    body = ComplaintIn(customer_id="C-1", order_id="O-1", channel="app", desired_outcome="refund", description="碎了",
                       category=category)  # type: ignore[arg-type]
    return Ticket(complaint_id="CMP-1", complaint=body, created_at=T0, raised_at=raised_at, updated_at=T0)


def triaged(policy: ServiceLevelPolicy = QUIET, severity: str = "P1", raised_at: datetime = T0, now: datetime = T0,
            team: str = "logistics") -> Ticket:
    return triage_out(policy, severity, raised_at, now, team).ticket


def triage_out(policy: ServiceLevelPolicy = QUIET, severity: str = "P1", raised_at: datetime = T0, now: datetime = T0,
               team: str = "logistics") -> lifecycle.Outcome:
    category = {"logistics": "damaged_in_transit", "product": "product_quality", "service": "service_attitude"}[team]
    result = TriageResult(category=category, category_source="classified", severity=severity,  # type: ignore[arg-type]
                          team=team, reasons=["keyword"])  # type: ignore[arg-type]
    return lifecycle.apply_triage(received(raised_at), result, policy, now)


def in_progress(policy: ServiceLevelPolicy = QUIET, severity: str = "P3", at: datetime = T0 + timedelta(hours=0.1)) -> Ticket:
    return lifecycle.contact(triaged(policy, severity), "agent:A", "", at).ticket


def types(out: lifecycle.Outcome) -> list[str]:
    return [e.type for e in out.events]


def alerts(out: lifecycle.Outcome) -> list[tuple[str, str]]:
    return [(n.topic, n.template) for n in out.notifications if isinstance(n, StaffAlert)]


def told(out: lifecycle.Outcome) -> list[str]:
    return [n.template for n in out.notifications if isinstance(n, CustomerMessage)]


# -- triage keeps the policy and starts the clocks -------------------------------------------------
def test_triage_keeps_the_whole_policy_starts_both_clocks_and_acknowledges() -> None:
    out = triage_out(POLICY, "P1")
    t = out.ticket
    assert t.status is Status.AWAITING_CONTACT and t.policy == POLICY
    fc, rs = t.clocks["first_contact"], t.clocks["resolution"]
    assert (fc.due, rs.due) == (T0 + timedelta(minutes=30), T0 + timedelta(hours=24))
    assert fc.at_risk_at == T0 + timedelta(seconds=round(0.75 * 1800))  # at_risk_fraction of the window
    assert types(out) == ["triaged", "acknowledged"] and told(out) == ["acknowledged"]
    # the workflow wakes at the earliest moment anything is due: the at-risk warning
    assert plan(t, T0) == Plan(next="await_agent", wait_s=1350)


def test_the_policy_survives_the_store_round_trip_of_a_ticket() -> None:
    t = triaged(POLICY)
    back = Ticket.model_validate(t.model_dump(mode="json"))
    assert back.policy == POLICY and back.clocks == t.clocks


# -- the ladder, from escalation.levels -------------------------------------------------------------
def test_the_ladder_follows_the_levels_of_the_policy_and_issues_one_voucher() -> None:
    t = triaged()
    out1 = lifecycle.on_timer(t, h(0.5))
    assert types(out1) == ["escalated", "voucher_issued"] and told(out1) == ["apology", "voucher"]
    assert out1.ticket.escalation_level == 1
    assert out1.ticket.clocks["first_contact"].due == h(0.5) + timedelta(seconds=900)  # 0.5 x 1800
    assert [v.amount for v in out1.ticket.vouchers] == [Decimal("10.00")]
    assert alerts(out1) == [("team:logistics", "breach")]  # team_lead = the owning team's topic
    out2 = lifecycle.on_timer(out1.ticket, h(0.75))
    assert out2.ticket.escalation_level == 2 and types(out2) == ["escalated"] and told(out2) == ["progress"]
    assert alerts(out2) == [("level:2", "breach")]
    assert out2.ticket.clocks["first_contact"].due == h(0.75) + timedelta(seconds=450)  # 0.25 x 1800
    out3 = lifecycle.on_timer(out2.ticket, h(0.75) + timedelta(seconds=450))
    assert out3.ticket.escalation_level == 3 and alerts(out3) == [("level:3", "breach")] and told(out3) == []
    # the last level repeats every 0.125 x 1800 s until the clock stops; no second voucher
    due = out3.ticket.clocks["first_contact"].due
    assert due == h(0.75) + timedelta(seconds=450 + 225)
    out4 = lifecycle.on_timer(out3.ticket, due)
    assert types(out4) == ["escalated"] and out4.events[0].detail["repeat"] is True
    assert alerts(out4) == [("level:3", "breach")] and len(out4.ticket.vouchers) == 1


def test_a_retimed_level_changes_the_next_deadline() -> None:
    def retime(data: dict[str, Any]) -> None:
        no_at_risk(data)
        data["escalation"]["levels"][0]["next_window_fraction"] = 1.0

    out = lifecycle.on_timer(triaged(edited(retime)), h(0.5))
    assert out.ticket.clocks["first_contact"].due == h(1.0)  # 1.0 x 1800 s after the breach


def test_a_level_4_added_in_the_file_just_works() -> None:
    def level_4(data: dict[str, Any]) -> None:
        no_at_risk(data)
        levels = data["escalation"]["levels"]
        levels[2]["repeat"] = False
        levels.append({"level": 4, "alert": "director", "customer": "progress_update",
                       "next_window_fraction": 0.0625, "repeat": True})

    t = triaged(edited(level_4))
    seen: list[tuple[int, list[tuple[str, str]]]] = []
    for _ in range(5):
        due = t.clocks["first_contact"].due
        assert due is not None
        out = lifecycle.on_timer(t, due)
        t = out.ticket
        seen.append((t.escalation_level, alerts(out)))
    assert [level for level, _ in seen] == [1, 2, 3, 4, 4]
    assert [a for _, a in seen] == [[("team:logistics", "breach")], [("level:2", "breach")], [("level:3", "breach")],
                                   [("level:3", "breach")], [("level:3", "breach")]]  # director = level:3
    assert lifecycle.escalate(t, "agent:A", "still", h(2)).ticket.manual_level == 4  # the last level stays


def test_a_last_level_that_does_not_repeat_ends_the_ladder() -> None:
    def ends(data: dict[str, Any]) -> None:
        no_at_risk(data)
        data["escalation"]["levels"][2]["repeat"] = False

    t = triaged(edited(ends))
    for _ in range(3):
        due = t.clocks["first_contact"].due
        assert due is not None
        t = lifecycle.on_timer(t, due).ticket
    assert t.escalation_level == 3 and t.clocks["first_contact"].due is None
    # nothing is due any more: the workflow waits on the resolution clock
    assert plan(t, h(1)).wait_s == int((h(24) - h(1)).total_seconds())


def test_a_clock_far_past_due_catches_up_in_one_step() -> None:
    # Given a marketplace record raised ten years ago, When it is triaged
    out = triage_out(POLICY, "P3", raised_at=T0 - timedelta(days=3652), now=T0)
    t = out.ticket
    # Then one escalated event per level reached per clock, one summary of the repeats skipped
    per_clock = {name: [(e.type, e.detail.get("level")) for e in out.events if e.detail.get("clock") == name]
                 for name in ("first_contact", "resolution")}
    for events in per_clock.values():
        assert events == [("escalated", 1), ("escalated", 2), ("escalated", 3), ("repeats_skipped", 3)]
    skipped = [e.detail["count"] for e in out.events if e.type == "repeats_skipped"]
    assert all(n > 1000 for n in skipped)
    assert types(out).count("voucher_issued") == 2  # once per clock
    assert len(alerts(out)) == 6  # one per level per clock, no flood
    # And repeat alerts follow the ladder's cadence from now on
    due = t.next_due()
    assert due is not None and T0 < due <= T0 + timedelta(seconds=round(0.125 * 28800))
    nxt = lifecycle.on_timer(t, due)
    escalated = [e for e in nxt.events if e.type == "escalated"]
    assert len(escalated) == 1 and escalated[0].detail["repeat"] is True
    assert [a for a in alerts(nxt) if a[1] == "breach"] == [("level:3", "breach")]


def test_early_wakeup_changes_nothing() -> None:
    t = triaged()
    out = lifecycle.on_timer(t, h(0.25))
    assert out.events == [] and out.ticket == t
    assert plan(out.ticket, h(0.25)).wait_s == 900


def test_manual_escalation_jumps_to_the_next_level_and_alerts_its_target() -> None:
    out = lifecycle.escalate(triaged(), "agent:A", "customer threatens media", h(0.1))
    assert out.ticket.escalation_level == 1 and out.events[0].detail["manual"] is True
    assert alerts(out) == [("team:logistics", "manual_escalation")] and out.ticket.vouchers == []
    again = lifecycle.escalate(out.ticket, "agent:A", "no answer", h(0.2))
    assert again.ticket.escalation_level == 2 and alerts(again) == [("level:2", "manual_escalation")]


# -- at risk ---------------------------------------------------------------------------------------
def test_at_risk_warns_the_owning_team_once_per_window_before_the_breach() -> None:
    t = triaged(POLICY, "P1")
    early = lifecycle.on_timer(t, h(0.3))
    assert early.events == []
    out = lifecycle.on_timer(t, T0 + timedelta(seconds=1350))
    assert types(out) == ["at_risk"] and out.events[0].detail == {
        "clock": "first_contact", "due": "2026-11-22T08:30:00Z", "level": 0}
    assert alerts(out) == [("team:logistics", "at_risk")]
    again = lifecycle.on_timer(out.ticket, T0 + timedelta(seconds=1500))
    assert again.events == []  # once for that window
    assert plan(out.ticket, T0 + timedelta(seconds=1350)).wait_s == 450  # then the breach
    # the level-1 window gets its own warning, at 0.75 of its 900 s
    breached = lifecycle.on_timer(out.ticket, h(0.5)).ticket
    assert breached.clocks["first_contact"].at_risk_at == h(0.5) + timedelta(seconds=675)
    # on the last level the director's repeated alerts are the warnings: no at-risk any more
    top = lifecycle.on_timer(breached, h(2)).ticket
    assert top.escalation_level == 3 and top.clocks["first_contact"].at_risk_at is None


def test_at_risk_null_turns_warnings_off() -> None:
    t = triaged(QUIET, "P1")
    assert all(c.at_risk_at is None for c in t.clocks.values())
    assert plan(t, T0).wait_s == 1800


# -- working time ------------------------------------------------------------------------------------
def business_p3(data: dict[str, Any]) -> None:
    data["P3"]["hours"] = "business"
    data["P3"]["first_contact_s"] = 7200


def test_a_p3_on_business_hours_received_just_before_closing_is_due_the_next_open_day() -> None:
    # Friday 2026-11-27 17:55 in Shanghai; product is open mon-fri 09:00-18:00; 2 h window
    friday = datetime(2026, 11, 27, 9, 55, tzinfo=UTC)
    out = triage_out(edited(business_p3), "P3", raised_at=friday, now=friday, team="product")
    fc = out.ticket.clocks["first_contact"]
    assert fc.hours == "business"
    assert fc.due == datetime(2026, 11, 30, 2, 55, tzinfo=UTC)  # Monday 10:55 Shanghai
    assert out.unconfirmed_dues == 0  # 2026's official schedule is published


def test_due_times_on_an_unpublished_holiday_year_are_counted() -> None:
    day = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
    out = triage_out(edited(business_p3), "P3", raised_at=day, now=day, team="product")
    assert out.unconfirmed_dues > 0


# -- pause, reply, resume ----------------------------------------------------------------------------
def test_a_pause_across_a_would_be_breach_never_breaches_and_resumes_with_the_remaining_time() -> None:
    t = in_progress(QUIET, "P1", at=h(0.2))
    out = lifecycle.pause(t, "agent:A", "awaiting_customer", "needs photo", "a photo of the box", h(4))
    p = out.ticket
    assert p.status is Status.PENDING_CUSTOMER and told(out) == ["pending_customer"]
    rs = p.clocks["resolution"]
    assert rs.paused and rs.due is None and rs.remaining_s == 20 * 3600
    assert out.events[0].detail["note"] == "needs photo" and out.events[0].detail["ask"] == "a photo of the box"
    # the moment the resolution clock would have run out passes: nothing happens
    assert plan(p, h(4)).wait_s == 432000  # only the pause's timeout is due
    assert lifecycle.on_timer(p, h(30)).events == []
    # the customer replies 26 h later: the clock runs again with exactly its 20 h
    back = lifecycle.reply(p, "customer:C-1", "here it is", ["s3://photo.jpg"], h(30))
    assert types(back) == ["customer_replied"] and back.ticket.status is Status.IN_PROGRESS
    assert back.ticket.clocks["resolution"].due == h(50) and not back.ticket.clocks["resolution"].breached
    assert alerts(back) == [("team:logistics", "customer_replied")]


def test_an_unanswered_pause_expires_and_the_clock_runs_again() -> None:
    t = in_progress(QUIET, "P3")
    p = lifecycle.pause(t, "agent:A", "awaiting_customer", "", "", h(1)).ticket
    left = p.clocks["resolution"].remaining_s
    assert left == 259200 - 3600
    expires = h(1) + timedelta(seconds=432000)
    assert lifecycle.on_timer(p, expires - timedelta(seconds=1)).events == []
    out = lifecycle.on_timer(p, expires)
    assert types(out)[0] == "pause_expired" and out.ticket.status is Status.IN_PROGRESS
    assert out.ticket.clocks["resolution"].due == expires + timedelta(seconds=left)
    assert alerts(out)[0] == ("team:logistics", "pause_expired")


def test_an_agent_resumes_a_paused_complaint() -> None:
    p = lifecycle.pause(in_progress(QUIET, "P3"), "agent:A", "awaiting_customer", "", "", h(1)).ticket
    out = lifecycle.resume(p, "agent:B", "customer called instead", h(2))
    assert types(out) == ["resumed"] and out.ticket.status is Status.IN_PROGRESS and out.ticket.pause is None
    assert out.ticket.clocks["resolution"].due == h(2) + timedelta(seconds=259200 - 3600)


def test_pause_reply_and_resume_refuse_what_no_longer_applies() -> None:
    with pytest.raises(ActionNotAllowed):
        lifecycle.pause(triaged(), "agent:A", "awaiting_customer", "", "", h(0.1))  # before first contact
    with pytest.raises(ActionNotAllowed):
        lifecycle.resume(in_progress(), "agent:A", "", h(1))  # not paused
    # a reply before close is recorded without moving anything
    out = lifecycle.reply(in_progress(), "customer:C-1", "also the lid", [], h(1))
    assert types(out) == ["customer_replied"] and out.notifications == []


# -- re-triage -----------------------------------------------------------------------------------------
def test_retriage_p3_to_p1_after_more_than_p1s_window_breaches_at_once_with_the_p1_ladder() -> None:
    t = triaged(QUIET, "P3", team="logistics")
    out = lifecycle.retriage(t, "supervisor:S", "counterfeit", "P1", "product", "fake goods", h(1))
    r = out.ticket
    assert (r.category, r.severity, r.team) == ("counterfeit", "P1", "product")
    fc = r.clocks["first_contact"]
    assert fc.window_s == 1800 and fc.started_at == T0 and fc.breached and fc.level == 1
    assert fc.due == h(1) + timedelta(seconds=900)  # the P1 ladder: 0.5 x 1800 s
    assert types(out) == ["retriaged", "escalated", "voucher_issued"]
    assert out.events[0].detail == {"from": {"category": "damaged_in_transit", "severity": "P3", "team": "logistics"},
                                    "to": {"category": "counterfeit", "severity": "P1", "team": "product"},
                                    "reason": "fake goods"}
    assert r.vouchers[0].amount == Decimal("10.00")  # the P1 voucher
    assert ("team:product", "breach") in alerts(out)
    (correction,) = out.corrections
    assert (correction.predicted_category, correction.corrected_category) == ("damaged_in_transit", "counterfeit")
    assert (correction.predicted_severity, correction.corrected_severity, correction.corrected_team) == (
        "P3", "P1", "product")
    # the resolution clock kept its start and the hour spent: 24 h - 1 h left
    assert r.clocks["resolution"].due == h(24)


def test_retriage_keeps_the_working_time_already_spent() -> None:
    t = triaged(QUIET, "P1")
    out = lifecycle.retriage(t, "agent:A", None, "P3", "logistics", "not urgent", h(0.25))
    fc = out.ticket.clocks["first_contact"]
    assert fc.due == h(0.25) + timedelta(seconds=28800 - 900) and fc.spent_s == 900 and not fc.breached
    assert types(out) == ["retriaged"]


def test_retriage_to_another_team_moves_a_business_hours_clock_onto_its_calendar() -> None:
    # P3 on business hours, 2 h to first contact; received Friday 2026-11-27 17:00 Shanghai by
    # product (Mon-Fri 09:00-18:00), re-triaged at 17:30 to service (every day 09:00-21:00)
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    t = triaged(edited(business_p3), "P3", raised_at=friday, now=friday, team="product")
    assert t.clocks["first_contact"].due == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00
    out = lifecycle.retriage(t, "agent:A", "after_sales", None, "service", "a service question",
                             friday + timedelta(minutes=30))
    # 30 working minutes used on product's calendar; the 90 left run on service's: Friday 19:00
    fc = out.ticket.clocks["first_contact"]
    assert fc.spent_s == 1800 and fc.due == datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    assert out.ticket.team == "service" and fc.started_at == friday


def test_retriage_is_refused_on_a_closed_complaint() -> None:
    t = resolved_and_surveyed(in_progress(), h(1))
    t = lifecycle.rate(t, "customer:C-1", 5, "", h(4)).ticket
    with pytest.raises(ActionNotAllowed):
        lifecycle.retriage(t, "agent:A", None, "P1", "logistics", "late", h(5))


# -- actions and follow-up -------------------------------------------------------------------------------
def test_contact_then_resolve_is_never_escalated() -> None:
    t = triaged()
    t = lifecycle.contact(t, "agent:A-7", "called", h(0.2)).ticket
    assert t.status is Status.IN_PROGRESS and not t.clocks["first_contact"].running
    assert t.clocks["first_contact"].spent_s == 720
    assert plan(t, h(0.2)).wait_s == int((h(24) - h(0.2)).total_seconds())
    out = lifecycle.resolve(t, "agent:A-7", ResolveIn(resolution="refund", note="ok"), h(1))
    assert out.ticket.status is Status.RESOLVED and out.ticket.escalation_level == 0
    assert plan(out.ticket, h(1)) == Plan(next="survey_delay", wait_s=7200)


@pytest.mark.parametrize("action", ["contact_twice", "resolve_closed", "rate_unsurveyed"])
def test_actions_that_no_longer_apply_are_refused(action: str) -> None:
    t = lifecycle.contact(triaged(), "agent:A", "", h(0.1)).ticket
    with pytest.raises(ActionNotAllowed):
        if action == "contact_twice":
            lifecycle.contact(t, "agent:A", "", h(0.2))
        elif action == "resolve_closed":
            t = lifecycle.resolve(t, "agent:A", ResolveIn(resolution="refund"), h(1)).ticket
            t = lifecycle.send_survey(t, h(3)).ticket
            t = lifecycle.rate(t, "customer:C-1", 5, "", h(4)).ticket
            lifecycle.resolve(t, "agent:A", ResolveIn(resolution="refund"), h(5))
        else:
            t = lifecycle.resolve(t, "agent:A", ResolveIn(resolution="refund"), h(1)).ticket
            lifecycle.rate(t, "customer:C-1", 5, "", h(1.5))


def resolved_and_surveyed(t: Ticket, at: datetime) -> Ticket:
    t = lifecycle.resolve(t, "agent:A", ResolveIn(resolution="refund"), at).ticket
    return lifecycle.on_timer(t, at + timedelta(hours=2)).ticket  # the survey is what is due


def test_low_scores_reopen_up_to_max_reopens_then_close_unsatisfied() -> None:
    t = lifecycle.contact(triaged(QUIET, "P3"), "agent:A", "", h(1)).ticket
    t = resolved_and_surveyed(t, h(2))
    out = lifecycle.rate(t, "customer:C-1", 2, "bad", h(5))
    assert types(out) == ["rated", "reopened"] and out.ticket.status is Status.IN_PROGRESS
    assert out.ticket.clocks["resolution"].level == 1
    assert out.ticket.clocks["resolution"].due == h(5) + timedelta(seconds=round(0.5 * 259200))
    assert ("team:service", "reopened") in alerts(out)
    t = resolved_and_surveyed(out.ticket, h(6))
    t = lifecycle.rate(t, "customer:C-1", 1, "", h(9)).ticket
    assert t.reopen_count == 2 and t.clocks["resolution"].level == 2
    t = resolved_and_surveyed(t, h(10))
    out = lifecycle.rate(t, "customer:C-1", 1, "", h(13))
    assert out.ticket.status is Status.CLOSED_UNSATISFIED and types(out) == ["rated", "closed"]
    assert ("level:2", "closed_unsatisfied") in alerts(out)


def test_the_reopen_threshold_and_count_come_from_the_policy() -> None:
    def strict(data: dict[str, Any]) -> None:
        data["follow_up"].update(reopen_at_or_below=3, max_reopens=0)

    t = resolved_and_surveyed(in_progress(edited(strict)), h(1))
    out = lifecycle.rate(t, "customer:C-1", 3, "", h(4))  # 3 <= 3, and no reopen allowed
    assert out.ticket.status is Status.CLOSED_UNSATISFIED


def test_survey_reminder_then_close_without_feedback() -> None:
    t = resolved_and_surveyed(lifecycle.contact(triaged(), "agent:A", "", h(0.1)).ticket, h(1))
    sent = h(3)
    assert plan(t, sent) == Plan(next="await_survey", wait_s=86400)
    out = lifecycle.on_timer(t, sent + timedelta(hours=24))
    assert types(out) == ["survey_reminder"]
    assert plan(out.ticket, sent + timedelta(hours=24)).wait_s == 48 * 3600
    out = lifecycle.on_timer(out.ticket, sent + timedelta(hours=72))
    assert types(out) == ["closed"] and out.ticket.satisfaction is not None
    assert out.ticket.satisfaction.public() == {"score": None, "feedback": "none"}
    assert plan(out.ticket, sent + timedelta(hours=72)).next == "closed"


def test_manual_escalation_raises_level_and_alerts() -> None:
    out = lifecycle.escalate(triaged(), "agent:A", "customer threatens media", h(0.1))
    assert out.ticket.escalation_level == 1 and out.events[0].detail["manual"] is True
    alert = out.notifications[0]
    assert isinstance(alert, StaffAlert) and alert.topic == "team:logistics"
    assert out.ticket.vouchers == []


# -- on_timer: the one rule the workflow's Timeout state runs ----------------------------------
def _resolved_at(at: datetime) -> Ticket:
    return lifecycle.resolve(triaged(), "agent:A", ResolveIn(resolution="refund"), at).ticket


def test_on_timer_climbs_the_ladder_of_an_open_complaint_whose_clock_ran_out() -> None:
    t = triaged()
    due = t.clocks["first_contact"].due
    out = lifecycle.on_timer(t, due)
    assert [e.type for e in out.events] == ["escalated", "voucher_issued"]
    assert out.ticket.clocks["first_contact"].level == 1


def test_on_timer_that_woke_early_changes_nothing() -> None:
    t = triaged()
    out = lifecycle.on_timer(t, t.clocks["first_contact"].due - timedelta(seconds=1))
    assert out.events == [] and out.notifications == [] and out.ticket == t


def test_on_timer_sends_the_survey_once_the_delay_after_resolving_is_over() -> None:
    t = _resolved_at(h(1))
    assert lifecycle.on_timer(t, h(2)).events == []  # an hour early: nothing yet
    assert plan(t, h(2)) == Plan(next="survey_delay", wait_s=3600)  # the rest of the delay, not all of it
    out = lifecycle.on_timer(t, h(3))
    assert [e.type for e in out.events] == ["survey_sent"]
    assert [n.template for n in out.notifications] == ["survey"]


def test_on_timer_reminds_then_closes_an_unanswered_survey() -> None:
    t = lifecycle.on_timer(_resolved_at(h(1)), h(3)).ticket
    out = lifecycle.on_timer(t, h(3 + 24))
    assert [e.type for e in out.events] == ["survey_reminder"]
    out = lifecycle.on_timer(out.ticket, h(3 + 72))
    assert [e.type for e in out.events] == ["closed"]
    assert out.ticket.status is Status.CLOSED


def test_on_timer_of_a_closed_complaint_does_nothing() -> None:
    t = lifecycle.on_timer(lifecycle.on_timer(lifecycle.on_timer(_resolved_at(h(1)), h(3)).ticket, h(27)).ticket,
                           h(75)).ticket
    out = lifecycle.on_timer(t, h(200))
    assert out.events == [] and out.ticket == t


def test_a_wait_is_rounded_up_so_the_timer_never_fires_before_the_due_moment() -> None:
    t = triaged()
    assert plan(t, T0 + timedelta(milliseconds=300)).wait_s == 1800  # 1799.7 s -> 1800
