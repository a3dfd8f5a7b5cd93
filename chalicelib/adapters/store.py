"""DynamoDB implementation of the ``TicketStore`` port: the only module that reads and writes
tickets, timelines, profiles and import reports in the table (key layout:
:mod:`chalicelib.adapters.layout`). Every read is a key lookup or an index query; every state
change is a conditional write.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb import TRANSACTION_ITEMS, batch_get, batch_write, dump, load, query_items
from chalicelib.adapters.layout import (
    INDEX_ATTRIBUTES,
    INDEXES,
    PROFILE_SK,
    REPORT_SK,
    TICKET_SK,
    BadCursor,
    correction_months,
    correction_pk,
    correction_sk,
    decode_cursor,
    encode_cursor,
    index_attributes,
    profile_pk,
    report_pk,
    ticket_pk,
)
from chalicelib.adapters.ports import VersionConflict
from chalicelib.clock import iso
from chalicelib.integration.events import FACTS, facts
from chalicelib.models import OPEN_STATUSES, STORED, Event
from chalicelib.ticket import Ticket
from chalicelib.triage.corrections import Correction

PROFILE_FIELDS = ("customer_id", "tier", "locale", "updated_at")
_OPEN = frozenset(s.value for s in OPEN_STATUSES)


def ticket_key(complaint_id: str) -> dict[str, Any]:
    return {"pk": {"S": ticket_pk(complaint_id)}, "sk": {"S": TICKET_SK}}


def ticket_item(ticket: Ticket) -> dict[str, Any]:
    return dump({**ticket.model_dump(mode="json", exclude_none=True), **index_attributes(ticket)})


def ticket_from(item: dict[str, Any]) -> Ticket:
    data = load(item)
    for key in INDEX_ATTRIBUTES:
        data.pop(key, None)
    return Ticket.model_validate(data, context=STORED)


_seq = 0


def correction_item(correction: Correction) -> dict[str, Any]:
    return dump({"pk": correction_pk(correction.at), "sk": correction_sk(correction.at, correction.complaint_id),
                 **correction.model_dump(mode="json")})


def event_item(complaint_id: str, event: Event, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """A timeline item; ``facts``: the ticket as of the change it records (the outbox the
    integration function publishes from, :func:`chalicelib.integration.events.facts`)."""
    global _seq
    _seq = (_seq + 1) % 1000
    sort = f"EV#{iso(event.at)}#{time.time_ns() % 10**12:012d}{_seq:03d}"
    return dump({"pk": ticket_pk(complaint_id), "sk": sort, **event.model_dump(mode="json"), FACTS: facts})


def event_from(item: dict[str, Any]) -> Event:
    data = load(item)
    return Event.model_validate({k: data[k] for k in ("at", "type", "actor", "detail") if k in data})


class DynamoDBTicketStore:
    """Tickets, timelines, customer profiles and import reports in one DynamoDB table."""

    def __init__(self, ddb: Any, table: str) -> None:
        self.ddb, self.table = ddb, table

    # -- tickets ----------------------------------------------------------------------------
    def create(self, ticket: Ticket) -> bool:
        try:
            self.ddb.put_item(TableName=self.table, Item=ticket_item(ticket), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def create_many(self, tickets: list[Ticket]) -> set[str]:
        """One transaction; the tickets whose condition failed are dropped and the rest retried."""
        pending, existing = list(tickets), set[str]()
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

    def get_ticket(self, complaint_id: str) -> Ticket | None:
        resp = self.ddb.get_item(TableName=self.table, Key=ticket_key(complaint_id), ConsistentRead=True)
        return ticket_from(resp["Item"]) if "Item" in resp else None

    def get_tickets(self, complaint_ids: list[str]) -> dict[str, Ticket]:
        items = batch_get(self.ddb, self.table, [ticket_key(i) for i in complaint_ids])
        return {t.complaint_id: t for t in map(ticket_from, items)}

    def get_with_timeline(self, complaint_id: str) -> tuple[Ticket, list[Event]] | None:
        """The ticket and its whole timeline in one query on the partition."""
        ticket, events = None, []
        for item in query_items(self.ddb, TableName=self.table, KeyConditionExpression="pk = :pk",
                                ExpressionAttributeValues={":pk": {"S": ticket_pk(complaint_id)}}, ConsistentRead=True):
            if item["sk"]["S"] == TICKET_SK:
                ticket = ticket_from(item)
            else:
                events.append(event_from(item))
        return (ticket, events) if ticket else None

    def save(self, ticket: Ticket, events: Iterable[Event], expected_version: int, *,
             corrections: Iterable[Correction] = ()) -> Ticket:
        ticket = ticket.model_copy(update={"version": expected_version + 1})
        put = {"TableName": self.table, "Item": ticket_item(ticket), "ConditionExpression": "version = :v",
               "ExpressionAttributeValues": {":v": {"N": str(expected_version)}}}
        new_events = list(events)
        if not new_events and not corrections:  # the ticket alone (a sent message off the outbox): no transaction, half the write units
            try:
                self.ddb.put_item(**put)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                    raise VersionConflict(ticket.complaint_id) from exc
                raise
            return ticket
        items = [{"Put": put}]
        items += [{"Put": {"TableName": self.table, "Item": correction_item(c)}} for c in corrections]
        items += [{"Put": {"TableName": self.table, "Item": event_item(ticket.complaint_id, e, facts(ticket, n))}}
                  for n, e in enumerate(new_events)]
        for chunk_start in range(0, len(items), TRANSACTION_ITEMS):
            chunk = items[chunk_start:chunk_start + TRANSACTION_ITEMS]
            try:
                self.ddb.transact_write_items(TransactItems=chunk)
            except ClientError as exc:
                if chunk_start == 0 and (_cancelled_by_condition(exc) or _conflicting(exc)):
                    raise VersionConflict(ticket.complaint_id) from exc
                raise
        return ticket

    def set_wait_token(self, complaint_id: str, token: str, expected_version: int) -> bool:
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
        for event in events:
            self.ddb.put_item(TableName=self.table, Item=event_item(complaint_id, event))

    def delete(self, complaint_id: str) -> None:
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in query_items(
            self.ddb, TableName=self.table, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": ticket_pk(complaint_id)}}, ProjectionExpression="pk, sk")]
        batch_write(self.ddb, self.table, [{"DeleteRequest": {"Key": k}} for k in keys])

    def by_customer(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        return self._page("by_customer", "customer_pk", customer_id, limit, cursor, newest_first=True)

    def team_queue(self, team: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        return self._page("team_queue", "queue_pk", team, limit, cursor, newest_first=False)

    def open_on_order(self, order_id: str, exclude: str | None = None) -> int:
        count = 0
        for item in query_items(
            self.ddb, TableName=self.table, IndexName="by_order", KeyConditionExpression="order_pk = :o",
            ExpressionAttributeValues={":o": {"S": order_id}}, ProjectionExpression="complaint_id, #s",
            ExpressionAttributeNames={"#s": "status"},
        ):
            data = load(item)
            if data.get("complaint_id") != exclude and data.get("status") in _OPEN:
                count += 1
        return count

    # -- profiles -----------------------------------------------------------------------------
    def get_profile(self, customer_id: str) -> dict[str, Any] | None:
        resp = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": profile_pk(customer_id)}, "sk": {"S": PROFILE_SK}})
        if "Item" not in resp:
            return None
        data = load(resp["Item"])
        return {k: data[k] for k in PROFILE_FIELDS if k in data}

    def put_profile(self, customer_id: str, profile: dict[str, Any]) -> None:
        item = {"pk": profile_pk(customer_id), "sk": PROFILE_SK, "customer_id": customer_id, **profile}
        self.ddb.put_item(TableName=self.table, Item=dump(item))

    # -- import reports -----------------------------------------------------------------------
    def put_import_report(self, report: dict[str, Any]) -> None:
        item = {"pk": report_pk(report["batch_id"]), "sk": REPORT_SK, **report}
        self.ddb.put_item(TableName=self.table, Item=dump(item))

    def get_import_report(self, batch_id: str) -> dict[str, Any] | None:
        resp = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": report_pk(batch_id)}, "sk": {"S": REPORT_SK}},
                                 ConsistentRead=True)
        if "Item" not in resp:
            return None
        data = load(resp["Item"])
        data.pop("pk"), data.pop("sk")
        return data

    # -- corrections ----------------------------------------------------------------------------
    def corrections_between(self, start: datetime, end: datetime) -> list[Correction]:
        found: list[Correction] = []
        for pk in correction_months(start, end):
            for item in query_items(
                self.ddb, TableName=self.table, KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={":pk": {"S": pk}, ":a": {"S": iso(start)}, ":b": {"S": iso(end)}},
            ):
                correction = Correction.model_validate(load(item))
                if start <= correction.at < end:
                    found.append(correction)
        return found

    # -- plumbing ------------------------------------------------------------------------------
    def _page(self, index: str, key: str, value: str, limit: int, cursor: str | None,
              *, newest_first: bool) -> tuple[list[Ticket], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.table, "IndexName": index, "Limit": limit, "ScanIndexForward": not newest_first,
            "KeyConditionExpression": f"{key} = :v", "ExpressionAttributeValues": {":v": {"S": value}},
        }
        start = decode_cursor(cursor, frozenset({"pk", "sk", key, INDEXES[index][1]}), (key, value))
        if start:
            kwargs["ExclusiveStartKey"] = start
        try:
            resp = self.ddb.query(**kwargs)  # one page: the client asked for one
        except ClientError as exc:
            if start and exc.response.get("Error", {}).get("Code") == "ValidationException":
                raise BadCursor("invalid pagination token") from exc  # a start key the table refuses
            raise
        return [ticket_from(i) for i in resp.get("Items", [])], encode_cursor(resp.get("LastEvaluatedKey"))


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
