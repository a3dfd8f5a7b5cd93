"""Report aggregates (chalicelib/reports/) on a hand-computed fixture, in
memory: tickets taken through their states by the lifecycle rules, their states streamed as
the tickets table would stream them, and the summary compared with numbers worked out by hand.

``FIXTURE`` / ``EXPECTED_SUMMARY`` are shared with tests/integration/test_reports.py (moto).
"""

from __future__ import annotations

import copy
import dataclasses
import random
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import lifecycle
from chalicelib.adapters.memory import memory_services
from chalicelib.adapters.store import ticket_item
from chalicelib.models import ComplaintIn, Product, ResolveIn
from chalicelib.policy import from_definition
from chalicelib.reports.aggregates import AggregateWriter, contribution, decode, difference, encode, split_duration
from chalicelib.reports.dynamodb import AggregateReader, Aggregator, changes_of
from chalicelib.reports.figures import ReportParamError, Window, hotspots, nearest_rank, report, window_of
from chalicelib.reports.handlers import handle_stream
from chalicelib.services import Services
from chalicelib.ticket import Ticket
from chalicelib.triage import TriageResult
from infra.resources import load_asl

TABLE = "complaints-test-tickets"
POLICY = from_definition(load_asl("lifecycle"))  # the real file's policy
TEAM = {"damaged_in_transit": "logistics", "lost_parcel": "logistics", "service_attitude": "service",
        "product_quality": "product", "counterfeit": "product", "delivery_delay": "logistics"}
NOV2 = datetime(2026, 11, 2, 8, 0, 0, tzinfo=UTC)
NOV3 = datetime(2026, 11, 3, 9, 0, 0, tzinfo=UTC)


def at(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)


class Story:
    """One complaint taken through the lifecycle rules; every state it passes is kept."""

    def __init__(self, cid: str, created: datetime, *, channel: str = "app", order: str = "O-1",
                 sku: str | None = None, category: str | None = None, source: str = "api") -> None:
        body = ComplaintIn(customer_id="C-1", order_id=order, channel=channel, desired_outcome="refund",
                           description="…", category=category, product=Product(sku=sku) if sku else None)
        self.created = created
        self.states = [Ticket(complaint_id=cid, complaint=body, created_at=created, raised_at=created,
                              updated_at=created, source=source)]

    @property
    def ticket(self) -> Ticket:
        return self.states[-1]

    def step(self, out: lifecycle.Outcome) -> Story:
        self.states.append(out.ticket.model_copy(update={"version": len(self.states)}))
        return self

    def triage(self, category: str, severity: str) -> Story:
        result = TriageResult(category=category, category_source="customer", severity=severity,
                              team=TEAM[category], reasons=["fixture"])
        return self.step(lifecycle.apply_triage(self.ticket, result, POLICY, self.created))

    def contact(self, after_s: int) -> Story:
        return self.step(lifecycle.contact(self.ticket, "agent:A-7", "", at(self.created, after_s)))

    def resolve(self, after_s: int) -> Story:
        return self.step(lifecycle.resolve(self.ticket, "agent:A-7", ResolveIn(resolution="refund"), at(self.created, after_s)))

    def expire(self, after_s: int) -> Story:
        return self.step(lifecycle.clock_expired(self.ticket, at(self.created, after_s)))

    def survey(self, after_s: int) -> Story:
        return self.step(lifecycle.send_survey(self.ticket, at(self.created, after_s)))

    def rate(self, score: int, after_s: int) -> Story:
        return self.step(lifecycle.rate(self.ticket, "customer:C-1", score, "", at(self.created, after_s)))

    def no_answer(self, after_s: int) -> Story:
        return self.step(lifecycle.survey_timeout(self.ticket, at(self.created, after_s)))


