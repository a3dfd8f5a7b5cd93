"""The lifecycle Lambda's steps: what each state of ``state_machines/lifecycle.asl.json``
asks the code to do. Each step loads the ticket, applies a rule of ``lifecycle.py``, saves
it with a version condition, and answers the workflow with where to go next (``plan``) and
the notifications to send (the ticket's outbox, drained)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import changes, lifecycle
from chalicelib.bootstrap import adapters
from chalicelib.changes import Rule
from chalicelib.clock import now
from chalicelib.lifecycle import Outcome
from chalicelib.models import Event
from chalicelib.observability import count, logger
from chalicelib.store import TicketStore
from chalicelib.ticket import Policy, Ticket
from chalicelib.triage import TriageInput, triage


class TransientError(Exception):
    """Retry me (the ASL Retry matches this name)."""


class UnknownComplaint(Exception):
    """The workflow names a complaint the store does not have."""


RETRYABLE_AWS_ERRORS = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "TransactionConflictException", "InternalServerError", "ServiceUnavailable", "TooManyRequestsException",
})


def run(event: dict[str, Any]) -> dict[str, Any] | None:
    action = event["action"]
    handler = STEPS.get(action)
    if handler is None:
        raise ValueError(f"unknown lifecycle step {action!r}")
    try:
        return handler(event)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in RETRYABLE_AWS_ERRORS:
            raise TransientError(str(exc)) from exc  # the ASL Retry backs off and tries again
        raise


def _commit(complaint_id: str, rule: Rule, *, drain: bool) -> tuple[Ticket, list[dict[str, Any]]]:
    try:
        applied = changes.apply(complaint_id, rule, drain=drain)
    except changes.NotFound as exc:
        raise UnknownComplaint(complaint_id) from exc
    except changes.KeptChanging as exc:
        raise TransientError(str(exc)) from exc
    return applied.ticket, applied.drained


def _step(ticket: Ticket, notifications: list[dict[str, Any]]) -> dict[str, Any]:
    return {**lifecycle.plan(ticket, now()), "version": ticket.version, "notifications": notifications}


# -- steps ---------------------------------------------------------------------------------------
def step_triage(event: dict[str, Any]) -> dict[str, Any]:
    complaint_id = event["complaint_id"]
    policy_table = event["policy"]
    store = adapters().store
    ticket = store.get_ticket(complaint_id)
    if ticket is None:
        raise UnknownComplaint(complaint_id)
    # the tier comes from the profile the service holds, never from the complaint itself
    profile = store.get_profile(ticket.complaint.customer_id) or {}
    other_open = _other_open(store, ticket)

    def rule(ticket: Ticket, at: datetime) -> Outcome:
        if ticket.severity is not None:  # a retried step: already triaged
            return Outcome(ticket.model_copy(deep=True))
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
        policy = Policy(follow_up=policy_table["follow_up"], **policy_table[result.severity])
        return lifecycle.apply_triage(ticket.model_copy(update={"tier": tier, "locale": locale}), result, policy, at)

    ticket, sent = _commit(complaint_id, rule, drain=True)
    return _step(ticket, sent)


def _other_open(store: TicketStore, ticket: Ticket) -> bool:
    return store.open_on_order(ticket.complaint.order_id, exclude=ticket.complaint_id) > 0


def step_await(event: dict[str, Any]) -> dict[str, Any]:
    """Register the workflow's task token on the ticket. If the ticket moved since the
    workflow last saw it (an action landed in between), resume the workflow at once."""
    a = adapters()
    if a.store.set_wait_token(event["complaint_id"], event["token"], int(event["version"])):
        return {"registered": True}
    a.workflow.resume(event["token"], {"resumed": "changed_before_wait"})
    return {"registered": False}


def step_resumed(event: dict[str, Any]) -> dict[str, Any]:
    ticket, sent = _commit(event["complaint_id"], lambda t, at: Outcome(t.model_copy(deep=True)), drain=True)
    return _step(ticket, sent)


def step_clock_expired(event: dict[str, Any]) -> dict[str, Any]:
    ticket, sent = _commit(event["complaint_id"], lifecycle.clock_expired, drain=True)
    return _step(ticket, sent)


def step_send_survey(event: dict[str, Any]) -> dict[str, Any]:
    ticket, sent = _commit(event["complaint_id"], lifecycle.send_survey, drain=True)
    return _step(ticket, sent)


def step_survey_timeout(event: dict[str, Any]) -> dict[str, Any]:
    ticket, sent = _commit(event["complaint_id"], lifecycle.survey_timeout, drain=True)
    return _step(ticket, sent)


def step_notification_failed(event: dict[str, Any]) -> dict[str, Any]:
    message, error = event.get("message") or {}, event.get("error") or {}
    detail = {"template": message.get("template"), "to": message.get("to"),
              "topic": message.get("topic"), "error": error.get("Error"), "cause": str(error.get("Cause", ""))[:500]}
    adapters().store.add_events(event["complaint_id"], [Event(at=now(), type="notification_failed", actor="system:notify",
                                                              detail={k: v for k, v in detail.items() if v})])
    count("NotificationsFailed", audience=str(message.get("to")), template=str(message.get("template")))
    logger.warning("notification failed", extra={"complaint_id": event["complaint_id"], **detail})
    return {"recorded": True}


def step_workflow_failed(event: dict[str, Any]) -> dict[str, Any]:
    error = event.get("error") or {}
    cause = str(error.get("Cause", ""))
    reason = f"{error.get('Error', 'unknown')}: {cause[:500]}"

    def rule(ticket: Ticket, at: datetime) -> Outcome:
        out = Outcome(ticket.model_copy(deep=True))
        out.ticket.failure, out.ticket.updated_at = reason, at
        out.event(at, "workflow_failed", "system:workflow", error=reason)
        return out

    _commit(event["complaint_id"], rule, drain=False)
    count("WorkflowFailed")
    logger.error("complaint workflow failed", extra={"complaint_id": event["complaint_id"], "error": error.get("Error"),
                                                     "cause": cause})
    return {"recorded": True}


STEPS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "triage": step_triage,
    "await": step_await,
    "resumed": step_resumed,
    "clock_expired": step_clock_expired,
    "send_survey": step_send_survey,
    "survey_timeout": step_survey_timeout,
    "notification_failed": step_notification_failed,
    "workflow_failed": step_workflow_failed,
}
