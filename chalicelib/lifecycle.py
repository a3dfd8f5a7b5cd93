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

from chalicelib import topics
from chalicelib.clock import iso
from chalicelib.models import Event, ResolveIn, Status, Voucher
from chalicelib.notifications import CustomerMessage, StaffAlert
from chalicelib.policy import EscalationLevel, Rung, ServiceLevelPolicy
from chalicelib.policy.model import MAX_DURATION_S, ClockName
from chalicelib.sla_clocks import SlaClocks
from chalicelib.ticket import Clock, Pause, Satisfaction, Survey, Ticket
from chalicelib.triage import TriageResult
from chalicelib.triage.corrections import Correction

SYSTEM = "system"
BREACH_REASON: dict[str, Literal["first_contact_breach", "resolution_breach"]] = {
    "first_contact": "first_contact_breach", "resolution": "resolution_breach"}
OPEN_WORK = (Status.AWAITING_CONTACT, Status.IN_PROGRESS, Status.PENDING_CUSTOMER)
# Nothing is due (the ladder ended without a repeat, warnings off, nothing paused): the wait
# is bounded by the longest window a policy may give; an action ends it at any time.
IDLE_WAIT_S = MAX_DURATION_S


class ActionNotAllowed(Exception):
    """The action no longer applies to the complaint in its current state (HTTP 409)."""


@dataclass
class Outcome:
    ticket: Ticket
    events: list[Event] = field(default_factory=list)
    notifications: list[CustomerMessage | StaffAlert] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)  # re-triages, kept for triage learning
    sla: SlaClocks | None = None  # the clock arithmetic used (it counts unconfirmed due times)

    @property
    def unconfirmed_dues(self) -> int:
        """Due times computed on a year whose official holiday schedule is not published."""
        return self.sla.unconfirmed if self.sla else 0

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


def _policy(ticket: Ticket) -> ServiceLevelPolicy:
    if ticket.policy is None:
        raise ActionNotAllowed("complaint is not triaged yet")
    return ticket.policy


def _clocks(out: Outcome) -> SlaClocks:
    clocks = SlaClocks(_policy(out.ticket), out.ticket.team)
    out.sla = clocks
    return clocks


# -- triage ----------------------------------------------------------------------------------
def apply_triage(ticket: Ticket, result: TriageResult, policy: ServiceLevelPolicy, now: datetime) -> Outcome:
    """Category, severity and team; the policy kept on the ticket; both clocks started when
    the customer complained (in the severity's hours) — an import may already be overdue."""
    if ticket.status is not Status.RECEIVED:
        raise ActionNotAllowed(f"complaint is already {ticket.status.value}")
    out = _start(ticket)
    t = out.ticket
    t.category, t.severity, t.team = result.category, result.severity, result.team
    t.category_source, t.triage_reasons, t.policy = result.category_source, [*result.reasons, *order_notes(t)], policy
    sla = _clocks(out)
    t.clocks = {name: sla.start(result.severity, name, t.raised_at, now) for name in CLOCKS}
    t.status, t.updated_at = Status.AWAITING_CONTACT, now
    out.event(now, "triaged", "system:triage", category=t.category, category_source=t.category_source,
              severity=t.severity, team=t.team, reasons=t.triage_reasons)
    first_due = t.clocks["first_contact"].due
    out.event(now, "acknowledged", complaint_id=t.complaint_id, team=t.team, first_contact_due=_iso(first_due))
    out.tell_customer("acknowledged", complaint_id=t.complaint_id, team=t.team, first_contact_due=first_due)
    _due_now(out, now)
    return out


def order_notes(ticket: Ticket) -> list[str]:
    """What staff should know of the order check (staff-only triage reasons)."""
    check = ticket.order
    if check is None:
        return []
    if not check.verified:
        return ["order not in the order directory: amount and product as the customer sent them (unverified)"]
    return list(check.differences)


CLOCKS: tuple[ClockName, ...] = ("first_contact", "resolution")


