"""The platform integration through the whole local system (docs/integration.md): orders put
with ``python -m local orders`` verify complaints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

