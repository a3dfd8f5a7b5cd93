"""One console line per lifecycle event: ``HH:MM:SS complaint-id event detail``.

The events are the complaints' timeline items (``pk = C#<id>``, ``sk = EV#...`` in the tickets
table, see ``chalicelib/adapters/layout.py``), caught as moto's DynamoDB backend writes them: no
polling, and every writer is covered (the workflow's steps, the API's actions, imports).
Items written inside ``TransactWriteItems`` are held back until the transaction commits
(``local.moto.dynamodb.observing_puts``), so a transaction cancelled by a version conflict
prints nothing. ``HH:MM:SS`` is the event's ``at``, i.e. the (scaled) system clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from local.moto import dynamodb

TIMELINE_PK_PREFIX = "C#"
TIMELINE_SK_PREFIX = "EV#"
TICKET_SK = "TICKET"  # a new ticket item stands for its (implied) ``received`` event
MAX_DETAIL_CHARS = 120

_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    return _deserializer.deserialize(value) if isinstance(value, dict) and len(value) == 1 else value


def _line(at: Any, complaint_id: str, event: Any, actor: Any, detail: Any) -> str:
    text_at = str(at or "")
    clock = text_at[11:19] if len(text_at) >= 19 else "--:--:--"
    parts = [f"by {actor}"] if actor else []
    if isinstance(detail, dict):
        parts += [f"{k}={v}" for k, v in detail.items() if isinstance(v, (str, int, float, bool, Decimal))]
    text = " ".join(parts)
    if len(text) > MAX_DETAIL_CHARS:
        text = text[: MAX_DETAIL_CHARS - 1] + "…"
    return f"{clock} {complaint_id} {event} {text}".rstrip()


def format_event(item: dict[str, Any], creates: bool = False) -> str | None:
    """The console line for a DynamoDB item (low-level JSON) written to the tickets table, or
    None if it is no event. ``creates``: the write was conditional on the item not existing."""
    pk, sk = _plain(item.get("pk")), _plain(item.get("sk"))
    if not (isinstance(pk, str) and isinstance(sk, str) and pk.startswith(TIMELINE_PK_PREFIX)):
        return None
    complaint_id = pk.removeprefix(TIMELINE_PK_PREFIX)
    if sk.startswith(TIMELINE_SK_PREFIX):
        plain = {k: _plain(item.get(k)) for k in ("at", "type", "actor", "detail")}
        return _line(plain["at"], complaint_id, plain["type"], plain["actor"], plain["detail"])
    if sk == TICKET_SK and creates:
        complaint = _plain(item.get("complaint"))
        detail = {"channel": complaint.get("channel")} if isinstance(complaint, dict) else {}
        detail["source"] = _plain(item.get("source"))
        return _line(_plain(item.get("created_at")), complaint_id, "received", _plain(item.get("received_by")), detail)
    return None


class TimelineTap:
    """Calls ``sink`` with one line per timeline event written to ``table``."""

    def __init__(self, table: str, sink: Callable[[str], None]) -> None:
        self._table = table
        self._sink = sink

    def _on_put(self, put: dynamodb.Put) -> None:
        line = format_event(put.item, put.creates) if put.table_name == self._table else None
        if line:
            with suppress(Exception):  # a broken console must never break a write
                self._sink(line)

    @contextmanager
    def installed(self) -> Iterator[TimelineTap]:
        """While the block runs (inside the local system's moto patches, which hold a
        transaction's Puts back until it commits: ``local.moto.dynamodb.observing_puts``)."""
        with dynamodb.observing_puts(self._on_put):
            yield self
