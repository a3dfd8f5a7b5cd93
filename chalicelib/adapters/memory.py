"""In-memory implementations of the ports: the fast tests run the real service layer on them,
and so can a simulator on a virtual clock. They keep the promises of the DynamoDB, Step
Functions and SNS/SES adapters (the contract tests in ``tests/contract`` hold them to that):

- ``MemoryTicketStore``: conditional creates, version-conditioned saves and token writes,
  copies in and out (what a caller changes afterwards is not stored), the indexes' orderings
  from the same keys as the table (:mod:`chalicelib.adapters.layout`), opaque pagination
  cursors, ``BadCursor`` for others;
- ``MemoryWorkflow``: one execution per complaint, the starts and resumes it saw, task tokens
  that go stale when their wait ends, and starts that fail on request;
- ``MemoryNotifier``: the messages it sent, each with the route, address and text the real
  notifier would have used; unknown staff topics fail like a missing configuration;
- ``MemoryOrderDirectory``: the platform's orders in a dict (copies in and out);
- ``MemoryAttachments``: uploaded objects (type, bytes, tags) and the forms handed out;
- ``MemoryEventBus``: the integration events published, and an outage on request;
- ``MemoryIdempotency``: a Powertools persistence layer in a dict.

Thread-safe (one lock per fake), so concurrent callers see the same races as on AWS: a save
either wins or raises ``VersionConflict``.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer, DataRecord

from chalicelib.adapters.layout import BadCursor, correction_sk, created_sk, decode_cursor, encode_cursor, queue_key
from chalicelib.adapters.ports import NotificationError, VersionConflict, WorkflowUnavailable
from chalicelib.adapters.store import event_item
from chalicelib.adapters.workflow import execution_arn
from chalicelib.integration.events import IntegrationEvent, facts
from chalicelib.models import OPEN_STATUSES, STORED, Attachment, Event
from chalicelib.notifications import CustomerMessage, StaffAlert
from chalicelib.orders import Order
from chalicelib.ticket import Ticket
from chalicelib.topics import STAFF_TOPICS
from chalicelib.triage.corrections import Correction

if TYPE_CHECKING:
    from chalicelib.services import Services

MEMORY_STATE_MACHINE_ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:complaints-memory-lifecycle"
PROFILE_FIELDS = ("customer_id", "tier", "locale", "updated_at")


def _copy(ticket: Ticket) -> Ticket:
    """The ticket as it comes back from storage (JSON round trip: whole-second times, amounts
    as the table holds them, nothing shared with the caller)."""
    return Ticket.model_validate(ticket.model_dump(mode="json", exclude_none=True), context=STORED)


def _copy_event(event: Event) -> Event:
    return Event.model_validate(event.model_dump(mode="json"))


class MemoryTicketStore:
    """The ``TicketStore`` port in dicts."""

    def __init__(self, *, keep_stream: bool = False) -> None:
        self._lock = threading.RLock()
        self._keep_stream = keep_stream  # off by default: a long simulation would keep them all
        self._tickets: dict[str, Ticket] = {}
        self._events: dict[str, list[tuple[str, int, Event]]] = {}  # id -> (time, seq, event), sorted
        self._profiles: dict[str, dict[str, Any]] = {}
        self._reports: dict[str, dict[str, Any]] = {}
        self._corrections: dict[str, Correction] = {}
        self._seq = itertools.count()
        # with ``keep_stream``: the timeline items saved with a ticket change, as stream records
        # of the table (``NewImage`` as the DynamoDB store writes it): the integration function's input
        self.stream: list[dict[str, Any]] = []

    def _stored(self, ticket: Ticket) -> Ticket:
        """What reading ``ticket`` back from the table gives: a copy shared with nobody."""
        return _copy(ticket)

    # -- tickets ----------------------------------------------------------------------------
    def create(self, ticket: Ticket) -> bool:
        with self._lock:
            if ticket.complaint_id in self._tickets:
                return False
            self._tickets[ticket.complaint_id] = self._stored(ticket)
            return True

    def create_many(self, tickets: list[Ticket]) -> set[str]:
        with self._lock:
            existing = {t.complaint_id for t in tickets if t.complaint_id in self._tickets}
            for ticket in tickets:
                if ticket.complaint_id not in existing:
                    self._tickets[ticket.complaint_id] = self._stored(ticket)
            return existing

    def get_ticket(self, complaint_id: str) -> Ticket | None:
        with self._lock:
            found = self._tickets.get(complaint_id)
            return self._stored(found) if found else None

    def get_tickets(self, complaint_ids: list[str]) -> dict[str, Ticket]:
        with self._lock:
            return {i: self._stored(self._tickets[i]) for i in complaint_ids if i in self._tickets}

    def get_with_timeline(self, complaint_id: str) -> tuple[Ticket, list[Event]] | None:
        with self._lock:
            ticket = self._tickets.get(complaint_id)
            if ticket is None:
                return None
            return self._stored(ticket), [_copy_event(e) for _, _, e in self._events.get(complaint_id, [])]

    def save(self, ticket: Ticket, events: Iterable[Event], expected_version: int, *,
             corrections: Iterable[Correction] = ()) -> Ticket:
        with self._lock:
            current = self._tickets.get(ticket.complaint_id)
            if current is None or current.version != expected_version:
                raise VersionConflict(ticket.complaint_id)
            saved = self._stored(ticket.model_copy(update={"version": expected_version + 1}))
            self._tickets[ticket.complaint_id] = saved
            events = list(events)
            self._record(ticket.complaint_id, events)
            for c in corrections:  # keyed like the table: (time, complaint) overwrites
                self._corrections[correction_sk(c.at, c.complaint_id)] = c
            for position, event in enumerate(events if self._keep_stream else ()):  # what the table's stream would carry
                self.stream.append({"eventName": "INSERT", "dynamodb": {
                    "SequenceNumber": str(len(self.stream) + 1),
                    "NewImage": event_item(ticket.complaint_id, event, facts(saved, position))}})
            return self._stored(saved)

    def corrections_between(self, start: datetime, end: datetime) -> list[Correction]:
        with self._lock:
            return [c for _, c in sorted(self._corrections.items()) if start <= c.at < end]

    def set_wait_token(self, complaint_id: str, token: str, expected_version: int) -> bool:
        with self._lock:
            current = self._tickets.get(complaint_id)
            if current is None or current.version != expected_version:
                return False
            self._tickets[complaint_id] = current.model_copy(update={"wait_token": token, "version": current.version + 1})
            return True

    def add_events(self, complaint_id: str, events: Iterable[Event]) -> None:
        with self._lock:
            self._record(complaint_id, events)

    def delete(self, complaint_id: str) -> None:
        with self._lock:
            self._tickets.pop(complaint_id, None)
            self._events.pop(complaint_id, None)

    def by_customer(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        with self._lock:
            keyed = [(created_sk(t), t) for t in self._tickets.values() if t.complaint.customer_id == customer_id]
            return self._page(keyed, limit, cursor, newest_first=True)

    def team_queue(self, team: str, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        with self._lock:
            keyed = [(key[1], t) for t in self._tickets.values() if (key := queue_key(t)) and key[0] == team]
            return self._page(keyed, limit, cursor, newest_first=False)

    def open_on_order(self, order_id: str, exclude: str | None = None) -> int:
        with self._lock:
            return sum(1 for t in self._tickets.values() if t.complaint.order_id == order_id
                       and t.complaint_id != exclude and t.status in OPEN_STATUSES)

    # -- profiles and import reports ----------------------------------------------------------
    def get_profile(self, customer_id: str) -> dict[str, Any] | None:
        with self._lock:
            profile = self._profiles.get(customer_id)
            return {k: profile[k] for k in PROFILE_FIELDS if k in profile} if profile is not None else None

    def put_profile(self, customer_id: str, profile: dict[str, Any]) -> None:
        with self._lock:
            self._profiles[customer_id] = {"customer_id": customer_id, **profile}

    def put_import_report(self, report: dict[str, Any]) -> None:
        with self._lock:
            self._reports[report["batch_id"]] = _deep(report)

    def get_import_report(self, batch_id: str) -> dict[str, Any] | None:
        with self._lock:
            report = self._reports.get(batch_id)
            return _deep(report) if report is not None else None

    # -- plumbing ------------------------------------------------------------------------------
    def _record(self, complaint_id: str, events: Iterable[Event]) -> None:
        timeline = self._events.setdefault(complaint_id, [])
        for event in events:
            copied = _copy_event(event)
            bisect.insort(timeline, (copied.model_dump(mode="json")["at"], next(self._seq), copied),
                          key=lambda entry: entry[:2])

    def _page(self, keyed: list[tuple[str, Ticket]], limit: int, cursor: str | None,
              *, newest_first: bool) -> tuple[list[Ticket], str | None]:
        start = decode_cursor(cursor)
        after = start.get("after", {}).get("S") if start else None
        if start and not isinstance(after, str):
            raise BadCursor("invalid pagination token")
        ordered = sorted(keyed, key=lambda kv: kv[0], reverse=newest_first)
        if after is not None:
            ordered = [kv for kv in ordered if (kv[0] < after if newest_first else kv[0] > after)]
        page = ordered[:limit]
        more = len(ordered) > limit
        next_cursor = encode_cursor({"after": {"S": page[-1][0]}}) if more and page else None
        return [self._stored(t) for _, t in page], next_cursor


def _deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v) for v in value]
    return value


class MemoryWorkflow:
    """The ``Workflow`` port: records what a state machine would have been asked.

    ``starts`` lists each complaint whose execution started (once: a second start of the
    same complaint is the same execution); ``resumes`` each accepted ``(token, output)``,
    ``failures`` each accepted ``(token, error)``.
    A simulator opens a wait with :meth:`wait` (the token the ``await`` step receives) and
    ends it with :meth:`time_out` (the timer won: a later resume is refused).
    ``fail_starts = n`` makes the next n starts raise ``WorkflowUnavailable``."""

    def __init__(self, state_machine_arn: str = MEMORY_STATE_MACHINE_ARN) -> None:
        self.arn = state_machine_arn
        self.starts: list[str] = []
        self.resumes: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[tuple[str, str]] = []
        self.fail_starts = 0
        self._waiting: dict[str, str] = {}  # open task token -> complaint id
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, complaint_id: str) -> str:
        with self._lock:
            if self.fail_starts > 0:
                self.fail_starts -= 1
                raise WorkflowUnavailable(f"could not start the lifecycle of {complaint_id} (simulated)")
            if complaint_id not in self.starts:
                self.starts.append(complaint_id)
            return execution_arn(self.arn, complaint_id)

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        with self._lock:
            if self._waiting.pop(token, None) is None:
                return False
            self.resumes.append((token, dict(output)))
            return True

    def fail(self, token: str, error: str, cause: str) -> bool:
        with self._lock:
            if self._waiting.pop(token, None) is None:
                return False
            self.failures.append((token, error))
            return True

    def wait(self, complaint_id: str) -> str:
        """A new task token: the execution of ``complaint_id`` now waits for it."""
        with self._lock:
            token = f"token-{complaint_id}-{next(self._tokens)}"
            self._waiting[token] = complaint_id
            return token

    def time_out(self, token: str) -> None:
        with self._lock:
            self._waiting.pop(token, None)

    def waiting(self, complaint_id: str) -> list[str]:
        """The open tokens of that complaint's execution."""
        with self._lock:
            return [t for t, cid in self._waiting.items() if cid == complaint_id]


