"""The lifecycle rules of docs/lifecycle.md as plain functions on a Ticket.

Every rule takes the current ticket and the time, and returns an ``Outcome``: the changed
ticket, the timeline events to record and the notifications to send. Who persists them and
who waits (Step Functions) is somebody else's business; ``plan`` tells the workflow where to
go next. No I/O here, so these rules are unit-tested in milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib.clock import iso
from chalicelib.models import TEAMS, Event, ResolveIn, Status, Voucher
from chalicelib.notifications import CustomerMessage, StaffAlert
from chalicelib.ticket import Clock, Policy, Satisfaction, Survey, Ticket
from chalicelib.triage import TriageResult

MAX_LEVEL = 3
ALERT_LEVELS = tuple(range(2, MAX_LEVEL + 1))  # level 1 goes to the owning team's topic (its lead)
STAFF_TOPICS = (*(f"team:{team}" for team in TEAMS), *(f"level:{level}" for level in ALERT_LEVELS))
MAX_REOPENS = 2
SYSTEM = "system"
BREACH_REASON: dict[str, Literal["first_contact_breach", "resolution_breach"]] = {
    "first_contact": "first_contact_breach", "resolution": "resolution_breach"}


class ActionNotAllowed(Exception):
    """The action no longer applies to the complaint in its current state (HTTP 409)."""


@dataclass
class Outcome:
    ticket: Ticket
    events: list[Event] = field(default_factory=list)
    notifications: list[CustomerMessage | StaffAlert] = field(default_factory=list)

    def event(self, at: datetime, type_: str, actor: str = SYSTEM, **detail: Any) -> None:
        self.events.append(Event(at=at, type=type_, actor=actor, detail=detail))

    def tell_customer(self, template: str, **params: Any) -> None:
        self.notifications.append(CustomerMessage(template=template, params=_jsonable(params)))

    def alert_staff(self, topic: str, template: str, **params: Any) -> None:
        self.notifications.append(StaffAlert(topic=topic, template=template, params=_jsonable(params)))


Next = Literal["await_agent", "survey_delay", "await_survey", "closed"]


class Plan(BaseModel):
    """Where the state machine goes next (its ``Route`` choice matches ``next``) and for how
    many seconds it may wait there."""

    model_config = ConfigDict(frozen=True)

    next: Next
    wait_s: int


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, datetime):
            value = iso(value)
        elif isinstance(value, Decimal):
            value = f"{value:.2f}"
        out[key] = value
    return out


def _start(ticket: Ticket) -> Outcome:
    return Outcome(ticket.model_copy(deep=True))


def ladder_window(window_s: int, level: int) -> int:
    """The window that runs at a level: halves per level (level 3 repeats at window/8)."""
    return max(1, window_s // (2**level))


def alert_topic(ticket: Ticket, level: int) -> str:
    """Level 1 goes to the owning team's lead; 2 to the service manager; 3 to director/on-call."""
    return f"team:{ticket.team}" if level <= 1 else f"level:{level}"


# -- triage ----------------------------------------------------------------------------------
def apply_triage(ticket: Ticket, result: TriageResult, policy: Policy, now: datetime) -> Outcome:
    if ticket.status is not Status.RECEIVED:
        raise ActionNotAllowed(f"complaint is already {ticket.status.value}")
    out = _start(ticket)
    t = out.ticket
    t.category, t.severity, t.team = result.category, result.severity, result.team
    t.category_source, t.triage_reasons, t.policy = result.category_source, [*result.reasons, *order_notes(t)], policy
    start = t.raised_at
    t.clocks = {
        "first_contact": Clock(window_s=policy.first_contact_s, started_at=start, due=start + timedelta(seconds=policy.first_contact_s)),
        "resolution": Clock(window_s=policy.resolution_s, started_at=start, due=start + timedelta(seconds=policy.resolution_s)),
    }
    t.status, t.updated_at = Status.AWAITING_CONTACT, now
    out.event(now, "triaged", "system:triage", category=t.category, category_source=t.category_source,
              severity=t.severity, team=t.team, reasons=t.triage_reasons)
    first_due = t.clocks["first_contact"].due
    out.event(now, "acknowledged", complaint_id=t.complaint_id, team=t.team, first_contact_due=iso(first_due))
    out.tell_customer("acknowledged", complaint_id=t.complaint_id, team=t.team, first_contact_due=first_due)
    _advance_clocks(out, now)  # an imported complaint may already be past its windows
    return out


