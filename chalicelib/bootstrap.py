"""Wires the adapters to the AWS clients and the configuration — once per process, on first
use. Only entry points call :func:`services`; the service layer receives what it returns."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.services import Services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer


@cache
def services() -> Services:
    """The process's ``Services`` on DynamoDB, Step Functions and SNS/SES. The clients are
    created when an adapter first calls them, so a function pays only for those it uses."""
    from chalicelib.adapters.notifier import SnsSesNotifier
    from chalicelib.adapters.store import DynamoDBTicketStore
    from chalicelib.adapters.workflow import StepFunctionsWorkflow
    from chalicelib.reports.dynamodb import AggregateReader, Aggregator

    cfg = settings()
    ddb = aws.LazyClient("dynamodb")
    return Services(
        store=DynamoDBTicketStore(ddb, cfg.table_name),
        workflow=StepFunctionsWorkflow(aws.LazyClient("stepfunctions"), cfg.lifecycle_state_machine_arn),
        notifier=SnsSesNotifier(aws.LazyClient("sns"), aws.LazyClient("ses"), push_topic_arn=cfg.customer_push_topic_arn,
                                staff_topics=cfg.staff_alert_topics, email_sender=cfg.email_sender),
        idempotency=idempotency_store,
        aggregator=Aggregator(ddb, cfg.table_name),
        aggregates=AggregateReader(ddb, cfg.table_name),
    )


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
