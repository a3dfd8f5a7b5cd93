"""DynamoDB implementation of the ``OrderDirectory`` port: the ``complaints-<stage>-orders``
table the platform's order sync keeps, one item per order (docs/integration.md, "The order
directory")::

    order_id (partition key, S), customer_id (S), amount (S, "12999.00"), currency (S, "CNY"),
    items (L of M: sku, name, kind), paid_at / delivered_at (S, ISO 8601 UTC; absent = not
    yet), carrier (S), tracking_number (S)

Amounts are decimal strings, like every amount of the API, so no float ever touches money.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import batch_get, dump, load
from chalicelib.orders import Order


def order_item(order: Order) -> dict[str, Any]:
    return dump(order.model_dump(mode="json", exclude_none=True))


def order_from(item: dict[str, Any]) -> Order:
    return Order.model_validate(load(item))


class DynamoDBOrderDirectory:
    """The orders table: one ``GetItem`` per intake, one ``BatchGetItem`` per import batch."""

    def __init__(self, ddb: Any, table: str) -> None:
        self.ddb, self.table = ddb, table

    def get(self, order_id: str) -> Order | None:
        resp = self.ddb.get_item(TableName=self.table, Key={"order_id": {"S": order_id}})
        return order_from(resp["Item"]) if "Item" in resp else None

    def get_many(self, order_ids: list[str]) -> dict[str, Order]:
        keys = [{"order_id": {"S": i}} for i in sorted(set(order_ids))]
        return {o.order_id: o for o in map(order_from, batch_get(self.ddb, self.table, keys, consistent=False))}

    def put(self, order: Order) -> None:
        self.ddb.put_item(TableName=self.table, Item=order_item(order))
