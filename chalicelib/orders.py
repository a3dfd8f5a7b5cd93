"""The platform's orders as the order directory holds them, and how a complaint is checked
against its order (docs/integration.md): the customer never types what the platform knows,
and cannot make a 59-CNY order urgent by claiming 10,000.

Pure domain: pydantic models and functions, no boto3, no HTTP. The directory itself is a
port (:class:`chalicelib.adapters.ports.OrderDirectory`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer

from chalicelib.clock import iso
from chalicelib.models import Amount, ComplaintIn, Money, NonEmpty, OrderCheck, Product, ProductKind

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class OrderNotFound(Exception):
    """No such order of the caller (HTTP 404 ``not_found`` on ``order_id``)."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order {order_id!r}")
        self.order_id = order_id


class OrderOfAnotherCustomer(OrderNotFound):
    """The order exists but is not the caller's: answered exactly as if it did not exist."""


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: NonEmpty
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    kind: ProductKind = "other"


class Order(BaseModel):
    """One item of the ``complaints-<stage>-orders`` table, as the platform's order sync
    writes it (docs/integration.md, "The order directory")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: NonEmpty
    customer_id: NonEmpty
    amount: Amount  # what the customer paid for the whole order
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "CNY"
    items: Annotated[list[OrderItem], Field(min_length=1, max_length=100)]
    paid_at: datetime | None = None
    delivered_at: datetime | None = None  # None: not delivered (yet)
    carrier: ShortText | None = None
    tracking_number: ShortText | None = None
    expires_at: int | None = None  # epoch seconds: the table's TTL, if the sync sets it

    @field_serializer("amount")
    def _amount(self, amount: Any) -> str:
        return f"{amount:.2f}"

    @field_serializer("paid_at", "delivered_at")
    def _t(self, at: datetime | None) -> str | None:
        return iso(at) if at else None

    @property
    def money(self) -> Money:
        return Money(amount=self.amount, currency=self.currency)

    def item_for(self, sku: str | None) -> OrderItem:
        """The item a complaint is about: the one whose SKU the customer named, else the first."""
        return next((item for item in self.items if sku is not None and item.sku == sku), self.items[0])


class OrderPrefill(BaseModel):
    """``GET /orders/{order_id}/prefill``: what the complaint form shows before the customer
    types anything (the seeds' "auto-filled from the order")."""

    order_id: str
    product: Product  # the first item: what the form proposes
    items: list[Product]
    amount: Money
    delivered: bool
    delivered_at: str | None
    carrier: str | None


def prefill(order: Order) -> OrderPrefill:
    items = [Product(sku=i.sku, name=i.name, kind=i.kind) for i in order.items]
    return OrderPrefill(order_id=order.order_id, product=items[0], items=items, amount=order.money,
                        delivered=order.delivered_at is not None,
                        delivered_at=iso(order.delivered_at) if order.delivered_at else None, carrier=order.carrier)


def prefill_of(order: Order | None, order_id: str, customer_id: str) -> OrderPrefill:
    """The prefill of the customer's own order; ``OrderNotFound`` for an unknown order or
    somebody else's (the same answer: nothing is revealed)."""
    mine = owned(order, customer_id)
    if mine is None:
        raise OrderNotFound(order_id)
    return prefill(mine)


def owned(order: Order | None, customer_id: str) -> Order | None:
    """The order if it is the customer's; None if the directory does not know it;
    ``OrderOfAnotherCustomer`` if it is somebody else's."""
    if order is not None and order.customer_id != customer_id:
        raise OrderOfAnotherCustomer(order.order_id)
    return order


def verify(complaint: ComplaintIn, order: Order | None) -> tuple[ComplaintIn, OrderCheck]:
    """The complaint with its order's amount and product (what the client sent for them is
    ignored), and what the check found. An order the directory does not know leaves the
    complaint as sent, unverified (the directory may lag behind the platform)."""
    order = owned(order, complaint.customer_id)
    if order is None:
        return complaint, OrderCheck(verified=False, amount=complaint.order_amount, product=complaint.product)
    claimed = complaint.product
    item = order.item_for(claimed.sku if claimed else None)
    product = Product(sku=item.sku, name=item.name, kind=item.kind)
    amount = order.money
    differences: list[str] = []
    said = complaint.order_amount
    if said is not None and (said.amount != amount.amount or said.currency != amount.currency):
        differences.append(f"order amount: the customer sent {said.amount:.2f} {said.currency}, "
                           f"the order is {amount.amount:.2f} {amount.currency} (the order's is used)")
    if claimed is not None:
        for field in ("sku", "name", "kind"):
            sent, known = getattr(claimed, field), getattr(product, field)
            if sent is not None and sent != known:
                differences.append(f"product {field}: the customer sent {sent!r}, the order has {known!r} "
                                   "(the order's is used)")
    verified = complaint.model_copy(update={"order_amount": amount, "product": product})
    check = OrderCheck(verified=True, amount=amount, product=product, delivered_at=order.delivered_at,
                       carrier=order.carrier, differences=differences)
    return verified, check
