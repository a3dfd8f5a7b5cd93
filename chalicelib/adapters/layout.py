"""The key layout of the tickets table, as pure functions (no boto3): which partition and sort
key an item has and in which index a ticket appears under which sort key. The DynamoDB store
writes these keys; the in-memory store orders by the very same keys, so both list tickets in
the same order.

Items of the one ticket table (pk / sk):
- ``C#<id>`` / ``TICKET``             the ticket (indexes: by_customer, team_queue, by_order)
- ``C#<id>`` / ``EV#<time>#<n>``      its timeline, one item per event
- ``CUST#<customer>`` / ``PROFILE``    the customer's profile (tier, locale)
- ``IMPORT#<batch>`` / ``REPORT``      an import batch's report
- ``CORR#<yyyy-mm>`` / ``<time>#<id>`` a re-triage correction (chalicelib.triage.corrections),
  bucketed by month so a time window is one key query per month
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from chalicelib.clock import iso
from chalicelib.models import OPEN_STATUSES
from chalicelib.ticket import Ticket

TICKET_SK = "TICKET"
PROFILE_SK = "PROFILE"
REPORT_SK = "REPORT"
# attributes that exist only for the table's keys and indexes (not part of the ticket)
# the table's global secondary indexes: name -> (partition key, sort key) (infra/resources.py)
INDEXES = {
    "by_customer": ("customer_pk", "created_sk"),
    "team_queue": ("queue_pk", "queue_sk"),
    "by_order": ("order_pk", "created_sk"),
}
INDEX_ATTRIBUTES = ("pk", "sk", "customer_pk", "created_sk", "queue_pk", "queue_sk", "order_pk", "escalation_level")


class BadCursor(ValueError):
    """A pagination token that this service did not issue."""


def ticket_pk(complaint_id: str) -> str:
    return f"C#{complaint_id}"


def profile_pk(customer_id: str) -> str:
    return f"CUST#{customer_id}"


def report_pk(batch_id: str) -> str:
    return f"IMPORT#{batch_id}"


def correction_pk(at: datetime) -> str:
    return f"CORR#{at.astimezone(UTC):%Y-%m}"


def correction_sk(at: datetime, complaint_id: str) -> str:
    return f"{iso(at)}#{complaint_id}"


def correction_months(start: datetime, end: datetime) -> list[str]:
    """The month buckets (``correction_pk``) that ``[start, end)`` touches, oldest first."""
    first, last = start.astimezone(UTC), end.astimezone(UTC)
    months, (year, month) = [], (first.year, first.month)
    while (year, month) <= (last.year, last.month):  # bounded: one pass per month of the window
        months.append(f"CORR#{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def created_sk(ticket: Ticket) -> str:
    """Sort key of the ``by_customer`` index: creation time, then id (listed newest first)."""
    return f"{iso(ticket.created_at)}#{ticket.complaint_id}"


def queue_key(ticket: Ticket) -> tuple[str, str] | None:
    """(team, sort key) in the ``team_queue`` index — soonest due first — or None: only open,
    triaged tickets wait in a team's queue. One waiting for the customer sorts by when its
    pause runs out; one whose ladder has ended (nothing due) by when the customer complained."""
    if ticket.status not in OPEN_STATUSES or not ticket.team or not ticket.clocks:
        return None
    moment = ticket.next_due() or (ticket.pause.expires_at if ticket.pause else ticket.raised_at)
    return ticket.team, f"{iso(moment)}#{ticket.complaint_id}"


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


def decode_cursor(token: str | None, keys: frozenset[str] | None = None,
                  partition: tuple[str, str] | None = None) -> dict[str, Any] | None:
    """The key a token of ours holds; :class:`BadCursor` for anything else. ``keys``: the
    attributes the key must have (exactly); ``partition``: (attribute, value) it must be in —
    so a crafted token never reaches the database as a start key it refuses."""
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadCursor("invalid pagination token") from exc
    if not isinstance(key, dict) or not key or not all(_key_value(v) for v in key.values()):
        raise BadCursor("invalid pagination token")
    if keys is not None and set(key) != keys:
        raise BadCursor("invalid pagination token")
    if partition is not None and key.get(partition[0]) != {"S": partition[1]}:
        raise BadCursor("this pagination token belongs to another list")
    return key


def _key_value(value: Any) -> bool:
    """A DynamoDB key attribute as we write them: one non-empty string of at most 1 KiB."""
    return (isinstance(value, dict) and list(value) == ["S"] and isinstance(value["S"], str)
            and 0 < len(value["S"].encode()) <= 1024)
