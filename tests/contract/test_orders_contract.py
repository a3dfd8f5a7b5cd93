"""One contract, two order directories: the in-memory one and the ``complaints-<stage>-orders``
table the template declares, on moto."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chalicelib.adapters.memory import MemoryOrderDirectory
from chalicelib.adapters.orders import DynamoDBOrderDirectory
from chalicelib.adapters.ports import OrderDirectory
from chalicelib.orders import Order
from infra.resources import names


def order(n: int, customer: str = "C-1", **extra: Any) -> Order:
    return Order.model_validate({
        "order_id": f"O-{n}", "customer_id": customer, "amount": f"{n}999.50", "currency": "CNY",
        "items": [{"sku": f"SKU-{n}", "name": f"商品{n}", "kind": "electronics"}, {"sku": "SKU-X", "name": "配件"}],
        **extra,
    })


class TestMemoryOrders:
    @pytest.fixture
    def orders(self) -> OrderDirectory:
        return MemoryOrderDirectory()

    def test_an_order_round_trips_with_exact_amounts_times_and_chinese(self, orders: OrderDirectory) -> None:
        full = order(1, paid_at="2026-11-18T03:00:00Z", delivered_at="2026-11-20T09:30:00Z", carrier="顺丰速运",
                     tracking_number="SF1234567890")
        orders.put(full)
        found = orders.get("O-1")
        assert found == full
        assert found is not None and found.amount == Decimal("1999.50") and found.items[1].kind == "other"
        assert found.delivered_at is not None and found.delivered_at.isoformat() == "2026-11-20T09:30:00+00:00"

    def test_an_unknown_order_is_none(self, orders: OrderDirectory) -> None:
        assert orders.get("O-404") is None
        assert orders.get_many(["O-404"]) == {}

    def test_put_replaces_and_get_many_returns_the_known_ones(self, orders: OrderDirectory) -> None:
        orders.put(order(1))
        orders.put(order(1, customer="C-2"))
        orders.put(order(2))
        found = orders.get_many(["O-1", "O-2", "O-3", "O-1"])
        assert set(found) == {"O-1", "O-2"} and found["O-1"].customer_id == "C-2"
        assert found["O-2"].delivered_at is None


class TestDynamoDBOrders(TestMemoryOrders):
    @pytest.fixture
    def orders(self, ddb: Any) -> OrderDirectory:  # type: ignore[override]  # pytest fixture with another dependency
        return DynamoDBOrderDirectory(ddb, names("test")["orders_table"])

    def test_the_item_is_the_documented_shape(self, ddb: Any) -> None:
        DynamoDBOrderDirectory(ddb, names("test")["orders_table"]).put(order(3, delivered_at="2026-11-20T09:30:00Z"))
        item = ddb.get_item(TableName=names("test")["orders_table"], Key={"order_id": {"S": "O-3"}})["Item"]
        assert item["amount"] == {"S": "3999.50"} and item["customer_id"] == {"S": "C-1"}
        assert item["delivered_at"] == {"S": "2026-11-20T09:30:00Z"} and "paid_at" not in item
        assert item["items"]["L"][0]["M"]["sku"] == {"S": "SKU-3"}
