"""Integration events on the in-memory adapters: the timeline items a lifecycle writes (the
outbox, as the tickets table's stream carries them) become the events of docs/integration.md,
in order, with no personal data; a bus outage loses none of them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import actions
from chalicelib.adapters.memory import MemoryAttachments, MemoryEventBus
from chalicelib.integration import outbox
from chalicelib.integration.events import DETAIL_TYPES
from chalicelib.models import ContactIn, EscalateIn, RatingIn, ResolveIn
from tests.unit.conftest import AGENT, CUSTOMER, WITHOUT_AT_RISK, Fakes

PERSONAL = ("+8613800000000", "快递到的时候杯子碎了", "called the customer about", "secret@example.com", "refund in full")


def bus(fakes: Fakes) -> MemoryEventBus:
    found = fakes.services.events
    assert isinstance(found, MemoryEventBus)
    return found


def deliver(fakes: Fakes, start: int = 0, size: int = 100, attempts: int = 50) -> int:
    """What Lambda's mapping does with the stream: batches from the checkpoint, redelivered
    from the first record the function reports failed. Returns how many invocations it took."""
    records = fakes.store.stream
    position, invocations = start, 0
    while position < len(records) and invocations < attempts:
        batch = records[position:position + size]
        invocations += 1
        answer = outbox.handle_stream(fakes.services, {"Records": batch})
        failed = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
        if failed:
            position = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == failed[0])
        else:
            position += len(batch)
    return invocations


def happy_life(fakes: Fakes, **complaint: Any) -> str:
    cid = fakes.file(contact={"locale": "zh-CN", "phone": "+8613800000000", "email": "secret@example.com"},
                     **complaint)
    answer = fakes.triage(cid)
    fakes.wait(cid, answer)
    actions.contact(fakes.services, cid, AGENT, ContactIn(note="called the customer about the mug"))
    fakes.wait(cid, fakes.workflow.resumes[-1][1])  # the wait resumed with the next plan, entered again
    actions.resolve(fakes.services, cid, AGENT, ResolveIn.model_validate(
        {"resolution": "refund", "note": "refund in full", "refund": {"amount": "129.00", "currency": "CNY"}}))
    answer = fakes.workflow.resumes[-1][1]
    fakes.wait(cid, answer)
    fakes.clock.advance(seconds=answer["wait_s"])
    answer = fakes.step("timeout", cid)  # the survey
    fakes.wait(cid, answer)
    actions.rate(fakes.services, cid, CUSTOMER, RatingIn(score=5))
    fakes.wait(cid, fakes.workflow.resumes[-1][1])  # closed: the wait ends itself
    return cid


def test_a_happy_life_is_received_triaged_resolved_closed_in_order(fakes: Fakes) -> None:
    cid = happy_life(fakes)
    deliver(fakes)
    published = bus(fakes).published
    assert [e.detail_type for e in published] == [
        "Complaint Received", "Complaint Triaged", "Complaint Resolved", "Complaint Closed"]
    details = [json.loads(e.detail_json()) for e in published]
    assert all(d["complaint_id"] == cid and d["customer_id"] == "C-1001" and d["order_id"] == "O-1" for d in details)
    assert [d["event_id"] for d in details] == sorted(d["event_id"] for d in details)
    assert details[1]["severity"] and details[1]["team"] == "logistics"
    assert details[2]["resolution"] == "refund" and details[2]["refund"] == {"amount": "129.00", "currency": "CNY"}
    assert details[3]["satisfaction_score"] == 5 and details[3]["outcome"] == "satisfied"
    text = json.dumps(details, ensure_ascii=False)
    assert not [p for p in PERSONAL if p in text]


def test_escalations_and_vouchers_are_published_with_the_amount(fakes: Fakes) -> None:
    cid = fakes.file()
    answer = fakes.step("triage", cid, policy=WITHOUT_AT_RISK)
    fakes.clock.advance(seconds=answer["wait_s"])  # to the breach
    fakes.step("timeout", cid)
    actions.escalate(fakes.services, cid, AGENT, EscalateIn(reason="customer threatens to call 12315 +8613800000000"))
    deliver(fakes)
    published = bus(fakes).published
    kinds = [e.detail_type for e in published]
    assert kinds == ["Complaint Received", "Complaint Triaged", "Complaint Escalated", "Voucher Issued",
                     "Complaint Escalated"]
    voucher = json.loads(published[3].detail_json())
    assert voucher["amount"] and voucher["currency"] == "CNY" and voucher["reason"] == "first_contact_breach"
    assert voucher["customer_id"] == "C-1001"
    manual = json.loads(published[4].detail_json())
    assert manual["manual"] is True and manual["level"] == 2 and "12315" not in published[4].detail_json()


def test_every_detail_type_is_the_documented_one() -> None:
    assert [t.detail_type for t in DETAIL_TYPES] == [
        "Complaint Received", "Complaint Triaged", "Complaint Escalated", "Voucher Issued", "Complaint Resolved",
        "Complaint Reopened", "Complaint Closed"]
    for kind in DETAIL_TYPES:
        assert not {"description", "phone", "email", "push_token", "note", "reason_text", "comment"} & set(
            kind.model_fields)


def test_a_bus_outage_loses_nothing_and_keeps_the_order(fakes: Fakes) -> None:
    happy_life(fakes)
    bus(fakes).fail_calls = 3  # three invocations in a row find the bus down
    invocations = deliver(fakes, size=3)
    assert invocations > 3
    assert [e.detail_type for e in bus(fakes).published] == [
        "Complaint Received", "Complaint Triaged", "Complaint Resolved", "Complaint Closed"]


def test_a_rejected_entry_is_retried_from_its_record(fakes: Fakes) -> None:
    happy_life(fakes)
    records = fakes.store.stream
    bus(fakes).reject = 1  # the first entry of the first call is throttled
    answer = outbox.handle_stream(fakes.services, {"Records": records})
    triaged_record = records[0]["dynamodb"]["SequenceNumber"]  # Received and Triaged come from the first item
    assert answer == {"batchItemFailures": [{"itemIdentifier": triaged_record}]}
    deliver(fakes)
    kinds = [e.detail_type for e in bus(fakes).published]
    # at least once: what was accepted before the throttled entry may come again; the ids tell
    assert kinds[-4:] == ["Complaint Received", "Complaint Triaged", "Complaint Resolved", "Complaint Closed"]
    assert len({json.loads(e.detail_json())["event_id"] for e in bus(fakes).published}) == 4


def test_a_filed_complaints_attachments_are_kept(fakes: Fakes) -> None:
    uploads = fakes.services.attachments
    assert isinstance(uploads, MemoryAttachments)
    key = "uploads/C-1001/0123456789abcdef0123456789abcdef.jpg"
    uploads.upload(key, "image/jpeg", b"\xff\xd8\xff")
    cid = fakes.file(attachments=[key])
    fakes.triage(cid)
    assert uploads.objects[key].tags == {"state": "unattached"}
    deliver(fakes)
    assert uploads.objects[key].tags == {"state": "attached", "complaint": cid}


def test_a_timeline_item_that_is_no_event_is_skipped_not_blocking(fakes: Fakes) -> None:
    cid = fakes.file()
    fakes.triage(cid)
    broken: dict[str, Any] = json.loads(json.dumps(fakes.store.stream[0]))
    broken["dynamodb"]["NewImage"]["facts"]["M"].pop("customer_id")
    broken["dynamodb"]["SequenceNumber"] = "0"
    answer = outbox.handle_stream(fakes.services, {"Records": [broken, *fakes.store.stream]})
    assert answer == {"batchItemFailures": []}
    assert [e.detail_type for e in bus(fakes).published] == ["Complaint Received", "Complaint Triaged"]


@pytest.mark.parametrize("name", ["MODIFY", "REMOVE"])
def test_only_new_timeline_items_are_events(fakes: Fakes, name: str) -> None:
    cid = fakes.file()
    fakes.triage(cid)
    record = {**fakes.store.stream[0], "eventName": name}
    assert outbox.handle_stream(fakes.services, {"Records": [record]}) == {"batchItemFailures": []}
    assert bus(fakes).published == []
