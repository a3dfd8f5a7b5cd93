"""Agents' and customers' actions on the in-memory adapters: written to the ticket first, then
the waiting workflow resumed with the ticket's token; refused (409) when they do not apply."""

from __future__ import annotations

import pytest

from chalicelib import actions
from chalicelib.changes import NotFound
from chalicelib.lifecycle import ActionNotAllowed
from chalicelib.models import Caller, ContactIn, EscalateIn, NoteIn, RatingIn, ResolveIn, Status
from tests.unit.conftest import AGENT, CUSTOMER, Fakes


def waiting(fakes: Fakes) -> tuple[str, str]:
    """A triaged complaint whose workflow waits for an agent: (id, token)."""
    cid = fakes.file()
    token = fakes.wait(cid, fakes.triage(cid))
    return cid, token


def test_first_contact_is_recorded_and_resumes_the_waiting_workflow(fakes: Fakes) -> None:
    cid, token = waiting(fakes)
    fakes.clock.advance(minutes=10)
    ticket = actions.contact(fakes.services, cid, AGENT, ContactIn(note="called, apologised"))
    assert ticket.status is Status.IN_PROGRESS and ticket.contacted_at == fakes.clock.now
    assert ticket.wait_token is None  # taken off the ticket ...
    # ... and used: the wait ends with the plan that follows (until the resolution is due)
    wait_s = int((ticket.clocks["resolution"].due - fakes.clock.now).total_seconds())
    assert fakes.workflow.resumes == [(token, {"next": "await_agent", "wait_s": wait_s, "version": ticket.version})]
    assert fakes.timeline(cid)[-1] == "contacted"


def test_an_action_after_the_timer_won_is_kept_and_nothing_breaks(fakes: Fakes) -> None:
    cid, token = waiting(fakes)
    fakes.workflow.time_out(token)  # the wait ended just before the agent clicked
    ticket = actions.contact(fakes.services, cid, AGENT, ContactIn())
    assert ticket.status is Status.IN_PROGRESS
    assert fakes.workflow.resumes == []  # the resume was refused; the timeout step reads the ticket
    stored = fakes.store.get_ticket(cid)
    assert stored is not None and stored.contacted_at is not None


def test_an_action_that_no_longer_applies_is_refused_and_writes_nothing(fakes: Fakes) -> None:
    cid, _ = waiting(fakes)
    actions.contact(fakes.services, cid, AGENT, ContactIn())
    before = fakes.store.get_with_timeline(cid)
    with pytest.raises(ActionNotAllowed, match="first contact is not awaited"):
        actions.contact(fakes.services, cid, AGENT, ContactIn())
    assert fakes.store.get_with_timeline(cid) == before


def test_actions_on_an_unknown_complaint_are_not_found(fakes: Fakes) -> None:
    with pytest.raises(NotFound):
        actions.resolve(fakes.services, "CMP-NOPE", AGENT, ResolveIn(resolution="refund"))
    with pytest.raises(NotFound):
        actions.add_note(fakes.services, "CMP-NOPE", AGENT, NoteIn(text="x"))


def test_resolve_escalate_and_a_note(fakes: Fakes) -> None:
    cid, _ = waiting(fakes)
    escalated = actions.escalate(fakes.services, cid, AGENT, EscalateIn(reason="threatens a chargeback"))
    assert escalated.escalation_level == 1
    note = actions.add_note(fakes.services, cid, AGENT, NoteIn(text="waiting for the courier"))
    assert note["type"] == "note" and note["actor"] == "agent:A-7"
    version_after_note = fakes.store.get_ticket(cid)
    assert version_after_note is not None and version_after_note.version == escalated.version  # a note moves nothing
    resolved = actions.resolve(fakes.services, cid, AGENT, ResolveIn(resolution="refund", note="full refund"))
    assert resolved.status is Status.RESOLVED and resolved.contacted_at is not None  # resolving is the first contact
    assert fakes.timeline(cid)[-3:] == ["escalated", "note", "resolved"]


def test_only_the_complaints_customer_may_rate_it(fakes: Fakes) -> None:
    cid, _ = waiting(fakes)
    actions.resolve(fakes.services, cid, AGENT, ResolveIn(resolution="refund"))
    with pytest.raises(ActionNotAllowed, match="no satisfaction survey"):
        actions.rate(fakes.services, cid, CUSTOMER, RatingIn(score=5))  # no survey sent yet
    stranger = Caller(username="C-9999", groups=frozenset({"customers"}))
    with pytest.raises(NotFound):
        actions.rate(fakes.services, cid, stranger, RatingIn(score=1))
