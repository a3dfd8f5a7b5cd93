"""The platform integration through the whole local system (docs/integration.md): orders put
with ``python -m local orders`` verify complaints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from local.cli import main as local_cli
from tests.e2e.conftest import E2ESystem
from tests.e2e.helpers import COMPLAINT, staff_view, wait_status


def put_order(sys: E2ESystem, order_id: str, customer: str, amount: str, name: str, kind: str = "electronics",
              *extra: str) -> None:
    argv = ["orders", "put", "--endpoint", sys.aws_url, "--order-id", order_id, "--customer", customer,
            "--amount", amount, "--currency", "CNY", "--sku", f"SKU-{order_id}", "--name", name, "--kind", kind, *extra]
    assert local_cli(argv) == 0


def complain(sys: E2ESystem, customer: str, **changes: Any) -> Any:
    body = {**COMPLAINT, "customer_id": customer, **changes}
    return sys.http("POST", "/complaints", token=sys.token(customer, "customers"), json_body=body)


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
