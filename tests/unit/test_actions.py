"""Agents' and customers' actions on the in-memory adapters: written to the ticket first, then
the waiting workflow resumed with the ticket's token; refused (409) when they do not apply."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import actions, queries
from chalicelib.changes import NotFound
from chalicelib.lifecycle import ActionNotAllowed
from chalicelib.models import (
    Caller,
    ContactIn,
    EscalateIn,
    NoteIn,
    PauseIn,
    RatingIn,
    ReplyIn,
    ResolveIn,
    ResumeIn,
    Status,
    TriageIn,
)
from chalicelib.notifications import CustomerMessage
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
    # ... and used: the wait ends with the plan that follows (until the resolution clock's
    # at-risk warning, its soonest moment)
    at_risk = ticket.clocks["resolution"].at_risk_at
    assert at_risk is not None
    wait_s = int((at_risk - fakes.clock.now).total_seconds())
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


# -- pause, reply, resume, re-triage (docs/policy.md) -----------------------------------------------
def contacted(fakes: Fakes) -> tuple[str, str]:
    """A complaint in progress whose workflow waits again: (id, token)."""
    cid, _ = waiting(fakes)
    actions.contact(fakes.services, cid, AGENT, ContactIn())
    return cid, fakes.wait(cid, fakes.workflow.resumes[-1][1])  # the plan the action resumed the wait with


def test_pause_asks_the_customer_and_the_reply_resumes_the_clock(fakes: Fakes) -> None:
    cid, token = contacted(fakes)
    fakes.clock.advance(hours=1)
    paused = actions.pause(fakes.services, cid, AGENT, PauseIn(note="label unreadable", ask="a photo of the label"))
    resumed, answer = fakes.workflow.resumes[-1]
    assert paused.status is Status.PENDING_CUSTOMER and resumed == token
    left = paused.clocks["resolution"].remaining_s
    # only the pause's timeout is due
    assert answer["wait_s"] == fakes.services.store.get_ticket(cid).policy.follow_up.pending_timeout_s  # type: ignore[union-attr]  # the ticket exists
    # the next wait sends the request to the customer, in their channel and locale
    fakes.wait(cid, answer)
    message = fakes.notifier.sent[-1].message
    assert isinstance(message, CustomerMessage) and message.contact is not None
    assert (message.template, message.contact.locale, message.params["ask"]) == (
        "pending_customer", "zh-CN", "a photo of the label")
    fakes.clock.advance(hours=30)
    replied = actions.reply(fakes.services, cid, CUSTOMER, ReplyIn(text="照片在这里", attachments=["s3://a/label.jpg"]))
    assert replied.status is Status.IN_PROGRESS and left is not None
    assert replied.clocks["resolution"].due == fakes.clock.now + timedelta(seconds=left)
    assert fakes.timeline(cid)[-2:] == ["paused", "customer_replied"]
    # the customer sees both, without the internal note; staff see the note
    customer = queries.complaint(fakes.services, cid, CUSTOMER)["timeline"]
    shown = {e["type"]: e["detail"] for e in customer}
    assert "note" not in shown["paused"] and shown["paused"]["ask"] == "a photo of the label"
    assert shown["customer_replied"]["text"] == "照片在这里"
    staff = {e["type"]: e for e in queries.complaint(fakes.services, cid, AGENT)["timeline"]}
    assert staff["paused"]["detail"]["note"] == "label unreadable" and staff["paused"]["internal_detail"] == [
        "note", "reason"]


def test_another_customers_reply_is_not_found_and_a_closed_complaint_refuses_replies(fakes: Fakes) -> None:
    cid, _ = contacted(fakes)
    with pytest.raises(NotFound):
        actions.reply(fakes.services, cid, Caller(username="C-9", groups=frozenset({"customers"})), ReplyIn(text="hi"))
    with pytest.raises(ActionNotAllowed):
        actions.resume(fakes.services, cid, AGENT, ResumeIn())  # not paused
    with pytest.raises(ActionNotAllowed):
        actions.pause(fakes.services, waiting(fakes)[0], AGENT, PauseIn())  # not contacted yet


def test_retriage_moves_the_team_keeps_the_time_and_stores_the_correction(fakes: Fakes) -> None:
    cid, _ = waiting(fakes)  # damaged_in_transit -> logistics
    fakes.clock.advance(minutes=20)
    before = fakes.store.get_ticket(cid)
    assert before is not None and before.team == "logistics"
    ticket = actions.retriage(fakes.services, cid, AGENT, TriageIn(category="counterfeit", reason="fake cup"))
    assert (ticket.category, ticket.team, ticket.severity) == ("counterfeit", "product", before.severity)
    for name, clock in ticket.clocks.items():  # same severity, 24x7: the clocks do not move
        assert (clock.due, clock.at_risk_at, clock.started_at) == (
            before.clocks[name].due, before.clocks[name].at_risk_at, before.clocks[name].started_at)
    (correction,) = fakes.store.corrections_between(fakes.clock.now - timedelta(hours=1), fakes.clock.now + timedelta(seconds=1))
    assert (correction.predicted_team, correction.corrected_team, correction.actor) == ("logistics", "product", "agent:A-7")
    assert correction.text == before.complaint.description
    # the queue of the new team lists it, with its clocks for the console
    queue = queries.team_queue(fakes.services, "product", 10, None)["items"]
    (item,) = queue
    assert item["complaint_id"] == cid and item["tier"] == "standard"
    assert set(item["clocks"]["resolution"]) >= {"due", "at_risk_at", "paused", "remaining_s", "breached", "level"}
    assert queries.team_queue(fakes.services, "logistics", 10, None)["items"] == []
    staff = queries.complaint(fakes.services, cid, AGENT)["timeline"]
    assert staff[-1]["type"] == "retriaged" and staff[-1]["internal"] is True
    assert "retriaged" not in [e["type"] for e in queries.complaint(fakes.services, cid, CUSTOMER)["timeline"]]


def test_a_paused_complaint_stays_in_its_teams_queue_marked_paused(fakes: Fakes) -> None:
    cid, _ = contacted(fakes)
    actions.pause(fakes.services, cid, AGENT, PauseIn())
    (item,) = queries.team_queue(fakes.services, "logistics", 10, None)["items"]
    assert item["status"] == "pending_customer" and item["clocks"]["resolution"]["paused"] is True
    assert item["clocks"]["resolution"]["due"] is None and item["clocks"]["resolution"]["remaining_s"] > 0


@pytest.mark.parametrize(("locale", "first", "second"), [("zh-CN", "客服 1", "客服 2"), ("en", "Agent 1", "Agent 2")])
def test_customers_see_a_display_name_for_staff_never_a_username(fakes: Fakes, locale: str, first: str,
                                                                 second: str) -> None:
    import json

    from chalicelib import queries

    cid = fakes.file(contact={"locale": locale, "phone": "+8613800000000"})
    fakes.wait(cid, fakes.triage(cid))
    actions.contact(fakes.services, cid, Caller(username="A-SECRET-LOGIN", groups=frozenset({"agents"})), ContactIn())
    actions.resolve(fakes.services, cid, Caller(username="S-BOSS", groups=frozenset({"supervisors"})),
                    ResolveIn(resolution="refund"))
    mine = queries.complaint(fakes.services, cid, CUSTOMER)
    staff = [(e["type"], e["actor"], e["actor_name"]) for e in mine["timeline"] if e["actor"] == "staff"]
    assert staff == [("contacted", "staff", first), ("resolved", "staff", second)]
    assert "A-SECRET-LOGIN" not in json.dumps(mine, ensure_ascii=False) and "S-BOSS" not in json.dumps(mine)
    seen_by_staff = queries.complaint(fakes.services, cid, AGENT)  # staff still see who it was
    assert [e["actor"] for e in seen_by_staff["timeline"] if e["type"] in {"contacted", "resolved"}] == [
        "agent:A-SECRET-LOGIN", "supervisor:S-BOSS"]
