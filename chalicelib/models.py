"""The complaint domain model: what crosses the API boundary and what a ticket is.

Plain pydantic v2 models: no HTTP, no boto3. Decimal for money, aware UTC datetimes for time.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
    field_serializer,
    model_validator,
)

from chalicelib.clock import iso

Category = Literal[
    "product_quality",
    "not_as_described",
    "counterfeit",
    "delivery_delay",
    "damaged_in_transit",
    "lost_parcel",
    "service_attitude",
    "after_sales",
    "promotion_rules",
    "other",
]
Channel = Literal["app", "web", "phone", "social", "offline", "marketplace"]
DesiredOutcome = Literal["refund", "return", "exchange", "compensation", "explanation"]
Resolution = Literal["refund", "return", "exchange", "compensation", "explanation", "rejected"]
ProductKind = Literal["food", "medicine", "cosmetics", "electronics", "apparel", "home", "other"]
Tier = Literal["standard", "gold", "vip"]
Locale = Literal["zh-CN", "en"]
Severity = Literal["P1", "P2", "P3"]
Team = Literal["product", "logistics", "service"]
Group = Literal["customers", "agents", "supervisors", "ops"]
# The literals are the one list; these are the same values as tuples (in that order).
CATEGORIES: tuple[str, ...] = get_args(Category)
TEAMS: tuple[str, ...] = get_args(Team)
GROUPS: tuple[str, ...] = get_args(Group)

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


# -- path parameters --------------------------------------------------------------------------
# What a path parameter may be, by its name in the route (``{complaint_id}`` …): a value that
# breaks its shape is a 400 naming it before any store sees it (DynamoDB refuses empty keys
# and keys over 2 KiB). A name not listed here gets ``PathText``.
PathText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f/]+$")]
ComplaintId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f/]+$")]
PATH_PARAMETERS: dict[str, Any] = {
    "complaint_id": ComplaintId,
    "customer_id": PathText,
    "batch_id": PathText,
    "team": PathText,  # an unknown team is a 404 naming the teams (app.py)
}


@cache
def path_parameter(name: str) -> TypeAdapter[str]:
    """The validator of the path parameter ``name`` (its JSON Schema: ``.json_schema()``)."""
    return TypeAdapter(PATH_PARAMETERS.get(name, PathText))


class Query(BaseModel):
    """Base for query parameters: the declared ones validated, any other ignored (caches,
    proxies add their own)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Strict(BaseModel):
    """Base for every input model: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Money(Strict):
    amount: Amount
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "CNY"

    @field_serializer("amount")
    def _amount(self, amount: Decimal) -> str:
        return f"{amount:.2f}"


class Product(Strict):
    sku: NonEmpty | None = None
    name: Annotated[str, StringConstraints(max_length=500)] | None = None
    kind: ProductKind | None = None


# -- e-mail addresses SES accepts ----------------------------------------------------------------
# SES sends only to addresses of RFC 5321's plain form: an ASCII dot-atom local part (no quoted
# strings, no comments, no "<" ">" "(" ")" "," ";" ":" "\\" "[" "]" or spaces) of at most 64
# octets, and a domain name (not an address literal) of LDH labels — internationalized domains
# in their punycode (xn--) form — 254 octets in all. Anything else SES refuses at send time,
# after which every message to the customer fails; so the API refuses it up front.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"^{_ATEXT}(\.{_ATEXT})*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


STORED = {"stored": True}  # validation context of what the service wrote itself (checked when it came in)


def ses_address(value: str, info: ValidationInfo) -> str:
    """``value`` if SES can send to it, else ``ValueError`` saying why. A ticket read back
    from the store (``context=STORED``) keeps the address it was accepted with."""
    if info.context == STORED:
        return value
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("an e-mail address is local-part@domain")
    if not value.isascii():
        raise ValueError("only ASCII addresses can be mailed (an internationalized domain in its xn-- form)")
    if len(value) > 254 or len(local) > 64:
        raise ValueError("the address is too long (local part 64, whole address 254 characters)")
    if not _LOCAL.match(local):
        raise ValueError("the part before @ may hold letters, digits and !#$%&'*+/=?^_`{|}~- between dots only")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError("the part after @ must be a domain name like example.com")
    return value


Email = Annotated[str, AfterValidator(ses_address), WithJsonSchema(
    {"type": "string", "format": "email", "maxLength": 254,
     "description": "an address SES can send to: ASCII, a dot-atom before @, a domain name after it"})]


class Contact(Strict):
    locale: Locale = "zh-CN"
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{6,20}$")] | None = None
    email: Email | None = None
    push_token: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None


class ComplaintIn(Strict):
    """The body of ``POST /complaints`` (docs/api.md)."""

    customer_id: NonEmpty
    order_id: NonEmpty
    channel: Channel
    desired_outcome: DesiredOutcome
    description: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    category: Category | None = None
    attachments: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=1024)]], Field(max_length=3)] = []
    order_amount: Money | None = None
    product: Product | None = None
    contact: Contact | None = None


class OrderCheck(BaseModel):
    """What intake found when it checked a complaint against the order directory (the staff
    view's ``order``): verified = the amount and product are the directory's; ``differences``
    = what the customer sent that the order contradicts (staff only)."""

    verified: bool
    amount: Money | None = None
    product: Product | None = None
    delivered_at: datetime | None = None
    carrier: str | None = None
    differences: list[str] = []

    @field_serializer("delivered_at")
    def _delivered(self, at: datetime | None) -> str | None:
        return iso(at) if at else None


class Attachment(BaseModel):
    """An uploaded photo or video on a complaint, as it was when attached (``head_object``)."""

    key: str
    content_type: str
    size: int


class ProfileIn(Strict):
    tier: Tier = "standard"
    locale: Locale = "zh-CN"


class ContactIn(Strict):
    note: Annotated[str, StringConstraints(max_length=5000)] = ""


class ResolveIn(Strict):
    resolution: Resolution
    note: Annotated[str, StringConstraints(max_length=5000)] = ""
    refund: Money | None = None


class EscalateIn(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class PauseIn(Strict):
    """``POST /complaints/{id}/pause``: wait for the customer. ``note`` is internal; ``ask``
    (optional) is what the customer is asked for, in the message and on their timeline."""

    reason: Literal["awaiting_customer"] = "awaiting_customer"
    note: Annotated[str, StringConstraints(max_length=5000)] = ""
    ask: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""


class ReplyIn(Strict):
    """``POST /complaints/{id}/reply``: the customer's answer."""

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    attachments: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=1024)]], Field(max_length=3)] = []


