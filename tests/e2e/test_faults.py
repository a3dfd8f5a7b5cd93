"""Faults injected into the local system: DynamoDB throttling beyond the SDK's retries, an
SNS outage and a Lambda step that crashes — each ending with nothing lost, nothing
duplicated, one execution per complaint, and the failure visible (a 503 with Retry-After,
the timeline, the metrics). The figures are printed (``-s``). Time x60: the workflow's
retries back off quickly, and no SLA window runs out while the test runs."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import steps
from chalicelib.adapters import aws
from tests.e2e.helpers import COMPLAINT, execution, staff_view, stored, timeline

MAX_TRIES = 10  # a client retries a 503 at most this often


def post(sys: Any, customer: str, order: str, key: str | None = None) -> tuple[int, str | None]:
    body = {**COMPLAINT, "customer_id": customer, "order_id": order}
    headers = {"Idempotency-Key": key} if key else None
    resp = sys.http("POST", "/complaints", token=sys.token(customer, "customers"), json_body=body,
                    headers=headers, timeout=60)
    return resp.status, (resp.json() or {}).get("complaint_id") if resp.status == 202 else None


def post_until_accepted(sys: Any, customer: str, order: str, key: str, statuses: Counter[int]) -> str:
    """What a well-behaved client does: retry a 503 with the same key (bounded)."""
    for _ in range(MAX_TRIES):
        status, cid = post(sys, customer, order, key)
        statuses[status] += 1
        if status == 202 and cid:
            return cid
        assert status == 503, status
    raise AssertionError(f"{customer}/{order} not accepted after {MAX_TRIES} tries")


def executions(sys: Any) -> set[str]:
    pages = sys.sfn.get_paginator("list_executions").paginate(stateMachineArn=sys.env["LIFECYCLE_STATE_MACHINE_ARN"])
    return {e["name"] for page in pages for e in page["executions"]}


LOCAL_TIME_SCALE = 60.0


# -- faults ------------------------------------------------------------------------------------
@contextmanager
def failing(service: str, operation: str, code: str, should_fail: Callable[[dict[str, Any]], bool]) -> Iterator[list[int]]:
    """``operation`` of the app's ``service`` client answers ``code`` (after the SDK's own
    retries: raised per call) whenever ``should_fail(params)``; yields the count of failures."""
    client = aws.client(service)
    failures = [0]
    lock = threading.Lock()

    def inject(params: dict[str, Any], **_: Any) -> None:
        if should_fail(params):
            with lock:
                failures[0] += 1
            raise ClientError({"Error": {"Code": code, "Message": "injected by the test"}}, operation)

    event = f"before-parameter-build.{client.meta.service_model.service_name}.{operation}"
    client.meta.events.register(event, inject)
    try:
        yield failures
    finally:
        client.meta.events.unregister(event, inject)


def every_other(marker: str) -> Callable[[dict[str, Any]], bool]:
    """Calls about a customer whose id starts with ``marker``: of each customer's calls, the
    first of every two fails."""
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    pattern = re.compile(re.escape(marker) + r"[-\w]*")

    def decide(params: dict[str, Any]) -> bool:
        found = pattern.search(json.dumps(params, default=str, ensure_ascii=False))
        if not found:
            return False
        with lock:
            seen[found.group()] += 1
            return seen[found.group()] % 2 == 1

    return decide


def test_dynamodb_throttling_is_a_503_the_client_retries_and_a_step_retried_by_the_workflow(
        local_system: Any, capfd: pytest.CaptureFixture[str]) -> None:
    sys = local_system
    customers = [f"C-THROTTLE-{i}" for i in range(10)]
    statuses: Counter[int] = Counter()
    with failing("dynamodb", "PutItem", "ProvisionedThroughputExceededException", every_other("C-THROTTLE")) as puts, \
            failing("dynamodb", "TransactWriteItems", "ThrottlingException", every_other("C-THROTTLE")) as writes:
        with ThreadPoolExecutor(10) as pool:
            ids = list(pool.map(lambda c: post_until_accepted(sys, c, f"O-{c}", f"k-{c}", statuses), customers))
        for cid in ids:  # triage's write was throttled too: the workflow's Retry ran it again
            sys.wait_for(lambda cid=cid: staff_view(sys, cid)["status"] == "awaiting_contact", timeout=60,
                         what=f"{cid} triaged")
    per_customer = stored(sys, customers)
    with capfd.disabled():
        print(f"\ndynamodb throttling: {len(customers)} complaints affected, {puts[0]} PutItem and {writes[0]} "
              f"TransactWriteItems throttled, answers {dict(statuses)}, lost "
              f"{sum(1 for c in customers if len(per_customer[c]) != 1)}")
    assert puts[0] > 0 and writes[0] > 0 and statuses[503] > 0  # the fault really happened, and was answered so
    assert all(len(per_customer[c]) == 1 for c in customers), per_customer  # nothing lost, nothing twice
    assert set(ids) <= executions(sys)
    for cid in ids:
        assert timeline(staff_view(sys, cid)).count("triaged") == 1
    out = capfd.readouterr().out
    assert '"ApiDependencyUnavailable"' in out  # the metric ops alarm on


def test_an_sns_outage_is_recorded_on_the_timeline_and_loses_no_complaint(local_system: Any,
                                                                         capfd: pytest.CaptureFixture[str]) -> None:
    sys = local_system
    phone = "+8613911112222"
    customers = [f"C-SNSDOWN-{i}" for i in range(5)]
    with failing("sns", "Publish", "InternalError", lambda params: params.get("PhoneNumber") == phone) as sent:
        ids = []
        for customer in customers:
            body = {**COMPLAINT, "customer_id": customer, "order_id": f"O-{customer}",
                    "contact": {"locale": "zh-CN", "phone": phone}}
            resp = sys.http("POST", "/complaints", token=sys.token(customer, "customers"), json_body=body)
            assert resp.status == 202
            ids.append(resp.json()["complaint_id"])
        views = [sys.wait_for(lambda cid=cid: (v := staff_view(sys, cid)) and "notification_failed" in timeline(v) and v,
                              timeout=60, what=f"{cid}'s failed notification") for cid in ids]
    with capfd.disabled():
        print(f"\nsns outage: {len(ids)} complaints affected, {sent[0]} sends failed, lost "
              f"{sum(1 for c in customers if len(stored(sys, [c])[c]) != 1)}")
    assert sent[0] >= len(ids)
    for cid, view in zip(ids, views, strict=True):
        failed = next(e for e in view["timeline"] if e["type"] == "notification_failed")
        assert failed["detail"]["error"] and "Traceback" not in json.dumps(failed)
        assert view["status"] == "awaiting_contact" and execution(sys, cid)["status"] == "RUNNING"  # it goes on
    assert '"NotificationsFailed"' in capfd.readouterr().out


def test_a_crashing_step_is_retried_and_one_that_keeps_crashing_is_visible(local_system: Any,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sys = local_system
    triage = steps.STEPS["triage"]
    attempts: Counter[str] = Counter()
    lock = threading.Lock()

    def crashing(services: Any, event: Any) -> Any:
        with lock:
            attempts[event.complaint_id] += 1
            n = attempts[event.complaint_id]
        customer = services.store.get_ticket(event.complaint_id).complaint.customer_id
        if customer == "C-CRASH-ALWAYS" or n == 1:
            raise RuntimeError("the step's process died")  # the Lambda function errors
        return triage(services, event)

    monkeypatch.setitem(steps.STEPS, "triage", crashing)
    once = [f"C-CRASH-{i}" for i in range(5)]
    ids = {}
    for customer in [*once, "C-CRASH-ALWAYS"]:
        resp = post(sys, customer, f"O-{customer}")
        assert resp[0] == 202 and resp[1]
        ids[customer] = resp[1]
    for customer in once:
        sys.wait_for(lambda c=customer: staff_view(sys, ids[c])["status"] == "awaiting_contact", timeout=60,
                     what=f"{customer} triaged after a crash")
    broken = ids["C-CRASH-ALWAYS"]
    sys.wait_for(lambda: execution(sys, broken)["status"] == "FAILED", timeout=90, what="the always-crashing one to fail")
    view = staff_view(sys, broken)
    print(f"\nlambda crash: {len(once)} complaints crashed once (all triaged on the workflow's retry), 1 crashing "
          f"every time -> {view['failure']!r}; lost 0")
    assert view["failure"].startswith("RuntimeError") and "workflow_failed" in timeline(view)
    assert "Traceback" not in view["failure"] and "File " not in view["failure"]
    assert all(attempts[ids[c]] >= 2 for c in once)
    assert all(len(stored(sys, [c])[c]) == 1 for c in [*once, "C-CRASH-ALWAYS"])  # the failed one is kept, for staff
