"""The lifecycle Lambda's steps: what each state of ``state_machines/lifecycle.asl.json``
asks the code to do (the typed events of :mod:`chalicelib.workflow_events`). Each step loads
the ticket, applies a rule of ``lifecycle.py``, saves it with a version condition, and answers
the workflow with where to go next (``plan``) and the notifications to send (the ticket's
outbox, drained)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import changes, lifecycle
from chalicelib.adapters.aws import is_retryable
from chalicelib.changes import Rule
from chalicelib.lifecycle import Outcome
from chalicelib.models import Event
from chalicelib.observability import count, logger
from chalicelib.policy import ServiceLevelPolicy
from chalicelib.services import Services
from chalicelib.ticket import Ticket
from chalicelib.triage import TriageInput, triage
from chalicelib.workflow_events import (
    STEP_EVENT,
    AwaitStep,
    ClockExpiredStep,
    NotificationFailedStep,
    Recorded,
    Registered,
    ResumedStep,
    SendSurveyStep,
    StepResult,
    SurveyTimeoutStep,
    TriageStep,
    WorkflowFailedStep,
    dump,
)


class TransientError(Exception):
    """Retry me (the ASL Retry matches this name)."""


class UnknownComplaint(Exception):
    """The workflow names a complaint the store does not have."""


def run(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    """The ``lifecycle_step`` function: the event's ``action`` names the step."""
    action = event.get("action")
    if action not in STEPS:
        raise ValueError(f"unknown lifecycle step {action!r}")
    step = STEP_EVENT.validate_python(event)
    try:
        return dump(STEPS[action](services, step))
    except Exception as exc:
        if is_retryable(exc):
            raise TransientError(str(exc)) from exc  # the ASL Retry backs off and tries again
        raise


def _commit(services: Services, complaint_id: str, rule: Rule, *, drain: bool) -> changes.Applied:
    try:
        return changes.apply(services, complaint_id, rule, drain=drain)
    except changes.NotFound as exc:
        raise UnknownComplaint(complaint_id) from exc
    except changes.KeptChanging as exc:
        raise TransientError(str(exc)) from exc


def _moved(services: Services, complaint_id: str, rule: Rule) -> StepResult:
    """Apply the rule, then tell the workflow where to go and what to send."""
    applied = _commit(services, complaint_id, rule, drain=True)
    plan = lifecycle.plan(applied.ticket, services.clock())
    return StepResult(next=plan.next, wait_s=plan.wait_s, version=applied.ticket.version,
                      notifications=applied.drained)


def _unchanged(ticket: Ticket, at: datetime) -> Outcome:
    return Outcome(ticket.model_copy(deep=True))


@functools.lru_cache(maxsize=8)
def _parsed_policy(text: str) -> ServiceLevelPolicy:
    return ServiceLevelPolicy.parse(json.loads(text), source="workflow input policy")


def workflow_policy(raw: dict[str, Any]) -> ServiceLevelPolicy:
    """The whole ``ServiceLevelPolicy`` state's output, validated (``PolicyError`` names the
    key); parsed once per warm Lambda and definition."""
    return _parsed_policy(json.dumps(raw, sort_keys=True))


# -- steps ---------------------------------------------------------------------------------------
def step_triage(services: Services, event: TriageStep) -> StepResult:
    store = services.store
    ticket = store.get_ticket(event.complaint_id)
    if ticket is None:
        raise UnknownComplaint(event.complaint_id)
    # the tier comes from the profile the service holds, never from the complaint itself
    profile = store.get_profile(ticket.complaint.customer_id) or {}
    other_open = store.open_on_order(ticket.complaint.order_id, exclude=ticket.complaint_id) > 0

    policy = workflow_policy(event.policy)

    def rule(ticket: Ticket, at: datetime) -> Outcome:
        if ticket.severity is not None:  # a retried step: already triaged
            return _unchanged(ticket, at)
        c = ticket.complaint
        tier = profile.get("tier", "standard")
        locale = c.contact.locale if c.contact else profile.get("locale", ticket.locale)
        result = triage(TriageInput(
            text=c.description,
            category=c.category,
            order_amount=c.order_amount.amount if c.order_amount and c.order_amount.currency == "CNY" else None,
            product_kind=c.product.kind if c.product else None,
            tier=tier,
            other_open_on_order=other_open,
        ))
        facts = {"tier": tier, "locale": locale, "other_open_on_order": other_open}
        return lifecycle.apply_triage(ticket.model_copy(update=facts), result, policy, at)

    return _moved(services, event.complaint_id, rule)


def step_await(services: Services, event: AwaitStep) -> Registered:
    """Register the workflow's task token on the ticket. If the ticket moved since the
    workflow last saw it (an action landed in between), resume the workflow at once."""
    if services.store.set_wait_token(event.complaint_id, event.token, event.version):
        return Registered(registered=True)
    services.workflow.resume(event.token, {"resumed": "changed_before_wait"})
    return Registered(registered=False)


def step_resumed(services: Services, event: ResumedStep) -> StepResult:
    return _moved(services, event.complaint_id, _unchanged)


def step_clock_expired(services: Services, event: ClockExpiredStep) -> StepResult:
    return _moved(services, event.complaint_id, lifecycle.clock_expired)


def step_send_survey(services: Services, event: SendSurveyStep) -> StepResult:
    return _moved(services, event.complaint_id, lifecycle.send_survey)


def step_survey_timeout(services: Services, event: SurveyTimeoutStep) -> StepResult:
    return _moved(services, event.complaint_id, lifecycle.survey_timeout)


def step_notification_failed(services: Services, event: NotificationFailedStep) -> Recorded:
    message = event.message
    detail = {"template": message.get("template"), "to": message.get("to"), "topic": message.get("topic"),
              "error": event.error.error, "cause": event.error.cause[:500]}
    services.store.add_events(event.complaint_id, [Event(at=services.clock(), type="notification_failed",
                                                         actor="system:notify",
                                                         detail={k: v for k, v in detail.items() if v})])
    count("NotificationsFailed", audience=str(message.get("to")), template=str(message.get("template")))
    logger.warning("notification failed", extra={"complaint_id": event.complaint_id, **detail})
    return Recorded()


def step_workflow_failed(services: Services, event: WorkflowFailedStep) -> Recorded:
    reason = f"{event.error.error or 'unknown'}: {event.error.cause[:500]}"

    def rule(ticket: Ticket, at: datetime) -> Outcome:
        out = Outcome(ticket.model_copy(deep=True))
        out.ticket.failure, out.ticket.updated_at = reason, at
        out.event(at, "workflow_failed", "system:workflow", error=reason)
        return out

    _commit(services, event.complaint_id, rule, drain=False)
    count("WorkflowFailed")
    logger.error("complaint workflow failed", extra={"complaint_id": event.complaint_id, "error": event.error.error,
                                                     "cause": event.error.cause})
    return Recorded()


STEPS: dict[str, Callable[[Services, Any], Any]] = {
    "triage": step_triage,
    "await": step_await,
    "resumed": step_resumed,
    "clock_expired": step_clock_expired,
    "send_survey": step_send_survey,
    "survey_timeout": step_survey_timeout,
    "notification_failed": step_notification_failed,
    "workflow_failed": step_workflow_failed,
}