def order_notes(ticket: Ticket) -> list[str]:
    """What staff should know of the order check (staff-only triage reasons)."""
    check = ticket.order
    if check is None:
        return []
    if not check.verified:
        return ["order not in the order directory: amount and product as the customer sent them (unverified)"]
    return list(check.differences)


# -- clocks and the escalation ladder -----------------------------------------------------------
def _advance_clocks(out: Outcome, now: datetime) -> None:
    t = out.ticket
    for name, clock in sorted(t.running_clocks().items(), key=lambda kv: kv[1].due):
        level_before = clock.level
        repeats = 0
        while clock.due <= now and repeats < 10_000:
            clock.level = min(MAX_LEVEL, clock.level + 1)
            clock.breached = True
            clock.due = clock.due + timedelta(seconds=ladder_window(clock.window_s, clock.level))
            repeats += 1
            if clock.level > level_before or (clock.level == MAX_LEVEL and repeats == 1):
                _escalated(out, name, clock, now, repeat=clock.level == level_before)
                level_before = clock.level
        if repeats:
            t.updated_at = now


def _escalated(out: Outcome, clock_name: str, clock: Clock, now: datetime, *, repeat: bool) -> None:
    t = out.ticket
    level = clock.level
    out.event(now, "escalated", clock=clock_name, level=level, next_due=iso(clock.due), repeat=repeat)
    out.alert_staff(alert_topic(t, level), "breach", complaint_id=t.complaint_id, clock=clock_name,
                    level=level, severity=t.severity, team=t.team, next_due=clock.due, repeat=repeat)
    if level == 1:
        out.tell_customer("apology", complaint_id=t.complaint_id, clock=clock_name)
        if not clock.voucher_issued and t.policy is not None:
            clock.voucher_issued = True
            voucher = Voucher(amount=t.policy.voucher_cny, reason=BREACH_REASON[clock_name], issued_at=now)
            t.vouchers.append(voucher)
            out.event(now, "voucher_issued", amount=f"{voucher.amount:.2f}", currency=voucher.currency, reason=voucher.reason)
            out.tell_customer("voucher", complaint_id=t.complaint_id, amount=voucher.amount, currency=voucher.currency)
    elif level == 2:
        out.tell_customer("progress", complaint_id=t.complaint_id, clock=clock_name)


def clock_expired(ticket: Ticket, now: datetime) -> Outcome:
    out = _start(ticket)
    if out.ticket.is_open:
        _advance_clocks(out, now)
    return out


# -- agent actions -------------------------------------------------------------------------------
def contact(ticket: Ticket, actor: str, note: str, now: datetime) -> Outcome:
    if ticket.status is not Status.AWAITING_CONTACT:
        raise ActionNotAllowed(f"first contact is not awaited: complaint is {ticket.status.value}")
    out = _start(ticket)
    t = out.ticket
    t.clocks["first_contact"].stopped_at = now
    t.contacted_at, t.status, t.updated_at = now, Status.IN_PROGRESS, now
    out.event(now, "contacted", actor, note=note) if note else out.event(now, "contacted", actor)
    return out


