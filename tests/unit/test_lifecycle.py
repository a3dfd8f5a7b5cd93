"""The lifecycle rules of docs/lifecycle.md, on tickets in memory (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib import lifecycle
from chalicelib.lifecycle import ActionNotAllowed, Plan, ladder_window, plan
from chalicelib.models import ComplaintIn, ResolveIn, Status
from chalicelib.notifications import StaffAlert
from chalicelib.ticket import FollowUpPolicy, Policy, Ticket
from chalicelib.triage import TriageResult

T0 = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)
FOLLOW_UP = FollowUpPolicy(survey_delay_s=7200, reminder_after_s=86400, answer_window_s=259200)
P1 = Policy(first_contact_s=1800, resolution_s=86400, voucher_cny=Decimal("10.00"), follow_up=FOLLOW_UP)
P3 = Policy(first_contact_s=28800, resolution_s=259200, voucher_cny=Decimal("5.00"), follow_up=FOLLOW_UP)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def received(raised_at: datetime = T0) -> Ticket:
    body = ComplaintIn(customer_id="C-1", order_id="O-1", channel="app", desired_outcome="refund", description="碎了")
    return Ticket(complaint_id="CMP-1", complaint=body, created_at=T0, raised_at=raised_at, updated_at=T0)


def triaged(policy: Policy = P1, severity: str = "P1", raised_at: datetime = T0, now: datetime = T0) -> Ticket:
    result = TriageResult(category="damaged_in_transit", category_source="classified", severity=severity,
                          team="logistics", reasons=["keyword"])
    return lifecycle.apply_triage(received(raised_at), result, policy, now).ticket


def types(out: lifecycle.Outcome) -> list[str]:
    return [e.type for e in out.events]


def test_triage_starts_both_clocks_and_acknowledges() -> None:
    # Given a received complaint, When triaged as P1
    out = lifecycle.apply_triage(received(), TriageResult(category="damaged_in_transit", category_source="classified",
                                                          severity="P1", team="logistics", reasons=["r"]), P1, T0)
    # Then
    t = out.ticket
    assert t.status is Status.AWAITING_CONTACT
    assert t.clocks["first_contact"].due == T0 + timedelta(minutes=30)
    assert t.clocks["resolution"].due == T0 + timedelta(hours=24)
    assert types(out) == ["triaged", "acknowledged"]
    assert [n.template for n in out.notifications] == ["acknowledged"]
    assert plan(t, T0) == Plan(next="await_agent", wait_s=1800)


def test_first_contact_ladder_halves_windows_and_issues_one_voucher() -> None:
    t = triaged()
    out1 = lifecycle.clock_expired(t, h(0.5))
    assert types(out1) == ["escalated", "voucher_issued"]
    assert out1.ticket.escalation_level == 1
    assert out1.ticket.clocks["first_contact"].due == h(0.5) + timedelta(minutes=15)
    assert [v.amount for v in out1.ticket.vouchers] == [Decimal("10.00")]
    topics = [n.topic for n in out1.notifications if isinstance(n, StaffAlert)]
    assert topics == ["team:logistics"]
    out2 = lifecycle.clock_expired(out1.ticket, h(0.75))
    assert out2.ticket.escalation_level == 2 and types(out2) == ["escalated"]
    assert [n.topic for n in out2.notifications if isinstance(n, StaffAlert)] == ["level:2"]
    out3 = lifecycle.clock_expired(out2.ticket, h(0.75) + timedelta(seconds=450))
    assert out3.ticket.escalation_level == 3
    # level 3 repeats every level-3 window, no second voucher
    out4 = lifecycle.clock_expired(out3.ticket, out3.ticket.clocks["first_contact"].due)
    assert types(out4) == ["escalated"] and out4.events[0].detail["repeat"] is True
    assert [n.topic for n in out4.notifications if isinstance(n, StaffAlert)] == ["level:3"]
    assert len(out4.ticket.vouchers) == 1


def test_early_wakeup_changes_nothing() -> None:
    t = triaged()
    out = lifecycle.clock_expired(t, h(0.25))
    assert out.events == [] and out.ticket == t
    assert plan(out.ticket, h(0.25)).wait_s == 900


def test_import_past_its_window_enters_escalated() -> None:
    # raised 50 minutes ago: first contact (30 min) breached, level-1 window (15 min) breached too
    t = triaged(raised_at=h(-50 / 60), now=T0)
    assert t.escalation_level == 2
    assert t.clocks["first_contact"].due > T0


def test_contact_then_resolve_is_never_escalated() -> None:
    t = triaged()
    t = lifecycle.contact(t, "agent:A-7", "called", h(0.2)).ticket
    assert t.status is Status.IN_PROGRESS and not t.clocks["first_contact"].running
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
    return lifecycle.send_survey(t, at + timedelta(hours=2)).ticket


def test_low_scores_reopen_twice_then_close_unsatisfied() -> None:
    t = lifecycle.contact(triaged(P3, "P3"), "agent:A", "", h(1)).ticket
    t = resolved_and_surveyed(t, h(2))
    out = lifecycle.rate(t, "customer:C-1", 2, "bad", h(5))
    assert types(out) == ["rated", "reopened"] and out.ticket.status is Status.IN_PROGRESS
    assert out.ticket.clocks["resolution"].level == 1
    assert out.ticket.clocks["resolution"].due == h(5) + timedelta(seconds=ladder_window(259200, 1))
    assert any(isinstance(n, StaffAlert) and n.topic == "team:service" for n in out.notifications)
    t = resolved_and_surveyed(out.ticket, h(6))
    t = lifecycle.rate(t, "customer:C-1", 1, "", h(9)).ticket
    assert t.reopen_count == 2 and t.clocks["resolution"].level == 2
    t = resolved_and_surveyed(t, h(10))
    out = lifecycle.rate(t, "customer:C-1", 1, "", h(13))
    assert out.ticket.status is Status.CLOSED_UNSATISFIED
    assert types(out) == ["rated", "closed"]
    assert any(isinstance(n, StaffAlert) and n.topic == "level:2" for n in out.notifications)


def test_survey_reminder_then_close_without_feedback() -> None:
    t = resolved_and_surveyed(lifecycle.contact(triaged(), "agent:A", "", h(0.1)).ticket, h(1))
    sent = h(3)
    assert plan(t, sent) == Plan(next="await_survey", wait_s=86400)
    out = lifecycle.survey_timeout(t, sent + timedelta(hours=24))
    assert types(out) == ["survey_reminder"]
    assert plan(out.ticket, sent + timedelta(hours=24)).wait_s == 48 * 3600
    out = lifecycle.survey_timeout(out.ticket, sent + timedelta(hours=72))
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
