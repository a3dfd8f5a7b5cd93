"""The ``notify`` function's work: send one message of the state machine's ``Notify`` map.
A failed send raises; the map's Retry/Catch retry it and record ``notification_failed``."""

from __future__ import annotations

from typing import Any

from chalicelib.services import Services
from chalicelib.workflow_events import NotifyEvent


def send(services: Services, event: dict[str, Any]) -> dict[str, Any]:
    return services.notifier.send(NotifyEvent.model_validate(event).message)