def resolve(ticket: Ticket, actor: str, body: ResolveIn, now: datetime) -> Outcome:
    if ticket.status not in (Status.AWAITING_CONTACT, Status.IN_PROGRESS):
        raise ActionNotAllowed(f"complaint is {ticket.status.value}: nothing to resolve")
    out = _start(ticket)
    t = out.ticket
    for clock in t.running_clocks().values():  # resolving is also the first contact, if none yet
        clock.stopped_at = now
    if t.contacted_at is None:
        t.contacted_at = now
    t.resolved_at, t.status, t.updated_at = now, Status.RESOLVED, now
    t.resolution = body.model_dump(mode="json", exclude_none=True)
    t.survey, t.wait_token = None, None
    detail: dict[str, Any] = {"resolution": body.resolution}
    if body.refund:
        detail["refund"] = body.refund.model_dump(mode="json")
    if body.note:
        detail["note"] = body.note
    out.event(now, "resolved", actor, **detail)
    out.tell_customer("resolved", complaint_id=t.complaint_id, resolution=body.resolution)
    return out


def escalate(ticket: Ticket, actor: str, reason: str, now: datetime) -> Outcome:
    if not ticket.is_open or ticket.status is Status.RECEIVED:
        raise ActionNotAllowed(f"complaint is {ticket.status.value}: it cannot be escalated")
    out = _start(ticket)
    t = out.ticket
    t.manual_level = min(MAX_LEVEL, t.escalation_level + 1)
    t.updated_at = now
    out.event(now, "escalated", actor, level=t.manual_level, manual=True, reason=reason)
    out.alert_staff(alert_topic(t, t.manual_level), "manual_escalation", complaint_id=t.complaint_id,
                    level=t.manual_level, severity=t.severity, team=t.team, reason=reason, by=actor)
    return out


# -- satisfaction follow-up ------------------------------------------------------------------------
def send_survey(ticket: Ticket, now: datetime) -> Outcome:
    out = _start(ticket)
    t = out.ticket
    if t.status is not Status.RESOLVED or t.survey is not None or t.policy is None:
        return out  # a stale step: nothing to do, plan() routes on
    t.survey = Survey(sent_at=now, expires_at=now + timedelta(seconds=t.policy.follow_up.answer_window_s))
    t.updated_at = now
    out.event(now, "survey_sent", expires_at=iso(t.survey.expires_at))
    out.tell_customer("survey", complaint_id=t.complaint_id, expires_at=t.survey.expires_at)
    return out


def survey_timeout(ticket: Ticket, now: datetime) -> Outcome:
    out = _start(ticket)
    t = out.ticket
    if t.status is not Status.RESOLVED or t.survey is None or t.policy is None:
        return out
    remind_at = t.survey.sent_at + timedelta(seconds=t.policy.follow_up.reminder_after_s)
    if not t.survey.reminded and now < t.survey.expires_at:
        if now < remind_at:
            return out  # woke early: plan() waits the rest
        t.survey.reminded, t.updated_at = True, now
        out.event(now, "survey_reminder")
        out.tell_customer("survey_reminder", complaint_id=t.complaint_id, expires_at=t.survey.expires_at)
        return out
    if now < t.survey.expires_at:
        return out
    t.status, t.closed_at, t.updated_at = Status.CLOSED, now, now
    t.satisfaction = Satisfaction(score=None, feedback="none")
    out.event(now, "closed", feedback="none")
    return out


def rate(ticket: Ticket, actor: str, score: int, comment: str, now: datetime) -> Outcome:
    if ticket.status is not Status.RESOLVED or ticket.survey is None:
        raise ActionNotAllowed("no satisfaction survey is pending for this complaint")
    out = _start(ticket)
    t = out.ticket
    t.satisfaction = Satisfaction(score=score, comment=comment, rated_at=now)
    t.updated_at = now
    out.event(now, "rated", actor, score=score, **({"comment": comment} if comment else {}))
    if score >= 3:
        t.status, t.closed_at = Status.CLOSED, now
        out.event(now, "closed", score=score)
        out.tell_customer("closed", complaint_id=t.complaint_id)
    elif t.reopen_count >= MAX_REOPENS:
        t.status, t.closed_at = Status.CLOSED_UNSATISFIED, now
        out.event(now, "closed", outcome="unsatisfied", score=score)
        out.alert_staff("level:2", "closed_unsatisfied", complaint_id=t.complaint_id, team=t.team,
                        severity=t.severity, reopen_count=t.reopen_count, score=score)
        out.tell_customer("closed", complaint_id=t.complaint_id)
    else:
        _reopen(out, score, now)
    return out


