"""The HTTP API of docs/api.md, end to end through the local system (HTTP → Chalice → moto)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters import aws
from tests.e2e.helpers import rolled_out, roomy_windows, wait_status

BODY: dict[str, Any] = {
    "customer_id": "C-1001",
    "order_id": "O-20261122-0001",
    "channel": "app",
    "category": "damaged_in_transit",
    "desired_outcome": "refund",
    "description": "快递到的时候杯子碎了",
    "order_amount": {"amount": "129.00", "currency": "CNY"},
    "product": {"sku": "SKU-88", "name": "玻璃水杯", "kind": "home"},
    "contact": {"locale": "zh-CN", "phone": "+8613800000000", "email": None, "push_token": None},
}


def body(**changes: Any) -> dict[str, Any]:
    return {**BODY, **changes}


def post(sys: Any, customer: str = "C-1001", payload: dict[str, Any] | None = None, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else None
    payload = payload if payload is not None else body(customer_id=customer)
    return sys.http("POST", "/complaints", token=sys.token(customer, "customers"), json_body=payload, headers=headers)


def executions(sys: Any) -> list[str]:
    pages = sys.sfn.get_paginator("list_executions").paginate(stateMachineArn=sys.env["LIFECYCLE_STATE_MACHINE_ARN"])
    return [e["name"] for page in pages for e in page["executions"]]


def error(resp: Any) -> dict[str, Any]:
    data = resp.json()
    assert set(data) == {"error"} and {"code", "message", "details"} <= set(data["error"])
    return data["error"]


def test_health(local_system: Any) -> None:
    resp = local_system.http("GET", "/health")
    assert resp.status == 200 and resp.json() == {"status": "ok"}


def test_accepted_complaint_is_stored_and_its_workflow_started(local_system: Any) -> None:
    # When a customer posts a complaint
    resp = post(local_system)
    # Then 202 with the id, a Location, and the execution named after it exists already
    assert resp.status == 202
    data = resp.json()
    cid = data["complaint_id"]
    assert data == {"complaint_id": cid, "status": "received", "links": {"self": f"/complaints/{cid}"}}
    assert resp.headers["Location"] == f"/complaints/{cid}"
    assert cid in executions(local_system)
    # and the customer reads it back, triaged, with Chinese text unchanged
    token = local_system.token("C-1001", "customers")
    got = local_system.wait_for(lambda: (r := local_system.http("GET", f"/complaints/{cid}", token=token).json())
                                ["status"] == "awaiting_contact" and r)
    assert got["description"] == "快递到的时候杯子碎了" and got["product"]["name"] == "玻璃水杯"
    assert got["category"] == "damaged_in_transit" and got["team"] == "logistics" and got["severity"] == "P3"
    assert got["triage"]["category_source"] == "customer"
    assert got["first_contact_due"] and got["resolution_due"] and got["escalation_level"] == 0
    assert [e["type"] for e in got["timeline"]] == ["received", "acknowledged"]  # triaged is staff-only


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({k: v for k, v in BODY.items() if k != "order_id"}, ["order_id"]),
        (body(priority="high"), ["priority"]),
        (body(channel="fax", desired_outcome="revenge"), ["channel", "desired_outcome"]),
        (body(description=""), ["description"]),
        (body(description="x" * 5001), ["description"]),
        (body(attachments=["a", "b", "c", "d"]), ["attachments"]),
        (body(order_amount={"amount": "-1", "currency": "CNY"}), ["order_amount.amount"]),
        (body(product={"sku": "S", "kind": "weapons"}), ["product.kind"]),
        (body(category="too_slow"), ["category"]),
    ],
)
def test_invalid_complaints_get_field_level_400(local_system: Any, payload: dict[str, Any], fields: list[str]) -> None:
    resp = post(local_system, payload=payload)
    assert resp.status == 400
    err = error(resp)
    assert err["code"] == "validation_error"
    assert sorted(d["field"] for d in err["details"]) == sorted(fields)


def test_malformed_json_non_json_and_oversized_bodies(local_system: Any) -> None:
    token = local_system.token("C-1001", "customers")
    bad = local_system.http("POST", "/complaints", token=token, data=b'{"customer_id": ', headers={"Content-Type": "application/json"})
    assert bad.status == 400 and error(bad)["code"] == "malformed_json"
    text = local_system.http("POST", "/complaints", token=token, data=b"customer_id=C-1001", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert text.status == 415 and error(text)["code"] == "unsupported_media_type"
    big = local_system.http("POST", "/complaints", token=token, data=json.dumps(body(description="长" * 30000)).encode(),
                            headers={"Content-Type": "application/json"})
    assert big.status == 413 and error(big)["code"] == "payload_too_large"


def test_identity_rules(local_system: Any) -> None:
    sys = local_system
    cid = post(sys).json()["complaint_id"]
    # no identity → 401; a tampered token → 401
    assert sys.http("GET", f"/complaints/{cid}").status == 401
    token = sys.token("C-1001", "customers")
    head, payload, sig = token.split(".")
    tampered = ".".join([head, payload, sig[:-3] + ("AAA" if sig[-3:] != "AAA" else "BBB")])
    assert sys.http("GET", f"/complaints/{cid}", token=tampered).status == 401
    # another customer → 404 (existence not revealed); unknown id → 404
    other = sys.http("GET", f"/complaints/{cid}", token=sys.token("C-2002", "customers"))
    assert other.status == 404 and error(other)["code"] == "not_found"
    assert sys.http("GET", "/complaints/CMP-NOPE", token=token).status == 404
    # wrong group → 403: an agent cannot file, a customer cannot work the queue or act
    assert post(sys, payload=body(), customer="C-1001").status == 202
    agent_post = sys.http("POST", "/complaints", token=sys.token("A-7", "agents"), json_body=body())
    assert agent_post.status == 403 and error(agent_post)["code"] == "forbidden"
    assert sys.http("GET", "/queues/logistics", token=token).status == 403
    assert sys.http("POST", f"/complaints/{cid}/contact", token=token, json_body={}).status == 403
    # filing for somebody else → 403
    assert post(sys, customer="C-1001", payload=body(customer_id="C-9")).status == 403
    # staff may read any complaint
    assert sys.http("GET", f"/complaints/{cid}", token=sys.token("A-7", "agents")).status == 200


def test_idempotency_same_key_same_body_and_other_body(local_system: Any) -> None:
    sys = local_system
    first = post(sys, key="key-1")
    again = post(sys, key="key-1")
    assert first.status == again.status == 202 and first.json() == again.json()
    cid = first.json()["complaint_id"]
    assert executions(sys).count(cid) == 1
    listed = sys.http("GET", "/customers/C-1001/complaints?limit=100", token=sys.token("C-1001", "customers")).json()
    assert [i["complaint_id"] for i in listed["items"]].count(cid) == 1
    clash = post(sys, key="key-1", payload=body(description="另一件事"))
    assert clash.status == 409 and error(clash)["code"] == "conflict"


def test_concurrent_duplicates_create_exactly_one(local_system: Any) -> None:
    sys = local_system
    customer = "C-CONC"
    results: list[Any] = []
    lock = threading.Lock()

    def send() -> None:
        resp = post(sys, customer=customer, key="same-key")
        with lock:
            results.append(resp)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status for r in results} == {202}
    ids = {r.json()["complaint_id"] for r in results}
    assert len(ids) == 1
    listed = sys.http("GET", f"/customers/{customer}/complaints", token=sys.token(customer, "customers")).json()
    assert [i["complaint_id"] for i in listed["items"]] == list(ids)
    assert executions(sys).count(ids.pop()) == 1


def test_customer_listing_newest_first_with_opaque_pagination(local_system: Any) -> None:
    sys = local_system
    customer = "C-PAGE"
    made = [post(sys, customer=customer, payload=body(customer_id=customer, order_id=f"O-P{i}")).json()["complaint_id"]
            for i in range(5)]
    token = sys.token(customer, "customers")
    page1 = sys.http("GET", f"/customers/{customer}/complaints?limit=2", token=token).json()
    assert len(page1["items"]) == 2 and page1["next"]
    seen = [i["complaint_id"] for i in page1["items"]]
    cursor = page1["next"]
    while cursor:
        page = sys.http("GET", f"/customers/{customer}/complaints?limit=2&next={cursor}", token=token).json()
        seen += [i["complaint_id"] for i in page["items"]]
        cursor = page["next"]
    assert seen == list(reversed(made))
    summary = page1["items"][0]
    assert {"complaint_id", "order_id", "status", "category", "severity", "team", "created_at", "updated_at"} <= set(summary)
    # someone else's list: 403; a forged cursor and a bad limit: 400
    assert sys.http("GET", f"/customers/{customer}/complaints", token=sys.token("C-1001", "customers")).status == 403
    assert sys.http("GET", f"/customers/{customer}/complaints?next=bm9wZQ", token=token).status == 400
    assert sys.http("GET", f"/customers/{customer}/complaints?limit=0", token=token).status == 400


def test_profile_tier_drives_severity_not_the_body(local_system: Any) -> None:
    sys = local_system
    customer = "C-VIP"
    sup = sys.token("S-1", "supervisors")
    assert sys.http("PUT", f"/customers/{customer}/profile", token=sys.token(customer, "customers"),
                    json_body={"tier": "vip"}).status == 403
    resp = sys.http("PUT", f"/customers/{customer}/profile", token=sup, json_body={"tier": "vip", "locale": "en"})
    assert resp.status == 200 and resp.json()["tier"] == "vip"
    bad = sys.http("PUT", f"/customers/{customer}/profile", token=sup, json_body={"tier": "platinum"})
    assert bad.status == 400
    # a tier in the complaint body is an unknown field, not a way to jump the queue
    assert post(sys, customer=customer, payload=body(customer_id=customer, tier="vip")).status == 400
    cid = post(sys, customer=customer, payload=body(customer_id=customer, order_id="O-VIP-1")).json()["complaint_id"]
    agent = sys.token("A-7", "agents")
    got = sys.wait_for(lambda: (r := sys.http("GET", f"/complaints/{cid}", token=agent).json())["severity"] and r)
    assert got["severity"] == "P2"  # P3 raised one level by the vip tier
    assert any("vip" in reason for reason in got["triage"]["reasons"])


def test_team_queue_is_ordered_by_soonest_due_clock(local_system: Any, tmp_path: Path) -> None:
    sys = local_system
    agent = sys.token("A-7", "agents")
    # the P3 gets 30 days: the P1's ladder (level-3 repeats every 62 ms here) cannot climb past
    # its due time while a starved machine triages them
    with rolled_out(sys, tmp_path, roomy_windows):
        p3 = post(sys, customer="C-Q1", payload=body(customer_id="C-Q1", order_id="O-Q1", category="lost_parcel",
                                                      description="包裹一直没收到")).json()["complaint_id"]
        wait_status(sys, p3, "awaiting_contact")
    p1 = post(sys, customer="C-Q2", payload=body(customer_id="C-Q2", order_id="O-Q2", category="lost_parcel",
                                                  description="包裹丢了", order_amount={"amount": "12000.00", "currency": "CNY"})).json()["complaint_id"]

    def queue() -> list[dict[str, Any]]:
        return sys.http("GET", "/queues/logistics?limit=100", token=agent).json()["items"]

    items = sys.wait_for(lambda: (q := queue()) and {p1, p3} <= {i["complaint_id"] for i in q} and q)
    order = [i["complaint_id"] for i in items]
    assert order.index(p1) < order.index(p3)
    dues = [i["next_due"] for i in items]
    assert dues == sorted(dues)
    assert sys.http("GET", "/queues/marketing", token=agent).status == 404


def test_reads_are_queries_never_scans(local_system: Any) -> None:
    sys = local_system
    seen: list[str] = []
    ddb = aws.client("dynamodb")

    def record(model: Any, **_: Any) -> None:
        seen.append(model.name)

    ddb.meta.events.register("before-call.dynamodb.*", record)
    try:
        cid = post(sys, customer="C-SCAN", payload=body(customer_id="C-SCAN")).json()["complaint_id"]
        sys.http("GET", f"/complaints/{cid}", token=sys.token("C-SCAN", "customers"))
        sys.http("GET", "/customers/C-SCAN/complaints", token=sys.token("C-SCAN", "customers"))
        sys.http("GET", "/queues/service", token=sys.token("A-7", "agents"))
    finally:
        ddb.meta.events.unregister("before-call.dynamodb.*", record)
    assert "Scan" not in seen and "Query" in seen
