"""One contract, two aggregate stores: ``TestMemoryAggregates`` counts the hand-computed
fixture's ticket changes in memory and, subclassed, in DynamoDB on moto (the ``Aggregator``
writes, the ``AggregateReader`` reads) — the same report either way, the one worked out by
hand in ``tests/unit/test_analytics.py``."""

from __future__ import annotations

import random
from typing import Any

import pytest

from chalicelib.reports.aggregates import AggregateWriter, Change, change_of, removal_of
from chalicelib.reports.dynamodb import AggregateReader, Aggregator
from chalicelib.reports.figures import AggregateSource, report
from chalicelib.reports.memory import MemoryAggregates
from infra.resources import names
from tests.unit.test_analytics import EXPECTED_SUMMARY, WINDOW, Story, contract_view, fixture

Pair = tuple[AggregateWriter, AggregateSource]


def changes(stories: list[Story]) -> list[Change]:
    """Every state of every story, in order."""
    return [change_of(state) for story in stories for state in story.states]


def apply(writer: AggregateWriter, items: list[Change], batch: int = 7) -> None:
    for start in range(0, len(items), batch):
        # a batch holds at most one change per ticket: its latest (what changes_of keeps)
        latest = {c.complaint_id: c for c in items[start:start + batch]}
        stats = writer.apply(list(latest.values()))
        assert stats.failed == []


class TestMemoryAggregates:
    @pytest.fixture
    def aggregates(self) -> Pair:
        store = MemoryAggregates()
        return store, store

    def test_the_fixture_reads_as_worked_out_by_hand(self, aggregates: Pair) -> None:
        writer, source = aggregates
        apply(writer, changes(fixture()))
        assert contract_view(report("summary", WINDOW, source)) == EXPECTED_SUMMARY

    def test_stale_and_repeated_changes_count_nothing(self, aggregates: Pair) -> None:
        writer, source = aggregates
        everything = changes(fixture())
        apply(writer, everything)
        before = report("summary", WINDOW, source)
        stats = writer.apply([change_of(s.states[0]) for s in fixture()])  # the first states again
        assert stats.applied == 0 and stats.stale == len(fixture())
        assert writer.apply([change_of(s.states[-1]) for s in fixture()]).applied == 0  # the latest again
        assert report("summary", WINDOW, source) == before

    def test_skipped_states_converge_on_the_latest(self, aggregates: Pair) -> None:
        writer, source = aggregates
        rng = random.Random(3)
        kept = [c for s in fixture() for i, c in enumerate(changes([s])) if i == len(s.states) - 1 or rng.random() < 0.5]
        apply(writer, kept, batch=3)
        assert contract_view(report("summary", WINDOW, source)) == EXPECTED_SUMMARY

    def test_a_removed_ticket_no_longer_counts_and_stays_removed(self, aggregates: Pair) -> None:
        writer, source = aggregates
        stories = fixture()
        apply(writer, changes(stories))
        writer.apply([removal_of("CMP-B")])
        writer.apply([change_of(stories[1].states[0])])  # a late copy of its first state
        body = report("summary", WINDOW, source)
        assert body["counts"]["total"] == 5 and body["vouchers"]["count"] == 1

    def test_hotspots_read_the_same_counters(self, aggregates: Pair) -> None:
        writer, source = aggregates
        apply(writer, changes(fixture()))
        body = report("hotspots", {**WINDOW, "min_complaints": "1"}, source)
        assert {i.get("sku") or i.get("category"): i["complaints"] for i in body["items"]}["SKU-88"] == 2


class TestDynamoDBAggregates(TestMemoryAggregates):
    @pytest.fixture
    def aggregates(self, ddb: Any) -> Pair:  # type: ignore[override]  # pytest fixture with another dependency
        table = names("test")["table"]
        return Aggregator(ddb, table), AggregateReader(ddb, table)
