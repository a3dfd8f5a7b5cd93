"""The DynamoDB adapter against moto, on the tables as the template declares them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters.ports import BadCursor, VersionConflict
from chalicelib.adapters.store import DynamoDBTicketStore as TicketStore
from chalicelib.models import ComplaintIn, Event, Status
from chalicelib.ticket import Clock, Ticket
from infra.resources import names, resources

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        tables = {k: v for k, v in resources("test").items() if v["Type"] == "AWS::DynamoDB::Table"}
        boto3.client("cloudformation").create_stack(StackName="tables", TemplateBody=json.dumps({"Resources": tables}))
        yield boto3.client("dynamodb")


@pytest.fixture
def calls(ddb: Any) -> list[str]:
    seen: list[str] = []
    ddb.meta.events.register("before-call.dynamodb.*", lambda model, **_: seen.append(model.name))
    return seen


def ticket(n: int, customer: str = "C-1", team: str | None = None, due_h: float = 1, status: Status = Status.AWAITING_CONTACT) -> Ticket:
    body = ComplaintIn(customer_id=customer, order_id=f"O-{n % 3}", channel="app", desired_outcome="refund",
                       description=f"第{n}个投诉")
    created = T0 + timedelta(minutes=n)
    t = Ticket(complaint_id=f"CMP-{n:04d}", complaint=body, created_at=created, raised_at=created, updated_at=created,
               status=status, team=team)
    if team:
        t.clocks = {"first_contact": Clock(window_s=3600, started_at=created, due=T0 + timedelta(hours=due_h))}
    return t


def test_create_is_conditional_and_round_trips_chinese(ddb: Any) -> None:
    store = TicketStore(ddb, names("test")["table"])
    assert store.create(ticket(1)) is True
    assert store.create(ticket(1)) is False
    found = store.get_with_timeline("CMP-0001")
    assert found is not None
    t, events = found
    assert t.complaint.description == "第1个投诉" and events == []


def test_save_refuses_a_stale_version(ddb: Any) -> None:
    store = TicketStore(ddb, names("test")["table"])
    store.create(ticket(1))
    t = store.get_ticket("CMP-0001")
    assert t is not None
    saved = store.save(t, [Event(at=T0, type="note", actor="agent:A", detail={"text": "x"})], t.version)
    assert saved.version == 1
    with pytest.raises(VersionConflict):
        store.save(t, [], t.version)  # a writer that read version 0 loses, and writes nothing
    _, events = store.get_with_timeline("CMP-0001") or (None, [])
    assert [e.type for e in events] == ["note"]


def test_customer_listing_newest_first_paginated_by_query(ddb: Any, calls: list[str]) -> None:
    store = TicketStore(ddb, names("test")["table"])
    for n in range(5):
        store.create(ticket(n))
    store.create(ticket(9, customer="C-2"))
    calls.clear()
    page1, cursor = store.by_customer("C-1", 3, None)
    page2, cursor2 = store.by_customer("C-1", 3, cursor)
    ids = [t.complaint_id for t in page1 + page2]
    assert ids == ["CMP-0004", "CMP-0003", "CMP-0002", "CMP-0001", "CMP-0000"]
    assert cursor2 is None or store.by_customer("C-1", 3, cursor2)[0] == []
    assert set(calls) == {"Query"}


def test_team_queue_is_soonest_due_first_and_only_open(ddb: Any, calls: list[str]) -> None:
    store = TicketStore(ddb, names("test")["table"])
    store.create(ticket(1, team="logistics", due_h=3))
    store.create(ticket(2, team="logistics", due_h=1))
    store.create(ticket(3, team="product", due_h=0.5))
    store.create(ticket(4, team="logistics", due_h=0.1, status=Status.CLOSED))
    calls.clear()
    items, _ = store.team_queue("logistics", 10, None)
    assert [t.complaint_id for t in items] == ["CMP-0002", "CMP-0001"]
    assert calls == ["Query"]


def test_bad_cursor_is_rejected(ddb: Any) -> None:
    store = TicketStore(ddb, names("test")["table"])
    with pytest.raises(BadCursor):
        store.by_customer("C-1", 3, "not-a-cursor!")


def test_create_many_skips_existing_ids(ddb: Any) -> None:
    store = TicketStore(ddb, names("test")["table"])
    store.create(ticket(2))
    existing = store.create_many([ticket(1), ticket(2), ticket(3)])
    assert existing == {"CMP-0002"}
    assert set(store.get_tickets(["CMP-0001", "CMP-0002", "CMP-0003", "CMP-0404"])) == {"CMP-0001", "CMP-0002", "CMP-0003"}
