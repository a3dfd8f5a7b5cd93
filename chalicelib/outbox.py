"""Sending a ticket's outbox from the workflow step that runs (no fan-out state, no function
of its own): every step Lambda of ``state_machines/lifecycle.asl.json`` calls :func:`drain`
before it answers the workflow.

At least once, one message at a time: a message leaves the outbox (a version-conditioned
write) only after it was sent, so a step that crashes half-way is retried by the state
machine and sends only what is left. Each message is tried ``SEND_ATTEMPTS`` times with a
short back-off; one that keeps failing is recorded on the timeline as
``notification_failed`` (the error's class and a short message, never a traceback) and the
``NotificationsFailed`` metric, and the workflow goes on. A drain stops starting new sends
after ``BUDGET_S`` (a slow messaging service must not time the step out): the rest stays in
the outbox, and the workflow's next step sends it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import changes
from chalicelib.lifecycle import Outcome
from chalicelib.models import Event
from chalicelib.notifications import CustomerMessage, StaffAlert
from chalicelib.observability import count, logger
from chalicelib.services import Services
from chalicelib.ticket import Ticket

SEND_ATTEMPTS = 3
BACKOFF_S = 0.2  # before the second try; doubles before each further one
CAUSE_CHARS = 200  # of the error's message kept on the timeline
MAX_MESSAGES = 100  # per drain: a bound, far above what one step queues
# Seconds a drain may start sending new messages (the function's timeout is 30 s, one message
# takes at most 3 x 7 s): what is left stays in the outbox for the workflow's next step.
BUDGET_S = 12.0


@dataclass
class Drained:
    ticket: Ticket  # as saved after the last message left the outbox
    sent: int = 0
    failed: int = 0
    moved: bool = False  # somebody else changed the ticket while it was being drained


def drain(services: Services, ticket: Ticket) -> Drained:
    """Send the outbox of ``ticket`` (as just read or saved), oldest message first."""
    result = Drained(ticket=ticket)
    deadline = time.monotonic() + BUDGET_S
    for _ in range(MAX_MESSAGES):
        if not result.ticket.outbox or time.monotonic() > deadline:
            break
        message = result.ticket.outbox[0]
        failure = _send(services, message)
        at = services.clock()
        applied = changes.apply(services, ticket.complaint_id, _without(message, failure, at))
        result.moved |= applied.ticket.version != result.ticket.version + 1
        result.ticket = applied.ticket
        if failure is None:
            result.sent += 1
        else:
            result.failed += 1
            _report(ticket.complaint_id, message, failure)
    return result


def _send(services: Services, message: CustomerMessage | StaffAlert) -> Exception | None:
    """None once sent; the last error if every attempt failed."""
    error: Exception | None = None
    for attempt in range(SEND_ATTEMPTS):
        if attempt:
            services.sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            services.notifier.send(message)
        except Exception as exc:  # any failure of one message is that message's, never the workflow's
            error = exc
            continue
        return None
    return error


def failure_detail(message: CustomerMessage | StaffAlert, error: Exception) -> dict[str, Any]:
    """What the timeline keeps of a message that could not be sent."""
    detail = {"template": message.template, "to": message.to,
              "topic": message.topic if isinstance(message, StaffAlert) else None,
              "error": type(error).__name__, "cause": (str(error).splitlines() or [""])[0][:CAUSE_CHARS]}
    return {k: v for k, v in detail.items() if v}


def _without(message: CustomerMessage | StaffAlert, failure: Exception | None, at: datetime) -> changes.Rule:
    """The rule that takes ``message`` off the outbox (recording its failure, if any)."""

    def rule(ticket: Ticket, _now: datetime) -> Outcome:
        out = Outcome(ticket.model_copy(deep=True))
        if message in out.ticket.outbox:  # messages are only ever appended: it is still the oldest
            out.ticket.outbox.remove(message)
        if failure is not None:
            out.events.append(Event(at=at, type="notification_failed", actor="system:notify",
                                    detail=failure_detail(message, failure)))
        return out

    return rule


def _report(complaint_id: str, message: CustomerMessage | StaffAlert, error: Exception) -> None:
    count("NotificationsFailed", audience=message.to, template=message.template)
    logger.warning("notification failed", extra={"complaint_id": complaint_id, **failure_detail(message, error)})