@dataclass(frozen=True)
class SentMessage:
    """One message as the notifier sent it."""

    message: CustomerMessage | StaffAlert
    route: str  # push, sms, email, in_app, or sns (staff topics)
    address: str | None  # push token, phone number, e-mail address or staff topic
    subject: str
    body: str


@dataclass
class MemoryNotifier:
    """The ``Notifier`` port: keeps what it sent in ``sent``."""

    staff_topics: frozenset[str] = frozenset(STAFF_TOPICS)
    sent: list[SentMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, message: CustomerMessage | StaffAlert) -> dict[str, Any]:
        subject, body = message.rendered()
        if isinstance(message, StaffAlert):
            if message.topic not in self.staff_topics:
                raise NotificationError(f"no staff topic configured for {message.topic!r}")
            route: str = "sns"
            address: str | None = message.topic
        else:
            route, address = message.route()
        with self._lock:
            self.sent.append(SentMessage(message, route, address, subject, body))
            number = len(self.sent)
        if route == "in_app":
            return {"route": route}
        if route == "sns":
            return {"route": route, "topic": address, "message_id": f"memory-{number}"}
        return {"route": route, "message_id": f"memory-{number}"}

    def to_customers(self) -> list[SentMessage]:
        return [s for s in self.sent if isinstance(s.message, CustomerMessage)]

    def to_staff(self) -> list[SentMessage]:
        return [s for s in self.sent if isinstance(s.message, StaffAlert)]


