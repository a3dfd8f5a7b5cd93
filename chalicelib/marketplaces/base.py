"""What every marketplace adapter shares: the imported complaint, the rejection, and the small
strict parsers (ids, times, money, reason codes) that the adapters feed their records through.

Pure domain: stdlib + pydantic only. An adapter module holds its mapping as data (field map,
reason table) and a ``map_record(raw) -> ImportedComplaint`` that raises ``RecordRejected``
with a reason that names *their* field and says why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from chalicelib.models import ComplaintIn

# China has had no daylight saving time since 1991: Beijing time is a fixed UTC+8.
BEIJING = timezone(timedelta(hours=8), "UTC+08:00")
# Sanity window for a complaint's time: catches seconds-instead-of-milliseconds and 0/epoch.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_ID_CHARS = 128
_CENT = Decimal("0.01")
_DATE_ONLY = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_DIGITS = re.compile(r"-?\d+")

T = TypeVar("T")


class RecordRejected(Exception):
    """One record cannot become a complaint. The rest of its batch goes on."""

    def __init__(self, reason: str, external_id: str | None = None, index: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.external_id = external_id
        self.index = index

    def __str__(self) -> str:
        return self.reason


class ImportedComplaint(BaseModel):
    """A marketplace record mapped onto the complaint model. Identity: ``(source, external_id)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    external_id: str  # the marketplace's dispute / claim / after-sale id
    raised_at: datetime  # aware UTC, whole seconds: when the buyer complained; clocks start here
    complaint: ComplaintIn

    @field_validator("raised_at")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("raised_at must be timezone-aware")
        return value.astimezone(UTC)

    @property
    def identity(self) -> tuple[str, str]:
        return (self.source, self.external_id)


@dataclass(frozen=True)
class Adapter:
    """One marketplace: its source name, a human title and its record mapper."""

    source: str
    title: str
    map_record: Callable[[Mapping[str, Any]], ImportedComplaint]


# --------------------------------------------------------------------------- reading fields


def pick(raw: Mapping[str, Any], names: Sequence[str]) -> tuple[str, Any] | None:
    """The first of ``names`` that is present and not empty (None, "" and whitespace are empty)."""
    for name in names:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        return name, value
    return None


def label(names: Sequence[str]) -> str:
    """How a reason names a field that may come under several names: ``refund_id/dispute_id``."""
    return "/".join(names)


def as_id(name: str, value: Any) -> str:
    """An identifier: a string or an integer (JSON exports carry both), no whitespace inside."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordRejected(f"{name}: must be a string or an integer, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > MAX_ID_CHARS:
        raise RecordRejected(f"{name}: longer than {MAX_ID_CHARS} characters")
    if not text.isprintable() or any(ch.isspace() for ch in text):
        raise RecordRejected(f"{name}: contains whitespace or control characters")
    return text


def required_id(raw: Mapping[str, Any], names: Sequence[str], what: str) -> str:
    found = pick(raw, names)
    if found is None:
        raise RecordRejected(f"{label(names)}: missing {what}")
    return as_id(*found)


def optional_text(raw: Mapping[str, Any], names: Sequence[str]) -> str | None:
    """Free text exactly as sent (Chinese passes through unchanged); numbers become strings."""
    found = pick(raw, names)
    if found is None:
        return None
    name, value = found
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordRejected(f"{name}: must be text, got {type(value).__name__}")
    return str(value)


def code_key(value: str) -> str:
    """Normalised lookup key for a reason code or text: NFKC (full-width → half-width), trimmed,
    upper-cased. Only the lookup key is normalised — the text we store stays as sent."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def lookup(table: Mapping[str, T], value: str | None) -> T | None:
    """What ``value`` maps to in ``table`` (keys compared as :func:`code_key`), None if nothing.

    A table may list a value with None on purpose: known, but left to triage — the adapter then
    goes on to its next field, exactly as for a value the table does not know.
    """
    if value is None:
        return None
    key = code_key(value)
    for candidate, mapped in table.items():
        if code_key(candidate) == key:
            return mapped
    return None


