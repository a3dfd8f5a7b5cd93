"""Marketplace batch import over SQS (docs/import.md), end to end: a message sent to the import
queue through the local AWS endpoint is picked up by the event source mapping, imported, and
reported; duplicates, bad records, bad messages and throttling lose nothing."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from chalicelib.clock import iso
from tests.e2e.helpers import execution, staff_view, timeline

DATA = Path(__file__).resolve().parents[1] / "data" / "imports"


@pytest.fixture(autouse=True)
def stop_what_the_test_started(local_system: Any) -> Iterator[None]:
    """Imported sample complaints are a day old: their level-3 alerts repeat every SLA hour
    (a second here). Stop their executions after each test so they don't load the next."""
    yield
    arn = local_system.env["LIFECYCLE_STATE_MACHINE_ARN"]
    pages = local_system.sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, statusFilter="RUNNING")
    for execution_ in [e for page in pages for e in page["executions"]]:
        local_system.sfn.stop_execution(executionArn=execution_["executionArn"])


SAMPLES_EXPORTED = date(2026, 11, 22)  # the day the sample files were exported
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})(?=[ T]\d{2}:\d{2}:\d{2})")


def sample(sys: Any, name: str) -> dict[str, Any]:
    """A sample file with its times moved by whole days to the day before the system's today,
    so its records stay inside the import horizon (at most 30 days before intake, never after
    it) whenever the test runs; a date that is invalid on purpose stays as it is."""
    days = (sys.system.system_now().date() - SAMPLES_EXPORTED).days - 1

    def moved(match: re.Match[str]) -> str:
        try:
            return (date.fromisoformat(match.group(1)) + timedelta(days=days)).isoformat()
        except ValueError:
            return match.group(1)

    return dict(json.loads(_STAMP.sub(moved, (DATA / f"{name}.json").read_text(encoding="utf-8"))))


def send(sys: Any, batch: dict[str, Any]) -> None:
    sys.sqs.send_message(QueueUrl=sys.import_queue_url, MessageBody=json.dumps(batch, ensure_ascii=False))


def report(sys: Any, batch_id: str, **expect: Any) -> dict[str, Any]:
    ops = sys.token("O-1", "ops")

    def ready() -> dict[str, Any] | None:
        resp = sys.http("GET", f"/imports/{batch_id}", token=ops)
        data = resp.json() if resp.status == 200 else None
        return data if data and all(data.get(k) == v for k, v in expect.items()) else None

    return dict(sys.wait_for(ready, timeout=40, what=f"import report {batch_id} with {expect}"))


def generic_batch(sys: Any, batch_id: str, ids: list[str], raised_ago_h: float = 0.0) -> dict[str, Any]:
    raised = iso(sys.system.system_now() - timedelta(hours=raised_ago_h))
    records = [{"external_id": i, "raised_at": raised, "customer_id": f"C-{i}", "order_id": f"O-{i}",
                "channel": "marketplace", "desired_outcome": "refund", "description": "包裹一直没收到"} for i in ids]
    return {"source": "generic", "batch_id": batch_id, "exported_at": raised, "records": records}


def imported_ids(sys: Any, customers: list[str]) -> list[str]:
    agent = sys.token("A-7", "agents")
    out = []
    for c in customers:
        items = sys.http("GET", f"/customers/{c}/complaints", token=agent).json()["items"]
        out += [i["complaint_id"] for i in items]
    return out


def test_a_marketplace_batch_is_imported_with_rejections_reported(local_system: Any) -> None:
    sys = local_system
    batch = sample(sys, "tmall")
    send(sys, batch)
    rep = report(sys, batch["batch_id"])
    assert rep["source"] == "tmall" and rep["received"] == len(batch["records"])
    assert rep["created"] + len(rep["rejected"]) == rep["received"] and rep["duplicates"] == 0
    assert rep["rejected"] and all({"index", "external_id", "reason"} <= set(r) and r["reason"] for r in rep["rejected"])
    # the first record became a complaint in the same lifecycle, Chinese text unchanged
    first = batch["records"][0]
    customer = f"tmall:{first['buyer_open_uid']}"
    [cid] = sys.wait_for(lambda: imported_ids(sys, [customer]))
    view = sys.wait_for(lambda: (v := staff_view(sys, cid))["severity"] and v)
    assert view["channel"] == "marketplace" and view["source"] == "tmall" and view["external_id"] == first["refund_id"]
    assert view["description"] == first["desc"] and view["category"] == "damaged_in_transit"
    assert view["timeline"][0]["type"] == "received" and view["timeline"][0]["actor"] == "import:tmall"
    assert execution(sys, cid)["status"] in ("RUNNING", "SUCCEEDED")
    # reports are for ops and supervisors only
    assert sys.http("GET", f"/imports/{batch['batch_id']}", token=sys.token("A-7", "agents")).status == 403
    assert sys.http("GET", "/imports/no-such-batch", token=sys.token("O-1", "ops")).status == 404