class MemoryOrderDirectory:
    """The ``OrderDirectory`` port in a dict; ``reads`` counts the lookups (one per intake)."""

    def __init__(self, orders: Iterable[Order] = ()) -> None:
        self._lock = threading.Lock()
        self._orders: dict[str, Order] = {}
        self.reads = 0
        for order in orders:
            self.put(order)

    def get(self, order_id: str) -> Order | None:
        with self._lock:
            self.reads += 1
            found = self._orders.get(order_id)
            return found.model_copy(deep=True) if found else None

    def get_many(self, order_ids: list[str]) -> dict[str, Order]:
        with self._lock:
            self.reads += 1
            return {i: self._orders[i].model_copy(deep=True) for i in set(order_ids) if i in self._orders}

    def put(self, order: Order) -> None:
        with self._lock:
            self._orders[order.order_id] = Order.model_validate(order.model_dump(mode="json"))


@dataclass
class StoredObject:
    content_type: str
    body: bytes
    tags: dict[str, str]


class MemoryAttachments:
    """The ``AttachmentStore`` port: ``upload`` stands for the customer's POST of a form (it
    enforces nothing, like moto); ``objects`` what is stored, with its tags."""

    URL = "memory://uploads"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.objects: dict[str, StoredObject] = {}
        self.forms: dict[str, dict[str, Any]] = {}  # key -> the form's conditions

    def upload_form(self, key: str, content_type: str, max_size: int, expires_s: int) -> tuple[str, dict[str, str]]:
        with self._lock:
            self.forms[key] = {"content_type": content_type, "max_size": max_size, "expires_s": expires_s}
        return self.URL, {"key": key, "Content-Type": content_type, "tagging": "state=unattached"}

    def upload(self, key: str, content_type: str, body: bytes) -> None:
        with self._lock:
            self.objects[key] = StoredObject(content_type, bytes(body), {"state": "unattached"})

    def stat(self, key: str) -> Attachment | None:
        with self._lock:
            found = self.objects.get(key)
            return Attachment(key=key, content_type=found.content_type, size=len(found.body)) if found else None

    def download_url(self, key: str, expires_s: int) -> str:
        return f"{self.URL}/{key}?expires={expires_s}"

    def keep(self, keys: list[str], complaint_id: str) -> None:
        with self._lock:
            for key in keys:
                if key in self.objects:
                    self.objects[key].tags = {"state": "attached", "complaint": complaint_id}


