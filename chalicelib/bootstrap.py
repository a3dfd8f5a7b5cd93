"""Wires the adapters to the AWS clients and configuration — once, on first use.

Each adapter's module is imported when it is first wired: the notify function, which sends
messages, does not load the ticket store and the domain models at cold start."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from chalicelib import aws
from chalicelib.config import settings

if TYPE_CHECKING:
    from chalicelib.notifier import Notifier
    from chalicelib.store import TicketStore
    from chalicelib.workflow import Workflow


@dataclass(frozen=True)
class Adapters:
    store: TicketStore
    workflow: Workflow


@cache
def adapters() -> Adapters:
    from chalicelib.store import TicketStore
    from chalicelib.workflow import Workflow

    cfg = settings()
    return Adapters(
        store=TicketStore(aws.client("dynamodb"), cfg.table_name),
        workflow=Workflow(aws.client("stepfunctions"), cfg.lifecycle_state_machine_arn),
    )


@cache
def notifier() -> Notifier:
    from chalicelib.notifier import Notifier

    cfg = settings()
    return Notifier(aws.client("sns"), aws.client("ses"), push_topic_arn=cfg.customer_push_topic_arn,
                    staff_topics=cfg.staff_alert_topics, email_sender=cfg.email_sender)


def reset() -> None:
    """Forget everything wired (tests that switch environments call this)."""
    settings.cache_clear()
    aws.reset()
    adapters.cache_clear()
    notifier.cache_clear()
