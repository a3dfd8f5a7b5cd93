"""EventBridge implementation of the ``EventPublisher`` port: the bus ``complaints-<stage>``,
source ``complaints`` (docs/integration.md)."""

from __future__ import annotations

from typing import Any

from chalicelib.integration.events import SOURCE, IntegrationEvent

MAX_ENTRIES = 10  # PutEvents takes at most 10 entries a call


def entry(bus: str, event: IntegrationEvent) -> dict[str, Any]:
    return {"Source": SOURCE, "DetailType": event.detail_type, "Detail": event.detail_json(), "EventBusName": bus,
            "Time": event.time, "Resources": []}


class EventBridgePublisher:
    def __init__(self, events: Any, bus: str) -> None:
        self.events, self.bus = events, bus

    def publish(self, events: list[IntegrationEvent]) -> list[int]:
        if len(events) > MAX_ENTRIES:
            raise ValueError(f"at most {MAX_ENTRIES} events a call, not {len(events)}")
        if not events:
            return []
        resp = self.events.put_events(Entries=[entry(self.bus, e) for e in events])
        if not resp.get("FailedEntryCount"):
            return []
        return [i for i, result in enumerate(resp.get("Entries") or []) if result.get("ErrorCode")] or \
            list(range(len(events)))  # counted as failed but none named: all of them