class ResumeIn(Strict):
    note: Annotated[str, StringConstraints(max_length=5000)] = ""


class TriageIn(Strict):
    """``POST /complaints/{id}/triage``: staff correct the category and/or the severity."""

    category: Category | None = None
    severity: Severity | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]

    @model_validator(mode="after")
    def _something_to_change(self) -> TriageIn:
        if self.category is None and self.severity is None:
            raise ValueError("give category, severity or both")
        return self


class NoteIn(Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class RatingIn(Strict):
    score: Annotated[int, Field(ge=1, le=5, strict=True)]
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""


class Status(StrEnum):
    RECEIVED = "received"
    AWAITING_CONTACT = "awaiting_contact"
    IN_PROGRESS = "in_progress"
    PENDING_CUSTOMER = "pending_customer"  # paused: waiting for the customer's reply
    RESOLVED = "resolved"
    CLOSED = "closed"
    CLOSED_UNSATISFIED = "closed_unsatisfied"


OPEN_STATUSES = frozenset({Status.RECEIVED, Status.AWAITING_CONTACT, Status.IN_PROGRESS, Status.PENDING_CUSTOMER})
CUSTOMER_EVENTS = frozenset(
    {
        "received",
        "acknowledged",
        "contacted",
        "voucher_issued",
        "paused",  # shown to the customer as "waiting for your reply" (without the internal note)
        "customer_replied",
        "resolved",
        "survey_sent",
        "survey_reminder",
        "rated",
        "reopened",
        "closed",
    }
)


class Event(BaseModel):
    """One timeline entry."""

    at: datetime
    type: str
    actor: str
    detail: dict[str, Any] = {}

    @field_serializer("at")
    def _at(self, at: datetime) -> str:
        return iso(at)


class Voucher(BaseModel):
    amount: Decimal
    currency: str = "CNY"
    reason: Literal["first_contact_breach", "resolution_breach", "manual"]
    issued_at: datetime | None = None

    @field_serializer("amount")
    def _amount(self, amount: Decimal) -> str:
        return f"{amount:.2f}"

    @field_serializer("issued_at")
    def _issued(self, at: datetime | None) -> str | None:
        return iso(at) if at else None


class Caller(BaseModel):
    """Who is calling, from the authorizer's claims."""

    model_config = ConfigDict(frozen=True)

    username: str
    groups: frozenset[str]

    @property
    def is_staff(self) -> bool:
        return bool(self.groups & {"agents", "supervisors", "ops"})

    @property
    def actor(self) -> str:
        kind = "customer" if "customers" in self.groups and not self.is_staff else "agent"
        if "supervisors" in self.groups:
            kind = "supervisor"
        elif "ops" in self.groups and "agents" not in self.groups:
            kind = "ops"
        return f"{kind}:{self.username}"
