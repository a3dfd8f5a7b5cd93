"""The report aggregates in memory: both ports of the DynamoDB ones (``AggregateWriter`` and
``AggregateSource``) with the same rules — per ticket the contribution last counted and its
version, a stale or repeated change counting nothing, a removed ticket never again — and the
same items read back (day items, histogram buckets, SKU/order counters), so a report on
memory equals the report on DynamoDB for the same changes (``tests/contract``)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from chalicelib.adapters.dynamodb import plain
from chalicelib.reports.aggregates import ApplyStats, Change, Guard, difference
from chalicelib.reports.figures import Window

_COUNTER_KINDS = {"sku": "SKU", "order": "ORD"}


class MemoryAggregates:
    def __init__(self) -> None:
        self._guards: dict[str, Guard] = {}
        self._lock = threading.Lock()

    # -- writing ---------------------------------------------------------------------------------
    def apply(self, changes: list[Change]) -> ApplyStats:
        stats = ApplyStats()
        with self._lock:
            for change in changes:
                guard = self._guards.get(change.complaint_id)
                if guard is not None and guard.version >= change.version:
                    stats.stale += 1
                elif guard is not None and not difference(guard.contribution, change.contribution):
                    stats.unchanged += 1
                else:
                    day = guard.day if guard is not None else (change.day or "")
                    self._guards[change.complaint_id] = Guard(change.version, day, dict(change.contribution))
                    stats.applied += 1
        return stats

    # -- reading ---------------------------------------------------------------------------------
    def _sum(self, window: Window, kinds: set[str], ident: str | None = None) -> dict[str, dict[tuple[str, str], Decimal]]:
        """Per day of the window: (ident, attribute) -> the sum over the tickets of that day."""
        days = set(window.days)
        out: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        with self._lock:
            for guard in self._guards.values():
                if guard.day not in days:
                    continue
                for (kind, key, attr), amount in guard.contribution.items():
                    if kind in kinds and (ident is None or key == ident):
                        out[guard.day][(key, attr)] += amount
        return out

    def day_items(self, window: Window) -> dict[str, dict[str, Any]]:
        return {day: {"pk": f"AGG#{day[:7]}", "sk": f"D#{day}", **{attr: plain(v) for (_, attr), v in sums.items()}}
                for day, sums in self._sum(window, {"D"}).items()}

    def histogram(self, window: Window, ident: str) -> dict[int, int]:
        merged: dict[int, int] = defaultdict(int)
        for sums in self._sum(window, {"H2", "H3"}, ident).values():
            for (_, attr), amount in sums.items():
                if amount:
                    merged[int(attr[1:])] += int(amount)
        return dict(merged)

    def counters(self, window: Window, kind: str) -> dict[str, int]:
        merged: dict[str, int] = defaultdict(int)
        for sums in self._sum(window, {_COUNTER_KINDS[kind]}).values():
            for (key, _), amount in sums.items():
                if amount:
                    merged[key] += int(amount)
        return dict(merged)

    def in_parallel(self, calls: list[Callable[[], Any]]) -> list[Any]:
        return [call() for call in calls]
