"""The one read-modify-write loop on the in-memory store: versioned, retried on conflict,
nothing saved when nothing changed, notifications addressed and handed over."""

from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib import changes
from chalicelib.lifecycle import Outcome
from chalicelib.notifications import CustomerMessage, StaffAlert
from chalicelib.ticket import Ticket
from tests.unit.conftest import T0, Fakes


def noted(text: str) -> changes.Rule:
    def rule(ticket: Ticket, at: datetime) -> Outcome:
        out = Outcome(ticket.model_copy(deep=True))
        out.ticket.updated_at = at
        out.event(at, "note", "agent:A-7", text=text)
        out.tell_customer("progress", complaint_id=ticket.complaint_id)
        out.alert_staff("level:2", "manual_escalation", complaint_id=ticket.complaint_id)
        return out

    return rule


def test_a_change_is_saved_as_the_next_version_with_its_events(fakes: Fakes) -> None:
    cid = fakes.file()
    fakes.clock.advance(minutes=5)
    applied = changes.apply(fakes.services, cid, noted("called"))
    assert applied.ticket.version == 1
    stored = fakes.store.get_with_timeline(cid)
    assert stored is not None
    ticket, timeline = stored
    assert ticket.version == 1 and ticket.updated_at == T0.replace(minute=5)
    assert [(e.type, e.detail["text"], e.at) for e in timeline] == [("note", "called", T0.replace(minute=5))]
    # the notifications wait in the outbox, the customer's with its route
    message, alert = ticket.outbox
    assert isinstance(message, CustomerMessage) and isinstance(alert, StaffAlert)
    assert message.channel == "app" and message.contact is not None and message.contact.phone == "+8613800000000"
    assert alert.topic == "level:2"


def test_take_token_removes_the_wait_and_the_outbox_stays_until_sent(fakes: Fakes) -> None:
    cid = fakes.file()
    changes.apply(fakes.services, cid, noted("first"))
    assert fakes.store.set_wait_token(cid, "tok-1", expected_version=1)
    applied = changes.apply(fakes.services, cid, noted("second"), take_token=True)
    assert applied.token == "tok-1"
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None and ticket.wait_token is None
    assert [m.template for m in ticket.outbox] == ["progress", "manual_escalation"] * 2


def test_a_rule_that_changes_nothing_saves_nothing(fakes: Fakes) -> None:
    cid = fakes.file()
    applied = changes.apply(fakes.services, cid, lambda t, at: Outcome(t.model_copy(deep=True)))
    assert applied.ticket.version == 0
    assert fakes.timeline(cid) == []


def test_a_concurrent_writer_makes_it_read_again_and_apply_to_the_new_state(fakes: Fakes) -> None:
    cid = fakes.file()
    seen_versions: list[int] = []

    def rule(ticket: Ticket, at: datetime) -> Outcome:
        seen_versions.append(ticket.version)
        if len(seen_versions) == 1:  # somebody else saves in between our read and our write
            changes.apply(fakes.services, cid, noted("theirs"))
        return noted("ours")(ticket, at)

    applied = changes.apply(fakes.services, cid, rule)
    assert seen_versions == [0, 1] and applied.ticket.version == 2
    found = fakes.store.get_with_timeline(cid)
    assert found is not None
    assert [e.detail["text"] for e in found[1]] == ["theirs", "ours"]  # both, each once


def test_a_ticket_that_keeps_changing_gives_up_with_kept_changing(fakes: Fakes) -> None:
    cid = fakes.file()

    def rule(ticket: Ticket, at: datetime) -> Outcome:
        changes.apply(fakes.services, cid, noted("theirs"))  # loses every race
        return noted("ours")(ticket, at)

    with pytest.raises(changes.KeptChanging):
        changes.apply(fakes.services, cid, rule)
    found = fakes.store.get_with_timeline(cid)
    assert found is not None
    assert [e.detail["text"] for e in found[1]] == ["theirs"] * changes.MAX_ATTEMPTS  # ours never
    # between the attempts, growing random pauses (an immediate retry loses to a busy writer again)
    assert len(fakes.slept) == changes.MAX_ATTEMPTS - 1  # none after the last
    limits = [min(changes.BACKOFF_CAP_S, changes.BACKOFF_BASE_S * 2**n) for n in range(changes.MAX_ATTEMPTS - 1)]
    assert all(0 <= pause <= limit for pause, limit in zip(fakes.slept, limits, strict=True))
    assert sum(limits) < 1.0  # an agent waits under a second before "try again"


def test_an_unknown_complaint_is_not_found(fakes: Fakes) -> None:
    with pytest.raises(changes.NotFound):
        changes.apply(fakes.services, "CMP-NOPE", noted("x"))


def test_a_check_can_refuse_before_anything_is_written(fakes: Fakes) -> None:
    cid = fakes.file()

    def refuse(ticket: Ticket) -> None:
        raise changes.NotFound(ticket.complaint_id)

    with pytest.raises(changes.NotFound):
        changes.apply(fakes.services, cid, noted("x"), check=refuse)
    assert fakes.timeline(cid) == []