class MemoryEventBus:
    """The ``EventPublisher`` port: ``published`` in order. ``fail_calls = n`` makes the next n
    calls raise (the bus unavailable); ``reject = n`` rejects the next n entries (throttled)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.published: list[IntegrationEvent] = []
        self.fail_calls = 0
        self.reject = 0
        self.calls = 0

    def publish(self, events: list[IntegrationEvent]) -> list[int]:
        if len(events) > 10:
            raise ValueError("at most 10 events a call")
        with self._lock:
            self.calls += 1
            if self.fail_calls > 0:
                self.fail_calls -= 1
                raise ConnectionError("the event bus is unavailable (simulated)")
            failed = []
            for index, event in enumerate(events):
                if self.reject > 0:
                    self.reject -= 1
                    failed.append(index)
                else:
                    self.published.append(event)
            return failed


class MemoryIdempotency(BasePersistenceLayer):
    """Powertools' idempotency records in a dict, with the DynamoDB layer's rules: a record
    can be taken over only once it expired (or its in-progress lock did); a taken key with
    another payload is an ``IdempotencyValidationError``."""

    def __init__(self) -> None:
        super().__init__()
        self._records: dict[str, DataRecord] = {}
        self._lock = threading.Lock()

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._lock:
            try:
                return self._records[idempotency_key]
            except KeyError:
                raise IdempotencyItemNotFoundError from None

    def _put_record(self, data_record: DataRecord) -> None:
        with self._lock:
            old = self._records.get(data_record.idempotency_key)
            if old is not None and not _replaceable(old):
                self._validate_payload(data_payload=data_record, stored_data_record=old)
                raise IdempotencyItemAlreadyExistsError(old_data_record=old)
            self._records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._records.pop(data_record.idempotency_key, None)


def _replaceable(record: DataRecord) -> bool:
    now = datetime.now()
    if record.expiry_timestamp and record.expiry_timestamp < int(now.timestamp()):
        return True
    lock_until = record.in_progress_expiry_timestamp
    return record.status == "INPROGRESS" and lock_until is not None and lock_until < int(now.timestamp() * 1000)


def memory_services(*, clock: Callable[[], datetime] | None = None, sleep: Callable[[float], None] | None = None,
                    new_id: Callable[[], str] | None = None) -> Services:
    """A ``Services`` on fresh in-memory adapters (reports read the same tickets)."""
    from chalicelib.reports.memory import MemoryAggregates
    from chalicelib.services import Services

    store = MemoryTicketStore(keep_stream=True)
    aggregates = MemoryAggregates()
    options: dict[str, Any] = {k: v for k, v in (("clock", clock), ("sleep", sleep), ("new_id", new_id)) if v}
    return Services(store=store, workflow=MemoryWorkflow(), notifier=MemoryNotifier(),
                    idempotency=_once(MemoryIdempotency()), aggregator=aggregates, aggregates=aggregates,
                    orders=MemoryOrderDirectory(), attachments=MemoryAttachments(), events=MemoryEventBus(), **options)


def _once(layer: BasePersistenceLayer) -> Callable[[], BasePersistenceLayer]:
    return lambda: layer
