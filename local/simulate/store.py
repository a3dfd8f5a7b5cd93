"""The simulator's ticket store: the in-memory store with its indexes kept as indexes.

``MemoryTicketStore.team_queue`` sorts every ticket on each call and ``open_on_order`` scans
them all, which is what a fake for tests may do; a simulated week asks thousands of times
(quadratic in the load). This store keeps, per team, the queue key
(:func:`chalicelib.adapters.layout.queue_key`, the table's own sort key) of each ticket in
the queue, updated on every write, and pages them the same way — same tickets, same order,
same cursors — and the tickets of each order, as the table's ``by_order`` index does.

It also hands out plain deep copies (:mod:`chalicelib.copying`) where the test fake makes a
JSON round trip: the simulation's times are whole seconds of its virtual clock and its
amounts come validated, so the round trip changes nothing there and cost a third of a
simulated week (``tests/unit/test_simulate.py`` checks both stores give the same figures).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.adapters.layout import queue_key
from chalicelib.adapters.memory import MemoryTicketStore
from chalicelib.models import OPEN_STATUSES, Event
from chalicelib.ticket import Ticket


class SimulationStore(MemoryTicketStore):
    def __init__(self) -> None:
        super().__init__()
        self._queues: dict[str, dict[str, str]] = {}  # team -> complaint id -> queue sort key
        self._queued: dict[str, str] = {}  # complaint id -> its team
        self._by_order: dict[str, set[str]] = {}  # order id -> complaint ids

    def _stored(self, ticket: Ticket) -> Ticket:
        return ticket.model_copy(deep=True)

    def _reindex(self, complaint_id: str) -> None:
        team = self._queued.pop(complaint_id, None)
        if team is not None:
            self._queues[team].pop(complaint_id, None)
        ticket = self._tickets.get(complaint_id)
        key = queue_key(ticket) if ticket is not None else None
        if key is not None:
            self._queues.setdefault(key[0], {})[complaint_id] = key[1]
            self._queued[complaint_id] = key[0]

    def create(self, ticket: Ticket) -> bool:
        created = super().create(ticket)
        self._reindex(ticket.complaint_id)
        self._by_order.setdefault(ticket.complaint.order_id, set()).add(ticket.complaint_id)
        return created

    def create_many(self, tickets: list[Ticket]) -> set[str]:
        existing = super().create_many(tickets)
        for ticket in tickets:
            self._reindex(ticket.complaint_id)
            self._by_order.setdefault(ticket.complaint.order_id, set()).add(ticket.complaint_id)
        return existing

    def open_on_order(self, order_id: str, exclude: str | None = None) -> int:
        with self._lock:
            return sum(1 for cid in self._by_order.get(order_id, ()) if cid != exclude and (t := self._tickets.get(cid))
                       and t.status in OPEN_STATUSES)

    def save(self, ticket: Ticket, events: Iterable[Event], expected_version: int, **options: Any) -> Ticket:
        try:
            return super().save(ticket, events, expected_version, **options)
        finally:
            self._reindex(ticket.complaint_id)

    def delete(self, complaint_id: str) -> None:
        super().delete(complaint_id)
        self._reindex(complaint_id)

    def team_queue(self, team: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        with self._lock:
            keyed = [(key, self._tickets[cid]) for cid, key in self._queues.get(team, {}).items()]
            return self._page(keyed, limit, cursor, newest_first=False)

    def queue_order(self, team: str) -> list[str]:
        """The complaint ids of the team's queue in its order, without copying a ticket."""
        with self._lock:
            return [cid for cid, _ in sorted(self._queues.get(team, {}).items(), key=lambda kv: kv[1])]

    def peek(self, complaint_id: str) -> Ticket | None:
        """The stored ticket itself, not a copy: for reading only."""
        return self._tickets.get(complaint_id)
