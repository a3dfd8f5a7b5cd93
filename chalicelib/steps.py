"""The lifecycle Lambda's steps: what each state of ``state_machines/lifecycle.asl.json``
asks the code to do (the typed events of :mod:`chalicelib.workflow_events`). Each step loads
the ticket, applies a rule of ``lifecycle.py`` (``apply_triage``, ``on_timer``), saves it with
a version condition, sends the ticket's outbox itself (:mod:`chalicelib.outbox`) and answers
the workflow with its next wait (``plan``)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import changes, lifecycle, outbox
from chalicelib.adapters.aws import is_retryable
from chalicelib.changes import Rule
from chalicelib.lifecycle import Outcome
from chalicelib.observability import count, logger
from chalicelib.policy import ServiceLevelPolicy
from chalicelib.services import Services
from chalicelib.ticket import Ticket
from chalicelib.triage import TriageInput, triage
from chalicelib.workflow_events import (
    COMPLAINT_CLOSED,
    STEP_EVENT,
    AwaitStep,
    Recorded,
    Registered,
    StepResult,
    TimeoutStep,
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
    except changes.KeptChanging as exc:  # the ticket changed under every attempt (a drain's write too)
        raise TransientError(str(exc)) from exc
    except changes.NotFound as exc:
        raise UnknownComplaint(event.get("complaint_id")) from exc
    except Exception as exc:
        if is_retryable(exc):
            raise TransientError(str(exc)) from exc  # the ASL Retry backs off and tries again
        raise


def _commit(services: Services, complaint_id: str, rule: Rule, *, take_token: bool = False) -> changes.Applied:
    try:
        return changes.apply(services, complaint_id, rule, take_token=take_token)
    except changes.NotFound as exc:
        raise UnknownComplaint(complaint_id) from exc
    except changes.KeptChanging as exc:
        raise TransientError(str(exc)) from exc


def _planned(services: Services, ticket: Ticket) -> StepResult:
    """Send the outbox of the ticket just saved, then tell the workflow how long to wait."""
    drained = outbox.drain(services, ticket)
    return StepResult.of(drained.ticket, services.clock())


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

    return _planned(services, _commit(services, event.complaint_id, rule).ticket)


def step_await(services: Services, event: AwaitStep) -> Registered:
    """Entering a wait: send what the last action queued, then put the wait's task token on
    the ticket - only if the ticket is still as the plan saw it. If it moved since (an action
    landed in between), the wait ends at once with a fresh plan; if the complaint is closed,
    it ends with ``ComplaintClosed`` (the workflow's end, not a Lambda error)."""
    ticket = services.store.get_ticket(event.complaint_id)
    if ticket is None:
        raise UnknownComplaint(event.complaint_id)
    moved = ticket.version != event.version
    drained = outbox.drain(services, ticket)
    sent = {"sent": drained.sent, "failed": drained.failed}
    plan = StepResult.of(drained.ticket, services.clock())
    if plan.next == "closed":
        services.workflow.fail(event.token, COMPLAINT_CLOSED, f"complaint is {drained.ticket.status.value}")
        return Registered(outcome="closed", **sent)
    if not (moved or drained.moved) and services.store.set_wait_token(event.complaint_id, event.token, plan.version):
        return Registered(outcome="waiting", **sent)
    fresh = services.store.get_ticket(event.complaint_id) or drained.ticket
    services.workflow.resume(event.token, dump(StepResult.of(fresh, services.clock())))
    return Registered(outcome="resumed", **sent)


def step_timeout(services: Services, event: TimeoutStep) -> StepResult:
    """The wait ran out: do whatever is due (an action that raced the timer is already on the
    ticket, and ``on_timer`` sees it), send it, plan the next wait."""
    # the token of the wait that ended goes too: the ticket no longer says it is waiting
    return _planned(services, _commit(services, event.complaint_id, lifecycle.on_timer, take_token=True).ticket)


def step_workflow_failed(services: Services, event: WorkflowFailedStep) -> Recorded:
    kind, cause = event.error.brief()  # the class and a short message, never a stack trace
    reason = f"{kind}: {cause}" if cause else kind

    def rule(ticket: Ticket, at: datetime) -> Outcome:
        out = Outcome(ticket.model_copy(deep=True))
        out.ticket.failure, out.ticket.updated_at = reason, at
        out.event(at, "workflow_failed", "system:workflow", error=reason)
        return out

    _commit(services, event.complaint_id, rule)
    count("WorkflowFailed")
    logger.error("complaint workflow failed", extra={"complaint_id": event.complaint_id, "error": kind,
                                                     "cause": cause})
    return Recorded()


STEPS: dict[str, Callable[[Services, Any], Any]] = {
    "triage": step_triage,
    "await": step_await,
    "timeout": step_timeout,
    "workflow_failed": step_workflow_failed,
}

