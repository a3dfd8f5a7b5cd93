"""The contract between ``state_machines/lifecycle.asl.json`` and the Lambda functions it
calls, as pydantic models: what each ``action`` of the ``lifecycle_step`` function receives
(the state's ``Parameters``/``Payload``), what a step answers (the ``Route`` choice reads
``$.step.next``), and what the ``notify`` function receives from the ``Notify`` map.

``tests/unit/test_workflow_contract.py`` binds every ``action`` and every ``Choice`` value of
the ASL to these models, so a renamed state or field fails one named test.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from chalicelib.lifecycle import Next
from chalicelib.notifications import Notification


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    complaint_id: str


class TaskError(BaseModel):
    """What a ``Catch`` puts at ``$.error``."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    error: str | None = Field(None, alias="Error")
    cause: str = Field("", alias="Cause")


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


class ResumedStep(_Event):
    action: Literal["resumed"]


class ClockExpiredStep(_Event):
    action: Literal["clock_expired"]


class SendSurveyStep(_Event):
    action: Literal["send_survey"]


class SurveyTimeoutStep(_Event):
    action: Literal["survey_timeout"]


class NotificationFailedStep(_Event):
    action: Literal["notification_failed"]
    message: dict[str, Any]  # as it was handed to the Notify map (recorded, not re-sent)
    error: TaskError = TaskError()


class WorkflowFailedStep(_Event):
    action: Literal["workflow_failed"]
    error: TaskError = TaskError()


StepEvent = Annotated[
    TriageStep | AwaitStep | ResumedStep | ClockExpiredStep | SendSurveyStep | SurveyTimeoutStep
    | NotificationFailedStep | WorkflowFailedStep,
    Field(discriminator="action"),
]
STEP_EVENT: TypeAdapter[StepEvent] = TypeAdapter(StepEvent)


class StepResult(BaseModel):
    """A step that moved the complaint: where to go next (``Route``), for how long the next
    state may wait, the ticket version it saved, and the notifications to send (``Notify``)."""

    model_config = ConfigDict(frozen=True)

    next: Next
    wait_s: int
    version: int
    notifications: list[Notification] = []


class Registered(BaseModel):
    """The ``await`` step: was the token put on the ticket (else the workflow was resumed)."""

    registered: bool


class Recorded(BaseModel):
    """A failure step: the failure is on the ticket's timeline."""

    recorded: bool = True


class NotifyEvent(BaseModel):
    """One item of the ``Notify`` map (its ``ItemSelector``)."""

    model_config = ConfigDict(frozen=True)

    complaint_id: str
    message: Notification


def dump(result: BaseModel) -> dict[str, Any]:
    """A step's answer as the state machine receives it."""
    return result.model_dump(mode="json", exclude_none=True)
