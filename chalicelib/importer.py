"""Marketplace batch import: one SQS message = one batch of one marketplace (docs/import.md).

Per message: map every record through its adapter (a bad record is rejected with its reason,
the others go on), verify them against the order directory (one ``BatchGetItem``: a known
order gives the amount and product, another customer's order rejects the record), create the new complaints with conditional writes in transactions of up
to 100 (a complaint's identity is ``source + dispute id``, so a redelivered or overlapping
batch creates nothing twice), start one lifecycle execution per new complaint (named after
it: never two), and write the batch's import report. A message that is not a batch, or that
hits a transient AWS error that outlasts the retries, is reported failed on its own
(``batchItemFailures``) and comes back; after ``maxReceiveCount`` receives it is dead-lettered.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib import attachments
from chalicelib.adapters.ports import WorkflowUnavailable
from chalicelib.clock import iso
from chalicelib.config import IMPORT_MAX_RECEIVE_COUNT, RAISED_AT_HORIZON, RAISED_AT_SKEW
from chalicelib.ids import imported_complaint_id
from chalicelib.intake import new_ticket
from chalicelib.marketplaces import BatchInvalid, ImportedComplaint, RecordRejected, map_record, parse_batch
from chalicelib.models import Attachment, OrderCheck, Status
from chalicelib.observability import count, logger
from chalicelib.orders import OrderNotFound, verify
from chalicelib.services import Services
from chalicelib.ticket import Ticket
from chalicelib.uploads import AttachmentRejected

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

TRANSACTION_SIZE = 100
START_ATTEMPTS = 4


class ImportIncomplete(Exception):
    """Part of the batch could not be finished now; the message comes back through SQS."""


def import_batch(services: Services, body: str) -> dict[str, Any]:
    batch = parse_batch(body)
    store = services.store
    mapped: list[tuple[int, ImportedComplaint]] = []
    rejected: list[dict[str, Any]] = []
    seen: set[str] = set()
    in_batch_duplicates = 0
    at = services.clock()
    for index, raw in enumerate(batch.records):
        try:
            record = map_record(batch.source, index, raw)
            _within_horizon(record, at)
        except RecordRejected as exc:
            rejected.append({"index": index, "external_id": exc.external_id, "reason": exc.reason})
            continue
        if record.external_id in seen:
            in_batch_duplicates += 1
            continue
        seen.add(record.external_id)
        mapped.append((index, record))

    tickets: list[Ticket] = []
    known = services.orders.get_many([r.complaint.order_id for _, r in mapped]) if mapped else {}
    for index, record in mapped:
        try:  # the order directory's amount and product, where it knows the order
            complaint, check = verify(record.complaint, known.get(record.complaint.order_id))
            files = attachments.checked(services, complaint.customer_id, complaint.attachments)
        except OrderNotFound:
            rejected.append({"index": index, "external_id": record.external_id,
                             "reason": "order_id: no such order of this customer in the order directory"})
            continue
        except AttachmentRejected as exc:
            rejected.append({"index": index, "external_id": record.external_id, "reason": str(exc)})
            continue
        tickets.append(_ticket(record.model_copy(update={"complaint": complaint}), batch.batch_id, at, check, files))
    existing_ids: set[str] = set()
    for start in range(0, len(tickets), TRANSACTION_SIZE):
        existing_ids |= store.create_many(tickets[start:start + TRANSACTION_SIZE])

    existing = store.get_tickets(sorted(existing_ids)) if existing_ids else {}
    ours_before = [t for t in existing.values() if t.batch_id == batch.batch_id]  # a redelivery of this batch
    duplicates = in_batch_duplicates + len(existing) - len(ours_before)
    created = [t for t in tickets if t.complaint_id not in existing_ids]
    # Every complaint still waiting for its workflow gets it now (start is idempotent by name).
    to_start = created + [t for t in existing.values() if t.status is Status.RECEIVED]
    failed_starts = [t.complaint_id for t in to_start if not _start(services, t)]

    report = {
        "batch_id": batch.batch_id, "source": batch.source, "exported_at": iso(batch.exported_at),
        "received": len(batch.records), "created": len(created) + len(ours_before), "duplicates": duplicates,
        "rejected": sorted(rejected, key=lambda r: r["index"]), "pending_workflows": len(failed_starts), "imported_at": iso(services.clock()),
    }
    store.put_import_report(report)
    count("ImportRecordsReceived", value=len(batch.records), source=batch.source)
    count("ImportRecordsRejected", value=len(rejected), source=batch.source)
    count("ComplaintsReceived", value=len(created), channel="marketplace", source=batch.source)
    if failed_starts:
        raise ImportIncomplete(f"{len(failed_starts)} workflows could not be started yet")
    return report


def _within_horizon(record: ImportedComplaint, at: datetime) -> None:
    """A complaint raised long before intake would start its clocks years overdue; one
    raised after intake is a wrong clock or zone. Both are rejected with the reason."""
    if record.raised_at < at - RAISED_AT_HORIZON:
        raise RecordRejected(f"raised_at: {iso(record.raised_at)} is more than {RAISED_AT_HORIZON.days} days before "
                             f"intake ({iso(at)}); older complaints are not imported", record.external_id)
    if record.raised_at > at + RAISED_AT_SKEW:
        raise RecordRejected(f"raised_at: {iso(record.raised_at)} is after intake ({iso(at)})", record.external_id)


def _ticket(record: ImportedComplaint, batch_id: str, at: datetime, check: OrderCheck,
            files: list[Attachment]) -> Ticket:
    return new_ticket(record.complaint, complaint_id=imported_complaint_id(record.source, record.external_id),
                      received_by=f"import:{record.source}", source=record.source, at=at,
                      external_id=record.external_id, batch_id=batch_id, raised_at=record.raised_at, order=check,
                      attachments=files)


def _start(services: Services, ticket: Ticket) -> bool:
    for attempt in range(START_ATTEMPTS):
        try:
            services.workflow.start(ticket.complaint_id)
            return True
        except WorkflowUnavailable:
            services.sleep(min(2.0, 0.1 * 2**attempt))
    logger.warning("workflow start failed after retries", extra={"complaint_id": ticket.complaint_id})
    return False


def handle_sqs(services: Services, event: dict[str, Any], context: Any = None) -> PartialItemFailureResponse:
    """The SQS handler: a partial batch response, one message failing on its own."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    def record_handler(record: SQSRecord) -> dict[str, Any]:
        try:
            return import_batch(services, record.body)
        except BatchInvalid as exc:
            logger.error("import message is not a batch", extra={"message_id": record.message_id, "reason": exc.reason})
            _maybe_dead_letter(record)
            raise
        except Exception:
            logger.exception("import message failed", extra={"message_id": record.message_id})
            _maybe_dead_letter(record)
            raise

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS), context=context)


def _maybe_dead_letter(record: Any) -> None:
    receives = int(record.attributes.approximate_receive_count or 0)
    if receives >= IMPORT_MAX_RECEIVE_COUNT:
        count("ImportMessagesDeadLettered")