# -- timers: the ladder and the at-risk warning ----------------------------------------------------
def _due_now(out: Outcome, now: datetime) -> None:
    """Whatever the ticking clocks owe at ``now``: the rungs of the ladder they climbed (a
    clock far past due catches up in this one step), then the at-risk warnings."""
    t = out.ticket
    sla = out.sla or _clocks(out)
    for name, clock in sorted(t.ticking_clocks().items(), key=lambda kv: kv[1].due or now):
        rungs = sla.climb(clock, now)
        if rungs:
            _climbed(out, name, clock, rungs, now)
            t.updated_at = now
    for name, clock in t.ticking_clocks().items():
        if clock.at_risk_at is not None and clock.at_risk_at <= now and not clock.at_risk_warned and clock.due:
            clock.at_risk_warned, t.updated_at = True, now
            out.event(now, "at_risk", clock=name, due=_iso(clock.due), level=clock.level)
            out.alert_staff(topics.team_topic(t.team), "at_risk", complaint_id=t.complaint_id, clock=name,
                            severity=t.severity, team=t.team, due=clock.due, level=clock.level)


def _climbed(out: Outcome, name: str, clock: Clock, rungs: list[Rung], now: datetime) -> None:
    """One ``escalated`` event (and alert) per level reached; a run of repeats of the last
    level is one alert at most — none when this step already reached that level — and one
    ``repeats_skipped`` summary of the others."""
    reached = [r for r in rungs if not r.repeat]
    next_due = clock.due
    for rung in reached:
        due = rung.next_due.at if rung.next_due else None
        _escalated(out, name, clock, rung.level, due, now, repeat=False)
    for rung in (r for r in rungs if r.repeat):
        alerted = 0 if reached else 1
        if alerted:
            _escalated(out, name, clock, rung.level, next_due, now, repeat=True)
        if rung.times > alerted:
            out.event(now, "repeats_skipped", clock=name, level=rung.level.level, count=rung.times - alerted,
                      since=_iso(rung.missed), next_due=_iso(next_due))


def _escalated(out: Outcome, name: str, clock: Clock, level: EscalationLevel, next_due: datetime | None,
               now: datetime, *, repeat: bool) -> None:
    t = out.ticket
    out.event(now, "escalated", clock=name, level=level.level, alert=level.alert, next_due=_iso(next_due),
              repeat=repeat)
    out.alert_staff(topics.alert_topic(level.alert, t.team), "breach", complaint_id=t.complaint_id, clock=name,
                    level=level.level, severity=t.severity, team=t.team, next_due=next_due, repeat=repeat)
    if repeat:
        return
    if level.customer == "apology_voucher" and not clock.voucher_issued:
        clock.voucher_issued = True  # apology and voucher: once per clock
        out.tell_customer("apology", complaint_id=t.complaint_id, clock=name)
        assert t.severity is not None
        voucher = Voucher(amount=_policy(t).severity(t.severity).voucher_cny, reason=BREACH_REASON[name], issued_at=now)
        t.vouchers.append(voucher)
        out.event(now, "voucher_issued", amount=f"{voucher.amount:.2f}", currency=voucher.currency, reason=voucher.reason)
        out.tell_customer("voucher", complaint_id=t.complaint_id, amount=voucher.amount, currency=voucher.currency)
    elif level.customer == "progress_update":
        out.tell_customer("progress", complaint_id=t.complaint_id, clock=name)


def _pause_expired(out: Outcome, now: datetime) -> None:
    t = out.ticket
    if t.status is not Status.PENDING_CUSTOMER or t.pause is None or now < t.pause.expires_at:
        return
    _resume_clocks(out, now)
    out.event(now, "pause_expired", paused_at=_iso(t.pause.at), resolution_due=_iso(t.due_of("resolution")))
    out.alert_staff(topics.team_topic(t.team), "pause_expired", complaint_id=t.complaint_id, team=t.team,
                    severity=t.severity, paused_at=t.pause.at, resolution_due=t.due_of("resolution"))
    t.pause = None


