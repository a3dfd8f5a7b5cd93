"""Agents' and customers' actions on a complaint (the API's write side besides intake).

The action is written to the ticket first (conditional on its version), then the waiting
workflow is resumed with the task token the ticket holds and its next plan (how long to wait,
from which version; the next ``await`` step sends what the action queued). If the timer won
the race, the resume is refused, but the action is already on the ticket and the workflow's
timeout step reads it from there: an action is never lost, and never applied twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import changes, lifecycle
from chalicelib.changes import NotFound, Rule
from chalicelib.lifecycle import Outcome
from chalicelib.models import (
    Caller,
    ContactIn,
    EscalateIn,
    Event,
    NoteIn,
    PauseIn,
    RatingIn,
    ReplyIn,
    ResolveIn,
    ResumeIn,
    TriageIn,
)
from chalicelib.services import Services
from chalicelib.ticket import Ticket
from chalicelib.triage import team_for
from chalicelib.workflow_events import StepResult, dump

__all__ = ["NotFound", "add_note", "contact", "escalate", "pause", "rate", "reply", "resolve",
           "resume", "retriage"]


def _act(services: Services, complaint_id: str, rule: Rule, *,
         check: Callable[[Ticket], None] | None = None) -> Ticket:
    applied = changes.apply(services, complaint_id, rule, take_token=True, check=check)  # KeptChanging: a 409 to retry
    if applied.token:  # the wait ends with the plan that follows the action
        services.workflow.resume(applied.token, dump(StepResult.of(applied.ticket, services.clock())))
    return applied.ticket


def contact(services: Services, complaint_id: str, caller: Caller, body: ContactIn) -> Ticket:
    return _act(services, complaint_id, lambda t, at: lifecycle.contact(t, caller.actor, body.note, at))


def resolve(services: Services, complaint_id: str, caller: Caller, body: ResolveIn) -> Ticket:
    return _act(services, complaint_id, lambda t, at: lifecycle.resolve(t, caller.actor, body, at))


def escalate(services: Services, complaint_id: str, caller: Caller, body: EscalateIn) -> Ticket:
    return _act(services, complaint_id, lambda t, at: lifecycle.escalate(t, caller.actor, body.reason, at))


def pause(services: Services, complaint_id: str, caller: Caller, body: PauseIn) -> Ticket:
    return _act(services, complaint_id, lambda t, at: lifecycle.pause(t, caller.actor, body.reason, body.note, body.ask, at))


def resume(services: Services, complaint_id: str, caller: Caller, body: ResumeIn) -> Ticket:
    return _act(services, complaint_id, lambda t, at: lifecycle.resume(t, caller.actor, body.note, at))


def reply(services: Services, complaint_id: str, caller: Caller, body: ReplyIn) -> Ticket:
    return _act(services, complaint_id, lambda t, at: lifecycle.reply(t, caller.actor, body.text, list(body.attachments), at),
                check=_own(complaint_id, caller))


def retriage(services: Services, complaint_id: str, caller: Caller, body: TriageIn) -> Ticket:
    """Staff correct the triage; the team follows the category (the triage rules)."""
    def rule(ticket: Ticket, at: datetime) -> Outcome:
        team = team_for(body.category or ticket.category or "other")
        return lifecycle.retriage(ticket, caller.actor, body.category, body.severity, team, body.reason, at)

    return _act(services, complaint_id, rule)


def _own(complaint_id: str, caller: Caller) -> Callable[[Ticket], None]:
    def check(ticket: Ticket) -> None:
        if ticket.complaint.customer_id != caller.username:
            raise NotFound(complaint_id)  # never reveal that someone else's complaint exists

    return check


def add_note(services: Services, complaint_id: str, caller: Caller, body: NoteIn) -> dict[str, Any]:
    """A staff note on the timeline; it changes nothing else (no version, no workflow)."""
    if services.store.get_ticket(complaint_id) is None:
        raise NotFound(complaint_id)
    event = Event(at=services.clock(), type="note", actor=caller.actor, detail={"text": body.text})
    services.store.add_events(complaint_id, [event])
    return event.model_dump(mode="json")


def rate(services: Services, complaint_id: str, caller: Caller, body: RatingIn) -> Ticket:
    return _act(services, complaint_id, lambda t, at: lifecycle.rate(t, caller.actor, body.score, body.comment, at),
                check=_own(complaint_id, caller))
