"""Marketplace batch import — the pure-domain part (docs/import.md).

One SQS message is a :class:`Batch` of one marketplace's records. :func:`parse_batch` accepts or
refuses the message as a whole (not JSON, not a batch, unknown source → :class:`BatchInvalid`);
:func:`map_record` turns each record into an :class:`ImportedComplaint` or refuses that record
alone (:class:`RecordRejected`, with a reason naming the field).

Adding a marketplace = one module in this package with its mapping tables, ``map_record`` and
``ADAPTER``, plus one line in ``_ADAPTER_MODULES`` below. See README.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from chalicelib.marketplaces import amazon, generic, jd, tmall
from chalicelib.marketplaces.base import Adapter, ImportedComplaint, RecordRejected

__all__ = [
    "ADAPTERS",
    "MAX_RECORDS",
    "Adapter",
    "Batch",
    "BatchInvalid",
    "ImportedComplaint",
    "RecordRejected",
    "UnknownSource",
    "get_adapter",
    "map_record",
    "parse_batch",
]

# The registry: one line per marketplace module.
_ADAPTER_MODULES = (generic, tmall, jd, amazon)
ADAPTERS: dict[str, Adapter] = {module.ADAPTER.source: module.ADAPTER for module in _ADAPTER_MODULES}

MAX_RECORDS = 500  # per message (docs/import.md); SQS's 256 KiB is the real bound


class BatchInvalid(Exception):
    """The message is not a batch at all: it fails on its own (and ends in the DLQ)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class UnknownSource(BatchInvalid):
    """No adapter is registered for this source."""


def get_adapter(source: str) -> Adapter:
    try:
        return ADAPTERS[source]
    except (KeyError, TypeError):
        known = ", ".join(sorted(ADAPTERS))
        raise UnknownSource(f"source: unknown marketplace {source!r} (known: {known})") from None


class Batch(BaseModel):
    """The SQS message body: one export batch of one marketplace."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    batch_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
    exported_at: AwareDatetime
    # Any, not dict: a record that is not a JSON object is rejected on its own by map_record,
    # it does not make the whole message invalid.
    records: Annotated[list[Any], Field(min_length=1, max_length=MAX_RECORDS)]

    @field_validator("source")
    @classmethod
    def _known_source(cls, source: str) -> str:
        if source not in ADAPTERS:
            raise ValueError(f"unknown marketplace {source!r} (known: {', '.join(sorted(ADAPTERS))})")
        return source

    @field_validator("exported_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        loc = ".".join(str(part) for part in error["loc"]) or "batch"
        parts.append(f"{loc}: {error['msg']}")
    return "not a batch: " + "; ".join(parts)


def parse_batch(body: str | bytes) -> Batch:
    """The message body as a :class:`Batch`, or :class:`BatchInvalid` with the reason."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BatchInvalid(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BatchInvalid(f"not a batch: expected a JSON object, got {type(data).__name__}")
    source = data.get("source")
    if isinstance(source, str):
        get_adapter(source)  # UnknownSource, a BatchInvalid, with the list of known sources
    try:
        return Batch.model_validate(data)
    except ValidationError as exc:
        raise BatchInvalid(_describe(exc)) from None


def map_record(source: str, index: int, raw: Any) -> ImportedComplaint:
    """Record ``index`` of a batch of ``source`` as a complaint, or :class:`RecordRejected`.

    An unregistered ``source`` raises :class:`UnknownSource` (a batch bug, not a record's).
    Whatever else goes wrong with one record rejects that record only, with the reason.
    """
    adapter = get_adapter(source)
    if not isinstance(raw, Mapping):
        raise RecordRejected(f"record: not a JSON object (got {type(raw).__name__})", index=index)
    try:
        return adapter.map_record(raw)
    except RecordRejected as exc:
        exc.index = index
        raise
    except Exception as exc:  # an adapter bug must not block the rest of the batch
        raise RecordRejected(f"record: could not be mapped ({type(exc).__name__}: {exc})", index=index) from exc