def on_timer(ticket: Ticket, now: datetime) -> Outcome:
    """The one dispatcher of a timed wake-up: whatever is due at ``now`` — a paused complaint's
    timeout, the ladder of a clock that ran out, an at-risk warning, the survey and its
    reminder and expiry. A wake-up with nothing due (an action raced the timer) changes
    nothing; ``plan`` gives the next moment."""
    if ticket.status is Status.RESOLVED:
        if ticket.survey is None:  # the survey goes out once its delay after resolving is over
            survey_due = survey_due_at(ticket)
            return send_survey(ticket, now) if survey_due is not None and now >= survey_due else _start(ticket)
        return survey_timeout(ticket, now)
    out = _start(ticket)
    if out.ticket.status in OPEN_WORK and out.ticket.policy is not None:
        _pause_expired(out, now)
        _due_now(out, now)
    return out


def clock_expired(ticket: Ticket, now: datetime) -> Outcome:
    """The ``ClockExpired`` step (an ``AwaitAgent`` timeout): see :func:`on_timer`."""
    return on_timer(ticket, now)


# -- agent actions -------------------------------------------------------------------------------
def contact(ticket: Ticket, actor: str, note: str, now: datetime) -> Outcome:
    if ticket.status is not Status.AWAITING_CONTACT:
        raise ActionNotAllowed(f"first contact is not awaited: complaint is {ticket.status.value}")
    out = _start(ticket)
    t = out.ticket
    _clocks(out).stop(t.clocks["first_contact"], now)
    t.contacted_at, t.status, t.updated_at = now, Status.IN_PROGRESS, now
    out.event(now, "contacted", actor, note=note) if note else out.event(now, "contacted", actor)
    return out


def resolve(ticket: Ticket, actor: str, body: ResolveIn, now: datetime) -> Outcome:
    if ticket.status not in OPEN_WORK:
        raise ActionNotAllowed(f"complaint is {ticket.status.value}: nothing to resolve")
    out = _start(ticket)
    t = out.ticket
    sla = _clocks(out)
    for clock in t.running_clocks().values():  # resolving is also the first contact, if none yet
        sla.stop(clock, now)
    if t.contacted_at is None:
        t.contacted_at = now
    t.resolved_at, t.status, t.updated_at, t.pause = now, Status.RESOLVED, now, None
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
    """Manual escalation: the next level of the ticket's ladder (the last one stays)."""
    if not ticket.is_open or ticket.status is Status.RECEIVED:
        raise ActionNotAllowed(f"complaint is {ticket.status.value}: it cannot be escalated")
    out = _start(ticket)
    t = out.ticket
    level = _policy(t).escalation.manual(t.escalation_level)
    t.manual_level = level.level
    t.updated_at = now
    out.event(now, "escalated", actor, level=level.level, alert=level.alert, manual=True, reason=reason)
    out.alert_staff(topics.alert_topic(level.alert, t.team), "manual_escalation", complaint_id=t.complaint_id,
                    level=level.level, severity=t.severity, team=t.team, reason=reason, by=actor)
    return out


# -- waiting for the customer ----------------------------------------------------------------------
def pause(ticket: Ticket, actor: str, reason: str, note: str, ask: str, now: datetime) -> Outcome:
    """Wait for the customer: the resolution clock stops with its remaining working time;
    the customer is asked for what is missing; it resumes by itself after the policy's
    ``pending_timeout_s``."""
    if ticket.status is not Status.IN_PROGRESS:
        raise ActionNotAllowed(f"only a complaint in progress can wait for the customer: it is {ticket.status.value}")
    out = _start(ticket)
    t = out.ticket
    sla = _clocks(out)
    for clock in t.ticking_clocks().values():
        sla.pause(clock, now)
    expires = now + timedelta(seconds=_policy(t).follow_up.pending_timeout_s)
    t.pause = Pause(at=now, expires_at=expires, reason=reason, by=actor)
    t.status, t.updated_at = Status.PENDING_CUSTOMER, now
    detail: dict[str, Any] = {"reason": reason, "expires_at": _iso(expires)}
    if ask:
        detail["ask"] = ask
    if note:
        detail["note"] = note
    out.event(now, "paused", actor, **detail)
    out.tell_customer("pending_customer", complaint_id=t.complaint_id, ask=ask, expires_at=expires)
    return out


