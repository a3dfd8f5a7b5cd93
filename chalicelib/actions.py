"""Agents' and customers' actions on a complaint (the API's write side besides intake).

The action is written to the ticket first (conditional on its version), then the waiting
workflow is resumed with the task token the ticket holds. If the timer won the race, the
resume is refused, but the action is already on the ticket and the workflow's timeout step
reads it from there: an action is never lost, and never applied twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import changes, lifecycle
from chalicelib.bootstrap import adapters
from chalicelib.changes import NotFound, Rule
from chalicelib.clock import now
from chalicelib.lifecycle import ActionNotAllowed
from chalicelib.models import Caller, ContactIn, EscalateIn, Event, NoteIn, RatingIn, ResolveIn
from chalicelib.ticket import Ticket

__all__ = ["NotFound", "add_note", "contact", "escalate", "rate", "resolve"]


def _act(complaint_id: str, name: str, rule: Rule, *, check: Callable[[Ticket], None] | None = None) -> Ticket:
    try:
        applied = changes.apply(complaint_id, rule, take_token=True, check=check)
    except changes.KeptChanging as exc:
        raise ActionNotAllowed(str(exc)) from exc
    if applied.token:
        adapters().workflow.resume(applied.token, {"resumed": name})
    return applied.ticket


def contact(complaint_id: str, caller: Caller, body: ContactIn) -> Ticket:
    return _act(complaint_id, "contact", lambda t, at: lifecycle.contact(t, caller.actor, body.note, at))


def resolve(complaint_id: str, caller: Caller, body: ResolveIn) -> Ticket:
    return _act(complaint_id, "resolve", lambda t, at: lifecycle.resolve(t, caller.actor, body, at))


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

    return _act(complaint_id, "rate", lambda t, at: lifecycle.rate(t, caller.actor, body.score, body.comment, at),
                check=own)
