"""How a ticket counts in the report aggregates, and where the counts live: the pure part of
the write side of ``GET /reports/*``.

The tickets table streams every change (``NEW_IMAGE``); the ``analytics`` function reads the
``TICKET`` items of each batch (:mod:`chalicelib.reports.dynamodb`) and keeps per-day counters of the complaints *created* that day,
so a report reads a handful of small items per day of its window, never the tickets.

How a ticket counts is one pure function, :func:`contribution` (the ticket's current state ->
counters). The function remembers, per ticket, the contribution it last applied (the
``AGGT#<id>`` guard item) and applies only the difference, in one transaction with the new
guard. That makes it

- idempotent: a redelivered or older record (version <= the applied one) changes nothing;
- self-healing: whatever records were skipped, the aggregates equal the sum of the
  contributions of the latest images applied (a later change of the ticket repairs it);
- order-free across tickets, and exact (ADD of integers; amounts as decimals).

Items (all in the tickets table; ``<m>`` = ``yyyy-mm``, ``<d>`` = ``yyyy-mm-dd`` of creation, UTC):

====================================  ===============  ==================================
pk                                    sk               attributes
====================================  ===============  ==================================
``AGG#<m>``                           ``D#<d>``        the day's counters (``DAY_ATTRS``)
``AGGH#<m>#<clock>#<b1>``             ``D#<d>``        ``h<b2>``: durations in [b1*10^4 + b2*100, +100)
``AGGH#<m>#<clock>#<b1>#<b2>``        ``D#<d>``        ``h<b3>``: durations of exactly b1*10^4 + b2*100 + b3 s
``AGGK#<m>#sku`` / ``AGGK#<m>#order`` ``<d>#<key>``    ``n``: complaints of that SKU / order that day
``AGGT#<complaint id>``               ``APPLIED``      ``v`` version applied, ``day``, ``c`` contribution
====================================  ===============  ==================================

Durations are kept in a three-level histogram (10^4 s, 100 s, 1 s buckets): a day item holds
the top level only, so it stays small whatever the volume, and an exact median or p90 reads
two more items per day for the one bucket that holds it (:mod:`chalicelib.reports.figures`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from chalicelib.clock import iso
from chalicelib.ticket import Ticket

CLOCKS = {"first_contact": "fc", "resolution": "rs"}  # clock name -> short name in attributes
L1_WIDTH, L2_WIDTH = 10_000, 100  # seconds per bucket of the histogram's first two levels
# Upper bounds (seconds) of the coarse duration bins the report draws; the last bin is open.
DISPLAY_BINS = (300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 259_200, 604_800)
TOMBSTONE_VERSION = 2**62  # a deleted ticket: no later record of it may count again
GUARD_SK = "APPLIED"

# A contribution: (kind, ident, attribute) -> amount. kind: D (day item), H2, H3 (histogram
# levels, ident "<clock>#<b1>[#<b2>]"), SKU, ORD (ident = the SKU / order id).
Key = tuple[str, str, str]
Contribution = dict[Key, Decimal]

# -- keys --------------------------------------------------------------------------------------
def day_of(moment: datetime) -> str:
    return iso(moment)[:10]


def day_key(day: str) -> dict[str, str]:
    return {"pk": f"AGG#{day[:7]}", "sk": f"D#{day}"}


def hist_key(day: str, ident: str) -> dict[str, str]:
    return {"pk": f"AGGH#{day[:7]}#{ident}", "sk": f"D#{day}"}


def counter_key(day: str, kind: str, key: str) -> dict[str, str]:
    return {"pk": f"AGGK#{day[:7]}#{'sku' if kind == 'SKU' else 'order'}", "sk": f"{day}#{key}"}


def guard_key(complaint_id: str) -> dict[str, str]:
    return {"pk": f"AGGT#{complaint_id}", "sk": GUARD_SK}


def item_key(day: str, kind: str, ident: str) -> dict[str, str]:
    if kind == "D":
        return day_key(day)
    if kind in ("H2", "H3"):
        return hist_key(day, ident)
    return counter_key(day, kind, ident)


def split_duration(seconds: int) -> tuple[int, int, int]:
    """The histogram buckets of a duration: (b1, b2, b3) with seconds = b1*10^4 + b2*100 + b3."""
    b1, rest = divmod(seconds, L1_WIDTH)
    b2, b3 = divmod(rest, L2_WIDTH)
    return b1, b2, b3


def display_bin(seconds: int) -> int:
    for i, bound in enumerate(DISPLAY_BINS):
        if seconds < bound:
            return i
    return len(DISPLAY_BINS)


# -- how one ticket counts ---------------------------------------------------------------------------
def sla_outcome(ticket: Ticket, clock_name: str) -> str:
    """``breached`` once the original window was missed; ``met`` when the clock stopped in
    time; ``open`` while it runs unbreached (or before triage started it)."""
    clock = ticket.clocks.get(clock_name)
    if clock is None:
        return "open"
    if clock.breached:
        return "breached"
    return "met" if clock.stopped_at is not None else "open"


def durations(ticket: Ticket) -> dict[str, int]:
    """Seconds from when the customer complained to first contact / to (the latest) resolution."""
    out: dict[str, int] = {}
    if ticket.contacted_at is not None:
        out["fc"] = max(0, int((ticket.contacted_at - ticket.raised_at).total_seconds()))
    if ticket.resolved_at is not None:
        out["rs"] = max(0, int((ticket.resolved_at - ticket.raised_at).total_seconds()))
    return out


def contribution(ticket: Ticket) -> Contribution:
    """What the ticket, as it is now, adds to the counters of its creation day."""
    c: Contribution = defaultdict(Decimal)

    def day(attr: str, amount: Decimal | int = 1) -> None:
        c[("D", "", attr)] += Decimal(amount)

    day("n")
    category = ticket.category or ticket.complaint.category
    if category:
        day(f"cat#{category}")
    if ticket.severity:
        day(f"sev#{ticket.severity}")
    if ticket.team:
        day(f"team#{ticket.team}")
    day(f"ch#{ticket.complaint.channel}")
    day(f"st#{ticket.status.value}")
    day(f"src#{ticket.source}")
    for name, short in CLOCKS.items():
        outcome = sla_outcome(ticket, name)
        day(f"sla#{short}#{outcome}")
        if ticket.team:
            day(f"slat#{short}#{ticket.team}#{outcome}")
    for short, seconds in durations(ticket).items():
        b1, b2, b3 = split_duration(seconds)
        day(f"dur#{short}#n")
        day(f"dur#{short}#sum", seconds)
        day(f"l1#{short}#{b1}")
        day(f"bin#{short}#{display_bin(seconds)}")
        c[("H2", f"{short}#{b1}", f"h{b2}")] += 1
        c[("H3", f"{short}#{b1}#{b2}", f"h{b3}")] += 1
    for level in range(1, ticket.escalation_level + 1):
        day(f"esc#{level}")
    for voucher in ticket.vouchers:
        day("vch#n")
        day("vch#amt", voucher.amount)
        day(f"vch#r#{voucher.reason}")
    if ticket.survey is not None or ticket.satisfaction is not None:
        day("csat#sent")
    if ticket.satisfaction is not None and ticket.satisfaction.score is not None:
        day("csat#resp")
        day("csat#sum", ticket.satisfaction.score)
        day(f"csat#s#{ticket.satisfaction.score}")
    product = ticket.complaint.product
    if product is not None and product.sku:
        c[("SKU", product.sku, "n")] += 1
    c[("ORD", ticket.complaint.order_id, "n")] += 1
    return dict(c)


def difference(old: Contribution, new: Contribution) -> Contribution:
    keys = set(old) | set(new)
    diff = {k: new.get(k, Decimal(0)) - old.get(k, Decimal(0)) for k in keys}
    return {k: v for k, v in diff.items() if v != 0}


def encode(contrib: Contribution) -> str:
    return json.dumps(sorted([*k, str(v)] for k, v in contrib.items()), ensure_ascii=False, separators=(",", ":"))


def decode(text: str | None) -> Contribution:
    if not text:
        return {}
    return {(kind, ident, attr): Decimal(value) for kind, ident, attr, value in json.loads(text)}


@dataclass(frozen=True)
class ItemDelta:
    """ADDs to one aggregate item."""

    key: dict[str, str]
    adds: dict[str, Decimal]


def item_deltas(day: str, diff: Contribution) -> list[ItemDelta]:
    by_item: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    for (kind, ident, attr), amount in diff.items():
        by_item[(kind, ident)][attr] = by_item[(kind, ident)].get(attr, Decimal(0)) + amount
    return [ItemDelta(item_key(day, kind, ident), adds) for (kind, ident), adds in sorted(by_item.items())]


# -- changes to count --------------------------------------------------------------------------------
@dataclass
class Change:
    """The latest state of one ticket in a batch of stream records."""

    complaint_id: str
    version: int
    day: str | None  # None for a removal (the guard knows the day)
    contribution: Contribution
    first_sequence: str  # of this ticket's first record in the batch (for batchItemFailures)


@dataclass
class Guard:
    version: int
    day: str
    contribution: Contribution


@dataclass
class ApplyStats:
    applied: int = 0
    unchanged: int = 0
    stale: int = 0
    transactions: int = 0
    failed: list[str] = field(default_factory=list)  # first sequence numbers of failed tickets


def change_of(ticket: Ticket, first_sequence: str = "") -> Change:
    """The change a ticket's current state asks for (what a stream record of it carries)."""
    return Change(ticket.complaint_id, ticket.version, day_of(ticket.created_at), contribution(ticket), first_sequence)


def removal_of(complaint_id: str, first_sequence: str = "") -> Change:
    """A removed ticket: nothing of it counts any more, and no older record may count again."""
    return Change(complaint_id, TOMBSTONE_VERSION, None, {}, first_sequence)


class AggregateWriter(Protocol):
    """Where the changes of tickets are counted."""

    def apply(self, changes: list[Change]) -> ApplyStats:
        """Count each change instead of what that ticket counted before — unless an equal or
        later version of it was counted already (then it changes nothing)."""