def fixture() -> list[Story]:
    """Six complaints in November (window 2026-11-01..30) and two just outside it."""
    return [
        # A: contacted after 5 min, resolved after 15 min, rated 4 -> closed
        Story("CMP-A", NOV2, channel="app", order="O-1", sku="SKU-88").triage("damaged_in_transit", "P3")
        .contact(300).resolve(900).survey(900 + 7200).rate(4, 900 + 9000),
        # B: P2 first contact breached at 2 h (voucher 5.00, level 1), contacted at 3 h, still open
        Story("CMP-B", NOV2, channel="web", order="O-2", sku="SKU-88").triage("lost_parcel", "P2")
        .expire(7200).contact(10800),
        # C: P1 never contacted: breached at 30 min (voucher 10.00), level 2 at 45 min
        Story("CMP-C", NOV2, channel="phone", order="O-1").triage("service_attitude", "P1").expire(3000),
        # D: resolved without a contact after 1 h, rated 2 -> reopened (resolution clock level 1)
        Story("CMP-D", NOV2, channel="app", order="O-3", sku="SKU-1").triage("product_quality", "P3")
        .resolve(3600).survey(3600 + 7200).rate(2, 3600 + 8000),
        # E: imported; contacted after 10 min, resolved after 2 h, survey never answered -> closed
        Story("CMP-E", NOV3, channel="marketplace", order="O-4", sku="SKU-1", source="tmall")
        .triage("counterfeit", "P2").contact(600).resolve(7200).survey(7200 + 7200).no_answer(7200 + 7200 + 259200),
        # H: received, not triaged yet (the customer's own category)
        Story("CMP-H", NOV3, channel="social", order="O-5", category="delivery_delay"),
        # outside the window: the day before, and the window's (exclusive) end
        Story("CMP-F", datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC), order="O-1", sku="SKU-88")
        .triage("product_quality", "P3").contact(60),
        Story("CMP-G", datetime(2026, 11, 30, 0, 0, 0, tzinfo=UTC), order="O-1", sku="SKU-88")
        .triage("product_quality", "P3"),
    ]


