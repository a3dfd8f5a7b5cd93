"""A rule's own copy of a ticket (``model_copy(deep=True)``, :mod:`chalicelib.copying`): the
same ticket as pydantic's generic deep copy gives, sharing nothing a rule could change."""

from __future__ import annotations

import copy
from datetime import timedelta

from pydantic import BaseModel

from chalicelib import lifecycle
from chalicelib.copying import copy_model
from chalicelib.ticket import Ticket
from tests.unit.test_lifecycle import T0, in_progress


def worked_ticket() -> Ticket:
    """In progress, escalated by hand and paused: clocks, a pause, messages in the outbox."""
    ticket = in_progress()
    escalated = lifecycle.escalate(ticket, "agent:A", "customer is upset", T0 + timedelta(hours=0.2))
    paused = lifecycle.pause(escalated.ticket, "agent:A", "waiting_for_photos", "", "a photo please",
                             T0 + timedelta(hours=0.3))
    paused.ticket.outbox = [*escalated.notifications, *paused.notifications]  # as changes.apply queues them
    return paused.ticket


def generic_deepcopy(ticket: Ticket) -> Ticket:
    return BaseModel.__deepcopy__(ticket, {})


def test_the_copy_equals_what_the_generic_deep_copy_gives() -> None:
    ticket = worked_ticket()
    assert ticket.clocks and ticket.pause is not None and ticket.outbox  # a ticket with every kind of part
    fast = ticket.model_copy(deep=True)
    assert fast == generic_deepcopy(ticket) == ticket
    assert fast.model_dump(mode="json") == ticket.model_dump(mode="json")
    assert fast.model_fields_set == ticket.model_fields_set


def test_changing_the_copy_leaves_the_original_as_it_was() -> None:
    ticket = worked_ticket()
    before = ticket.model_dump(mode="json")
    copied = copy.deepcopy(ticket)
    name, clock = next(iter(copied.clocks.items()))
    clock.level += 1  # clocks are changed in place by the rules
    copied.outbox.clear()
    copied.vouchers.append(ticket.vouchers[0] if ticket.vouchers else None)  # type: ignore[arg-type]
    copied.pause = None
    copied.clocks.pop(name)
    assert ticket.model_dump(mode="json") == before
    assert copied.clocks is not ticket.clocks and copied.outbox is not ticket.outbox


def test_frozen_parts_and_plain_values_are_shared_not_rebuilt() -> None:
    ticket = worked_ticket()
    copied = copy_model(ticket)
    assert copied.policy is ticket.policy  # frozen: validated once, shared by every copy
    assert copied.complaint is ticket.complaint  # ComplaintIn is frozen
    assert copied.created_at is ticket.created_at
    assert next(iter(copied.clocks.values())) is not next(iter(ticket.clocks.values()))
