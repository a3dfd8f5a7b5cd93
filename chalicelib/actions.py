"""Agents' and customers' actions on a complaint (the API's write side besides intake).

The action is written to the ticket first (conditional on its version), then the waiting
workflow is resumed with the task token the ticket holds. If the timer won the race, the
resume is refused, but the action is already on the ticket and the workflow's timeout step
reads it from there: an action is never lost, and never applied twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import lifecycle
from chalicelib.bootstrap import adapters
from chalicelib.clock import now
from chalicelib.lifecycle import ActionNotAllowed, Outcome
from chalicelib.models import Caller, ContactIn, EscalateIn, Event, NoteIn, RatingIn, ResolveIn
from chalicelib.observability import count
from chalicelib.steps import _address
from chalicelib.store import VersionConflict
from chalicelib.ticket import Ticket

MAX_ATTEMPTS = 8


class NotFound(Exception):
    pass


def _act(complaint_id: str, name: str, rule: Callable[[Ticket, datetime], Outcome],
         *, resume: bool = True, check: Callable[[Ticket], None] | None = None) -> Ticket:
    a = adapters()
    for _ in range(MAX_ATTEMPTS):
        ticket = a.store.get_ticket(complaint_id)
        if ticket is None:
            raise NotFound(complaint_id)
        if check:
            check(ticket)
        out = rule(ticket, now())
        changed = out.ticket
        changed.outbox = [*changed.outbox, *(_address(changed, n) for n in out.notifications)]
        token = ticket.wait_token if resume else None
        if token:
            changed.wait_token = None
        try:
            saved = a.store.save(changed, out.events, ticket.version)
        except VersionConflict:
            continue
        if token:
            a.workflow.resume(token, {"resumed": name})
        return saved
    raise ActionNotAllowed("the complaint is changing too fast; try again")


def contact(complaint_id: str, caller: Caller, body: ContactIn) -> Ticket:
    return _act(complaint_id, "contact", lambda t, at: lifecycle.contact(t, caller.actor, body.note, at))


def resolve(complaint_id: str, caller: Caller, body: ResolveIn) -> Ticket:
    ticket = _act(complaint_id, "resolve", lambda t, at: lifecycle.resolve(t, caller.actor, body, at))
    count("ComplaintsResolved", team=ticket.team, severity=ticket.severity)
    return ticket


def escalate(complaint_id: str, caller: Caller, body: EscalateIn) -> Ticket:
    return _act(complaint_id, "escalate", lambda t, at: lifecycle.escalate(t, caller.actor, body.reason, at))


def add_note(complaint_id: str, caller: Caller, body: NoteIn) -> dict[str, Any]:
    store = adapters().store
    if store.get_ticket(complaint_id) is None:
        raise NotFound(complaint_id)
    event = Event(at=now(), type="note", actor=caller.actor, detail={"text": body.text})
    store.add_events(complaint_id, [event])
    return event.model_dump(mode="json")


def rate(complaint_id: str, caller: Caller, body: RatingIn) -> Ticket:
    def own(ticket: Ticket) -> None:
        if ticket.complaint.customer_id != caller.username:
            raise NotFound(complaint_id)

    ticket = _act(complaint_id, "rate", lambda t, at: lifecycle.rate(t, caller.actor, body.score, body.comment, at),
                  check=own)
    count("SatisfactionScore", value=body.score)
    count("Ratings", score=body.score)
    return ticket