# --------------------------------------------------------------------------------- money


def parse_amount(name: str, value: Any) -> Decimal:
    """A non-negative money amount with at most 2 decimals: "129.00", "129", 129 or 129.5."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise RecordRejected(f"{name}: must be a decimal amount, got {type(value).__name__}")
    text = str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise RecordRejected(f"{name}: not a decimal amount: {text!r}") from None
    if not amount.is_finite():
        raise RecordRejected(f"{name}: not a finite amount: {text!r}")
    if amount < 0:
        raise RecordRejected(f"{name}: negative amount {text}")
    try:
        cents = amount.quantize(_CENT)
    except InvalidOperation:
        raise RecordRejected(f"{name}: amount too large: {text}") from None
    if cents != amount:
        raise RecordRejected(f"{name}: more than 2 decimal places: {text}")
    return cents


def amounts(raw: Mapping[str, Any], names: Sequence[str]) -> tuple[str, Decimal] | None:
    """Every present amount field is checked (a negative one rejects the record even when it is
    not the one we keep); the first present one is returned."""
    first: tuple[str, Decimal] | None = None
    for name in names:
        found = pick(raw, [name])
        if found is None:
            continue
        amount = parse_amount(name, found[1])
        if first is None:
            first = (name, amount)
    return first


# --------------------------------------------------------------------------------- times


def _check_range(name: str, moment: datetime) -> datetime:
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if not EARLIEST <= moment < LATEST:
        raise RecordRejected(f"{name}: time out of range: {moment.isoformat()}")
    return moment


def parse_epoch_ms(name: str, value: int) -> datetime:
    return _check_range(name, datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value))


def parse_time(
    name: str,
    value: Any,
    *,
    naive_tz: tzinfo | None = None,
    epoch_ms: bool = False,
) -> datetime:
    """An aware UTC datetime, whole seconds.

    ISO 8601 with ``Z`` or an offset is always accepted. A time without an offset is accepted
    only if the marketplace documents its zone (``naive_tz``, e.g. Beijing time), otherwise it is
    rejected: guessing would shift every clock by hours. ``epoch_ms`` also accepts milliseconds
    since the Unix epoch (number or digit string).
    """
    if isinstance(value, bool):
        raise RecordRejected(f"{name}: not a time: {value!r}")
    if epoch_ms and isinstance(value, int):
        return parse_epoch_ms(name, value)
    if not isinstance(value, str):
        raise RecordRejected(f"{name}: not a time: {value!r}")
    text = value.strip()
    if epoch_ms and _DIGITS.fullmatch(text):
        return parse_epoch_ms(name, int(text))
    if _DATE_ONLY.fullmatch(text):
        raise RecordRejected(f"{name}: a date without a time of day: {text!r}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RecordRejected(f"{name}: not a time: {text!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        if naive_tz is None:
            raise RecordRejected(f"{name}: no UTC offset in {text!r} (use Z or +hh:mm)")
        moment = moment.replace(tzinfo=naive_tz)
    return _check_range(name, moment)


# ------------------------------------------------------------------------- the complaint


def _describe(exc: ValidationError, their_names: Mapping[str, str]) -> str:
    parts = []
    for error in exc.errors()[:3]:
        loc = ".".join(str(part) for part in error["loc"]) or "record"
        top = str(error["loc"][0]) if error["loc"] else ""
        theirs = their_names.get(top)
        where = f"{theirs} ({loc})" if theirs and theirs != top else loc
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - 3
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def build_complaint(values: Mapping[str, Any], their_names: Mapping[str, str]) -> ComplaintIn:
    """Validate with the API's own model; a failure names their field and ours."""
    try:
        return ComplaintIn.model_validate(dict(values))
    except ValidationError as exc:
        raise RecordRejected(_describe(exc, their_names)) from None


@contextmanager
def rejecting(external_id: str | None) -> Iterator[None]:
    """Attach the record's external id to any rejection raised inside."""
    try:
        yield
    except RecordRejected as exc:
        if exc.external_id is None:
            exc.external_id = external_id
        raise
