"""The platform integration through the whole local system (docs/integration.md): orders put
with ``python -m local orders`` verify complaints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.cli import main as local_cli
from tests.e2e.conftest import E2ESystem
from tests.e2e.helpers import COMPLAINT, act, staff_view, wait_event, wait_status, wait_waiting


def put_order(sys: E2ESystem, order_id: str, customer: str, amount: str, name: str, kind: str = "electronics",
              *extra: str) -> None:
    argv = ["orders", "put", "--endpoint", sys.aws_url, "--order-id", order_id, "--customer", customer,
            "--amount", amount, "--currency", "CNY", "--sku", f"SKU-{order_id}", "--name", name, "--kind", kind, *extra]
    assert local_cli(argv) == 0


FILED: list[str] = []  # complaints of the running test, resolved when it ends (see _settle)


def complain(sys: E2ESystem, customer: str, **changes: Any) -> Any:
    body = {**COMPLAINT, "customer_id": customer, **changes}
    resp = sys.http("POST", "/complaints", token=sys.token(customer, "customers"), json_body=body)
    if resp.status == 202:
        FILED.append(resp.json()["complaint_id"])
    return resp


@pytest.fixture(autouse=True)
def _settle(local_system: E2ESystem) -> Iterator[None]:
    """A complaint nobody works climbs the ladder and repeats its top level every few system
    minutes (a fraction of a second here): resolve what a test leaves open, so its escalations
    do not load the machine for the tests after it."""
    yield
    for cid in FILED:
        act(local_system, cid, "resolve", {"resolution": "explanation"})  # 409 for those already done
    FILED.clear()


def test_the_order_decides_the_severity_not_the_claim(local_system: E2ESystem) -> None:
    sys = local_system
    put_order(sys, "O-PHONE-1", "C-5001", "12999.00", "折叠屏手机", "electronics",
              "--delivered-at", "2026-11-20T09:30:00Z", "--carrier", "SF Express")
    put_order(sys, "O-MUG-1", "C-5001", "59.00", "玻璃水杯", "home")
    # a 59-CNY claim on a 12,999-CNY order is a P1
    low = complain(sys, "C-5001", order_id="O-PHONE-1", order_amount={"amount": "59.00", "currency": "CNY"},
                   product={"name": "手机壳"})
    assert low.status == 202, low.json()
    # a 12,999-CNY claim on a 59-CNY order is a P3
    high = complain(sys, "C-5001", order_id="O-MUG-1", order_amount={"amount": "12999.00", "currency": "CNY"},
                    description="杯子颜色和图片不太一样")
    assert high.status == 202, high.json()
    p1 = wait_status(sys, low.json()["complaint_id"], "awaiting_contact")
    p3 = wait_status(sys, high.json()["complaint_id"], "awaiting_contact")
    assert (p1["severity"], p3["severity"]) == ("P1", "P3")
    assert p1["order_amount"] == {"amount": "12999.00", "currency": "CNY"} and p1["product"]["name"] == "折叠屏手机"
    assert p1["order_verified"] is True
    assert p1["order"] == {"verified": True, "amount": {"amount": "12999.00", "currency": "CNY"},
                           "product": {"sku": "SKU-O-PHONE-1", "name": "折叠屏手机", "kind": "electronics"},
                           "delivered_at": "2026-11-20T09:30:00Z", "carrier": "SF Express",
                           "differences": p1["order"]["differences"]}
    assert len(p1["order"]["differences"]) == 2  # the amount and the product name
    assert all(d in p1["triage"]["reasons"] for d in p1["order"]["differences"])
    mine = sys.http("GET", f"/complaints/{p1['complaint_id']}", token=sys.token("C-5001", "customers")).json()
    assert mine["order_verified"] is True and "order" not in mine and "reasons" not in mine["triage"]


def test_another_customers_order_is_not_found(local_system: E2ESystem) -> None:
    sys = local_system
    put_order(sys, "O-THEIRS", "C-5002", "300.00", "耳机")
    resp = complain(sys, "C-5003", order_id="O-THEIRS")
    assert resp.status == 404
    assert resp.json()["error"]["code"] == "not_found"
    assert resp.json()["error"]["details"] == [{"field": "order_id", "message": "no such order of yours"}]
    listed = sys.http("GET", "/customers/C-5003/complaints", token=sys.token("C-5003", "customers")).json()
    assert listed["items"] == []


def test_an_unknown_order_is_accepted_unverified(local_system: E2ESystem) -> None:
    sys = local_system
    resp = complain(sys, "C-5004", order_id="O-NOT-SYNCED-YET", order_amount={"amount": "88.00", "currency": "CNY"})
    assert resp.status == 202
    view = staff_view(sys, resp.json()["complaint_id"])
    assert view["order_verified"] is False and view["order"]["verified"] is False
    assert view["order_amount"] == {"amount": "88.00", "currency": "CNY"}


def test_the_prefill_shows_the_customers_own_order(local_system: E2ESystem, tmp_path: Path) -> None:
    sys = local_system
    lines = [
        '{"order_id": "O-FILE-1", "customer_id": "C-5005", "amount": "459.00", "items": '
        '[{"sku": "SKU-K", "name": "电水壶", "kind": "home"}], "carrier": "JD Logistics"}',
        '{"order_id": "O-FILE-2", "customer_id": "C-5005"}',  # no amount, no items: rejected
    ]
    (tmp_path / "orders.jsonl").write_text("\n".join(lines), encoding="utf-8")
    assert local_cli(["orders", "put", "--endpoint", sys.aws_url, "--file", str(tmp_path / "orders.jsonl")]) == 1
    token = sys.token("C-5005", "customers")
    shown = sys.http("GET", "/orders/O-FILE-1/prefill", token=token)
    assert shown.status == 200
    assert shown.json() == {"order_id": "O-FILE-1", "product": {"sku": "SKU-K", "name": "电水壶", "kind": "home"},
                            "items": [{"sku": "SKU-K", "name": "电水壶", "kind": "home"}],
                            "amount": {"amount": "459.00", "currency": "CNY"}, "delivered": False,
                            "delivered_at": None, "carrier": "JD Logistics"}
    assert sys.http("GET", "/orders/O-FILE-2/prefill", token=token).status == 404  # the rejected line
    assert sys.http("GET", "/orders/O-FILE-1/prefill", token=sys.token("C-5006", "customers")).status == 404
    assert sys.http("GET", "/orders/O-FILE-1/prefill", token=sys.token("A-7", "agents")).status == 403



# -- photos and videos ---------------------------------------------------------------------------
PHOTO = (Path(__file__).resolve().parents[1] / "data" / "uploads" / "photo.jpg").read_bytes()


def upload_form(sys: E2ESystem, customer: str, content_type: str, size: int) -> Any:
    return sys.http("POST", "/complaints/uploads", token=sys.token(customer, "customers"),
                    json_body={"content_type": content_type, "size": size})


def post_file(form: dict[str, Any], body: bytes, content_type: str, **forged: str) -> int:
    """What the customer's app does with the form: a multipart POST straight to S3 (``forged``
    fields: what a client that breaks the form's policy sends; real S3 refuses it, moto not)."""
    fields = {**form["fields"], **forged}
    resp = requests.post(form["url"], data=fields, files={"file": ("photo", body, content_type)}, timeout=10)
    return resp.status_code


