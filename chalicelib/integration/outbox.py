"""The ``integration`` function: the tickets table's stream -> the event bus.

The timeline items are the outbox: each is written in the same transaction as the ticket
change it records, with the ticket's facts as of that change, so publishing needs no read and
can neither invent nor lose a change. The function gets the new timeline items of a shard in
order (the mapping's filter: ``INSERT`` of ``sk = EV#...``), maps each to its events
(:func:`chalicelib.integration.events.events_of`), and puts them 10 at a time, in order.
When the bus refuses an entry (or the call fails) it stops there and answers with that
record as the first to retry (``ReportBatchItemFailures``): the stream redelivers it and
everything after it, in order, until the bus takes them (the mapping retries without limit,
see ``infra/template.py``). Events before it may be published again - at least once, never
lost; every event carries its ``event_id`` for the subscriber to drop a repeat.

A filed complaint's attachments are marked attached (the uploads bucket's expiry no longer
applies) before its ``Complaint Received`` goes out, retried the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from chalicelib.adapters.dynamodb import load
from chalicelib.integration.events import FACTS, IntegrationEvent, complaint_id_of, events_of, is_first_triage
from chalicelib.observability import count, logger

if TYPE_CHECKING:
    from chalicelib.services import Services

BATCH = 10  # PutEvents entries a call


@dataclass(frozen=True)
class Pending:
    sequence: str  # the stream record it came from
    event: IntegrationEvent


def handle_stream(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    pending: list[Pending] = []
    stopped_at: str | None = None  # a record whose attachments could not be kept: retried from there
    for record in event.get("Records") or []:
        sequence = str(record["dynamodb"]["SequenceNumber"])
        item = _timeline_item(record)
        if item is None:
            continue
        try:
            found = events_of(item)
        except (ValidationError, KeyError, TypeError, ValueError):
            logger.exception("timeline item that is no event; skipped", extra={"sequence": sequence})
            count("IntegrationEventsSkipped")
            continue
        if found and is_first_triage(item) and item[FACTS].get("attachments"):
            try:
                services.attachments.keep(list(item[FACTS]["attachments"]), complaint_id_of(item))
            except Exception:
                logger.exception("attachments not kept yet; the stream redelivers", extra={"sequence": sequence})
                stopped_at = sequence
                break
        pending += [Pending(sequence, e) for e in found]
    failed_at = _publish(services, pending)
    retry_from = failed_at or stopped_at
    return {"batchItemFailures": [{"itemIdentifier": retry_from}] if retry_from else []}


def _timeline_item(record: dict[str, Any]) -> dict[str, Any] | None:
    data = record.get("dynamodb") or {}
    if record.get("eventName") != "INSERT" or "NewImage" not in data:
        return None
    item = load(data["NewImage"])
    return item if str(item.get("sk", "")).startswith("EV#") else None


def _publish(services: Services, pending: list[Pending]) -> str | None:
    """Put the events in order; the sequence number of the first record not fully published."""
    for start in range(0, len(pending), BATCH):
        chunk = pending[start:start + BATCH]
        try:
            failed = services.events.publish([p.event for p in chunk])
        except Exception:
            logger.exception("PutEvents failed; the stream redelivers")
            failed = list(range(len(chunk)))
        if failed:
            first = chunk[min(failed)]
            left = len(pending) - start - min(failed)
            count("IntegrationEventsFailed", value=left)
            logger.warning("events not accepted by the bus; the stream redelivers from their record",
                           extra={"complaint_id": first.event.complaint_id, "not_published": left})
            return first.sequence
        for detail_type, n in Counter(p.event.detail_type for p in chunk).items():
            count("IntegrationEventsPublished", value=n, detail_type=detail_type)
    return None