def test_redelivered_and_overlapping_batches_create_nothing_twice(local_system: Any) -> None:
    sys = local_system
    ids = [f"DUP-{n}" for n in range(6)]
    first = generic_batch(sys, "dup-1", ids[:4])
    send(sys, first)
    report(sys, "dup-1", created=4)
    send(sys, copy.deepcopy(first))  # SQS at-least-once: the same message again
    overlap = generic_batch(sys, "dup-2", ids[2:])  # the exporter retried with an overlapping batch
    send(sys, overlap)
    rep = report(sys, "dup-2", created=2, duplicates=2)
    assert rep["rejected"] == []
    made = sys.wait_for(lambda: len(c := imported_ids(sys, [f"C-{i}" for i in ids])) == 6 and c)
    assert len(set(made)) == 6
    arn = sys.env["LIFECYCLE_STATE_MACHINE_ARN"]
    names = [e["name"] for p in sys.sfn.get_paginator("list_executions").paginate(stateMachineArn=arn) for e in p["executions"]]
    assert all(names.count(cid) == 1 for cid in made)
    assert report(sys, "dup-1", created=4)["duplicates"] == 0


def test_a_complaint_raised_before_its_window_ran_out_enters_escalated(local_system: Any) -> None:
    sys = local_system
    send(sys, generic_batch(sys, "late-1", ["LATE-1"], raised_ago_h=10))  # P3: 8 h first contact, missed
    report(sys, "late-1", created=1)
    [cid] = sys.wait_for(lambda: imported_ids(sys, ["C-LATE-1"]))
    view = sys.wait_for(lambda: (v := staff_view(sys, cid)) and "escalated" in timeline(v) and v)
    assert view["escalation_level"] >= 1 and view["vouchers"][0]["reason"] == "first_contact_breach"
    assert view["clocks"]["first_contact"]["started_at"] < view["created_at"]
    assert timeline(view)[:3] == ["received", "triaged", "acknowledged"]


def test_a_message_that_is_not_a_batch_is_dead_lettered_alone(local_system: Any) -> None:
    sys = local_system
    sys.sqs.send_message(QueueUrl=sys.import_queue_url, MessageBody="this is not json")
    sys.sqs.send_message(QueueUrl=sys.import_queue_url, MessageBody=json.dumps({"source": "ebay", "batch_id": "x", "records": []}))
    send(sys, generic_batch(sys, "good-neighbour", ["GOOD-1"]))
    report(sys, "good-neighbour", created=1)
    dlq = sys.sqs.get_queue_url(QueueName=sys.names["import_dlq"])["QueueUrl"]

    def dead() -> list[str]:
        attrs = sys.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) >= 2 and ["yes"]

    sys.wait_for(dead, timeout=60, what="both bad messages in the DLQ")
    bodies = [m["Body"] for m in sys.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]]
    assert "this is not json" in bodies and not any("good-neighbour" in b for b in bodies)
    assert imported_ids(sys, ["C-GOOD-1"])  # the good message went through once, not redelivered


def test_throttling_is_retried_and_what_still_fails_comes_back(local_system: Any) -> None:
    sys = local_system
    sfn = aws.client("stepfunctions")
    failures = {"transient": 2, "stubborn": 50}

    def throttle(params: dict[str, Any], **_: Any) -> None:
        # the executions are named after complaint ids; throttle the batch's first few starts
        for kind in ("transient", "stubborn"):
            if failures[kind] > 0 and state.get(kind):
                failures[kind] -= 1
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")

    state = {"transient": True}
    sfn.meta.events.register("before-parameter-build.states.StartExecution", throttle)
    try:
        send(sys, generic_batch(sys, "throttled-1", ["THR-1", "THR-2"]))
        report(sys, "throttled-1", created=2, pending_workflows=0)  # retried with backoff inside the invocation
        state.update(transient=False, stubborn=True)
        send(sys, generic_batch(sys, "throttled-2", ["THR-3", "THR-4"]))
        # every start keeps failing: the tickets exist but the message is reported failed
        sys.wait_for(lambda: sys.http("GET", "/imports/throttled-2", token=sys.token("O-1", "ops")).status == 200
                     and failures["stubborn"] < 46, timeout=40)
        state["stubborn"] = False  # the throttling ends; SQS redelivers the message
        rep = report(sys, "throttled-2", created=2, pending_workflows=0)
        assert rep["duplicates"] == 0
    finally:
        sfn.meta.events.unregister("before-parameter-build.states.StartExecution", throttle)
    made = sys.wait_for(lambda: len(c := imported_ids(sys, ["C-THR-1", "C-THR-2", "C-THR-3", "C-THR-4"])) == 4 and c)
    for cid in made:
        sys.wait_for(lambda cid=cid: staff_view(sys, cid)["status"] != "received", timeout=20)