def test_a_photo_uploaded_through_the_form_is_attached_and_downloaded_by_staff(local_system: E2ESystem) -> None:
    sys = local_system
    resp = upload_form(sys, "C-5101", "image/jpeg", len(PHOTO))
    assert resp.status == 201, resp.json()
    form = resp.json()
    assert form["key"].startswith("uploads/C-5101/") and form["key"].endswith(".jpg")
    assert form["url"].startswith(sys.aws_url) and form["expires_at"]
    assert post_file(form, PHOTO, "image/jpeg") in (200, 201, 204)
    s3 = sys.client("s3")
    bucket = sys.env["UPLOADS_BUCKET"]
    assert s3.get_object_tagging(Bucket=bucket, Key=form["key"])["TagSet"] == [{"Key": "state", "Value": "unattached"}]
    filed = complain(sys, "C-5101", order_id="O-PHOTO", attachments=[form["key"]])
    assert filed.status == 202, filed.json()
    cid = filed.json()["complaint_id"]
    view = staff_view(sys, cid)
    [attachment] = view["attachments"]
    assert {k: attachment[k] for k in ("key", "content_type", "size")} == {
        "key": form["key"], "content_type": "image/jpeg", "size": len(PHOTO)}
    assert attachment["url"].startswith(sys.aws_url)
    downloaded = requests.get(attachment["url"], timeout=10)
    assert downloaded.status_code == 200 and downloaded.content == PHOTO
    mine = sys.http("GET", f"/complaints/{cid}", token=sys.token("C-5101", "customers")).json()
    assert [a["key"] for a in mine["attachments"]] == [form["key"]]
    # once the complaint is published as received, the upload is kept with it (no 7-day expiry)
    sys.wait_for(lambda: s3.get_object_tagging(Bucket=bucket, Key=form["key"])["TagSet"] == [
        {"Key": "state", "Value": "attached"}, {"Key": "complaint", "Value": cid}], what="the upload kept")


