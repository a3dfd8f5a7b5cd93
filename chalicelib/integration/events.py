"""The integration events of docs/integration.md, and how the tickets table's timeline items
become them. Pure: no boto3.

Every change of a ticket is saved in one transaction with its timeline items (the outbox);
each item also carries ``facts``: the ticket's ids, severity, team and level as of that
change (:func:`facts`), so an event says what was true when it happened, with no read. The
detail of every event is a model with ``extra="forbid"``: nothing but what is listed here
reaches the bus - never the free text (description, notes, reasons, comments), a phone
number, an e-mail address or a push token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from chalicelib.clock import iso, parse
from chalicelib.models import Category, Channel, Money, Resolution, Severity, Team
from chalicelib.ticket import Ticket

SOURCE = "complaints"
FACTS = "facts"  # the timeline item's attribute holding the ticket's facts


class ComplaintEvent(BaseModel):
    """What every event's detail holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    detail_type: ClassVar[str]

    event_id: str  # "<complaint_id>/<version>.<n>": one complaint's ids sort in the order of its changes
    complaint_id: str
    customer_id: str
    order_id: str
    severity: Severity | None
    team: Team | None
    level: int  # the complaint's escalation level after the change
    time: str  # when it happened (ISO 8601 UTC)


class ComplaintReceived(ComplaintEvent):
    detail_type = "Complaint Received"
    channel: Channel
    source: str  # "api" or the marketplace


class ComplaintTriaged(ComplaintEvent):
    detail_type = "Complaint Triaged"
    category: Category | None


class ComplaintEscalated(ComplaintEvent):
    detail_type = "Complaint Escalated"
    clock: str | None  # first_contact / resolution; None for a manual escalation
    manual: bool


class VoucherIssued(ComplaintEvent):
    """The platform's coupon service issues the actual coupon from this."""

    detail_type = "Voucher Issued"
    amount: str  # decimal string, like every amount of the API
    currency: str
    reason: str  # first_contact_breach, resolution_breach, manual


class ComplaintResolved(ComplaintEvent):
    detail_type = "Complaint Resolved"
    resolution: Resolution
    refund: Money | None


class ComplaintReopened(ComplaintEvent):
    detail_type = "Complaint Reopened"
    reopen_count: int


class ComplaintClosed(ComplaintEvent):
    detail_type = "Complaint Closed"
    satisfaction_score: int | None  # None: the survey went unanswered
    outcome: str  # satisfied, unsatisfied, no_feedback


DETAIL_TYPES: tuple[type[ComplaintEvent], ...] = (
    ComplaintReceived, ComplaintTriaged, ComplaintEscalated, VoucherIssued, ComplaintResolved, ComplaintReopened,
    ComplaintClosed,
)


@dataclass(frozen=True)
class IntegrationEvent:
    """One entry for the bus."""

    detail: ComplaintEvent

    @property
    def detail_type(self) -> str:
        return self.detail.detail_type

    @property
    def complaint_id(self) -> str:
        return self.detail.complaint_id

    @property
    def time(self) -> datetime:
        return parse(self.detail.time)

    def detail_json(self) -> str:
        return self.detail.model_dump_json()


def facts(ticket: Ticket, position: int) -> dict[str, Any]:
    """What a timeline item saved with ``ticket`` (its ``position``-th event of the change)
    remembers of it."""
    out: dict[str, Any] = {
        "customer_id": ticket.complaint.customer_id,
        "order_id": ticket.complaint.order_id,
        "severity": ticket.severity,
        "team": ticket.team,
        "level": ticket.escalation_level,
        "category": ticket.category,
        "channel": ticket.complaint.channel,
        "source": ticket.source,
        "created_at": iso(ticket.created_at),
        "version": ticket.version,
        "position": position,
    }
    if ticket.attachments:
        out["attachments"] = [a.key for a in ticket.attachments]
    return {k: v for k, v in out.items() if v is not None}


def complaint_id_of(item: dict[str, Any]) -> str:
    return str(item["pk"]).removeprefix("C#")


def is_first_triage(item: dict[str, Any]) -> bool:
    """The triage of a new complaint: its first change, made by its running workflow."""
    return item.get("type") == "triaged" and int(item.get(FACTS, {}).get("version", 0)) == 1


def events_of(item: dict[str, Any]) -> list[IntegrationEvent]:
    """The events one timeline item stands for (none for most: notes, contacts, surveys …).

    ``Complaint Received`` is published with the complaint's first triage rather than when its
    ticket is written: intake removes a ticket whose workflow could not start, and the first
    triage is the proof that it did, so the platform never hears of a complaint that is not."""
    known = item.get(FACTS)
    kind = item.get("type")
    if not isinstance(known, dict) or kind not in _DETAILS:
        return []
    cid = complaint_id_of(item)
    base = {
        "complaint_id": cid, "customer_id": known["customer_id"], "order_id": known["order_id"],
        "severity": known.get("severity"), "team": known.get("team"), "level": int(known.get("level", 0)),
        "event_id": f"{cid}/{int(known['version']):05d}.{int(known.get('position', 0)):02d}", "time": item["at"],
    }
    detail: dict[str, Any] = item.get("detail") or {}
    out: list[IntegrationEvent] = []
    if is_first_triage(item):
        out.append(IntegrationEvent(ComplaintReceived(
            **{**base, "event_id": f"{cid}/00000.00", "time": known["created_at"], "severity": None, "team": None,
               "level": 0}, channel=known["channel"], source=known.get("source", "api"))))
    out.append(IntegrationEvent(_DETAILS[kind](base, detail, known)))
    return out


def _triaged(base: dict[str, Any], detail: dict[str, Any], known: dict[str, Any]) -> ComplaintEvent:
    return ComplaintTriaged(**base, category=detail.get("category") or known.get("category"))


def _escalated(base: dict[str, Any], detail: dict[str, Any], known: dict[str, Any]) -> ComplaintEvent:
    return ComplaintEscalated(**{**base, "level": max(base["level"], int(detail.get("level", 0)))},
                              clock=detail.get("clock"), manual=bool(detail.get("manual")))


def _voucher(base: dict[str, Any], detail: dict[str, Any], known: dict[str, Any]) -> ComplaintEvent:
    return VoucherIssued(**base, amount=str(detail["amount"]), currency=str(detail.get("currency", "CNY")),
                         reason=str(detail["reason"]))


def _resolved(base: dict[str, Any], detail: dict[str, Any], known: dict[str, Any]) -> ComplaintEvent:
    refund = detail.get("refund")
    return ComplaintResolved(**base, resolution=detail["resolution"],
                             refund=Money.model_validate(refund) if refund else None)


def _reopened(base: dict[str, Any], detail: dict[str, Any], known: dict[str, Any]) -> ComplaintEvent:
    return ComplaintReopened(**base, reopen_count=int(detail.get("reopen_count", 0)))


def _closed(base: dict[str, Any], detail: dict[str, Any], known: dict[str, Any]) -> ComplaintEvent:
    score = detail.get("score")
    outcome = "no_feedback" if detail.get("feedback") == "none" else str(detail.get("outcome") or "satisfied")
    return ComplaintClosed(**base, satisfaction_score=int(score) if score is not None else None, outcome=outcome)


# timeline item type -> its event (docs/integration.md lists them)
_DETAILS = {
    "triaged": _triaged,
    "escalated": _escalated,
    "voucher_issued": _voucher,
    "resolved": _resolved,
    "reopened": _reopened,
    "closed": _closed,
}
MAPPED_TYPES = frozenset(_DETAILS)
