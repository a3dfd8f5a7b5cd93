"""The API's read side: a complaint, a customer's complaints, a team's queue, an import
report; and the customer profile ops maintain."""

from __future__ import annotations

from typing import Any

from chalicelib import attachments
from chalicelib.changes import NotFound
from chalicelib.clock import iso
from chalicelib.models import Caller, ProfileIn
from chalicelib.orders import prefill_of
from chalicelib.services import Services
from chalicelib.ticket import Ticket


def complaint(services: Services, complaint_id: str, caller: Caller) -> dict[str, Any]:
    found = services.store.get_with_timeline(complaint_id)
    if found is None:
        raise NotFound(complaint_id)
    ticket, timeline = found
    if not caller.is_staff and ticket.complaint.customer_id != caller.username:
        raise NotFound(complaint_id)  # never reveal that someone else's complaint exists
    body = ticket.public(timeline, staff=caller.is_staff)
    body["attachments"] = attachments.views(services, ticket)  # with short-lived download links
    return body


def customer_complaints(services: Services, customer_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    tickets, next_cursor = services.store.by_customer(customer_id, limit, cursor)
    return {"items": [t.summary() for t in tickets], "next": next_cursor}


def team_queue(services: Services, team: str, limit: int, cursor: str | None) -> dict[str, Any]:
    tickets, next_cursor = services.store.team_queue(team, limit, cursor)
    items = []
    for t in tickets:
        item = t.summary()
        item.update(first_contact_due=_due(t, "first_contact"), resolution_due=_due(t, "resolution"),
                    description=t.complaint.description[:200], tier=t.tier,
                    clocks={name: c.model_dump(mode="json") for name, c in t.running_clocks().items()})
        if t.failure:
            item["failure"] = t.failure
        items.append(item)
    return {"items": items, "next": next_cursor}


def _due(ticket: Ticket, clock: str) -> str | None:
    due = ticket.due_of(clock)
    return iso(due) if due else None


def put_profile(services: Services, customer_id: str, body: ProfileIn) -> dict[str, Any]:
    profile = {"customer_id": customer_id, **body.model_dump(), "updated_at": iso(services.clock())}
    services.store.put_profile(customer_id, profile)
    return profile


def import_report(services: Services, batch_id: str) -> dict[str, Any] | None:
    return services.store.get_import_report(batch_id)


def order_prefill(services: Services, order_id: str, caller: Caller) -> dict[str, Any]:
    """What the complaint form shows of the caller's order before they type (one read)."""
    return prefill_of(services.orders.get(order_id), order_id, caller.username).model_dump(mode="json")