def _resume_clocks(out: Outcome, now: datetime) -> None:
    t = out.ticket
    sla = out.sla or _clocks(out)
    for clock in t.running_clocks().values():
        if clock.paused:
            sla.resume(clock, now)
    t.status, t.updated_at = Status.IN_PROGRESS, now


def reply(ticket: Ticket, actor: str, text: str, attachments: list[str], now: datetime) -> Outcome:
    """The customer answers (any time before close); while the complaint waits for them, the
    resolution clock resumes with the working time it had left."""
    if ticket.status in (Status.CLOSED, Status.CLOSED_UNSATISFIED):
        raise ActionNotAllowed(f"complaint is {ticket.status.value}: replies are closed")
    out = _start(ticket)
    t = out.ticket
    detail: dict[str, Any] = {"text": text}
    if attachments:
        detail["attachments"] = attachments
    waiting = t.status is Status.PENDING_CUSTOMER
    if waiting:
        _resume_clocks(out, now)
        t.pause = None
        detail["resolution_due"] = _iso(t.due_of("resolution"))
    t.updated_at = now
    out.event(now, "customer_replied", actor, **detail)
    if waiting:
        out.alert_staff(topics.team_topic(t.team), "customer_replied", complaint_id=t.complaint_id, team=t.team,
                        severity=t.severity, resolution_due=t.due_of("resolution"))
    return out


def resume(ticket: Ticket, actor: str, note: str, now: datetime) -> Outcome:
    if ticket.status is not Status.PENDING_CUSTOMER:
        raise ActionNotAllowed(f"complaint is {ticket.status.value}: it is not waiting for the customer")
    out = _start(ticket)
    t = out.ticket
    _resume_clocks(out, now)
    t.pause = None
    detail: dict[str, Any] = {"resolution_due": _iso(t.due_of("resolution"))}
    if note:
        detail["note"] = note
    out.event(now, "resumed", actor, **detail)
    return out


# -- re-triage -----------------------------------------------------------------------------------
def retriage(ticket: Ticket, actor: str, category: str | None, severity: str | None, team: str, reason: str,
             now: datetime) -> Outcome:
    """Staff correct category and/or severity (``team`` follows the category). Running clocks
    keep their start and the working time already used and take the new severity's windows
    and hours — breaching at once, with the new ladder, if the new window is already used up.
    The correction is kept for triage learning."""
    if ticket.status in (Status.CLOSED, Status.CLOSED_UNSATISFIED):
        raise ActionNotAllowed(f"complaint is {ticket.status.value}: it cannot be re-triaged")
    if ticket.status is Status.RECEIVED or ticket.severity is None or ticket.category is None:
        raise ActionNotAllowed("complaint is not triaged yet")
    out = _start(ticket)
    t = out.ticket
    before = {"category": t.category, "severity": t.severity, "team": t.team}
    new_category, new_severity = category or t.category, severity or t.severity
    assert new_severity is not None  # triaged: checked above
    old_clocks = SlaClocks(_policy(t), t.team)  # the working time used, in the old hours and calendar
    used = {name: old_clocks.used_s(clock, now) for name, clock in t.running_clocks().items()}
    t.category, t.severity, t.team = new_category, new_severity, team
    t.category_source = "staff" if category else t.category_source
    sla = _clocks(out)
    if new_severity != before["severity"] or team != before["team"]:
        for name, clock in t.running_clocks().items():
            sla.retime(clock, name, new_severity, used[name], now)
    after = {"category": t.category, "severity": t.severity, "team": t.team}
    t.updated_at = now
    out.event(now, "retriaged", actor, **{"from": before, "to": after}, reason=reason)
    out.corrections.append(Correction.model_validate({
        "complaint_id": t.complaint_id, "text": t.complaint.description,
        "product_kind": t.complaint.product.kind if t.complaint.product else None,
        "order_amount": t.complaint.order_amount.amount if t.complaint.order_amount else None,
        "tier": t.tier, "other_open_on_order": t.other_open_on_order,
        "predicted_category": before["category"], "predicted_severity": before["severity"],
        "corrected_category": new_category, "corrected_severity": new_severity,
        "actor": actor, "at": now, "reason": reason}))
    if before["team"] != team and t.is_open:
        out.alert_staff(topics.team_topic(team), "retriaged", complaint_id=t.complaint_id, team=team,
                        severity=t.severity, by=actor, reason=reason)
    if t.is_open:
        _due_now(out, now)  # a window already used up breaches now
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
    follow_up = _policy(t).follow_up
    t.satisfaction = Satisfaction(score=score, comment=comment, rated_at=now)
    t.updated_at = now
    out.event(now, "rated", actor, score=score, **({"comment": comment} if comment else {}))
    if score > follow_up.reopen_at_or_below:
        t.status, t.closed_at = Status.CLOSED, now
        out.event(now, "closed", score=score)
        out.tell_customer("closed", complaint_id=t.complaint_id)
    elif t.reopen_count >= follow_up.max_reopens:
        t.status, t.closed_at = Status.CLOSED_UNSATISFIED, now
        out.event(now, "closed", outcome="unsatisfied", score=score)
        out.alert_staff(topics.MANAGER_TOPIC, "closed_unsatisfied", complaint_id=t.complaint_id, team=t.team,
                        severity=t.severity, reopen_count=t.reopen_count, score=score)
        out.tell_customer("closed", complaint_id=t.complaint_id)
    else:
        _reopen(out, score, now)
    return out


