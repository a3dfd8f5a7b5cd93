"""The ports of the service layer: what it needs of storage, the workflow engine and the
messaging services, as ``typing.Protocol`` s, and the errors every implementation raises.

Implementations: DynamoDB (:mod:`chalicelib.adapters.store`), Step Functions
(:mod:`chalicelib.adapters.workflow`), SNS/SES (:mod:`chalicelib.adapters.notifier`), and the
in-memory ones of :mod:`chalicelib.adapters.memory`. The contract tests
(``tests/contract``) run the same tests against both kinds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from chalicelib.adapters.layout import BadCursor
from chalicelib.integration.events import IntegrationEvent
from chalicelib.models import Attachment, Event
from chalicelib.notifications import Notification
from chalicelib.orders import Order
from chalicelib.ticket import Ticket
from chalicelib.triage.corrections import Correction

__all__ = ["AttachmentStore", "BadCursor", "EventPublisher", "NotificationError", "Notifier", "OrderDirectory", "TicketStore", "VersionConflict",
           "Workflow", "WorkflowUnavailable"]


class VersionConflict(Exception):
    """Somebody changed the ticket since it was read."""


class WorkflowUnavailable(Exception):
    """The lifecycle execution could not be started (retryable)."""


class NotificationError(Exception):
    """A message could not be sent (the workflow's Retry/Catch handle it)."""


class TicketStore(Protocol):
    """Tickets, their timelines, customer profiles and import reports."""

    def create(self, ticket: Ticket) -> bool:
        """Store a new ticket (its ``received`` event is implied); False if that id exists."""

    def create_many(self, tickets: list[Ticket]) -> set[str]:
        """Store up to 100 new tickets, each only if its id is new; the ids that existed."""

    def get_ticket(self, complaint_id: str) -> Ticket | None: ...

    def get_tickets(self, complaint_ids: list[str]) -> dict[str, Ticket]:
        """The tickets of those ids that exist."""

    def get_with_timeline(self, complaint_id: str) -> tuple[Ticket, list[Event]] | None:
        """The ticket and its timeline, oldest event first."""

    def save(self, ticket: Ticket, events: Iterable[Event], expected_version: int, *,
             corrections: Iterable[Correction] = ()) -> Ticket:
        """Write the changed ticket (as version ``expected_version + 1``), its new events and
        the re-triage corrections it made, only if it is still at ``expected_version`` (else
        ``VersionConflict``, nothing written)."""

    def corrections_between(self, start: datetime, end: datetime) -> list[Correction]:
        """The corrections made in ``[start, end)``, oldest first (key queries, no scan)."""

    def set_wait_token(self, complaint_id: str, token: str, expected_version: int) -> bool:
        """Put the workflow's task token on the ticket (its version moves on), only if it is
        still at ``expected_version``; False if it moved."""

    def add_events(self, complaint_id: str, events: Iterable[Event]) -> None:
        """Timeline entries that change nothing else (notes, failed notifications)."""

    def delete(self, complaint_id: str) -> None:
        """Remove a ticket and its events (compensation when its workflow could not start)."""

    def by_customer(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        """A customer's tickets, newest first; ``BadCursor`` for a token not issued here."""

    def team_queue(self, team: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        """A team's open tickets, soonest due first."""

    def open_on_order(self, order_id: str, exclude: str | None = None) -> int:
        """How many open complaints the order has (not counting ``exclude``)."""

    def get_profile(self, customer_id: str) -> dict[str, Any] | None: ...

    def put_profile(self, customer_id: str, profile: dict[str, Any]) -> None: ...

    def put_import_report(self, report: dict[str, Any]) -> None: ...

    def get_import_report(self, batch_id: str) -> dict[str, Any] | None: ...


class Workflow(Protocol):
    """A complaint's lifecycle execution."""

    def start(self, complaint_id: str) -> str:
        """Start it (idempotent: one execution per complaint); its id. ``WorkflowUnavailable``
        if it cannot be started now."""

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        """Answer the wait that handed out ``token``; False if that wait is already over."""

    def fail(self, token: str, error: str, cause: str) -> bool:
        """End the wait that handed out ``token`` with ``error`` (which the state machine
        catches); False if that wait is already over."""


class Notifier(Protocol):
    """Customer messages and staff alerts."""

    def send(self, message: Notification) -> dict[str, Any]:
        """Send it; what was done (``route``, ids). ``NotificationError`` if it cannot be sent."""


class OrderDirectory(Protocol):
    """The platform's orders, as its order sync keeps them (docs/integration.md)."""

    def get(self, order_id: str) -> Order | None:
        """The order, None if the directory does not know it (yet)."""

    def get_many(self, order_ids: list[str]) -> dict[str, Order]:
        """The orders of those ids that the directory knows."""

    def put(self, order: Order) -> None:
        """Add or replace an order (the platform's sync; ``python -m local orders``)."""


class AttachmentStore(Protocol):
    """The customers' photos and videos (docs/integration.md, "Photos and videos")."""

    def upload_form(self, key: str, content_type: str, max_size: int, expires_s: int) -> tuple[str, dict[str, str]]:
        """A presigned POST form for one upload under ``key`` of that type and at most
        ``max_size`` bytes, valid ``expires_s``: its URL and the fields to send with the file."""

    def stat(self, key: str) -> Attachment | None:
        """The stored object's type and size; None if nothing is stored under ``key``."""

    def download_url(self, key: str, expires_s: int) -> str:
        """A presigned GET of the object, valid ``expires_s`` (no call is made)."""

    def keep(self, keys: list[str], complaint_id: str) -> None:
        """Mark the uploads as attached to the complaint: the unattached-upload expiry no
        longer applies to them (idempotent)."""


class EventPublisher(Protocol):
    """The integration event bus (docs/integration.md, "Vouchers and events")."""

    def publish(self, events: list[IntegrationEvent]) -> list[int]:
        """Put up to 10 events, in order; the positions of those that were not accepted
        (throttled, the bus unavailable ...), empty if all were. An error of the whole call
        raises."""
