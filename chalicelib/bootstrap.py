"""Wires the adapters to the AWS clients and the configuration — once per process, on first
use. Only entry points call :func:`services`; the service layer receives what it returns."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.services import Services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from chalicelib.reports.aggregates import ApplyStats, Change
    from chalicelib.reports.dynamodb import AggregateReader, Aggregator
    from chalicelib.reports.figures import Window


@cache
def services() -> Services:
    """The process's ``Services`` on DynamoDB, Step Functions and SNS/SES. The clients are
    created when an adapter first calls them, so a function pays only for those it uses."""
    from chalicelib.adapters.attachments import S3AttachmentStore
    from chalicelib.adapters.events import EventBridgePublisher
    from chalicelib.adapters.notifier import SnsSesNotifier
    from chalicelib.adapters.orders import DynamoDBOrderDirectory
    from chalicelib.adapters.store import DynamoDBTicketStore
    from chalicelib.adapters.workflow import StepFunctionsWorkflow

    cfg = settings()
    ddb = aws.LazyClient("dynamodb")
    aggregates = ReportAggregates(ddb, cfg.table_name)
    return Services(
        store=DynamoDBTicketStore(ddb, cfg.table_name),
        workflow=StepFunctionsWorkflow(aws.LazyClient("stepfunctions"), cfg.lifecycle_state_machine_arn),
        notifier=SnsSesNotifier(aws.LazyClient("sns"), aws.LazyClient("ses"), push_topic_arn=cfg.customer_push_topic_arn,
                                staff_topics=cfg.staff_alert_topics, email_sender=cfg.email_sender),
        idempotency=idempotency_store,
        aggregator=aggregates,
        aggregates=aggregates,
        orders=DynamoDBOrderDirectory(ddb, cfg.orders_table_name),
        attachments=S3AttachmentStore(aws.LazyClient("s3"), LazyPresigner("s3"), cfg.uploads_bucket),
        events=EventBridgePublisher(aws.LazyClient("events"), cfg.event_bus_name),
    )


class LazyPresigner(aws.LazyClient):
    """``aws.presigner(service)``, created on first use."""

    def __getattr__(self, name: str) -> Any:
        return getattr(aws.presigner(self.service), name)


class ReportAggregates:
    """The report aggregates in DynamoDB (both ports), built on first use: only the API's
    report routes and the ``analytics`` function import the reports package."""

    def __init__(self, ddb: Any, table: str) -> None:
        self.ddb, self.table = ddb, table

    @cached_property
    def writer(self) -> Aggregator:
        from chalicelib.reports.dynamodb import Aggregator

        return Aggregator(self.ddb, self.table)

    @cached_property
    def reader(self) -> AggregateReader:
        from chalicelib.reports.dynamodb import AggregateReader

        return AggregateReader(self.ddb, self.table)

    def apply(self, changes: list[Change]) -> ApplyStats:
        return self.writer.apply(changes)

    def day_items(self, window: Window) -> dict[str, dict[str, Any]]:
        return self.reader.day_items(window)

    def histogram(self, window: Window, ident: str) -> dict[int, int]:
        return self.reader.histogram(window, ident)

    def counters(self, window: Window, kind: str) -> dict[str, int]:
        return self.reader.counters(window, kind)

    def in_parallel(self, calls: list[Callable[[], Any]]) -> list[Any]:
        return self.reader.in_parallel(calls)


@cache
def idempotency_store() -> BasePersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=settings().idempotency_table_name, boto3_client=aws.client("dynamodb"))


def reset() -> None:
    """Forget everything wired (tests that switch environments call this)."""
    settings.cache_clear()
    aws.reset()
    services.cache_clear()
    idempotency_store.cache_clear()