WINDOW = {"from": "2026-11-01", "to": "2026-11-30"}
EXPECTED_SUMMARY: dict[str, Any] = {
    "from": "2026-11-01T00:00:00Z",
    "to": "2026-11-30T00:00:00Z",
    "counts": {
        "total": 6,
        "by_category": {"counterfeit": 1, "damaged_in_transit": 1, "delivery_delay": 1, "lost_parcel": 1,
                        "product_quality": 1, "service_attitude": 1},
        "by_severity": {"P2": 2, "P3": 2, "P1": 1},
        "by_channel": {"app": 2, "marketplace": 1, "phone": 1, "social": 1, "web": 1},
        "by_team": {"logistics": 2, "product": 2, "service": 1},
        "by_status": {"closed": 2, "in_progress": 2, "awaiting_contact": 1, "received": 1},
        "by_source": {"api": 5, "tmall": 1},
    },
    "sla": {
        # met A D E, breached B C, open H
        "first_contact": {"met": 3, "breached": 2, "open": 1, "compliance": 0.6},
        # met A E, open B C D(reopened) H
        "resolution": {"met": 2, "breached": 0, "open": 4, "compliance": 1.0},
    },
    # first contact: A 300, E 600, D 3600, B 10800; resolution: A 900, E 7200 (D reopened)
    "durations_s": {"first_contact": {"median": 600, "p90": 10800}, "resolution": {"median": 900, "p90": 7200}},
    # B level 1, C level 2, D level 1 (its resolution clock restarted one level higher)
    "escalations": {"1": 3, "2": 1, "3": 0},
    "vouchers": {"count": 2, "total": {"amount": "15.00", "currency": "CNY"}},
    # surveys A D E; answers A 4, D 2
    "csat": {"surveys_sent": 3, "responses": 2, "response_rate": 2 / 3, "mean": 3.0,
             "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}},
    "top_products": [{"sku": "SKU-1", "complaints": 2}, {"sku": "SKU-88", "complaints": 2}],
    "top_orders": [{"order_id": "O-1", "complaints": 2}, {"order_id": "O-2", "complaints": 1},
                   {"order_id": "O-3", "complaints": 1}, {"order_id": "O-4", "complaints": 1},
                   {"order_id": "O-5", "complaints": 1}],
}
EXPECTED_SLA_BY_TEAM = {
    "first_contact": {"logistics": {"met": 1, "breached": 1, "open": 0, "compliance": 0.5},
                      "product": {"met": 2, "breached": 0, "open": 0, "compliance": 1.0},
                      "service": {"met": 0, "breached": 1, "open": 0, "compliance": 0.0}},
    "resolution": {"logistics": {"met": 1, "breached": 0, "open": 1, "compliance": 1.0},
                   "product": {"met": 1, "breached": 0, "open": 1, "compliance": 1.0},
                   "service": {"met": 0, "breached": 0, "open": 1, "compliance": None}},
}


def contract_view(body: dict[str, Any]) -> dict[str, Any]:
    """The fields of docs/api.md's summary (the response has more, which is fine)."""
    view = {k: copy.deepcopy(body[k]) for k in EXPECTED_SUMMARY}
    for clock in ("first_contact", "resolution"):
        view["sla"][clock].pop("by_team")
        view["durations_s"][clock] = {k: body["durations_s"][clock][k] for k in ("median", "p90")}
    view["vouchers"].pop("by_reason")
    return view


def stream_records(stories: list[Story]) -> list[dict[str, Any]]:
    """Every state of every story as the tickets table's stream carries it (NEW_IMAGE)."""
    records, sequence = [], 1000
    for story in stories:
        for version, state in enumerate(story.states):
            item = ticket_item(state)
            sequence += 1
            records.append({
                "eventName": "INSERT" if version == 0 else "MODIFY",
                "dynamodb": {"Keys": {"pk": item["pk"], "sk": item["sk"]}, "NewImage": item,
                             "SequenceNumber": str(sequence), "StreamViewType": "NEW_IMAGE"},
            })
    return records


def removal(cid: str, sequence: int) -> dict[str, Any]:
    return {"eventName": "REMOVE", "dynamodb": {"Keys": {"pk": {"S": f"C#{cid}"}, "sk": {"S": "TICKET"}},
                                                "SequenceNumber": str(sequence)}}


# -- an in-memory table with exactly the calls the aggregates make ----------------------------------------
class MemoryTable:
    """``batch_get_item``, ``transact_write_items`` (conditional Put, ADD Update) and ``query``
    (pk = :pk AND sk BETWEEN, also through ``get_paginator``) on dicts of low-level attribute
    values."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[str] = []

    @staticmethod
    def _key(key: dict[str, Any]) -> tuple[str, str]:
        return key["pk"]["S"], key["sk"]["S"]

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("batch_get_item")
        (table, request), = RequestItems.items()
        found = [copy.deepcopy(self.items[k]) for k in map(self._key, request["Keys"]) if k in self.items]
        return {"Responses": {table: found}}

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:
        self.calls.append("transact_write_items")
        for entry in TransactItems:  # every condition first: all or nothing
            (op, spec), = entry.items()
            if op == "Put":
                current = self.items.get(self._key(spec["Item"]))
                condition = spec.get("ConditionExpression")
                if (condition == "attribute_not_exists(pk)" and current is not None) or (
                        condition == "v = :v" and (current is None or current["v"] != spec["ExpressionAttributeValues"][":v"])):
                    raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "condition"}},
                                      "TransactWriteItems")
        for entry in TransactItems:
            (op, spec), = entry.items()
            if op == "Put":
                self.items[self._key(spec["Item"])] = copy.deepcopy(spec["Item"])
                continue
            assert op == "Update" and spec["UpdateExpression"].startswith("ADD ")
            item = self.items.setdefault(self._key(spec["Key"]), copy.deepcopy(spec["Key"]))
            for part in spec["UpdateExpression"][4:].split(", "):
                name, value = part.split(" ")
                attr = spec["ExpressionAttributeNames"][name]
                amount = Decimal(spec["ExpressionAttributeValues"][value]["N"])
                item[attr] = {"N": str(Decimal(item.get(attr, {"N": "0"})["N"]) + amount)}

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("query")
        assert kwargs["KeyConditionExpression"] == "pk = :pk AND sk BETWEEN :lo AND :hi"
        values = kwargs["ExpressionAttributeValues"]
        pk, lo, hi = values[":pk"]["S"], values[":lo"]["S"], values[":hi"]["S"]
        found = [copy.deepcopy(item) for (p, s), item in sorted(self.items.items()) if p == pk and lo <= s <= hi]
        return {"Items": found, "Count": len(found)}

    def get_paginator(self, operation: str) -> MemoryTable:
        assert operation == "query"
        return self

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        return [self.query(**kwargs)]  # one page: this table never holds a page's worth

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        raise AssertionError("reports never scan")

    def aggregates(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Aggregate items, zero counters dropped (for comparing two tables)."""
        out = {}
        for key, item in self.items.items():
            if key[0].startswith("AGGT#"):
                continue
            counters = {a: v for a, v in item.items() if a not in ("pk", "sk") and Decimal(v["N"]) != 0}
            if counters:
                out[key] = counters
        return out


def on(aggregator: AggregateWriter) -> Services:
    """Services whose aggregates are written by ``aggregator``."""
    return dataclasses.replace(memory_services(), aggregator=aggregator)


def streamed(records: list[dict[str, Any]], batch: int = 7) -> MemoryTable:
    table = MemoryTable()
    aggregator = Aggregator(table, TABLE)
    for start in range(0, len(records), batch):
        assert handle_stream(on(aggregator), {"Records": records[start:start + batch]}) == {"batchItemFailures": []}
    return table


@pytest.fixture(scope="module")
def stories() -> list[Story]:
    return fixture()


# -- the summary ------------------------------------------------------------------------------------------------
def test_summary_of_the_fixture_is_what_was_worked_out_by_hand(stories: list[Story]) -> None:
    # Given every state of the fixture's complaints streamed, in batches, in order
    table = streamed(stream_records(stories))
    table.calls.clear()
    # When the summary of November is read
    reader = AggregateReader(table, TABLE)
    body = report("summary", WINDOW, reader)
    # Then it is exactly the hand-computed one
    assert contract_view(body) == EXPECTED_SUMMARY
    assert {c: body["sla"][c]["by_team"] for c in ("first_contact", "resolution")} == EXPECTED_SLA_BY_TEAM
    assert body["vouchers"]["by_reason"] == {"first_contact_breach": 2}
    assert body["durations_s"]["first_contact"]["count"] == 4 and body["durations_s"]["first_contact"]["mean"] == 3825.0
    assert [(d["date"], d["total"]) for d in body["daily"] if d["total"]] == [("2026-11-02", 4), ("2026-11-03", 2)]
    assert body["daily"][2]["by_category"] == {"counterfeit": 1, "delivery_delay": 1}
    assert len(body["daily"]) == 29
    fc_bins = {b["from_s"]: b["count"] for b in body["durations_s"]["first_contact"]["histogram"] if b["count"]}
    assert fc_bins == {300: 2, 3600: 1, 7200: 1}
    # And the reads were key-range Queries only: one for the days, two histogram levels per
    # clock, the SKUs and the orders (November only: one month)
    assert set(table.calls) == {"query"}
    assert reader.stats.queries == len(table.calls) <= 1 + 4 + 4 + 2


def test_an_empty_window_reads_as_zeros_and_nulls() -> None:
    body = report("summary", {"from": "2026-01-01", "to": "2026-01-08"}, AggregateReader(MemoryTable(), TABLE))
    assert body["counts"]["total"] == 0 and body["counts"]["by_category"] == {}
    assert body["sla"]["first_contact"] == {"met": 0, "breached": 0, "open": 0, "compliance": None, "by_team": {}}
    assert body["durations_s"]["resolution"]["median"] is None and body["durations_s"]["resolution"]["p90"] is None
    assert body["csat"]["response_rate"] is None and body["csat"]["mean"] is None
    assert body["vouchers"]["total"] == {"amount": "0.00", "currency": "CNY"}
    assert body["top_products"] == [] and body["top_orders"] == []


def test_a_window_across_months_reads_each_month(stories: list[Story]) -> None:
    table = streamed(stream_records(stories))
    body = report("summary", {"from": "2026-10-31T12:00:00Z", "to": "2026-12-01"}, AggregateReader(table, TABLE))
    assert (body["from"], body["to"]) == ("2026-10-31T00:00:00Z", "2026-12-01T00:00:00Z")
    assert body["counts"]["total"] == 8  # with F (Oct 31) and G (Nov 30)
    assert body["top_products"][0] == {"sku": "SKU-88", "complaints": 4}


# -- applying the stream -------------------------------------------------------------------------------------------
def test_redelivered_and_stale_records_change_nothing(stories: list[Story]) -> None:
    records = stream_records(stories)
    once = streamed(records)
    # Every batch delivered twice, then everything again from the start (a replayed shard)
    twice = MemoryTable()
    aggregator = Aggregator(twice, TABLE)
    for start in range(0, len(records), 5):
        handle_stream(on(aggregator), {"Records": records[start:start + 5]})
        handle_stream(on(aggregator), {"Records": records[start:start + 5]})
    handle_stream(on(aggregator), {"Records": records})
    assert twice.aggregates() == once.aggregates()


def test_skipped_and_reordered_states_converge_on_the_latest(stories: list[Story]) -> None:
    # Records of different tickets interleaved at random, each ticket's own in order, some of
    # the intermediate states never delivered (a record lost to a bisected poison batch)
    rng = random.Random(11)
    reference = streamed(stream_records(stories))
    for _ in range(5):
        queues = [stream_records([s]) for s in stories]
        shuffled: list[dict[str, Any]] = []
        while any(queues):
            queue = rng.choice([q for q in queues if q])
            record = queue.pop(0)
            if queue and rng.random() < 0.3:
                continue  # dropped; the ticket's last state always arrives
            shuffled.append(record)
        assert streamed(shuffled, batch=rng.randint(1, 9)).aggregates() == reference.aggregates()


def test_a_removed_ticket_no_longer_counts_and_stays_removed(stories: list[Story]) -> None:
    records = stream_records(stories)
    b_records = [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"] == "C#CMP-B"]
    table = streamed([*records, removal("CMP-B", 99_999), b_records[0]])  # a late copy of its INSERT
    body = report("summary", WINDOW, AggregateReader(table, TABLE))
    assert body["counts"]["total"] == 5
    assert body["vouchers"]["count"] == 1 and body["escalations"]["1"] == 2
    assert body["top_orders"][:2] == [{"order_id": "O-1", "complaints": 2}, {"order_id": "O-3", "complaints": 1}]


def test_only_ticket_items_count() -> None:
    event = {"Records": [
        {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "C#CMP-X"}, "sk": {"S": "EV#2026-11-02T08:00:00Z#1"}},
                                             "NewImage": {}, "SequenceNumber": "1"}},
        {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "AGG#2026-11"}, "sk": {"S": "D#2026-11-02"}},
                                             "NewImage": {}, "SequenceNumber": "2"}},
    ]}
    table = MemoryTable()
    assert handle_stream(on(Aggregator(table, TABLE)), event) == {"batchItemFailures": []}
    assert table.items == {} and table.calls == []


