"""``Services``: everything the service layer works with, passed in as its first argument.

Built once per process by :func:`chalicelib.bootstrap.services` (DynamoDB, Step Functions,
SNS/SES, the system clock) or, for tests and simulations, by
:func:`chalicelib.adapters.memory.memory_services` (in-memory adapters, any clock). Only the
entry points (``app.py``, the local CLIs) ask ``bootstrap`` for it; everything below them
receives it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib import clock, ids

if TYPE_CHECKING:  # types only: importing them costs cold start in functions that never use them
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from chalicelib.adapters.ports import (
        AttachmentStore,
        EventPublisher,
        Notifier,
        OrderDirectory,
        TicketStore,
        Workflow,
    )
    from chalicelib.reports.aggregates import AggregateWriter
    from chalicelib.reports.figures import AggregateSource


@dataclass(frozen=True)
class Services:
    store: TicketStore
    workflow: Workflow
    notifier: Notifier
    # Powertools' idempotency records of POST /complaints; a factory, because building the
    # layer imports Powertools' idempotency utility, which only intake needs.
    idempotency: Callable[[], BasePersistenceLayer]
    aggregator: AggregateWriter  # the report aggregates, as the stream changes them
    aggregates: AggregateSource  # ... as the reports read them
    orders: OrderDirectory  # the platform's orders: complaints are filled and verified from them
    attachments: AttachmentStore  # customers' photos and videos (presigned uploads, downloads)
    events: EventPublisher  # the integration event bus the platform's systems subscribe to
    clock: Callable[[], datetime] = clock.now  # the system time every record carries
    sleep: Callable[[float], None] = time.sleep  # back-off between retries
    new_id: Callable[[], str] = ids.new_complaint_id  # id of a complaint filed through the API
