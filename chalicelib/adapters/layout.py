"""The key layout of the tickets table, as pure functions (no boto3): which partition and sort
key an item has and in which index a ticket appears under which sort key. The DynamoDB store
writes these keys; the in-memory store orders by the very same keys, so both list tickets in
the same order.

Items of the one ticket table (pk / sk):
- ``C#<id>`` / ``TICKET``             the ticket (indexes: by_customer, team_queue, by_order)
- ``C#<id>`` / ``EV#<time>#<n>``      its timeline, one item per event
- ``CUST#<customer>`` / ``PROFILE``    the customer's profile (tier, locale)
- ``IMPORT#<batch>`` / ``REPORT``      an import batch's report
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chalicelib.clock import iso
from chalicelib.models import OPEN_STATUSES
from chalicelib.ticket import Ticket

TICKET_SK = "TICKET"
PROFILE_SK = "PROFILE"
REPORT_SK = "REPORT"
# attributes that exist only for the table's keys and indexes (not part of the ticket)
INDEX_ATTRIBUTES = ("pk", "sk", "customer_pk", "created_sk", "queue_pk", "queue_sk", "order_pk", "escalation_level")


class BadCursor(ValueError):
    """A pagination token that this service did not issue."""


def ticket_pk(complaint_id: str) -> str:
    return f"C#{complaint_id}"


def profile_pk(customer_id: str) -> str:
    return f"CUST#{customer_id}"


def report_pk(batch_id: str) -> str:
    return f"IMPORT#{batch_id}"


def created_sk(ticket: Ticket) -> str:
    """Sort key of the ``by_customer`` index: creation time, then id (listed newest first)."""
    return f"{iso(ticket.created_at)}#{ticket.complaint_id}"


def queue_key(ticket: Ticket) -> tuple[str, str] | None:
    """(team, sort key) in the ``team_queue`` index — soonest due first — or None: only open,
    triaged tickets with a running clock wait in a team's queue."""
    due = ticket.next_due()
    if ticket.status in OPEN_STATUSES and ticket.team and due:
        return ticket.team, f"{iso(due)}#{ticket.complaint_id}"
    return None


def index_attributes(ticket: Ticket) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "pk": ticket_pk(ticket.complaint_id),
        "sk": TICKET_SK,
        "customer_pk": ticket.complaint.customer_id,
        "created_sk": created_sk(ticket),
        "order_pk": ticket.complaint.order_id,
        "escalation_level": ticket.escalation_level,
    }
    queue = queue_key(ticket)
    if queue:
        attrs.update(queue_pk=queue[0], queue_sk=queue[1])
    return attrs


# -- pagination tokens: the last key read, opaque to clients ---------------------------------------
def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("invalid pagination token") from exc
    if not isinstance(key, dict) or not all(isinstance(v, dict) for v in key.values()):
        raise BadCursor("invalid pagination token")
    return key
