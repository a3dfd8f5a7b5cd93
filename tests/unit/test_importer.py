"""Marketplace batch import on the in-memory adapters: every record once, rejected ones with
their reason, redelivery and overlap harmless, workflows that could not start come back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib import importer
from chalicelib.config import IMPORT_MAX_RECEIVE_COUNT
from chalicelib.ids import imported_complaint_id
from chalicelib.models import Status
from tests.unit.conftest import Fakes

DATA = Path(__file__).resolve().parents[1] / "data" / "imports"


def batch(batch_id: str, ids: list[str], **extra: Any) -> str:
    records = [{"external_id": i, "raised_at": "2026-11-22T07:00:00Z", "customer_id": f"C-{i}", "order_id": f"O-{i}",
                "channel": "marketplace", "desired_outcome": "refund", "description": "包裹一直没收到"} for i in ids]
    return json.dumps({"source": "generic", "batch_id": batch_id, "exported_at": "2026-11-22T07:30:00Z",
                       "records": records, **extra})


def test_a_batch_creates_each_complaint_once_with_its_workflow_and_a_report(fakes: Fakes) -> None:
    report = importer.import_batch(fakes.services, batch("b-1", ["E1", "E2", "E2", "E3"]))
    ids = [imported_complaint_id("generic", e) for e in ("E1", "E2", "E3")]
    assert report == {"batch_id": "b-1", "source": "generic", "exported_at": "2026-11-22T07:30:00Z", "received": 4,
                      "created": 3, "duplicates": 1, "rejected": [], "pending_workflows": 0,
                      "imported_at": "2026-11-22T08:00:00Z"}
    assert fakes.store.get_import_report("b-1") == report
    assert sorted(fakes.workflow.starts) == sorted(ids)
    ticket = fakes.store.get_ticket(ids[0])
    assert ticket is not None and ticket.source == "generic" and ticket.external_id == "E1" and ticket.batch_id == "b-1"
    assert ticket.received_by == "import:generic" and ticket.raised_at.hour == 7  # the clocks start when raised


def test_bad_records_are_rejected_with_their_reason_and_the_rest_imported(fakes: Fakes) -> None:
    body = json.loads(batch("b-2", ["E1"]))
    body["records"].append({"external_id": "E-BAD", "customer_id": "C-9"})  # no description, no order
    report = importer.import_batch(fakes.services, json.dumps(body))
    assert report["created"] == 1 and len(report["rejected"]) == 1
    rejected = report["rejected"][0]
    assert rejected["index"] == 1 and rejected["external_id"] == "E-BAD" and rejected["reason"]


def test_a_redelivered_batch_creates_nothing_twice(fakes: Fakes) -> None:
    first = importer.import_batch(fakes.services, batch("b-3", ["E1", "E2"]))
    again = importer.import_batch(fakes.services, batch("b-3", ["E1", "E2"]))
    assert (again["created"], again["duplicates"]) == (first["created"], 0) == (2, 0)
    assert len(fakes.workflow.starts) == 2  # restarting a received one is the same execution
    overlap = importer.import_batch(fakes.services, batch("b-4", ["E2", "E5"]))
    assert (overlap["created"], overlap["duplicates"]) == (1, 1)


def test_workflows_that_cannot_start_come_back_with_the_message(fakes: Fakes) -> None:
    # Given Step Functions refusing every start for a while
    fakes.workflow.fail_starts = importer.START_ATTEMPTS * 2
    # When a batch of two arrives, Then the tickets are kept, the message fails, the report says so
    with pytest.raises(importer.ImportIncomplete):
        importer.import_batch(fakes.services, batch("b-5", ["E1", "E2"]))
    assert (fakes.store.get_import_report("b-5") or {}).get("pending_workflows") == 2
    assert len(fakes.slept) == 2 * importer.START_ATTEMPTS  # backed off between attempts
    assert fakes.workflow.starts == []
    # When SQS delivers it again, Then the waiting tickets get their workflows, nothing is duplicated
    report = importer.import_batch(fakes.services, batch("b-5", ["E1", "E2"]))
    assert report["created"] == 2 and report["pending_workflows"] == 0
    assert len(fakes.workflow.starts) == 2
    assert all(t.status is Status.RECEIVED for t in fakes.store.get_tickets(fakes.workflow.starts).values())


def test_the_sqs_handler_fails_only_the_bad_message(fakes: Fakes) -> None:
    good = (DATA / "generic.json").read_text(encoding="utf-8")
    records = [{"messageId": "m-good", "body": good, "attributes": {"ApproximateReceiveCount": "1"}},
               {"messageId": "m-bad", "body": "not a batch", "attributes": {"ApproximateReceiveCount": str(IMPORT_MAX_RECEIVE_COUNT)}}]
    event = {"Records": [{**r, "receiptHandle": r["messageId"], "eventSource": "aws:sqs", "md5OfBody": "",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:complaints-import", "awsRegion": "us-east-1",
                          "messageAttributes": {}} for r in records]}
    assert importer.handle_sqs(fakes.services, event) == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}
    assert fakes.store.get_import_report(json.loads(good)["batch_id"]) is not None


def test_a_record_raised_before_the_horizon_or_after_intake_is_rejected_with_the_reason(fakes: Fakes) -> None:
    # Given a record raised ten years ago, one from tomorrow, and one 29 days old (intake: 2026-11-22 08:00)
    body = json.loads(batch("b-h", ["OLD", "FUTURE", "RECENT"]))
    body["records"][0]["raised_at"] = "2016-11-22T07:00:00Z"
    body["records"][1]["raised_at"] = "2026-11-23T08:00:00Z"
    body["records"][2]["raised_at"] = "2026-10-24T08:00:00Z"
    # When imported
    report = importer.import_batch(fakes.services, json.dumps(body))
    # Then the two are rejected with their reason (in the report) and the recent one is created
    assert report["created"] == 1 and fakes.workflow.starts == [imported_complaint_id("generic", "RECENT")]
    reasons = {r["external_id"]: r["reason"] for r in report["rejected"]}
    assert reasons["OLD"].startswith("raised_at: 2016-11-22T07:00:00Z is more than 30 days before intake")
    assert reasons["FUTURE"] == "raised_at: 2026-11-23T08:00:00Z is after intake (2026-11-22T08:00:00Z)"
    assert fakes.store.get_ticket(imported_complaint_id("generic", "OLD")) is None
