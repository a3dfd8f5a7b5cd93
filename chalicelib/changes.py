"""The one read-modify-write loop: load a ticket, apply a lifecycle rule, save it only if
nobody changed it meanwhile (retry if somebody did). Workflow steps and API actions both go
through here, so every change of a ticket is versioned, recorded on its timeline, queued for
notification (the ticket's outbox) and measured the same way.

A lost race is retried after a short random pause ("full jitter": up to 10 ms, 20 ms, 40 ms …
capped at 160 ms): a P1 complaint climbing its ladder is written by the workflow every few
hundred milliseconds of a scaled local clock, and an agent's action that retried at once
could lose every race to it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.adapters.ports import VersionConflict
from chalicelib.lifecycle import Outcome
from chalicelib.models import Contact, Event
from chalicelib.notifications import CustomerMessage, StaffAlert
from chalicelib.observability import count
from chalicelib.services import Services
from chalicelib.ticket import Ticket

MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 0.01  # the first pause after a lost race is up to this long ...
BACKOFF_CAP_S = 0.16  # ... each next one up to twice the last, at most this
Rule = Callable[[Ticket, datetime], Outcome]


class NotFound(Exception):
    """No such complaint."""


class KeptChanging(Exception):
    """The ticket changed under us on every attempt."""


@dataclass
class Applied:
    ticket: Ticket  # as saved
    token: str | None = None  # the workflow's task token taken off the ticket


def apply(services: Services, complaint_id: str, rule: Rule, *, take_token: bool = False,
          check: Callable[[Ticket], None] | None = None) -> Applied:
    """Apply ``rule`` to the complaint. ``take_token`` removes the waiting workflow's token (an
    action that will resume it, or the step that runs when its wait ran out). The outbox is
    sent by the workflow's steps (:mod:`chalicelib.outbox`)."""
    store = services.store
    for attempt in range(MAX_ATTEMPTS):
        ticket = store.get_ticket(complaint_id)
        if ticket is None:
            raise NotFound(complaint_id)
        if check:
            check(ticket)
        out = rule(ticket, services.clock())
        changed = out.ticket
        changed.outbox = [*changed.outbox, *(addressed(changed, n) for n in out.notifications)]
        result = Applied(ticket=ticket)
        if take_token:
            result.token, changed.wait_token = ticket.wait_token, None
        if not out.events and changed == ticket:
            return result
        try:
            result.ticket = store.save(changed, out.events, ticket.version, corrections=out.corrections)
        except VersionConflict:
            if attempt + 1 < MAX_ATTEMPTS:
                services.sleep(conflict_backoff(attempt))
            continue
        emit_metrics(result.ticket, out.events)
        if out.unconfirmed_dues:  # ops add that year's dates to closed/open (docs/policy.md)
            count("DueTimesOnUnconfirmedHolidays", value=out.unconfirmed_dues)
        return result
    raise KeptChanging(f"complaint {complaint_id} kept changing; try again")


def conflict_backoff(attempt: int) -> float:
    """The pause after losing race number ``attempt`` (0-based): uniform in [0, min(cap, base·2^attempt)]."""
    return random.uniform(0.0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))


def addressed(ticket: Ticket, message: CustomerMessage | StaffAlert) -> CustomerMessage | StaffAlert:
    """Customer messages carry their route (channel, contact, locale): no lookup to send."""
    if not isinstance(message, CustomerMessage):
        return message
    contact = ticket.complaint.contact or Contact.model_validate({"locale": ticket.locale})
    return message.model_copy(update={"channel": ticket.complaint.channel, "contact": contact})


def emit_metrics(ticket: Ticket, events: list[Event]) -> None:
    """Business metrics (EMF) for what just happened; low-cardinality dimensions only."""
    for e in events:
        if e.type == "escalated":
            count("Escalations", level=e.detail.get("level"), manual=bool(e.detail.get("manual")))
            if e.detail.get("level") == 1 and not e.detail.get("manual"):
                count("SlaBreaches", clock=e.detail.get("clock"), severity=ticket.severity)
        elif e.type in ("at_risk", "paused", "pause_expired", "retriaged", "repeats_skipped"):
            count({"at_risk": "AtRiskWarnings", "paused": "ComplaintsPaused", "pause_expired": "PausesExpired",
                   "retriaged": "ComplaintsRetriaged", "repeats_skipped": "EscalationRepeatsSkipped"}[e.type],
                  value=e.detail.get("count", 1) if e.type == "repeats_skipped" else 1)
        elif e.type == "voucher_issued":
            count("VouchersIssued", severity=ticket.severity)
        elif e.type == "triaged":
            count("ComplaintsTriaged", severity=ticket.severity, team=ticket.team)
        elif e.type == "resolved":
            count("ComplaintsResolved", team=ticket.team, severity=ticket.severity)
        elif e.type == "rated":
            count("SatisfactionScore", value=e.detail.get("score", 0))
            count("Ratings", score=e.detail.get("score"))
        elif e.type == "reopened":
            count("ComplaintsReopened", team=ticket.team)
        elif e.type == "closed":
            count("ComplaintsClosed", outcome=e.detail.get("outcome") or e.detail.get("feedback") or "satisfied")
