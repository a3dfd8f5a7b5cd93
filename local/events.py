"""One line per lifecycle event, for the ``serve`` console.

Hooked on the Lambda dispatch (every step of every workflow goes through the step/notify
functions, every import through the import function): no polling, no knowledge of the
table layout. ``HH:MM:SS`` is the *system* clock (scaled), the time the timeline records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local.lambda_dispatch import Invocation
from local.timescale import TimeScale

# result keys worth showing, in this order, when a handler returns a dict
_DETAIL_KEYS = (
    "status", "next", "category", "severity", "team", "escalation_level", "event",
    "kind", "channel", "topic", "created", "duplicates", "rejected",
)


def _scalar_details(value: Any, limit: int = 6) -> str:
    if not isinstance(value, dict):
        return ""
    parts = []
    for key in _DETAIL_KEYS:
        item = value.get(key)
        if isinstance(item, (str, int, float, bool)) and item != "":
            parts.append(f"{key}={item}")
        if len(parts) >= limit:
            break
    return " ".join(parts)


class EventPrinter:
    """An invocation listener that formats lifecycle events and hands them to ``sink``."""

    def __init__(self, function_prefix: str, clock: TimeScale, sink: Callable[[str], None]) -> None:
        self._prefix = function_prefix
        self._clock = clock
        self._sink = sink

    def format(self, invocation: Invocation) -> str | None:
        name = invocation.function_name.removeprefix(self._prefix)
        event = invocation.event if isinstance(invocation.event, dict) else {}
        if name == "lifecycle_step":
            complaint = str(event.get("complaint_id", "-"))
            what = str(event.get("action", "step"))
            detail = _scalar_details(invocation.result)
        elif name == "notify":
            complaint = str(event.get("complaint_id", "-"))
            message = event.get("message") if isinstance(event.get("message"), dict) else event
            what = "notify"
            detail = _scalar_details(message)
        elif name == "import_batch":
            complaint = "-"
            what = "import"
            records = event.get("Records", [])
            detail = f"{len(records)} message(s)"
            failures = invocation.result.get("batchItemFailures") if isinstance(invocation.result, dict) else None
            if failures:
                detail += f", {len(failures)} failed"
        else:
            return None
        if invocation.error_type:
            detail = f"{detail} error={invocation.error_type}: {invocation.error_message}".strip()
        return f"{self._clock.now():%H:%M:%S} {complaint} {what} {detail}".rstrip()

    def __call__(self, invocation: Invocation) -> None:
        line = self.format(invocation)
        if line:
            self._sink(line)