def _reopen(out: Outcome, score: int, now: datetime) -> None:
    t = out.ticket
    assert t.policy is not None
    old = t.clocks["resolution"]
    level = min(MAX_LEVEL, old.level + 1)
    t.clocks["resolution"] = Clock(
        window_s=old.window_s, started_at=now, due=now + timedelta(seconds=ladder_window(old.window_s, level)),
        level=level, breached=old.breached, voucher_issued=old.voucher_issued,
    )
    t.reopen_count += 1
    t.status, t.resolved_at, t.survey, t.resolution = Status.IN_PROGRESS, None, None, None
    out.event(now, "reopened", score=score, reopen_count=t.reopen_count, level=level,
              resolution_due=iso(t.clocks["resolution"].due))
    out.alert_staff("team:service", "reopened", complaint_id=t.complaint_id, team=t.team, severity=t.severity,
                    score=score, reopen_count=t.reopen_count, level=level)
    out.tell_customer("reopened", complaint_id=t.complaint_id, resolution_due=t.clocks["resolution"].due)


# -- the workflow's timer ------------------------------------------------------------------------
def on_timer(ticket: Ticket, now: datetime) -> Outcome:
    """Whatever is due at ``now``, decided from the ticket alone: the one rule the workflow's
    ``Timeout`` state runs when the wait ``plan`` chose ends without an action. A clock that
    ran out climbs the ladder; a resolved complaint gets its survey once the delay is over,
    then its reminder, then closes with ``feedback: none``. An action that raced the timer is
    already on the ticket, so the timer sees the complaint as the action left it; a timer that
    woke early changes nothing (``plan`` waits the rest)."""
    t = ticket
    if t.status in (Status.AWAITING_CONTACT, Status.IN_PROGRESS):
        return clock_expired(t, now)
    if t.status is Status.RESOLVED and t.policy is not None:
        if t.survey is None:
            survey_due = survey_due_at(t)
            return send_survey(t, now) if survey_due is not None and now >= survey_due else _start(t)
        return survey_timeout(t, now)
    return _start(t)


def survey_due_at(ticket: Ticket) -> datetime | None:
    """When a resolved complaint's satisfaction survey goes out: ``survey_delay_s`` after it
    was resolved."""
    if ticket.resolved_at is None or ticket.policy is None:
        return None
    return ticket.resolved_at + timedelta(seconds=ticket.policy.follow_up.survey_delay_s)


# -- the workflow's next move --------------------------------------------------------------------
def plan(ticket: Ticket, now: datetime) -> Plan:
    """Where the state machine goes next, and for how long it may wait there."""
    t = ticket
    if t.status in (Status.AWAITING_CONTACT, Status.IN_PROGRESS):
        due = t.next_due()
        assert due is not None, "an open complaint always has a running clock"
        return Plan(next="await_agent", wait_s=_seconds_until(due, now))
    if t.status is Status.RESOLVED and t.policy is not None:
        if t.survey is None:
            survey_due = survey_due_at(t)
            assert survey_due is not None, "a resolved complaint has its resolved_at"
            return Plan(next="survey_delay", wait_s=_seconds_until(survey_due, now))
        remind_at = t.survey.sent_at + timedelta(seconds=t.policy.follow_up.reminder_after_s)
        until = t.survey.expires_at if t.survey.reminded else min(remind_at, t.survey.expires_at)
        return Plan(next="await_survey", wait_s=_seconds_until(until, now))
    if t.status in (Status.CLOSED, Status.CLOSED_UNSATISFIED):
        return Plan(next="closed", wait_s=0)
    raise ActionNotAllowed(f"no workflow step for a complaint that is {t.status.value}")


def _seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds, rounded up: a timer set with it never fires before ``moment`` (one that
    fired a fraction early would find nothing due and cost another wait)."""
    return max(1, math.ceil((moment - now).total_seconds()))
