"""The contract between ``state_machines/lifecycle.asl.json`` and the Lambda functions it
calls, as pydantic models: what each ``action`` of the ``lifecycle_step`` function receives
(the state's ``Parameters``/``Payload``), what a step answers (``$.step``: the next wait),
the error that ends a closed complaint's wait (``COMPLAINT_CLOSED``, caught by the ``Await``
state).

``tests/unit/test_workflow_contract.py`` binds every ``action``, every ``$.step`` field and the
errors the ASL catches to these models, so a renamed state or field fails one named test.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from chalicelib import lifecycle
from chalicelib.lifecycle import Next
from chalicelib.ticket import Ticket

# The error the ``await`` step ends a closed complaint's wait with (SendTaskFailure, not a
# Lambda error: the Errors alarm stays quiet); the ``Await`` state catches it -> ``Closed``.
COMPLAINT_CLOSED = "ComplaintClosed"


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    complaint_id: str


BRIEF_CHARS = 200


class TaskError(BaseModel):
    """What a ``Catch`` puts at ``$.error``."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    error: str | None = Field(None, alias="Error")
    cause: str = Field("", alias="Cause")

    def brief(self) -> tuple[str, str]:
        """(error class, a short message) for people: a Lambda error's ``Cause`` is a JSON
        document with the stack trace (server paths, lines) — only its ``errorMessage`` is
        kept, on one line, at most ``BRIEF_CHARS`` characters; never a traceback."""
        kind, message = self.error or "unknown", self.cause
        try:
            parsed = json.loads(self.cause) if self.cause.lstrip().startswith("{") else None
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            kind = str(parsed.get("errorType") or kind)
            message = str(parsed.get("errorMessage") or "")
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        if lines and lines[0].startswith("Traceback"):
            lines = lines[-1:]  # "SomeError: what happened"
        text = " ".join(lines)  # a message of several lines (a policy's problems) on one
        return kind, text if len(text) <= BRIEF_CHARS else text[:BRIEF_CHARS - 1] + "…"


class TriageStep(_Event):
    action: Literal["triage"]
    # The ServiceLevelPolicy state's Result: per severity first_contact_s, resolution_s,
    # voucher_cny, and follow_up (read into chalicelib.ticket.Policy by the triage step).
    policy: dict[str, Any]


class AwaitStep(_Event):
    """Entering a wait: the task token to put on the ticket, and the ticket version the
    workflow last saw."""

    action: Literal["await"]
    version: int
    token: str


class TimeoutStep(_Event):
    """The wait ended without an action: do whatever is due (``lifecycle.on_timer``)."""

    action: Literal["timeout"]


class WorkflowFailedStep(_Event):
    action: Literal["workflow_failed"]
    error: TaskError = TaskError()


StepEvent = Annotated[
    TriageStep | AwaitStep | TimeoutStep | WorkflowFailedStep,
    Field(discriminator="action"),
]
STEP_EVENT: TypeAdapter[StepEvent] = TypeAdapter(StepEvent)


class StepResult(BaseModel):
    """The workflow's next wait (at ``$.step``): at most ``wait_s`` seconds (the ``Await``
    state's ``TimeoutSecondsPath``), from the ticket at ``version``; ``next`` says what it
    waits for (ops read it in the execution history). Answered by the ``triage`` and
    ``timeout`` steps, and sent as the task's output by whoever ends a wait (an API action,
    or the ``await`` step itself when the ticket moved)."""

    model_config = ConfigDict(frozen=True)

    next: Next
    wait_s: int
    version: int

    @classmethod
    def of(cls, ticket: Ticket, now: datetime) -> StepResult:
        plan = lifecycle.plan(ticket, now)
        return cls(next=plan.next, wait_s=plan.wait_s, version=ticket.version)


class Registered(BaseModel):
    """The ``await`` step: ``waiting`` - the token is on the ticket; ``resumed`` - the ticket
    moved since the plan, the wait was ended at once with a fresh one; ``closed`` - the
    complaint is closed, the wait was failed with ``ComplaintClosed``."""

    outcome: Literal["waiting", "resumed", "closed"]
    sent: int = 0
    failed: int = 0


class Recorded(BaseModel):
    """A failure step: the failure is on the ticket's timeline."""

    recorded: bool = True


def dump(result: BaseModel) -> dict[str, Any]:
    """A step's answer as the state machine receives it."""
    return result.model_dump(mode="json", exclude_none=True)
