"""What every DynamoDB adapter of the service shares: item (de)serialization, paginated
queries, and the retry of a batch's unprocessed keys/items. One copy of each."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

BATCH_GET_KEYS = 100  # BatchGetItem: at most 100 keys a call
BATCH_WRITE_ITEMS = 25  # BatchWriteItem: at most 25 requests a call
TRANSACTION_ITEMS = 100  # TransactWriteItems: at most 100 items
BATCH_ATTEMPTS = 8

_ser, _de = TypeSerializer(), TypeDeserializer()


class Unprocessed(Exception):
    """DynamoDB kept part of a batch unprocessed after every retry (throttled)."""


def dump(item: dict[str, Any]) -> dict[str, Any]:
    """Plain values -> DynamoDB attribute values (``None`` attributes are left out)."""
    return {k: _ser.serialize(v) for k, v in item.items() if v is not None}


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: whole ones become int again, the others stay
    exact Decimals; sets become lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [plain(v) for v in value]
    return value


def load(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values -> plain values (see :func:`plain`)."""
    return {k: plain(_de.deserialize(v)) for k, v in item.items()}


def query_pages(ddb: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a Query (boto3's paginator follows ``LastEvaluatedKey``)."""
    yield from ddb.get_paginator("query").paginate(**kwargs)


def query_items(ddb: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in query_pages(ddb, **kwargs):
        yield from page.get("Items", [])


def _backoff(attempt: int) -> float:
    return min(2.0, 0.05 * 2**attempt)


def batch_get(ddb: Any, table: str, keys: list[dict[str, Any]], *, consistent: bool = True,
              sleep: Callable[[float], None] = time.sleep) -> list[dict[str, Any]]:
    """The items of ``keys`` that exist (BatchGetItem, 100 keys a call, unprocessed keys
    retried with back-off; ``Unprocessed`` if DynamoDB still holds some back)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {table: {"Keys": keys[start:start + BATCH_GET_KEYS], "ConsistentRead": consistent}}
        for attempt in range(BATCH_ATTEMPTS):
            resp = ddb.batch_get_item(RequestItems=request)
            found += resp.get("Responses", {}).get(table, [])
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
            sleep(_backoff(attempt))
        if request:
            raise Unprocessed(f"BatchGetItem on {table}: keys still unprocessed after {BATCH_ATTEMPTS} attempts")
    return found


def batch_write(ddb: Any, table: str, requests: list[dict[str, Any]], *,
                sleep: Callable[[float], None] = time.sleep) -> None:
    """Put/Delete requests, 25 a call, unprocessed ones retried with back-off."""
    for start in range(0, len(requests), BATCH_WRITE_ITEMS):
        pending: dict[str, Any] = {table: requests[start:start + BATCH_WRITE_ITEMS]}
        for attempt in range(BATCH_ATTEMPTS):
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            sleep(_backoff(attempt))
        if pending:
            raise Unprocessed(f"BatchWriteItem on {table}: items still unprocessed after {BATCH_ATTEMPTS} attempts")
