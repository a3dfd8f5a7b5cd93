"""The documents the HTTP API answers with (docs/api.md), as pydantic models: the OpenAPI
document's response schemas are generated from them (``chalicelib/openapi.py``) and the
end-to-end tests hold every live answer to those schemas (schemathesis).

A response may carry more fields than listed (docs/api.md): every model here allows extra
fields, and the listed ones are required. Pure models: no HTTP, no boto3.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.models import (
    Category,
    Channel,
    Contact,
    DesiredOutcome,
    Locale,
    Money,
    Product,
    Query,
    Severity,
    Status,
    Team,
    Tier,
)

Time = datetime  # ISO 8601 UTC with whole seconds: 2026-11-22T08:15:00Z


class Document(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- errors ------------------------------------------------------------------------------------
class ErrorDetail(Document):
    field: str = Field(description="the field or parameter at fault ('' for the whole body)")
    message: str


class ErrorInfo(Document):
    code: str = Field(description="validation_error, malformed_json, unauthorized, forbidden, not_found, "
                                  "method_not_allowed, conflict, payload_too_large, unsupported_media_type, "
                                  "service_unavailable, internal_error")
    message: str
    details: list[ErrorDetail]


class ErrorBody(Document):
    """Every error: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorInfo


# -- health, intake ----------------------------------------------------------------------------
class Health(Document):
    status: Literal["ok"]


class Links(Document):
    self: str


class Accepted(Document):
    """``POST /complaints`` → 202 (the complaint is stored and its workflow started)."""

    complaint_id: str
    status: Literal["received"]
    links: Links


# -- complaints --------------------------------------------------------------------------------
class Summary(Document):
    """A complaint in a list, and the answer of the staff actions."""

    complaint_id: str
    customer_id: str
    order_id: str
    status: Status
    category: Category | None
    severity: Severity | None
    team: Team | None
    escalation_level: int = Field(ge=0, le=3)
    next_due: Time | None
    created_at: Time
    updated_at: Time


class ComplaintPage(Document):
    items: list[Summary]
    next: str | None = Field(description="pass back as ?next= for the following page; null on the last")


class TimelineEvent(Document):
    at: Time
    type: str
    actor: str
    detail: dict[str, Any]
    internal: bool | None = Field(None, description="staff only: the customer never sees this event")
    internal_detail: list[str] | None = Field(None, description="staff only: detail keys the customer does not see")
    actor_name: str | None = Field(None, description="customers only: how the staff member who acted is named "
                                                     "(客服 1 / Agent 1 …, per complaint), never a username")


class VoucherView(Document):
    amount: str = Field(pattern=r"^[0-9]+\.[0-9]{2}$")
    currency: str
    reason: Literal["first_contact_breach", "resolution_breach", "manual"]
    issued_at: Time | None


class ClockView(Document):
    window_s: int
    started_at: Time
    due: Time | None = Field(description="null while paused, or once a ladder without repeat ended")
    level: int
    breached: bool
    stopped_at: Time | None


class TriageView(Document):
    category_source: str | None
    reasons: list[str] | None = Field(None, description="staff only")


class Complaint(Summary):
    """``GET /complaints/{id}``: the complaint as filed, its triage, clocks, vouchers,
    satisfaction and timeline (customers see only their events, without internal detail)."""

    channel: Channel
    desired_outcome: DesiredOutcome
    description: str
    attachments: list[str] = []
    order_amount: Money | None = None
    product: Product | None = None
    contact: Contact | None = None
    first_contact_due: Time | None
    resolution_due: Time | None
    source: str
    triage: TriageView
    vouchers: list[VoucherView]
    satisfaction: dict[str, Any] | None
    reopen_count: int
    resolution: dict[str, Any] | None
    contacted_at: Time | None
    resolved_at: Time | None
    closed_at: Time | None
    timeline: list[TimelineEvent]
    tier: Tier | None = Field(None, description="staff only")
    clocks: dict[str, ClockView] | None = Field(None, description="staff only")
    failure: str | None = Field(None, description="staff only: why the complaint's workflow failed")


class QueueItem(Summary):
    first_contact_due: Time | None
    resolution_due: Time | None
    description: str = Field(max_length=200, description="its first 200 characters")
    tier: Tier
    clocks: dict[str, ClockView]
    failure: str | None = None


class QueuePage(Document):
    items: list[QueueItem]
    next: str | None


class Profile(Document):
    customer_id: str
    tier: Tier
    locale: Locale
    updated_at: Time


# -- ops ----------------------------------------------------------------------------------------
class RejectedRecord(Document):
    index: int
    external_id: str | None
    reason: str


class ImportReport(Document):
    """docs/import.md, the import report."""

    batch_id: str
    source: str
    received: int
    created: int
    duplicates: int
    rejected: list[RejectedRecord]


class SummaryReport(Document):
    """``GET /reports/summary`` (docs/api.md, ops and supervisors)."""

    from_: Time = Field(alias="from")
    to: Time
    days: int
    counts: dict[str, Any]
    sla: dict[str, Any]
    durations_s: dict[str, Any]
    escalations: dict[str, int]
    vouchers: dict[str, Any]
    csat: dict[str, Any]
    top_products: list[dict[str, Any]]
    top_orders: list[dict[str, Any]]
    daily: list[dict[str, Any]]


class TriageReport(Document):
    """``GET /reports/triage`` (docs/api.md, ops and supervisors): how triage did, judged by
    what staff corrected, with rule proposals mined from the corrected complaints."""

    from_: Time = Field(alias="from")
    to: Time
    triaged: int
    corrected: int
    accuracy: dict[str, float | None]
    confusion: dict[str, list[dict[str, Any]]]
    proposals: list[dict[str, Any]]


class Hotspot(Document):
    complaints: int
    previous: int
    change: float | None
    delta: int
    score: float


class HotspotsReport(Document):
    from_: Time = Field(alias="from")
    to: Time
    previous: dict[str, Time]
    min_complaints: int
    items: list[Hotspot]


# -- query parameters ----------------------------------------------------------------------------
# (the reports' own: chalicelib.reports.figures.SummaryQuery, HotspotsQuery)
class CustomerPageQuery(Query):
    limit: int = Field(20, ge=1, le=100, description="page size")
    next: str | None = Field(None, min_length=1, max_length=4096, description="the previous page's `next`")


class QueuePageQuery(Query):
    limit: int = Field(50, ge=1, le=100, description="page size")
    next: str | None = Field(None, min_length=1, max_length=4096, description="the previous page's `next`")




class OpenApiDocument(Document):
    """The OpenAPI 3.1 document of this API."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]
