"""Intake on the in-memory adapters: a complaint is stored with a running workflow, or not at
all; an Idempotency-Key makes a retry safe."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import intake
from chalicelib.adapters.ports import WorkflowUnavailable
from chalicelib.models import ComplaintIn, Status
from tests.unit.conftest import BODY, T0, Fakes


def test_an_accepted_complaint_is_stored_received_with_its_workflow_started(fakes: Fakes) -> None:
    # When a customer files a complaint
    answer = intake.submit(fakes.services, BODY, "C-1001", None)
    # Then the answer points at it, it is stored as received at the system's time, and its
    # lifecycle runs
    cid = answer["body"]["complaint_id"]
    assert answer == {"status": 202, "location": f"/complaints/{cid}",
                      "body": {"complaint_id": cid, "status": "received", "links": {"self": f"/complaints/{cid}"}}}
    ticket = fakes.store.get_ticket(cid)
    assert ticket is not None
    assert ticket.status is Status.RECEIVED and ticket.created_at == T0 and ticket.received_by == "customer:C-1001"
    assert ticket.locale == "zh-CN" and ticket.complaint.description == BODY["description"]
    assert fakes.workflow.starts == [cid]


def test_a_failed_start_leaves_no_complaint_and_a_retry_succeeds(fakes: Fakes) -> None:
    # Given Step Functions refusing the next start
    fakes.workflow.fail_starts = 1
    # When a complaint is filed, Then the caller is told to retry and nothing is left behind
    with pytest.raises(WorkflowUnavailable):
        intake.submit(fakes.services, BODY, "C-1001", "key-1")
    assert fakes.store.by_customer("C-1001", 10, None) == ([], None)
    assert fakes.workflow.starts == []
    # When the client retries with the same key, Then it is accepted (the key was released)
    answer = intake.submit(fakes.services, BODY, "C-1001", "key-1")
    assert answer["status"] == 202
    listed, _ = fakes.store.by_customer("C-1001", 10, None)
    assert [t.complaint_id for t in listed] == [answer["body"]["complaint_id"]] == fakes.workflow.starts


def test_the_same_key_and_body_answer_the_same_and_create_nothing_new(fakes: Fakes) -> None:
    first = intake.submit(fakes.services, BODY, "C-1001", "key-2")
    again = intake.submit(fakes.services, BODY, "C-1001", "key-2")
    assert again == first
    assert len(fakes.store.by_customer("C-1001", 10, None)[0]) == 1 and len(fakes.workflow.starts) == 1


def test_the_same_key_with_another_body_is_a_conflict(fakes: Fakes) -> None:
    intake.submit(fakes.services, BODY, "C-1001", "key-3")
    with pytest.raises(intake.IdempotencyConflict):
        intake.submit(fakes.services, {**BODY, "description": "另一个问题"}, "C-1001", "key-3")
    assert len(fakes.store.by_customer("C-1001", 10, None)[0]) == 1


def test_keys_are_per_caller(fakes: Fakes) -> None:
    mine = intake.submit(fakes.services, BODY, "C-1001", "shared-key")
    theirs = intake.submit(fakes.services, {**BODY, "customer_id": "C-2002"}, "C-2002", "shared-key")
    assert mine["body"]["complaint_id"] != theirs["body"]["complaint_id"]
    assert len(fakes.workflow.starts) == 2


def test_an_imported_complaint_keeps_when_it_was_raised_but_never_in_the_future(fakes: Fakes) -> None:
    complaint = ComplaintIn.model_validate(BODY)
    earlier = intake.new_ticket(complaint, complaint_id="CMP-X", received_by="import:tmall", at=T0,
                                source="tmall", raised_at=T0 - timedelta(hours=3))
    later = intake.new_ticket(complaint, complaint_id="CMP-Y", received_by="import:tmall", at=T0,
                              source="tmall", raised_at=T0 + timedelta(hours=3))
    assert earlier.raised_at == T0 - timedelta(hours=3) and later.raised_at == T0
    assert intake.register(fakes.services, earlier) is True
    assert intake.register(fakes.services, earlier) is False  # already there: not started twice
    assert fakes.workflow.starts == ["CMP-X"]