def test_attachments_that_are_not_the_callers_uploads_are_clear_400s(local_system: E2ESystem) -> None:
    sys = local_system
    theirs = upload_form(sys, "C-5102", "image/jpeg", len(PHOTO)).json()
    assert post_file(theirs, PHOTO, "image/jpeg") in (200, 201, 204)
    never_uploaded = upload_form(sys, "C-5103", "image/png", 1000).json()
    wrong_type = upload_form(sys, "C-5103", "image/png", len(PHOTO)).json()
    assert post_file(wrong_type, PHOTO, "image/jpeg", **{"Content-Type": "image/jpeg"}) in (200, 201, 204)
    oversize = upload_form(sys, "C-5103", "image/jpeg", len(PHOTO)).json()
    assert post_file(oversize, PHOTO + bytes(10 * 1024 * 1024), "image/jpeg") in (200, 201, 204)
    cases = {
        theirs["key"]: "not one of your uploads",
        never_uploaded["key"]: "nothing was uploaded",
        wrong_type["key"]: "uploaded as image/jpeg, not image/png",
        oversize["key"]: "image/jpeg attachments are 1 byte to 10 MiB",
        "uploads/C-5103/../../etc/passwd": "not one of your uploads",
    }
    for key, reason in cases.items():
        resp = complain(sys, "C-5103", order_id="O-BAD-ATTACHMENT", attachments=[key])
        assert resp.status == 400, (key, resp.json())
        [detail] = resp.json()["error"]["details"]
        assert detail["field"] == "attachments.0" and reason in detail["message"], (key, detail)
    listed = sys.http("GET", "/customers/C-5103/complaints", token=sys.token("C-5103", "customers")).json()
    assert listed["items"] == []


def test_uploads_are_limited_by_type_and_size(local_system: E2ESystem) -> None:
    sys = local_system
    too_big = upload_form(sys, "C-5104", "image/jpeg", 10 * 1024 * 1024 + 1)
    assert too_big.status == 400 and too_big.json()["error"]["details"][0]["field"] == "size"
    assert upload_form(sys, "C-5104", "video/mp4", 50 * 1024 * 1024).status == 201
    pdf = upload_form(sys, "C-5104", "application/pdf", 1000)
    assert pdf.status == 400 and pdf.json()["error"]["details"][0]["field"] == "content_type"
    staff = sys.http("POST", "/complaints/uploads", token=sys.token("A-7", "agents"),
                     json_body={"content_type": "image/jpeg", "size": 10})
    assert staff.status == 403