def test_an_unreadable_image_is_skipped_not_retried_forever(stories: list[Story]) -> None:
    bad = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "C#CMP-Z"}, "sk": {"S": "TICKET"}},
                                               "NewImage": {"pk": {"S": "C#CMP-Z"}, "status": {"S": "nonsense"}},
                                               "SequenceNumber": "5"}}
    table = MemoryTable()
    assert handle_stream(on(Aggregator(table, TABLE)), {"Records": [bad, *stream_records(stories[:1])]}) == {"batchItemFailures": []}
    assert report("summary", WINDOW, AggregateReader(table, TABLE))["counts"]["total"] == 1


def test_a_guard_that_moved_meanwhile_is_reread_and_a_failing_ticket_reported(stories: list[Story]) -> None:
    records = stream_records(stories[:2])
    table = MemoryTable()
    aggregator = Aggregator(table, TABLE)
    handle_stream(on(aggregator), {"Records": records[:2]})
    # Another consumer applies A's later states between our guard read and our write
    original = table.transact_write_items
    interfered = []

    def racing(TransactItems: list[dict[str, Any]]) -> None:
        if not interfered:
            interfered.append(True)
            Aggregator(table, TABLE).apply(changes_of(records[2:4])[0])
        original(TransactItems)

    table.transact_write_items = racing  # type: ignore[method-assign]
    assert handle_stream(on(aggregator), {"Records": records[2:]}) == {"batchItemFailures": []}
    assert table.aggregates() == streamed(records).aggregates()

    # A ticket whose transaction keeps failing is reported by its first record's sequence number
    def failing(TransactItems: list[dict[str, Any]]) -> None:
        raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}}, "TransactWriteItems")

    fresh = MemoryTable()
    fresh.transact_write_items = failing  # type: ignore[method-assign]
    answer = handle_stream(on(Aggregator(fresh, TABLE, backoff_s=0)), {"Records": stream_records(stories[2:3])})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "1001"}]}


