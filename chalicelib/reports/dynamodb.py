"""The report aggregates in DynamoDB: reading the tickets table's stream records, applying
ticket changes to the aggregate items (``Aggregator``, the ``AggregateWriter`` port) and
reading them back for a report (``AggregateReader``, the ``AggregateSource`` port). Item layout
and what a ticket adds: :mod:`chalicelib.reports.aggregates`."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from threading import Lock
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from chalicelib.adapters.aws import RETRYABLE_ERRORS, error_code
from chalicelib.adapters.dynamodb import TRANSACTION_ITEMS, batch_get, dump, load, query_pages
from chalicelib.adapters.layout import TICKET_SK
from chalicelib.adapters.store import ticket_from
from chalicelib.clock import iso
from chalicelib.clock import now as system_now
from chalicelib.observability import error_fields, logger
from chalicelib.reports.aggregates import (
    ApplyStats,
    Change,
    Contribution,
    Guard,
    change_of,
    decode,
    difference,
    encode,
    guard_key,
    item_deltas,
    removal_of,
)
from chalicelib.reports.figures import Window

MAX_ATTEMPTS = 6
READ_UNIT_BYTES = 4096
Planned = tuple[Change, Guard | None, str, Contribution]


# -- the stream ---------------------------------------------------------------------------------------
def changes_of(records: Iterable[dict[str, Any]]) -> tuple[list[Change], list[str]]:
    """The last state of each ticket in the records (in stream order), and the sequence numbers
    of records that can never be applied (unreadable images: logged, skipped)."""
    latest: dict[str, Change] = {}
    poison: list[str] = []
    for record in records:
        data = record.get("dynamodb") or {}
        keys = data.get("Keys") or {}
        pk, sk = keys.get("pk", {}).get("S", ""), keys.get("sk", {}).get("S", "")
        if sk != TICKET_SK or not pk.startswith("C#"):
            continue
        complaint_id, sequence = pk[2:], str(data.get("SequenceNumber", ""))
        first = latest[complaint_id].first_sequence if complaint_id in latest else sequence
        if record.get("eventName") == "REMOVE":
            change = removal_of(complaint_id, first)
        else:
            try:
                ticket = ticket_from(data["NewImage"])
            except (KeyError, ValidationError, ValueError, TypeError) as exc:
                logger.error("unreadable ticket image in the stream", complaint_id=complaint_id, **error_fields(exc))
                poison.append(sequence)
                continue
            change = change_of(ticket, first)
        if complaint_id not in latest or change.version >= latest[complaint_id].version:
            latest[complaint_id] = change
        else:
            latest[complaint_id].first_sequence = first
    return list(latest.values()), poison


# -- applying changes -----------------------------------------------------------------------------
class Aggregator:
    """Applies ticket changes to the aggregate items of one table."""

    def __init__(self, ddb: Any, table: str, *, backoff_s: float = 0.02,
                 clock: Callable[[], datetime] = system_now, sleep: Callable[[float], None] = time.sleep) -> None:
        self.ddb, self.table, self.backoff_s = ddb, table, backoff_s
        self.clock, self.sleep = clock, sleep

    # guards --------------------------------------------------------------------------------------
    def guards(self, complaint_ids: list[str]) -> dict[str, Guard]:
        found: dict[str, Guard] = {}
        keys = [dump(guard_key(c)) for c in sorted(set(complaint_ids))]
        for raw in batch_get(self.ddb, self.table, keys, sleep=self.sleep):
            item = load(raw)
            found[item["pk"][5:]] = Guard(int(item["v"]), str(item["day"]), decode(item.get("c")))
        return found

    # the batch ------------------------------------------------------------------------------------
    def apply(self, changes: list[Change]) -> ApplyStats:
        """Apply the changes: grouped by day into few transactions; a group whose transaction
        is cancelled (a guard moved meanwhile) is redone ticket by ticket."""
        stats = ApplyStats()
        guards = self.guards([c.complaint_id for c in changes])
        planned: list[Planned] = []
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
                if not _cancelled(exc) and error_code(exc) not in RETRYABLE_ERRORS:
                    raise
                for change, *_ in group:
                    self._one(change, stats)
        return stats

    def _plan(self, change: Change, guard: Guard | None, stats: ApplyStats) -> Planned | None:
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
                if not _cancelled(exc) and error_code(exc) not in RETRYABLE_ERRORS:
                    raise
                self.sleep(min(1.0, self.backoff_s * 2**attempt))
        stats.failed.append(change.first_sequence)

    def _commit(self, group: list[Planned]) -> None:
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
                "c": encode(change.contribution), "applied_at": iso(self.clock())}
        put: dict[str, Any] = {"TableName": self.table, "Item": dump(item)}
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
        return {"TableName": self.table, "Key": dump(key), "UpdateExpression": "ADD " + ", ".join(parts),
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def _pack(planned: list[Planned]) -> Iterator[list[Planned]]:
    """Tickets of the same day, as many per transaction as fit in 100 items (a guard each plus
    the distinct aggregate items they touch)."""
    by_day: dict[str, list[Planned]] = defaultdict(list)
    for plan in planned:
        by_day[plan[2]].append(plan)
    for _day, plans in sorted(by_day.items()):
        group: list[Planned] = []
        touched: set[tuple[str, str]] = set()
        for plan in plans:
            mine = {(kind, ident) for kind, ident, _ in plan[3]}
            if group and len(group) + 1 + len(touched | mine) > TRANSACTION_ITEMS:
                yield group
                group, touched = [], set()
            group.append(plan)
            touched |= mine
        if group:
            yield group


def _cancelled(exc: ClientError) -> bool:
    return error_code(exc) in ("TransactionCanceledException", "ConditionalCheckFailedException")


# -- reading for a report --------------------------------------------------------------------------------------------
@dataclass
class ReadStats:
    """What the reads of one report cost (``read_units`` as DynamoDB bills eventually
    consistent Queries: per request, the bytes of the items read rounded up to 4 KB, halved)."""

    queries: int = 0
    items: int = 0
    bytes: int = 0
    read_units: float = 0.0
    reported_units: float = 0.0  # what DynamoDB said (ReturnConsumedCapacity), where it says it
    lock: Lock = field(default_factory=Lock, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"queries": self.queries, "items": self.items, "bytes": self.bytes,
                "read_units": self.read_units, "reported_read_units": self.reported_units}


class AggregateReader:
    """Queries of the aggregate items of one table (eventually consistent: a report may trail
    the latest changes by the stream's delay anyway)."""

    def __init__(self, ddb: Any, table: str, *, workers: int = 8) -> None:
        self.ddb, self.table = ddb, table
        self.stats = ReadStats()
        self._workers = workers

    def query_days(self, pk_of: Callable[[str], str], window: Window, sk_lo: Callable[[str], str],
                   sk_hi: Callable[[str], str]) -> list[dict[str, Any]]:
        """Items of one key family over the window: one Query per calendar month."""
        months: dict[str, list[str]] = defaultdict(list)
        for day in window.days:
            months[day[:7]].append(day)
        items: list[dict[str, Any]] = []
        for month, days in sorted(months.items()):
            items += self.query(pk_of(month), sk_lo(days[0]), sk_hi(days[-1]))
        return items

    def query(self, pk: str, lo: str, hi: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":lo": {"S": lo}, ":hi": {"S": hi}},
            "ReturnConsumedCapacity": "TOTAL",
        }
        out: list[dict[str, Any]] = []
        for resp in query_pages(self.ddb, **kwargs):
            raw = resp.get("Items", [])
            size = sum(item_size(i) for i in raw)
            with self.stats.lock:
                self.stats.queries += 1
                self.stats.items += len(raw)
                self.stats.bytes += size
                self.stats.read_units += max(1, math.ceil(size / READ_UNIT_BYTES)) * 0.5
                self.stats.reported_units += float((resp.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0)
            out += [load(i) for i in raw]
        return out

    def in_parallel(self, calls: list[Callable[[], Any]]) -> list[Any]:
        if len(calls) <= 1:
            return [c() for c in calls]
        with ThreadPoolExecutor(max_workers=min(self._workers, len(calls))) as pool:
            return list(pool.map(lambda c: c(), calls))

    # the families -----------------------------------------------------------------------------------
    def day_items(self, window: Window) -> dict[str, dict[str, Any]]:
        items = self.query_days(lambda m: f"AGG#{m}", window, lambda d: f"D#{d}", lambda d: f"D#{d}")
        return {str(i["sk"])[2:]: i for i in items}

    def histogram(self, window: Window, ident: str) -> dict[int, int]:
        """One histogram bucket's sub-buckets, summed over the window's days."""
        merged: dict[int, int] = defaultdict(int)
        for item in self.query_days(lambda m: f"AGGH#{m}#{ident}", window, lambda d: f"D#{d}", lambda d: f"D#{d}"):
            for attr, value in item.items():
                if attr.startswith("h") and value:
                    merged[int(attr[1:])] += int(value)
        return dict(merged)

    def counters(self, window: Window, kind: str) -> dict[str, int]:
        """Complaints per SKU (``kind`` sku) or order (``order``) created in the window."""
        merged: dict[str, int] = defaultdict(int)
        for item in self.query_days(lambda m: f"AGGK#{m}#{kind}", window, lambda d: f"{d}#", lambda d: f"{d}$"):
            if item.get("n"):
                merged[str(item["sk"])[11:]] += int(item["n"])
        return dict(merged)


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it (attribute names + values, low-level JSON)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").strip("0") or "0"
        return 1 + math.ceil(len(digits) / 2)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "B":
        return len(raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(v) for k, v in raw.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in raw)
    return sum(len(str(v).encode()) for v in raw)  # sets