# -- integration events ----------------------------------------------------------------------------
# timeline item -> the event it stands for (docs/integration.md); "received" is implied by the ticket
PUBLISHED = {"received": "Complaint Received", "triaged": "Complaint Triaged", "escalated": "Complaint Escalated",
             "voucher_issued": "Voucher Issued", "resolved": "Complaint Resolved", "reopened": "Complaint Reopened",
             "closed": "Complaint Closed"}
FORBIDDEN = ("+8613800000000", "buyer@example.com", "push-token-secret", "杯子", "酸奶", "called, apologised",
             "12315", "很满意", "not good at all")


class Subscriber:
    """What a platform team sets up: a rule on the bus -> an SQS queue (README, "Subscribing")."""

    def __init__(self, sys: E2ESystem) -> None:
        self.sqs, events = sys.sqs, sys.client("events")
        self.url = self.sqs.create_queue(QueueName="platform-coupons")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = sys.env["EVENT_BUS_NAME"]
        pattern = {"source": ["complaints"], "detail": {"customer_id": [{"prefix": "C-5"}]}}
        events.put_rule(Name="complaint-events", EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule="complaint-events", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
        self.received: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        for _ in range(20):
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for m in messages:
                self.received.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
        return self.received

    def of(self, cid: str) -> list[dict[str, Any]]:
        return [e for e in self.drain() if e["detail"]["complaint_id"] == cid]


@pytest.fixture(scope="module")
def subscriber(local_system: E2ESystem) -> Subscriber:
    return Subscriber(local_system)


def expected_events(view: dict[str, Any]) -> list[str]:
    return [PUBLISHED[e["type"]] for e in view["timeline"] if e["type"] in PUBLISHED]


def wait_events(sys: E2ESystem, subscriber: Subscriber, cid: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The complaint's events (repeats dropped) and its staff view, once the subscriber has
    one event for each change the view shows (the stream delivers them shortly after)."""
    seen: list[Any] = [[], []]

    def caught_up() -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
        view = staff_view(sys, cid)
        got = list({e["detail"]["event_id"]: e for e in subscriber.of(cid)}.values())
        seen[:] = [[e["detail-type"] for e in got], expected_events(view)]
        return (got, view) if len(got) == len(seen[1]) else None
    try:
        return sys.wait_for(caught_up, timeout=30, what=f"the events of {cid}")
    except AssertionError as exc:
        pollers = "; ".join(p.describe() for p in sys.system.stream_pollers)
        raise AssertionError(f"{exc}; published {seen[0]}, expected {seen[1]}; the subscriber holds "
                             f"{len(subscriber.received)} events; {pollers}") from None


def check(events: list[dict[str, Any]], view: dict[str, Any]) -> None:
    """One event per change, in the order of the timeline, with no personal data or free text."""
    assert [e["detail-type"] for e in events] == expected_events(view)
    assert [e["detail"]["event_id"] for e in events] == sorted(e["detail"]["event_id"] for e in events)
    assert all(e["source"] == "complaints" for e in events)
    for e in events:
        d = e["detail"]
        assert (d["customer_id"], d["order_id"]) == (view["customer_id"], view["order_id"])
        assert {"severity", "team", "level", "time"} <= set(d)
    text = json.dumps(events, ensure_ascii=False)
    assert not [f for f in FORBIDDEN if f in text], text


def test_every_lifecycle_path_publishes_its_events_in_order(local_system: E2ESystem, subscriber: Subscriber) -> None:
    """Each path is brought to rest (resolved) before its events are compared with its timeline:
    a complaint left climbing adds an escalation every few system minutes, a target the
    subscriber, a stream hop behind, would chase."""
    sys = local_system
    contact = {"locale": "zh-CN", "phone": "+8613800000000", "email": "buyer@example.com", "push_token": "push-token-secret"}
    happy = complain(sys, "C-5201", order_id="O-EV-1", contact=contact, category="delivery_delay",
                     description="物流太慢了，一周还没到").json()["complaint_id"]
    reopened = complain(sys, "C-5202", order_id="O-EV-2", contact=contact, category="not_as_described",
                        description="颜色和图片不一样, 杯子").json()["complaint_id"]
    for cid in (happy, reopened):
        wait_status(sys, cid, "awaiting_contact")
        assert act(sys, cid, "contact", {"note": "called, apologised"}).status == 200
        assert act(sys, cid, "resolve", {"resolution": "refund", "note": "called, apologised",
                                         "refund": {"amount": "5.00", "currency": "CNY"}}).status == 200
    wait_event(sys, happy, "survey_sent")
    rate = sys.http("POST", f"/complaints/{happy}/satisfaction", token=sys.token("C-5201", "customers"),
                    json_body={"score": 5, "comment": "很满意"})
    assert rate.status == 200
    wait_event(sys, reopened, "survey_sent")
    assert sys.http("POST", f"/complaints/{reopened}/satisfaction", token=sys.token("C-5202", "customers"),
                    json_body={"score": 1, "comment": "not good at all"}).status == 200
    wait_event(sys, reopened, "reopened")
    assert act(sys, reopened, "resolve", {"resolution": "exchange"}).status == 200  # at rest again

    wait_status(sys, happy, "closed")
    events, view = wait_events(sys, subscriber, happy)
    check(events, view)
    assert [e["detail-type"] for e in events][:2] == ["Complaint Received", "Complaint Triaged"]
    assert [e["detail-type"] for e in events][-2:] == ["Complaint Resolved", "Complaint Closed"]
    assert events[-2]["detail"]["refund"] == {"amount": "5.00", "currency": "CNY"}
    assert events[-1]["detail"]["satisfaction_score"] == 5

    events, view = wait_events(sys, subscriber, reopened)
    check(events, view)
    reopen = next(e["detail"] for e in events if e["detail-type"] == "Complaint Reopened")
    assert reopen["reopen_count"] == 1 and reopen["level"] >= 1

    ignored = complain(sys, "C-5203", order_id="O-EV-3", contact=contact, description="酸奶打开有股怪味，已经变质了，孩子喝了肚子疼",
                       product={"sku": "SKU-Y1", "name": "酸奶", "kind": "food"}).json()["complaint_id"]
    wait_waiting(sys, ignored)
    assert act(sys, ignored, "escalate", {"reason": "customer threatens to call 12315"}).status == 200
    wait_event(sys, ignored, "voucher_issued")
    assert act(sys, ignored, "resolve", {"resolution": "refund"}).status == 200  # the ladder stops climbing
    events, view = wait_events(sys, subscriber, ignored)
    check(events, view)
    kinds = [e["detail-type"] for e in events]
    assert "Complaint Escalated" in kinds and "Voucher Issued" in kinds
    voucher = next(e["detail"] for e in events if e["detail-type"] == "Voucher Issued")
    assert voucher["customer_id"] == "C-5203" and voucher["currency"] == "CNY" and voucher["amount"] == "10.00"
    assert any(e["detail"].get("manual") for e in events if e["detail-type"] == "Complaint Escalated")


def test_an_event_bus_outage_loses_no_event(local_system: E2ESystem, subscriber: Subscriber,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.events.models import EventsBackend

    sys = local_system
    refused: list[int] = []

    def unavailable(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        refused.append(len(events))
        raise ConnectionError("EventBridge is down")

    monkeypatch.setattr(EventsBackend, "put_events", unavailable)
    cids = [complain(sys, f"C-53{n:02d}", order_id=f"O-OUT-{n}", category="delivery_delay",
                     description="物流太慢了").json()["complaint_id"] for n in range(3)]
    for cid in cids:
        wait_status(sys, cid, "awaiting_contact")
        assert act(sys, cid, "contact", {}).status == 200
        assert act(sys, cid, "resolve", {"resolution": "explanation"}).status == 200
    sys.wait_for(lambda: len(refused) >= 3, what="the integration function to meet the outage")
    assert all(subscriber.of(cid) == [] for cid in cids)
    monkeypatch.undo()  # the bus is back
    for cid in cids:
        events, view = wait_events(sys, subscriber, cid)
        check(events, view)
        assert "Complaint Resolved" in [e["detail-type"] for e in events]
