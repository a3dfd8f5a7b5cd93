"""A complaint ticket: its attributes, clocks, vouchers, satisfaction — the aggregate.

Pure domain: no I/O. The store persists it; the lifecycle rules (`lifecycle.py`) change it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    computed_field,
    field_serializer,
)

from chalicelib import copying
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
from chalicelib.policy.hours import Hours
from chalicelib.policy.model import ServiceLevelPolicy

# Details of customer-facing events that only staff see.
INTERNAL_DETAIL = frozenset({"note", "reason", "level", "error"})


class Clock(BaseModel):
    """One service-level clock, in the working time of its ``hours``, and its place on the
    escalation ladder. Its moments (``due``, ``at_risk_at``) are computed with the policy's
    calendar exactly when it starts, moves, pauses or resumes (``chalicelib.sla_clocks``)."""

    window_s: int  # the severity's original window (working seconds)
    hours: Hours = "24x7"  # the working time it runs on (the severity's hours)
    started_at: datetime
    due: datetime | None = None  # the current deadline; None while paused or once the ladder has ended
    current_window_s: int | None = None  # the window that runs now (the original, then the level's)
    level: int = 0  # 0 = not breached, 1..n = the ladder level this clock reached
    breached: bool = False  # the original window was missed
    paused_at: datetime | None = None
    remaining_s: int | None = None  # working seconds left of the current window, while paused
    spent_s: int = 0  # working seconds used of the original window, as of the last pause/stop/retriage
    at_risk_at: datetime | None = None  # when the owning team is warned about the current window
    at_risk_warned: bool = False  # ... and whether it was (once per window)
    voucher_issued: bool = False
    stopped_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented computed_field usage
    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @property
    def ticking(self) -> bool:
        """Running and not paused: only such a clock breaches, warns or escalates."""
        return self.stopped_at is None and self.paused_at is None

    @property
    def window_now_s(self) -> int:
        return self.current_window_s or self.window_s

    @field_serializer("started_at", "due", "stopped_at", "paused_at", "at_risk_at")
    def _t(self, at: datetime | None) -> str | None:
        return iso(at) if at else None


def _policy_in(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A ticket keeps its policy as the compact JSON string of ``ServiceLevelPolicy.to_ticket``
    (exact fractions, which a DynamoDB map of floats would not keep). A policy object is
    frozen and was validated when it was made: it is taken as it is, not checked again on
    every ticket read and copy."""
    if isinstance(value, str):
        return ServiceLevelPolicy.from_ticket(value)
    if isinstance(value, ServiceLevelPolicy):
        return value
    return handler(value)


TicketPolicy = Annotated[ServiceLevelPolicy, WrapValidator(_policy_in)]


class Pause(BaseModel):
    """The complaint waits for the customer (status ``pending_customer``)."""

    at: datetime
    expires_at: datetime  # resumes by itself then (``pause_expired``)
    reason: str
    by: str

    @field_serializer("at", "expires_at")
    def _t(self, at: datetime) -> str:
        return iso(at)


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
    other_open_on_order: bool = False  # what triage saw (kept for the corrections it may get)
    policy: TicketPolicy | None = None  # the policy it was triaged under (kept while it runs)
    # clocks and escalation
    clocks: dict[str, Clock] = {}
    manual_level: int = 0
    pause: Pause | None = None
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

    @field_serializer("policy")
    def _p(self, policy: ServiceLevelPolicy | None) -> str | None:
        return policy.to_ticket() if policy else None

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Ticket:
        """``model_copy(deep=True)``, each rule's own copy: times, amounts, enums and the
        (frozen) policy shared, everything else new (:mod:`chalicelib.copying`)."""
        return copying.copy_model(self)

    # -- derived ---------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def escalation_level(self) -> int:
        return max([self.manual_level, *(c.level for c in self.clocks.values())])

    def running_clocks(self) -> dict[str, Clock]:
        return {name: c for name, c in self.clocks.items() if c.running}

    def ticking_clocks(self) -> dict[str, Clock]:
        """The clocks that run and are not paused (only these breach, warn, escalate)."""
        return {name: c for name, c in self.clocks.items() if c.ticking}

    def next_due(self) -> datetime | None:
        running = [c.due for c in self.ticking_clocks().values() if c.due is not None]
        return min(running) if running else None

    def due_of(self, name: str) -> datetime | None:
        clock = self.clocks.get(name)
        return clock.due if clock and clock.ticking else None

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
        names = {} if staff else staff_display_names(visible, self.locale)
        body = self.complaint.model_dump(mode="json", exclude_none=True)
        body.update(self.summary())
        fc, rs = self.clocks.get("first_contact"), self.clocks.get("resolution")
        body.update(
            {
                "first_contact_due": iso(fc.due) if fc and fc.due else None,
                "resolution_due": iso(rs.due) if rs and rs.due else None,
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
                "timeline": [_public_event(e, staff, names) for e in visible],
            }
        )
        if staff:
            body["tier"] = self.tier
            body["external_id"] = self.external_id
            body["clocks"] = {k: v.model_dump(mode="json") for k, v in self.clocks.items()}
            body["order"] = self.order.model_dump(mode="json") if self.order else {"verified": False, "differences": []}
            body["pause"] = self.pause.model_dump(mode="json") if self.pause else None
            if self.failure:
                body["failure"] = self.failure
        return body


STAFF_ACTORS = ("agent:", "supervisor:", "ops:")
STAFF_DISPLAY = {"zh-CN": "客服 {n}", "en": "Agent {n}"}


def staff_display_names(events: list[Event], locale: str) -> dict[str, str]:
    """What a customer sees for the staff who acted on their complaint: never a username (it
    is a sign-in name) but "客服 1" / "Agent 1", "客服 2" …, numbered per complaint in the order
    they first appear — stable as the timeline grows, meaningless outside it."""
    pattern = STAFF_DISPLAY.get(locale, STAFF_DISPLAY["en"])
    names: dict[str, str] = {}
    for event in events:
        if event.actor.startswith(STAFF_ACTORS) and event.actor not in names:
            names[event.actor] = pattern.format(n=len(names) + 1)
    return names


def _public_event(event: Event, staff: bool, names: dict[str, str]) -> dict[str, Any]:
    data = event.model_dump(mode="json")
    if staff:  # what the customer never sees of it (the agent console marks it "internal")
        data["internal"] = event.type not in CUSTOMER_EVENTS
        if not data["internal"] and (hidden := sorted(event.detail.keys() & INTERNAL_DETAIL)):
            data["internal_detail"] = hidden
    else:
        data["detail"] = {k: v for k, v in event.detail.items() if k not in INTERNAL_DETAIL}
        if event.actor in names:
            data["actor"], data["actor_name"] = "staff", names[event.actor]
        elif not event.actor.startswith(("customer:", "system")):
            data["actor"] = "staff"
    return data

