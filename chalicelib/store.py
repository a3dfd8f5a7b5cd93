"""DynamoDB adapter: the only module that knows how tickets, timelines, profiles and import
reports are laid out in the table (README "Table design"). Every read is a key lookup or an
index query; every state change is a conditional write.

Items of the one ticket table (pk / sk):
- ``C#<id>`` / ``TICKET``             the ticket (GSIs: by_customer, team_queue, by_order)
- ``C#<id>`` / ``EV#<time>#<n>``      its timeline, one item per event
- ``CUST#<customer>`` / ``PROFILE``    the customer's profile (tier, locale)
- ``IMPORT#<batch>`` / ``REPORT``      an import batch's report
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.models import OPEN_STATUSES, Event
from chalicelib.ticket import Ticket

TICKET_SK = "TICKET"
_ser, _de = TypeSerializer(), TypeDeserializer()
_KEYS = ("pk", "sk", "customer_pk", "created_sk", "queue_pk", "queue_sk", "order_pk")


class VersionConflict(Exception):
    """Somebody changed the ticket since it was read."""


class BadCursor(ValueError):
    """A pagination token that this service did not issue."""


def dump(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in item.items() if v is not None}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: whole ones become int again, the rest float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def load(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(_de.deserialize(v)) for k, v in item.items()}


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("invalid pagination token") from exc
    if not isinstance(key, dict) or not all(isinstance(v, dict) for v in key.values()):
        raise BadCursor("invalid pagination token")
    return key


def ticket_key(complaint_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"C#{complaint_id}"}, "sk": {"S": TICKET_SK}}


def ticket_item(ticket: Ticket) -> dict[str, Any]:
    item = ticket.model_dump(mode="json", exclude_none=True)
    item.update(
        pk=f"C#{ticket.complaint_id}",
        sk=TICKET_SK,
        customer_pk=ticket.complaint.customer_id,
        created_sk=f"{iso(ticket.created_at)}#{ticket.complaint_id}",
        order_pk=ticket.complaint.order_id,
        escalation_level=ticket.escalation_level,
    )
    due = ticket.next_due()
    if ticket.status in OPEN_STATUSES and ticket.team and due:
        item.update(queue_pk=ticket.team, queue_sk=f"{iso(due)}#{ticket.complaint_id}")
    return dump(item)


def ticket_from(item: dict[str, Any]) -> Ticket:
    data = load(item)
    for key in (*_KEYS, "escalation_level"):
        data.pop(key, None)
    return Ticket.model_validate(data)


_seq = 0


def event_item(complaint_id: str, event: Event) -> dict[str, Any]:
    global _seq
    _seq = (_seq + 1) % 1000
    sort = f"EV#{iso(event.at)}#{time.time_ns() % 10**12:012d}{_seq:03d}"
    return dump({"pk": f"C#{complaint_id}", "sk": sort, **event.model_dump(mode="json")})


class TicketStore:
    """Tickets, timelines, customer profiles and import reports in one DynamoDB table."""

    def __init__(self, ddb: Any, table: str) -> None:
        self.ddb, self.table = ddb, table

    # -- tickets ----------------------------------------------------------------------------
    def create(self, ticket: Ticket) -> bool:
        """Write a new ticket (its ``received`` event is implied); False if that id exists."""
        try:
            self.ddb.put_item(TableName=self.table, Item=ticket_item(ticket), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def create_many(self, tickets: list[Ticket]) -> set[str]:
        """Create up to 100 tickets in one transaction, each only if its id is new.
        Returns the ids that already existed (nothing of them was written)."""
        pending, existing = list(tickets), set()
        while pending:
            items = [{"Put": {"TableName": self.table, "Item": ticket_item(t),
                              "ConditionExpression": "attribute_not_exists(pk)"}} for t in pending]
            try:
                self.ddb.transact_write_items(TransactItems=items)
                return existing
            except ClientError as exc:
                reasons = exc.response.get("CancellationReasons") or []
                failed = {pending[i].complaint_id for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
                if not failed:
                    raise
                existing |= failed
                pending = [t for t in pending if t.complaint_id not in failed]
        return existing

    def get_tickets(self, complaint_ids: list[str]) -> dict[str, Ticket]:
        """Many tickets by id (BatchGetItem, 100 keys a call)."""
        found: dict[str, Ticket] = {}
        for start in range(0, len(complaint_ids), 100):
            request = {self.table: {"Keys": [ticket_key(i) for i in complaint_ids[start:start + 100]], "ConsistentRead": True}}
            for attempt in range(8):
                resp = self.ddb.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    ticket = ticket_from(item)
                    found[ticket.complaint_id] = ticket
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(2.0, 0.05 * 2**attempt))
        return found

    def save(self, ticket: Ticket, events: Iterable[Event], expected_version: int) -> Ticket:
        """Write a changed ticket and its new events, only if nobody changed it meanwhile."""
        ticket = ticket.model_copy(update={"version": expected_version + 1})
        items = [{"Put": {"TableName": self.table, "Item": ticket_item(ticket),
                          "ConditionExpression": "version = :v",
                          "ExpressionAttributeValues": {":v": {"N": str(expected_version)}}}}]
        items += [{"Put": {"TableName": self.table, "Item": event_item(ticket.complaint_id, e)}} for e in events]
        for chunk_start in range(0, len(items), 100):  # transactions hold at most 100 items
            chunk = items[chunk_start:chunk_start + 100]
            try:
                self.ddb.transact_write_items(TransactItems=chunk)
            except ClientError as exc:
                if chunk_start == 0 and (_cancelled_by_condition(exc) or _conflicting(exc)):
                    raise VersionConflict(ticket.complaint_id) from exc
                raise
        return ticket

    def set_wait_token(self, complaint_id: str, token: str, expected_version: int) -> bool:
        """Store the workflow's task token, only if the ticket is still at the version the
        workflow last saw (else an action landed meanwhile: the caller resumes at once)."""
        try:
            self.ddb.update_item(
                TableName=self.table, Key=ticket_key(complaint_id),
                UpdateExpression="SET wait_token = :t, version = version + :one",
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":t": {"S": token}, ":v": {"N": str(expected_version)}, ":one": {"N": "1"}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def add_events(self, complaint_id: str, events: Iterable[Event]) -> None:
        """Timeline entries that change nothing else (notes, failed notifications)."""
        for event in events:
            self.ddb.put_item(TableName=self.table, Item=event_item(complaint_id, event))

    def get_ticket(self, complaint_id: str) -> Ticket | None:
        resp = self.ddb.get_item(TableName=self.table, Key=ticket_key(complaint_id), ConsistentRead=True)
        return ticket_from(resp["Item"]) if "Item" in resp else None

    def get_with_timeline(self, complaint_id: str) -> tuple[Ticket, list[Event]] | None:
        """The ticket and its whole timeline in one query on the partition."""
        ticket, events = None, []
        for item in self._query_all(KeyConditionExpression="pk = :pk",
                                    ExpressionAttributeValues={":pk": {"S": f"C#{complaint_id}"}},
                                    ConsistentRead=True):
            if item["sk"]["S"] == TICKET_SK:
                ticket = ticket_from(item)
            else:
                data = load(item)
                events.append(Event.model_validate({k: data[k] for k in ("at", "type", "actor", "detail") if k in data}))
        return (ticket, events) if ticket else None

    def delete(self, complaint_id: str) -> None:
        """Remove a ticket and its events (compensation when its workflow could not start)."""
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in self._query_all(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": f"C#{complaint_id}"}},
            ProjectionExpression="pk, sk")]
        for start in range(0, len(keys), 25):
            batch = [{"DeleteRequest": {"Key": k}} for k in keys[start:start + 25]]
            self._batch_write(batch)

    def by_customer(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        return self._page("by_customer", "customer_pk", customer_id, limit, cursor, newest_first=True)

    def team_queue(self, team: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        return self._page("team_queue", "queue_pk", team, limit, cursor, newest_first=False)

    def open_on_order(self, order_id: str, exclude: str | None = None) -> int:
        """How many open complaints the order already has."""
        count = 0
        for item in self._query_all(
            IndexName="by_order", KeyConditionExpression="order_pk = :o",
            ExpressionAttributeValues={":o": {"S": order_id}}, ProjectionExpression="complaint_id, #s",
            ExpressionAttributeNames={"#s": "status"},
        ):
            data = load(item)
            if data.get("complaint_id") != exclude and data.get("status") in {s.value for s in OPEN_STATUSES}:
                count += 1
        return count

    # -- profiles -----------------------------------------------------------------------------
    def get_profile(self, customer_id: str) -> dict[str, Any] | None:
        resp = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": f"CUST#{customer_id}"}, "sk": {"S": "PROFILE"}})
        if "Item" not in resp:
            return None
        data = load(resp["Item"])
        return {k: data[k] for k in ("customer_id", "tier", "locale", "updated_at") if k in data}

    def put_profile(self, customer_id: str, profile: dict[str, Any]) -> None:
        item = {"pk": f"CUST#{customer_id}", "sk": "PROFILE", "customer_id": customer_id, **profile}
        self.ddb.put_item(TableName=self.table, Item=dump(item))

    # -- import reports -----------------------------------------------------------------------
    def put_import_report(self, report: dict[str, Any]) -> None:
        item = {"pk": f"IMPORT#{report['batch_id']}", "sk": "REPORT", **report}
        self.ddb.put_item(TableName=self.table, Item=dump(item))

    def get_import_report(self, batch_id: str) -> dict[str, Any] | None:
        resp = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": f"IMPORT#{batch_id}"}, "sk": {"S": "REPORT"}},
                                 ConsistentRead=True)
        if "Item" not in resp:
            return None
        data = load(resp["Item"])
        data.pop("pk"), data.pop("sk")
        return data

    # -- plumbing ------------------------------------------------------------------------------
    def _page(self, index: str, key: str, value: str, limit: int, cursor: str | None,
              *, newest_first: bool) -> tuple[list[Ticket], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.table, "IndexName": index, "Limit": limit, "ScanIndexForward": not newest_first,
            "KeyConditionExpression": f"{key} = :v", "ExpressionAttributeValues": {":v": {"S": value}},
        }
        start = decode_cursor(cursor)
        if start:
            kwargs["ExclusiveStartKey"] = start
        resp = self.ddb.query(**kwargs)
        return [ticket_from(i) for i in resp.get("Items", [])], encode_cursor(resp.get("LastEvaluatedKey"))

    def _query_all(self, **kwargs: Any) -> Iterable[dict[str, Any]]:
        kwargs["TableName"] = self.table
        while True:
            resp = self.ddb.query(**kwargs)
            yield from resp.get("Items", [])
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        pending = {self.table: requests}
        for attempt in range(8):
            resp = self.ddb.batch_write_item(RequestItems=pending)
            pending = resp.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(min(2.0, 0.05 * 2**attempt))
        raise RuntimeError("DynamoDB kept items unprocessed after retries")


def _cancelled_by_condition(exc: ClientError) -> bool:
    err = exc.response.get("Error", {})
    if err.get("Code") == "ConditionalCheckFailedException":
        return True
    reasons = exc.response.get("CancellationReasons") or []
    return err.get("Code") == "TransactionCanceledException" and any(
        r.get("Code") == "ConditionalCheckFailed" for r in reasons
    )


def _conflicting(exc: ClientError) -> bool:
    """Another transaction held the item: retry like a version conflict."""
    err = exc.response.get("Error", {})
    reasons = exc.response.get("CancellationReasons") or []
    return err.get("Code") == "TransactionConflictException" or any(
        r.get("Code") == "TransactionConflict" for r in reasons
    )