# -- pieces ------------------------------------------------------------------------------------------------------------
def test_contributions_round_trip_and_differences() -> None:
    story = fixture()[0]
    first, last = contribution(story.states[1]), contribution(story.ticket)
    assert decode(encode(last)) == last
    diff = difference(first, last)
    assert diff[("D", "", "st#awaiting_contact")] == -1 and diff[("D", "", "st#closed")] == 1
    assert ("D", "", "n") not in diff  # unchanged counters are not written again
    assert difference(last, last) == {}


def test_duration_buckets_and_nearest_rank() -> None:
    assert split_duration(10800) == (1, 8, 0)
    assert split_duration(259_199) == (25, 91, 99)
    assert [nearest_rank(n, (1, 2)) for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]
    assert [nearest_rank(n, (9, 10)) for n in (1, 9, 10, 11, 20)] == [1, 9, 9, 10, 18]


def test_exact_percentiles_over_many_days_and_buckets() -> None:
    # Given 400 complaints over 40 days with durations spread over every histogram level
    rng = random.Random(3)
    stories, first_contact = [], []
    for i in range(400):
        created = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=i % 40, minutes=i)
        seconds = rng.choice([rng.randint(0, 99), rng.randint(100, 9_999), rng.randint(10_000, 400_000)])
        story = Story(f"CMP-{i:04d}", created).triage("damaged_in_transit", "P3").contact(seconds)
        stories.append(story)
        first_contact.append(seconds)
    table = streamed(stream_records(stories), batch=50)
    # When read for the whole span (two months)
    body = report("summary", {"from": "2026-11-01", "to": "2026-12-11"}, AggregateReader(table, TABLE))
    # Then median and p90 are the nearest-rank ones of the 400 durations
    ordered = sorted(first_contact)
    assert body["durations_s"]["first_contact"]["median"] == ordered[nearest_rank(400, (1, 2)) - 1]
    assert body["durations_s"]["first_contact"]["p90"] == ordered[nearest_rank(400, (9, 10)) - 1]
    assert body["durations_s"]["first_contact"]["count"] == 400


