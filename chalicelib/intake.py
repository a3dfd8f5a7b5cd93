"""Intake: a validated complaint becomes a stored ticket with a running workflow.

Order of work: the complaint's order is looked up in the order directory (one read) and the
complaint takes the order's amount and product (:func:`chalicelib.orders.verify`), its
attachments are checked (one ``HeadObject`` each), then the ticket (status ``received``; its ``received`` event is implied by it) is
written with one conditional ``PutItem``, then the lifecycle execution (named after the
complaint) is started. If the
start fails, the ticket is deleted again and the caller gets a retryable 503: no complaint
is ever stored without its workflow, and a retry with the same Idempotency-Key is safe."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from chalicelib import attachments, orders
from chalicelib.adapters.ports import WorkflowUnavailable
from chalicelib.models import Attachment, ComplaintIn, OrderCheck
from chalicelib.observability import count, logger
from chalicelib.services import Services
from chalicelib.ticket import Ticket

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

IN_PROGRESS_WAIT_S = 10.0
IDEMPOTENCY_TTL_S = 24 * 3600


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with another body."""


def new_ticket(complaint: ComplaintIn, *, complaint_id: str, received_by: str, at: datetime, source: str = "api",
               external_id: str | None = None, batch_id: str | None = None, raised_at: datetime | None = None,
               order: OrderCheck | None = None, attachments: list[Attachment] | None = None) -> Ticket:
    """A received complaint as a ticket, created ``at``; imported ones keep when the customer
    complained (``raised_at``, never later than ``at``)."""
    locale = complaint.contact.locale if complaint.contact else "zh-CN"  # triage applies the profile's
    return Ticket(complaint_id=complaint_id, complaint=complaint, source=source, external_id=external_id,
                  received_by=received_by, batch_id=batch_id, locale=locale, order=order,
                  attachments=attachments or [],
                  created_at=at, raised_at=min(raised_at or at, at), updated_at=at)


def register(services: Services, ticket: Ticket) -> bool:
    """Store the ticket and start its workflow; False if that complaint already exists."""
    if not services.store.create(ticket):
        return False
    try:
        services.workflow.start(ticket.complaint_id)
    except WorkflowUnavailable:
        logger.exception("workflow start failed; removing the ticket", extra={"complaint_id": ticket.complaint_id})
        services.store.delete(ticket.complaint_id)
        raise
    count("ComplaintsReceived", channel=ticket.complaint.channel, source=ticket.source)
    return True


def _submit(services: Services, request: dict[str, Any]) -> dict[str, Any]:
    complaint = ComplaintIn.model_validate(request["body"])
    # another customer's order: OrderNotFound, answered like an unknown id (reveals nothing)
    complaint, check = orders.verify(complaint, services.orders.get(complaint.order_id))
    files = attachments.checked(services, complaint.customer_id, complaint.attachments)  # AttachmentRejected: 400
    ticket = new_ticket(complaint, complaint_id=services.new_id(), received_by=f"customer:{request['caller']}",
                        at=services.clock(), order=check, attachments=files)
    register(services, ticket)
    location = f"/complaints/{ticket.complaint_id}"
    return {"status": 202, "location": location,
            "body": {"complaint_id": ticket.complaint_id, "status": "received", "links": {"self": location}}}


@cache
def _idempotent_submit(persistence: BasePersistenceLayer) -> tuple[Callable[..., dict[str, Any]], IdempotencyConfig]:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(event_key_jmespath="[caller, key]", payload_validation_jmespath="body",
                               expires_after_seconds=IDEMPOTENCY_TTL_S, raise_on_no_idempotency_key=True)
    submit_once = idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    return submit_once(_submit), config


def submit(services: Services, body: dict[str, Any], caller: str, idempotency_key: str | None,
           lambda_context: Any = None) -> dict[str, Any]:
    """Accept a complaint (body already validated by the caller). Same key + same body →
    the same answer and nothing new; same key + another body → IdempotencyConflict."""
    if not idempotency_key:
        return _submit(services, {"caller": caller, "body": body})
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    request = {"caller": caller, "key": idempotency_key, "body": body}
    submit_once, config = _idempotent_submit(services.idempotency())
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)  # in-progress records expire with the invocation
    deadline = time.monotonic() + IN_PROGRESS_WAIT_S
    while True:
        try:
            return submit_once(services, request=request)
        except IdempotencyValidationError as exc:
            raise IdempotencyConflict("Idempotency-Key was already used with a different request body") from exc
        except IdempotencyAlreadyInProgressError as exc:
            if time.monotonic() > deadline:  # a 409 the client retries with the same key, never a 500
                raise IdempotencyConflict("a request with this Idempotency-Key is still being processed; "
                                          "retry it shortly with the same key") from exc
            time.sleep(0.05)  # the first request is still being processed: wait for its answer


def reset() -> None:
    _idempotent_submit.cache_clear()
