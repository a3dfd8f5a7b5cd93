"""A complaint ticket: its attributes, clocks, vouchers, satisfaction — the aggregate.

Pure domain: no I/O. The store persists it; the lifecycle rules (`lifecycle.py`) change it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from chalicelib.clock import iso
from chalicelib.models import (
    CUSTOMER_EVENTS,
    OPEN_STATUSES,
    Attachment,
    ComplaintIn,
    Event,
    OrderCheck,
    Status,
    Voucher,
)
from chalicelib.notifications import Notification

# Details of customer-facing events that only staff see.
INTERNAL_DETAIL = frozenset({"note", "reason", "level", "error"})


class Clock(BaseModel):
    """One service-level clock and its place on the escalation ladder."""

    window_s: int  # the severity's original window
    started_at: datetime
    due: datetime  # current deadline (moves one ladder window per breach)
    level: int = 0  # 0 = not breached, 1..3 = escalation level of this clock
    breached: bool = False  # the original window was missed
    stopped_at: datetime | None = None
    voucher_issued: bool = False

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @field_serializer("started_at", "due")
    def _t(self, at: datetime) -> str:
        return iso(at)

    @field_serializer("stopped_at")
    def _t2(self, at: datetime | None) -> str | None:
        return iso(at) if at else None


class FollowUpPolicy(BaseModel):
    survey_delay_s: int
    reminder_after_s: int
    answer_window_s: int


class Policy(BaseModel):
    """The service-level policy for this ticket, as read from the state machine definition."""

    first_contact_s: int = Field(gt=0)
    resolution_s: int = Field(gt=0)
    voucher_cny: Decimal
    follow_up: FollowUpPolicy

    @field_serializer("voucher_cny")
    def _v(self, amount: Decimal) -> str:
        return f"{amount:.2f}"


class Satisfaction(BaseModel):
    score: int | None = None
    comment: str = ""
    rated_at: datetime | None = None
    feedback: Literal["given", "none"] = "given"

    def public(self) -> dict[str, Any]:
        if self.feedback == "none":
            return {"score": None, "feedback": "none"}
        return {"score": self.score, "comment": self.comment, "rated_at": iso(self.rated_at) if self.rated_at else None}


class Survey(BaseModel):
    sent_at: datetime
    reminded: bool = False
    expires_at: datetime

    @field_serializer("sent_at", "expires_at")
    def _t(self, at: datetime) -> str:
        return iso(at)


class Ticket(BaseModel):
    """A complaint as the service holds it."""

    model_config = ConfigDict(validate_assignment=False)

    complaint_id: str
    complaint: ComplaintIn
    source: str = "api"
    external_id: str | None = None
    batch_id: str | None = None
    received_by: str = "customer"  # actor of the (implied) ``received`` event
    # what the order directory said of the complaint's order at intake (None: filed before
    # the directory existed); the complaint's amount and product are the directory's if verified
    order: OrderCheck | None = None
    attachments: list[Attachment] = []  # the uploads the complaint carries, as checked at intake
    tier: str = "standard"
    locale: str = "zh-CN"
    created_at: datetime
    raised_at: datetime  # when the customer complained: the clocks start here
    updated_at: datetime
    status: Status = Status.RECEIVED
    version: int = 0
    # triage
    category: str | None = None
    severity: str | None = None
    team: str | None = None
    category_source: str | None = None
    triage_reasons: list[str] = []
    policy: Policy | None = None
    # clocks and escalation
    clocks: dict[str, Clock] = {}
    manual_level: int = 0
    vouchers: list[Voucher] = []
    contacted_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: dict[str, Any] | None = None
    reopen_count: int = 0
    survey: Survey | None = None
    satisfaction: Satisfaction | None = None
    closed_at: datetime | None = None
    failure: str | None = None
    # workflow
    wait_token: str | None = None
    outbox: list[Notification] = []  # notifications decided but not yet handed to the workflow

    @field_serializer("created_at", "raised_at", "updated_at")
    def _t(self, at: datetime) -> str:
        return iso(at)

    @field_serializer("contacted_at", "resolved_at", "closed_at")
    def _t2(self, at: datetime | None) -> str | None:
        return iso(at) if at else None

    # -- derived ---------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def escalation_level(self) -> int:
        return max([self.manual_level, *(c.level for c in self.clocks.values())])

    def running_clocks(self) -> dict[str, Clock]:
        return {name: c for name, c in self.clocks.items() if c.running}

    def next_due(self) -> datetime | None:
        running = [c.due for c in self.running_clocks().values()]
        return min(running) if running else None

    def due_of(self, name: str) -> datetime | None:
        clock = self.clocks.get(name)
        return clock.due if clock and clock.running else None

    def received_event(self) -> Event:
        """The first timeline entry is implied by the ticket itself (one write per intake)."""
        detail: dict[str, Any] = {"channel": self.complaint.channel}
        if self.source != "api":
            detail.update(source=self.source, external_id=self.external_id, raised_at=iso(self.raised_at))
        return Event(at=self.created_at, type="received", actor=self.received_by, detail=detail)

    # -- views -----------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        return {
            "complaint_id": self.complaint_id,
            "customer_id": self.complaint.customer_id,
            "order_id": self.complaint.order_id,
            "status": self.status.value,
            "category": self.category or self.complaint.category,
            "severity": self.severity,
            "team": self.team,
            "escalation_level": self.escalation_level,
            "next_due": iso(d) if (d := self.next_due()) else None,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }

    def public(self, timeline: list[Event], *, staff: bool) -> dict[str, Any]:
        """The ``GET /complaints/{id}`` document; customers see only customer-facing events."""
        timeline = [self.received_event(), *timeline]
        visible = timeline if staff else [e for e in timeline if e.type in CUSTOMER_EVENTS]
        body = self.complaint.model_dump(mode="json", exclude_none=True)
        body.update(self.summary())
        fc, rs = self.clocks.get("first_contact"), self.clocks.get("resolution")
        body.update(
            {
                "first_contact_due": iso(fc.due) if fc else None,
                "resolution_due": iso(rs.due) if rs else None,
                "source": self.source,
                "order_verified": bool(self.order and self.order.verified),
                "triage": {"category_source": self.category_source, "reasons": self.triage_reasons}
                if staff
                else {"category_source": self.category_source},
                "vouchers": [v.model_dump(mode="json") for v in self.vouchers],
                "satisfaction": self.satisfaction.public() if self.satisfaction else None,
                "reopen_count": self.reopen_count,
                "resolution": self.resolution,
                "contacted_at": iso(self.contacted_at) if self.contacted_at else None,
                "resolved_at": iso(self.resolved_at) if self.resolved_at else None,
                "closed_at": iso(self.closed_at) if self.closed_at else None,
                "timeline": [_public_event(e, staff) for e in visible],
            }
        )
        if staff:
            body["tier"] = self.tier
            body["external_id"] = self.external_id
            body["clocks"] = {k: v.model_dump(mode="json") for k, v in self.clocks.items()}
            body["order"] = self.order.model_dump(mode="json") if self.order else {"verified": False, "differences": []}
            if self.failure:
                body["failure"] = self.failure
        return body


def _public_event(event: Event, staff: bool) -> dict[str, Any]:
    data = event.model_dump(mode="json")
    if staff:  # what the customer never sees of it (the agent console marks it "internal")
        data["internal"] = event.type not in CUSTOMER_EVENTS
        if not data["internal"] and (hidden := sorted(event.detail.keys() & INTERNAL_DETAIL)):
            data["internal_detail"] = hidden
    else:
        data["detail"] = {k: v for k, v in event.detail.items() if k not in INTERNAL_DETAIL}
        if not event.actor.startswith(("customer:", "agent:", "system")):
            data["actor"] = "staff"
    return data

