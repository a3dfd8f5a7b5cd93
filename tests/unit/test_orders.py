"""The order directory on the in-memory adapters: a complaint takes its order's amount and
product (severity decided on them), another customer's order is not found, an unknown order
is taken as sent and marked unverified; imports are verified the same way; the prefill."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib import importer, intake, queries
from chalicelib.adapters.memory import MemoryOrderDirectory
from chalicelib.ids import imported_complaint_id
from chalicelib.orders import Order, OrderNotFound, OrderOfAnotherCustomer, prefill, verify
from tests.unit.conftest import BODY, CUSTOMER, Fakes

PHONE = Order.model_validate({
    "order_id": "O-PHONE", "customer_id": "C-1001", "amount": "12999.00", "currency": "CNY",
    "items": [{"sku": "SKU-P", "name": "折叠屏手机", "kind": "electronics"}],
    "paid_at": "2026-11-18T03:00:00Z", "delivered_at": "2026-11-20T09:30:00Z", "carrier": "SF Express",
    "tracking_number": "SF1234567890",
})
MUG = Order.model_validate({
    "order_id": "O-MUG", "customer_id": "C-1001", "amount": "59.00",
    "items": [{"sku": "SKU-M", "name": "玻璃水杯", "kind": "home"}, {"sku": "SKU-L", "name": "杯盖", "kind": "home"}],
})


def directory(fakes: Fakes) -> MemoryOrderDirectory:
    orders = fakes.services.orders
    assert isinstance(orders, MemoryOrderDirectory)
    return orders


@pytest.fixture
def known(fakes: Fakes) -> Fakes:
    directory(fakes).put(PHONE)
    directory(fakes).put(MUG)
    return fakes


def test_the_fake_keeps_copies_and_answers_unknown_ids_with_none() -> None:
    orders = MemoryOrderDirectory([PHONE])
    found = orders.get("O-PHONE")
    assert found == PHONE and found is not PHONE
    assert orders.get("O-NONE") is None
    assert orders.get_many(["O-PHONE", "O-NONE", "O-PHONE"]) == {"O-PHONE": PHONE}


def test_an_order_needs_an_id_a_customer_an_amount_and_items() -> None:
    with pytest.raises(ValidationError) as exc:
        Order.model_validate({"order_id": "O-1", "customer_id": "", "amount": "-1", "items": []})
    assert {e["loc"][0] for e in exc.value.errors()} == {"customer_id", "amount", "items"}


def test_a_known_order_replaces_what_the_customer_claimed_and_notes_the_differences() -> None:
    from chalicelib.models import ComplaintIn

    claimed = ComplaintIn.model_validate({**BODY, "order_id": "O-PHONE", "order_amount": {"amount": "59.00"},
                                          "product": {"sku": "SKU-P", "name": "便宜手机壳", "kind": "other"}})
    complaint, check = verify(claimed, PHONE)
    assert complaint.order_amount is not None and complaint.order_amount.amount == Decimal("12999.00")
    assert complaint.product is not None and complaint.product.model_dump() == {
        "sku": "SKU-P", "name": "折叠屏手机", "kind": "electronics"}
    assert check.verified and check.carrier == "SF Express" and check.delivered_at is not None
    assert len(check.differences) == 3  # amount, name, kind (the SKU matched)
    assert "59.00" in check.differences[0] and "12999.00" in check.differences[0]


def test_another_customers_order_is_not_found_and_nothing_is_stored(known: Fakes) -> None:
    with pytest.raises(OrderOfAnotherCustomer):
        intake.submit(known.services, {**BODY, "customer_id": "C-2002", "order_id": "O-PHONE"}, "C-2002", None)
    assert known.store.by_customer("C-2002", 10, None) == ([], None)
    assert known.workflow.starts == []


def test_a_59_cny_claim_on_a_12999_cny_order_is_a_p1(known: Fakes) -> None:
    cid = known.file(order_id="O-PHONE", order_amount={"amount": "59.00", "currency": "CNY"})
    known.triage(cid)
    ticket = known.store.get_ticket(cid)
    assert ticket is not None and ticket.severity == "P1"
    assert ticket.complaint.order_amount is not None and ticket.complaint.order_amount.amount == Decimal("12999.00")
    assert any("the customer sent 59.00 CNY" in r for r in ticket.triage_reasons)
    staff = ticket.public([], staff=True)
    assert staff["order_verified"] is True
    assert staff["order"]["verified"] is True and staff["order"]["amount"] == {"amount": "12999.00", "currency": "CNY"}
    assert staff["order"]["product"]["name"] == "折叠屏手机" and staff["order"]["carrier"] == "SF Express"
    assert staff["order"]["delivered_at"] == "2026-11-20T09:30:00Z" and staff["order"]["differences"]
    customer = ticket.public([], staff=False)
    assert "order" not in customer and "reasons" not in customer["triage"]  # the differences are staff-only


def test_a_12999_cny_claim_on_a_59_cny_order_is_a_p3(known: Fakes) -> None:
    cid = known.file(order_id="O-MUG", order_amount={"amount": "12999.00", "currency": "CNY"},
                     description="杯子颜色和图片不太一样")
    known.triage(cid)
    ticket = known.store.get_ticket(cid)
    assert ticket is not None and ticket.severity == "P3"
    assert ticket.complaint.order_amount is not None and ticket.complaint.order_amount.amount == Decimal("59.00")


def test_the_item_the_customer_named_is_the_product(known: Fakes) -> None:
    cid = known.file(order_id="O-MUG", product={"sku": "SKU-L"})
    ticket = known.store.get_ticket(cid)
    assert ticket is not None and ticket.complaint.product is not None and ticket.complaint.product.name == "杯盖"


def test_an_unknown_order_is_accepted_as_sent_and_unverified(known: Fakes) -> None:
    cid = known.file(order_id="O-NEW", order_amount={"amount": "20000.00"})
    known.triage(cid)
    ticket = known.store.get_ticket(cid)
    assert ticket is not None and ticket.order is not None and not ticket.order.verified
    assert ticket.severity == "P1"  # the claim is all there is (the directory may lag)
    assert ticket.public([], staff=False)["order_verified"] is False
    assert any("unverified" in r for r in ticket.triage_reasons)


def test_intake_reads_the_order_once(known: Fakes) -> None:
    before = directory(known).reads
    known.file(order_id="O-PHONE")
    assert directory(known).reads == before + 1


def test_the_prefill_is_the_customers_own_order_only(known: Fakes) -> None:
    shown = queries.order_prefill(known.services, "O-PHONE", CUSTOMER)
    assert shown == prefill(PHONE).model_dump(mode="json")
    assert shown["product"] == {"sku": "SKU-P", "name": "折叠屏手机", "kind": "electronics"}
    assert shown["amount"] == {"amount": "12999.00", "currency": "CNY"} and shown["delivered"] is True
    assert shown["carrier"] == "SF Express"
    other = CUSTOMER.model_copy(update={"username": "C-2002"})
    with pytest.raises(OrderNotFound):
        queries.order_prefill(known.services, "O-PHONE", other)
    with pytest.raises(OrderNotFound):
        queries.order_prefill(known.services, "O-NONE", CUSTOMER)


def _batch(records: list[dict[str, Any]]) -> str:
    base = {"raised_at": "2026-11-22T07:00:00Z", "channel": "marketplace", "desired_outcome": "refund",
            "description": "包裹一直没收到"}
    return json.dumps({"source": "generic", "batch_id": "b-orders", "exported_at": "2026-11-22T07:30:00Z",
                       "records": [{**base, **r} for r in records]})


def test_imports_are_verified_against_the_directory(known: Fakes) -> None:
    report = importer.import_batch(known.services, _batch([
        {"external_id": "E1", "customer_id": "C-1001", "order_id": "O-PHONE", "order_amount": {"amount": "1.00"}},
        {"external_id": "E2", "customer_id": "C-9", "order_id": "O-PHONE"},  # somebody else's order
        {"external_id": "E3", "customer_id": "C-9", "order_id": "O-UNKNOWN"},
    ]))
    assert report["created"] == 2
    assert [(r["index"], r["external_id"]) for r in report["rejected"]] == [(1, "E2")]
    assert "order_id" in report["rejected"][0]["reason"]
    verified = known.store.get_ticket(imported_complaint_id("generic", "E1"))
    assert verified is not None and verified.order is not None and verified.order.verified
    assert verified.complaint.order_amount is not None and verified.complaint.order_amount.amount == Decimal("12999.00")
    unverified = known.store.get_ticket(imported_complaint_id("generic", "E3"))
    assert unverified is not None and unverified.order is not None and not unverified.order.verified
    assert directory(known).reads == 1  # one batch lookup for the whole batch
