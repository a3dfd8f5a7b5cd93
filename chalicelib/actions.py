"""Agents' and customers' actions on a complaint (the API's write side besides intake).

The action is written to the ticket first (conditional on its version), then the waiting
workflow is resumed with the task token the ticket holds and its next plan (how long to wait,
from which version; the next ``await`` step sends what the action queued). If the timer won
the race, the resume is refused, but the action is already on the ticket and the workflow's
timeout step reads it from there: an action is never lost, and never applied twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import changes, lifecycle
from chalicelib.changes import NotFound, Rule
from chalicelib.lifecycle import ActionNotAllowed
from chalicelib.models import Caller, ContactIn, EscalateIn, Event, NoteIn, RatingIn, ResolveIn
from chalicelib.services import Services
from chalicelib.ticket import Ticket
from chalicelib.workflow_events import StepResult, dump

__all__ = ["NotFound", "add_note", "contact", "escalate", "rate", "resolve"]


def _act(services: Services, complaint_id: str, rule: Rule, *,
         check: Callable[[Ticket], None] | None = None) -> Ticket:
    try:
        applied = changes.apply(services, complaint_id, rule, take_token=True, check=check)
    except changes.KeptChanging as exc:
        raise ActionNotAllowed(str(exc)) from exc
    if applied.token:  # the wait ends with the plan that follows the action
        services.workflow.resume(applied.token, dump(StepResult.of(applied.ticket, services.clock())))
    return applied.ticket


def contact(services: Services, complaint_id: str, caller: Caller, body: ContactIn) -> Ticket:
    return _act(services, complaint_id, lambda t, at: lifecycle.contact(t, caller.actor, body.note, at))


def resolve(services: Services, complaint_id: str, caller: Caller, body: ResolveIn) -> Ticket:
    return _act(services, complaint_id, lambda t, at: lifecycle.resolve(t, caller.actor, body, at))


def escalate(services: Services, complaint_id: str, caller: Caller, body: EscalateIn) -> Ticket:
    return _act(services, complaint_id, lambda t, at: lifecycle.escalate(t, caller.actor, body.reason, at))


def add_note(services: Services, complaint_id: str, caller: Caller, body: NoteIn) -> dict[str, Any]:
    """A staff note on the timeline; it changes nothing else (no version, no workflow)."""
    if services.store.get_ticket(complaint_id) is None:
        raise NotFound(complaint_id)
    event = Event(at=services.clock(), type="note", actor=caller.actor, detail={"text": body.text})
    services.store.add_events(complaint_id, [event])
    return event.model_dump(mode="json")


def rate(services: Services, complaint_id: str, caller: Caller, body: RatingIn) -> Ticket:
    def own(ticket: Ticket) -> None:
        if ticket.complaint.customer_id != caller.username:
            raise NotFound(complaint_id)

    return _act(services, complaint_id,
                lambda t, at: lifecycle.rate(t, caller.actor, body.score, body.comment, at), check=own)