def _reopen(out: Outcome, score: int, now: datetime) -> None:
    t = out.ticket
    t.clocks["resolution"] = _clocks(out).reopened(t.clocks["resolution"], now)
    level = t.clocks["resolution"].level
    t.reopen_count += 1
    t.status, t.resolved_at, t.survey, t.resolution = Status.IN_PROGRESS, None, None, None
    out.event(now, "reopened", score=score, reopen_count=t.reopen_count, level=level,
              resolution_due=_iso(t.clocks["resolution"].due))
    out.alert_staff(topics.QUALITY_TOPIC, "reopened", complaint_id=t.complaint_id, team=t.team, severity=t.severity,
                    score=score, reopen_count=t.reopen_count, level=level)
    out.tell_customer("reopened", complaint_id=t.complaint_id, resolution_due=t.clocks["resolution"].due)


def survey_due_at(ticket: Ticket) -> datetime | None:
    """When a resolved complaint's satisfaction survey goes out: ``survey_delay_s`` after it
    was resolved."""
    if ticket.resolved_at is None or ticket.policy is None:
        return None
    return ticket.resolved_at + timedelta(seconds=ticket.policy.follow_up.survey_delay_s)


# -- the workflow's next move --------------------------------------------------------------------
def next_moment(ticket: Ticket) -> datetime | None:
    """The earliest moment anything is due on an open complaint: a ticking clock's deadline,
    an at-risk warning not yet given, a pause's timeout."""
    moments: list[datetime] = []
    for clock in ticket.ticking_clocks().values():
        if clock.due is not None:
            moments.append(clock.due)
            if clock.at_risk_at is not None and not clock.at_risk_warned:
                moments.append(clock.at_risk_at)
    if ticket.status is Status.PENDING_CUSTOMER and ticket.pause is not None:
        moments.append(ticket.pause.expires_at)
    return min(moments) if moments else None


def plan(ticket: Ticket, now: datetime) -> Plan:
    """Where the state machine goes next, and for how long it may wait there."""
    t = ticket
    if t.status in OPEN_WORK:
        moment = next_moment(t)
        return Plan(next="await_agent", wait_s=_seconds_until(moment, now) if moment else IDLE_WAIT_S)
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


def _iso(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None