def test_hotspots_rank_jumps_against_the_previous_window() -> None:
    # Given SKU-9 at 1 complaint in week 1 and 6 in week 2, SKU-2 at 10 then 12, SKU-3 new with 3
    stories = []
    plan = {("SKU-9", 0): 1, ("SKU-9", 7): 6, ("SKU-2", 0): 10, ("SKU-2", 7): 12, ("SKU-3", 8): 3, ("SKU-4", 9): 2}
    for (sku, day), n in plan.items():
        for i in range(n):
            created = datetime(2026, 11, 2, 10, tzinfo=UTC) + timedelta(days=day, minutes=i)
            category = "counterfeit" if sku == "SKU-9" else "product_quality"
            stories.append(Story(f"CMP-{sku}-{day}-{i}", created, sku=sku, order=f"O-{sku}-{i}").triage(category, "P3"))
    table = streamed(stream_records(stories))
    # When the hotspots of week 2 are read
    body = report("hotspots", {"from": "2026-11-09", "to": "2026-11-16"}, AggregateReader(table, TABLE))
    # Then the biggest jumps come first; SKU-4 (2 < min 3) and falling ones are left out
    assert body["previous"] == {"from": "2026-11-02T00:00:00Z", "to": "2026-11-09T00:00:00Z"}
    assert [(next(k for k in ("sku", "category") if k in i), i.get("sku") or i.get("category"), i["complaints"],
             i["previous"], i["change"]) for i in body["items"]] == [
        ("sku", "SKU-9", 6, 1, 5.0),
        ("category", "counterfeit", 6, 1, 5.0),
        ("sku", "SKU-3", 3, 0, None),
        ("category", "product_quality", 17, 10, 0.7),
        ("sku", "SKU-2", 12, 10, 0.2),
    ]
    assert body["items"][0]["score"] == 5.0 and body["items"][0]["delta"] == 5
    low = hotspots(AggregateReader(table, TABLE), Window(datetime(2026, 11, 9).date(), datetime(2026, 11, 16).date()),
                   min_complaints=1)
    assert any(i.get("sku") == "SKU-4" for i in low["items"])


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"to": "2026-11-30"}, "from", "required"),
    ({"from": "2026-11-01"}, "to", "required"),
    ({"from": "yesterday", "to": "2026-11-30"}, "from", "not an ISO 8601"),
    ({"from": "2026-11-01", "to": "2026-13-01"}, "to", "not an ISO 8601"),
    ({"from": "2026-11-30", "to": "2026-11-01"}, "to", "after"),
    ({"from": "2026-11-01T10:00:00Z", "to": "2026-11-01T10:00:00Z"}, "to", "after"),
    ({"from": "2020-01-01", "to": "2026-01-01"}, "to", "at most"),
    ({"from": "2026-11-01", "to": "2026-11-30", "top": "0"}, "top", "integer"),
    ({"from": "2026-11-01", "to": "2026-11-30", "top": "ten"}, "top", "integer"),
])
def test_bad_parameters_name_their_field(params: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(ReportParamError) as raised:
        report("summary", params, AggregateReader(MemoryTable(), TABLE))
    assert raised.value.field == field and re.search(message, raised.value.message)


def test_windows_are_whole_utc_days() -> None:
    assert window_of({"from": "2026-11-01T08:00:00+08:00", "to": "2026-11-02T00:00:01Z"}).bounds() == {
        "from": "2026-11-01T00:00:00Z", "to": "2026-11-03T00:00:00Z"}
    assert window_of({"from": "2026-11-01", "to": "2026-11-02"}).days == ["2026-11-01"]
    assert window_of({"from": "2026-11-01T00:00:00", "to": "2026-11-01T00:00:01"}).length == 1
