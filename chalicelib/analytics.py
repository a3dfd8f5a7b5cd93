"""Report aggregates, maintained as complaints change: the write side of ``GET /reports/*``.

The tickets table streams every change (``NEW_IMAGE``); the ``analytics`` function reads the
``TICKET`` items of each batch and keeps per-day counters of the complaints *created* that day,
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
two more items per day for the one bucket that holds it (``chalicelib.reports``).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import ValidationError

from chalicelib.clock import iso
from chalicelib.clock import now as clock_now
from chalicelib.observability import count, error_fields, logger
from chalicelib.store import ticket_from
from chalicelib.ticket import Ticket

CLOCKS = {"first_contact": "fc", "resolution": "rs"}  # clock name -> short name in attributes
L1_WIDTH, L2_WIDTH = 10_000, 100  # seconds per bucket of the histogram's first two levels
# Upper bounds (seconds) of the coarse duration bins the report draws; the last bin is open.
DISPLAY_BINS = (300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 259_200, 604_800)
TOMBSTONE_VERSION = 2**62  # a deleted ticket: no later record of it may count again
GUARD_SK = "APPLIED"
MAX_TRANSACTION_ITEMS = 100
MAX_ATTEMPTS = 6
RETRYABLE = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "TransactionConflictException", "InternalServerError", "ServiceUnavailable", "TooManyRequestsException",
})

_ser, _de = TypeSerializer(), TypeDeserializer()

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


# -- what a stream record asks for ----------------------------------------------------------------------
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


def changes_of(records: Iterable[dict[str, Any]]) -> tuple[list[Change], list[str]]:
    """The last state of each ticket in the records (in stream order), and the sequence numbers
    of records that can never be applied (unreadable images: logged, skipped)."""
    latest: dict[str, Change] = {}
    poison: list[str] = []
    for record in records:
        data = record.get("dynamodb") or {}
        keys = data.get("Keys") or {}
        pk, sk = keys.get("pk", {}).get("S", ""), keys.get("sk", {}).get("S", "")
        if sk != "TICKET" or not pk.startswith("C#"):
            continue
        complaint_id, sequence = pk[2:], str(data.get("SequenceNumber", ""))
        first = latest[complaint_id].first_sequence if complaint_id in latest else sequence
        if record.get("eventName") == "REMOVE":
            change = Change(complaint_id, TOMBSTONE_VERSION, None, {}, first)
        else:
            try:
                ticket = ticket_from(data["NewImage"])
            except (KeyError, ValidationError, ValueError, TypeError) as exc:
                logger.error("unreadable ticket image in the stream", complaint_id=complaint_id, **error_fields(exc))
                poison.append(sequence)
                continue
            change = Change(complaint_id, ticket.version, day_of(ticket.created_at), contribution(ticket), first)
        if complaint_id not in latest or change.version >= latest[complaint_id].version:
            latest[complaint_id] = change
        else:
            latest[complaint_id].first_sequence = first
    return list(latest.values()), poison


# -- applying them to DynamoDB -----------------------------------------------------------------------------
@dataclass
class ApplyStats:
    applied: int = 0
    unchanged: int = 0
    stale: int = 0
    transactions: int = 0
    failed: list[str] = field(default_factory=list)  # first sequence numbers of failed tickets


class Aggregator:
    """Applies ticket changes to the aggregate items of one table."""

    def __init__(self, ddb: Any, table: str, *, backoff_s: float = 0.02) -> None:
        self.ddb, self.table, self.backoff_s = ddb, table, backoff_s

    # guards --------------------------------------------------------------------------------------
    def guards(self, complaint_ids: list[str]) -> dict[str, Guard]:
        found: dict[str, Guard] = {}
        unique = sorted(set(complaint_ids))
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {self.table: {
                "Keys": [_dump(guard_key(c)) for c in unique[start:start + 100]], "ConsistentRead": True}}
            for attempt in range(8):
                resp = self.ddb.batch_get_item(RequestItems=request)
                for raw in resp.get("Responses", {}).get(self.table, []):
                    item = _load(raw)
                    found[item["pk"][5:]] = Guard(int(item["v"]), str(item["day"]), decode(item.get("c")))
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(2.0, 0.05 * 2**attempt))
        return found

    # the batch ------------------------------------------------------------------------------------
    def apply(self, changes: list[Change]) -> ApplyStats:
        """Apply the changes: grouped by day into few transactions; a group whose transaction
        is cancelled (a guard moved meanwhile) is redone ticket by ticket."""
        stats = ApplyStats()
        guards = self.guards([c.complaint_id for c in changes])
        planned: list[tuple[Change, Guard | None, str, Contribution]] = []
        for change in changes:
            plan = self._plan(change, guards.get(change.complaint_id), stats)
            if plan is not None:
                planned.append(plan)
        for group in _pack(planned):
            try:
                self._commit(group)
                stats.transactions += 1
                stats.applied += len(group)
            except ClientError as exc:
                if not _cancelled(exc) and _code(exc) not in RETRYABLE:
                    raise
                for change, *_ in group:
                    self._one(change, stats)
        return stats

    def _plan(self, change: Change, guard: Guard | None, stats: ApplyStats) -> tuple[Change, Guard | None, str, Contribution] | None:
        if guard is not None and guard.version >= change.version:
            stats.stale += 1
            return None
        day = guard.day if guard is not None else change.day
        if day is None:  # removed before it was ever counted: only block later stale records
            day = ""
        diff = difference(guard.contribution if guard else {}, change.contribution)
        if not diff and guard is not None:
            stats.unchanged += 1
            return None
        return change, guard, day, diff

    def _one(self, change: Change, stats: ApplyStats) -> None:
        for attempt in range(MAX_ATTEMPTS):
            guard = self.guards([change.complaint_id]).get(change.complaint_id)
            plan = self._plan(change, guard, stats)
            if plan is None:
                return
            try:
                self._commit([plan])
                stats.transactions += 1
                stats.applied += 1
                return
            except ClientError as exc:
                if not _cancelled(exc) and _code(exc) not in RETRYABLE:
                    raise
                time.sleep(min(1.0, self.backoff_s * 2**attempt))
        stats.failed.append(change.first_sequence)

    def _commit(self, group: list[tuple[Change, Guard | None, str, Contribution]]) -> None:
        items: list[dict[str, Any]] = []
        merged: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
        keys: dict[tuple[str, str], dict[str, str]] = {}
        for change, guard, day, diff in group:
            items.append(self._guard_put(change, guard, day))
            for delta in item_deltas(day, diff) if day else []:
                ident = (delta.key["pk"], delta.key["sk"])
                keys[ident] = delta.key
                for attr, amount in delta.adds.items():
                    merged[ident][attr] = merged[ident].get(attr, Decimal(0)) + amount
        for ident, adds in sorted(merged.items()):
            adds = {a: v for a, v in adds.items() if v != 0}
            if adds:
                items.append({"Update": self._add(keys[ident], adds)})
        self.ddb.transact_write_items(TransactItems=items)

    def _guard_put(self, change: Change, guard: Guard | None, day: str) -> dict[str, Any]:
        item = {**guard_key(change.complaint_id), "v": change.version, "day": day,
                "c": encode(change.contribution), "applied_at": iso(clock_now())}
        put: dict[str, Any] = {"TableName": self.table, "Item": _dump(item)}
        if guard is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "v = :v"
            put["ExpressionAttributeValues"] = {":v": {"N": str(guard.version)}}
        return {"Put": put}

    def _add(self, key: dict[str, str], adds: dict[str, Decimal]) -> dict[str, Any]:
        names, values, parts = {}, {}, []
        for i, (attr, amount) in enumerate(sorted(adds.items())):
            names[f"#a{i}"] = attr
            values[f":v{i}"] = {"N": str(amount)}
            parts.append(f"#a{i} :v{i}")
        return {"TableName": self.table, "Key": _dump(key), "UpdateExpression": "ADD " + ", ".join(parts),
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def _pack(planned: list[tuple[Change, Guard | None, str, Contribution]]) -> Iterator[list[tuple[Change, Guard | None, str, Contribution]]]:
    """Tickets of the same day, as many per transaction as fit in 100 items (a guard each plus
    the distinct aggregate items they touch)."""
    by_day: dict[str, list[tuple[Change, Guard | None, str, Contribution]]] = defaultdict(list)
    for plan in planned:
        by_day[plan[2]].append(plan)
    for _day, plans in sorted(by_day.items()):
        group: list[tuple[Change, Guard | None, str, Contribution]] = []
        touched: set[tuple[str, str]] = set()
        for plan in plans:
            mine = {(kind, ident) for kind, ident, _ in plan[3]}
            if group and len(group) + 1 + len(touched | mine) > MAX_TRANSACTION_ITEMS:
                yield group
                group, touched = [], set()
            group.append(plan)
            touched |= mine
        if group:
            yield group


def _dump(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in item.items()}


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _cancelled(exc: ClientError) -> bool:
    return _code(exc) in ("TransactionCanceledException", "ConditionalCheckFailedException")


# -- the Lambda entry point ----------------------------------------------------------------------------------
def handle_stream(event: dict[str, Any], aggregator: Aggregator | None = None) -> dict[str, Any]:
    """The ``analytics`` function: a batch of stream records -> aggregates. Answers with the
    records to retry (``ReportBatchItemFailures``): Lambda redelivers from the lowest one, and
    redelivery is harmless."""
    if aggregator is None:
        from chalicelib import aws
        from chalicelib.config import settings

        aggregator = Aggregator(aws.client("dynamodb"), settings().table_name)
    records = event.get("Records") or []
    changes, poison = changes_of(records)
    stats = aggregator.apply(changes) if changes else ApplyStats()
    if poison:
        count("AnalyticsRecordsSkipped", value=len(poison))
    if stats.failed:
        logger.warning("aggregates not applied; the stream redelivers", failed=len(stats.failed))
    return {"batchItemFailures": [{"itemIdentifier": s} for s in sorted(stats.failed, key=_sequence_order)]}


def _sequence_order(sequence: str) -> tuple[int, str]:
    return (int(sequence), sequence) if sequence.isdigit() else (0, sequence)
