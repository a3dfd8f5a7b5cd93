"""One contract, two stores: every test of ``TestMemoryStore`` runs against the in-memory
store and, through the subclass ``TestDynamoDBStore``, against DynamoDB on moto with the
tables the template declares (the Chalice todo sample's ``TestTodoDB`` / ``TestDynamoDB``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.adapters.memory import MemoryTicketStore
from chalicelib.adapters.ports import BadCursor, TicketStore, VersionConflict
from chalicelib.adapters.store import DynamoDBTicketStore
from chalicelib.models import ComplaintIn, Contact, Event, Status
from chalicelib.notifications import CustomerMessage
from chalicelib.ticket import Clock, Ticket
from chalicelib.triage.corrections import Correction
from infra.resources import names

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def ticket(n: int, customer: str = "C-1", team: str | None = None, due_h: float = 1,
           status: Status = Status.AWAITING_CONTACT, order: str | None = None) -> Ticket:
    body = ComplaintIn(customer_id=customer, order_id=order or f"O-{n % 3}", channel="app", desired_outcome="refund",
                       description=f"第{n}个投诉", contact=Contact(locale="zh-CN", phone="+8613800000000"))
    created = T0 + timedelta(minutes=n)
    t = Ticket(complaint_id=f"CMP-{n:04d}", complaint=body, created_at=created, raised_at=created, updated_at=created,
               status=status, team=team)
    if team:
        t.clocks = {"first_contact": Clock(window_s=3600, started_at=created, due=T0 + timedelta(hours=due_h))}
    return t


def correction(complaint_id: str, at: datetime) -> Correction:
    return Correction(complaint_id=complaint_id, text="杯子是假的", product_kind="home", order_amount=Decimal("129.00"),
                      predicted_category="damaged_in_transit", predicted_severity="P3",
                      corrected_category="counterfeit", corrected_severity="P1", actor="supervisor:S-1", at=at,
                      reason="fake goods")


def note(text: str, at: datetime = T0) -> Event:
    return Event(at=at, type="note", actor="agent:A-7", detail={"text": text})


class TestMemoryStore:
    @pytest.fixture
    def store(self) -> TicketStore:
        return MemoryTicketStore()

    # -- creating -----------------------------------------------------------------------------
    def test_create_is_conditional_and_round_trips_chinese(self, store: TicketStore) -> None:
        # Given a new ticket, When it is created twice
        assert store.create(ticket(1)) is True
        assert store.create(ticket(1, customer="C-OTHER")) is False
        # Then the first one is stored, with its text, and no timeline yet
        found = store.get_with_timeline("CMP-0001")
        assert found is not None
        t, events = found
        assert t.complaint.description == "第1个投诉" and t.complaint.customer_id == "C-1" and events == []

    def test_create_many_skips_existing_ids(self, store: TicketStore) -> None:
        store.create(ticket(2, customer="C-FIRST"))
        assert store.create_many([ticket(1), ticket(2), ticket(3)]) == {"CMP-0002"}
        found = store.get_tickets(["CMP-0001", "CMP-0002", "CMP-0003", "CMP-0404"])
        assert set(found) == {"CMP-0001", "CMP-0002", "CMP-0003"}
        assert found["CMP-0002"].complaint.customer_id == "C-FIRST"  # the existing one is untouched

    def test_times_come_back_in_whole_seconds_and_outbox_typed(self, store: TicketStore) -> None:
        t = ticket(1)
        t.created_at = t.created_at.replace(microsecond=734_000)
        t.outbox = [CustomerMessage(template="acknowledged", params={"complaint_id": t.complaint_id})]
        store.create(t)
        back = store.get_ticket("CMP-0001")
        assert back is not None
        assert back.created_at == T0 + timedelta(minutes=1)
        assert back.outbox == t.outbox

    def test_what_a_caller_changes_afterwards_is_not_stored(self, store: TicketStore) -> None:
        t = ticket(1)
        store.create(t)
        t.complaint_id, t.status = "CMP-9999", Status.CLOSED  # the caller's object, after the write
        read = store.get_ticket("CMP-0001")
        assert read is not None and read.status is Status.AWAITING_CONTACT
        read.status = Status.CLOSED  # and a read copy
        again = store.get_ticket("CMP-0001")
        assert again is not None and again.status is Status.AWAITING_CONTACT

    # -- versioned writes ---------------------------------------------------------------------
    def test_save_moves_the_version_and_refuses_a_stale_one(self, store: TicketStore) -> None:
        store.create(ticket(1))
        t = store.get_ticket("CMP-0001")
        assert t is not None
        changed = t.model_copy(update={"status": Status.IN_PROGRESS})
        saved = store.save(changed, [note("called")], t.version)
        assert saved.version == 1 and saved.status is Status.IN_PROGRESS
        with pytest.raises(VersionConflict):
            store.save(t.model_copy(update={"status": Status.CLOSED}), [note("late")], t.version)
        # the writer that read version 0 lost, and wrote nothing
        after = store.get_with_timeline("CMP-0001")
        assert after is not None
        assert after[0].status is Status.IN_PROGRESS and after[0].version == 1
        assert [e.detail["text"] for e in after[1]] == ["called"]

    def test_save_without_events_is_versioned_too(self, store: TicketStore) -> None:
        store.create(ticket(1))
        t = store.get_ticket("CMP-0001")
        assert t is not None
        saved = store.save(t.model_copy(update={"status": Status.IN_PROGRESS}), [], t.version)
        assert saved.version == 1
        with pytest.raises(VersionConflict):
            store.save(t.model_copy(update={"status": Status.CLOSED}), [], t.version)
        after = store.get_ticket("CMP-0001")
        assert after is not None and after.status is Status.IN_PROGRESS and after.version == 1

    # -- corrections ------------------------------------------------------------------------
    def test_corrections_are_saved_with_their_ticket_and_queried_by_time_window(self, store: TicketStore) -> None:
        # Given re-triages on three days across a month boundary, saved with their tickets
        days = [datetime(2026, 10, 31, 23, 30, tzinfo=UTC), datetime(2026, 11, 1, 0, 30, tzinfo=UTC),
                datetime(2026, 11, 20, 12, 0, tzinfo=UTC)]
        for n, at in enumerate(days, start=1):
            store.create(ticket(n, team="logistics"))
            t = store.get_ticket(f"CMP-{n:04d}")
            assert t is not None
            store.save(t, [], t.version, corrections=[correction(t.complaint_id, at)])
        # And a save refused for a stale version writes no correction
        with pytest.raises(VersionConflict):
            store.save(ticket(1), [], 0, corrections=[correction("CMP-0001", days[2] + timedelta(hours=1))])
        # When the corrections of a window are asked for
        window = store.corrections_between(datetime(2026, 10, 31, 23, 0, tzinfo=UTC), datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
        # Then those inside it come back, oldest first, as they were saved ([start, end))
        assert [(c.complaint_id, c.at) for c in window] == [("CMP-0001", days[0]), ("CMP-0002", days[1])]
        assert window[0].corrected_team == "product" and window[0].predicted_severity == "P3"
        assert window[0].order_amount == Decimal("129.00") and window[0].text == "杯子是假的"
        assert [c.complaint_id for c in store.corrections_between(days[2], days[2] + timedelta(days=60))] == ["CMP-0003"]

    def test_save_of_a_ticket_that_does_not_exist_is_a_conflict(self, store: TicketStore) -> None:
        with pytest.raises(VersionConflict):
            store.save(ticket(7), [], 0)
        assert store.get_ticket("CMP-0007") is None

    def test_wait_token_only_at_the_version_the_workflow_saw(self, store: TicketStore) -> None:
        store.create(ticket(1))
        assert store.set_wait_token("CMP-0001", "tok-1", expected_version=0) is True
        t = store.get_ticket("CMP-0001")
        assert t is not None and t.wait_token == "tok-1" and t.version == 1
        assert store.set_wait_token("CMP-0001", "tok-2", expected_version=0) is False
        t = store.get_ticket("CMP-0001")
        assert t is not None and t.wait_token == "tok-1"
        assert store.set_wait_token("CMP-0404", "tok", expected_version=0) is False

    # -- timeline -----------------------------------------------------------------------------
    def test_timeline_is_in_time_order_then_in_order_written(self, store: TicketStore) -> None:
        store.create(ticket(1))
        store.add_events("CMP-0001", [note("b", T0 + timedelta(minutes=5)), note("c", T0 + timedelta(minutes=5))])
        store.add_events("CMP-0001", [note("a", T0)])
        t = store.get_ticket("CMP-0001")
        assert t is not None
        store.save(t, [note("d", T0 + timedelta(hours=1))], t.version)
        found = store.get_with_timeline("CMP-0001")
        assert found is not None
        assert [e.detail["text"] for e in found[1]] == ["a", "b", "c", "d"]

    def test_delete_removes_the_ticket_and_its_timeline(self, store: TicketStore) -> None:
        store.create(ticket(1))
        store.add_events("CMP-0001", [note(f"n{i}") for i in range(30)])  # more than one batch of deletes
        store.create(ticket(2))
        store.delete("CMP-0001")
        assert store.get_with_timeline("CMP-0001") is None
        assert store.get_ticket("CMP-0002") is not None
        assert store.create(ticket(1)) is True  # the id is free again, with an empty timeline
        found = store.get_with_timeline("CMP-0001")
        assert found is not None and found[1] == []

    # -- indexes ------------------------------------------------------------------------------
    def test_customer_listing_is_newest_first_and_paginated(self, store: TicketStore) -> None:
        for n in range(5):
            store.create(ticket(n))
        store.create(ticket(9, customer="C-2"))
        page1, cursor = store.by_customer("C-1", 3, None)
        assert cursor is not None
        page2, cursor2 = store.by_customer("C-1", 3, cursor)
        ids = [t.complaint_id for t in page1 + page2]
        assert ids == ["CMP-0004", "CMP-0003", "CMP-0002", "CMP-0001", "CMP-0000"]
        assert cursor2 is None or store.by_customer("C-1", 3, cursor2)[0] == []
        assert store.by_customer("C-NOBODY", 3, None) == ([], None)

    def test_team_queue_is_soonest_due_first_and_only_open(self, store: TicketStore) -> None:
        store.create(ticket(1, team="logistics", due_h=3))
        store.create(ticket(2, team="logistics", due_h=1))
        store.create(ticket(3, team="product", due_h=0.5))
        store.create(ticket(4, team="logistics", due_h=0.1, status=Status.CLOSED))
        store.create(ticket(5, team="logistics", due_h=2))
        first, cursor = store.team_queue("logistics", 2, None)
        rest, _ = store.team_queue("logistics", 2, cursor)
        assert [t.complaint_id for t in first + rest] == ["CMP-0002", "CMP-0005", "CMP-0001"]

    def test_a_ticket_leaves_the_queue_when_it_closes(self, store: TicketStore) -> None:
        store.create(ticket(1, team="service"))
        t = store.get_ticket("CMP-0001")
        assert t is not None
        store.save(t.model_copy(update={"status": Status.CLOSED}), [], t.version)
        assert store.team_queue("service", 10, None) == ([], None)

    @pytest.mark.parametrize("token", ["not-a-cursor!", "bm90IGpzb24=", "WzFd"])  # garbage, not JSON, a list
    def test_a_cursor_not_issued_here_is_rejected(self, store: TicketStore, token: str) -> None:
        with pytest.raises(BadCursor):
            store.by_customer("C-1", 3, token)
        with pytest.raises(BadCursor):
            store.team_queue("logistics", 3, token)

    def test_open_complaints_on_an_order(self, store: TicketStore) -> None:
        store.create(ticket(1, order="O-X"))
        store.create(ticket(2, order="O-X"))
        store.create(ticket(3, order="O-X", status=Status.CLOSED))
        store.create(ticket(4, order="O-Y"))
        assert store.open_on_order("O-X") == 2
        assert store.open_on_order("O-X", exclude="CMP-0001") == 1
        assert store.open_on_order("O-NONE") == 0

    # -- profiles and import reports ----------------------------------------------------------
    def test_profiles(self, store: TicketStore) -> None:
        assert store.get_profile("C-1") is None
        store.put_profile("C-1", {"tier": "vip", "locale": "en", "updated_at": "2026-11-22T08:00:00Z"})
        assert store.get_profile("C-1") == {"customer_id": "C-1", "tier": "vip", "locale": "en",
                                            "updated_at": "2026-11-22T08:00:00Z"}

    def test_import_reports_round_trip(self, store: TicketStore) -> None:
        report: dict[str, Any] = {"batch_id": "b-1", "source": "tmall", "received": 3, "created": 2, "duplicates": 0,
                                  "rejected": [{"index": 2, "external_id": None, "reason": "no description"}],
                                  "pending_workflows": 0, "imported_at": "2026-11-22T08:00:00Z"}
        store.put_import_report(report)
        assert store.get_import_report("b-1") == report
        assert store.get_import_report("b-404") is None


class TestDynamoDBStore(TestMemoryStore):
    @pytest.fixture
    def store(self, ddb: Any) -> TicketStore:  # type: ignore[override]  # pytest fixture with another dependency
        return DynamoDBTicketStore(ddb, names("test")["table"])
