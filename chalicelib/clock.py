"""The system's one clock.

In AWS it is the wall clock. On the local system it starts at the wall-clock time the system
started (``CLOCK_EPOCH``) and runs ``TIME_SCALE`` times faster, so SLA hours pass in seconds
and every recorded time stays consistent with the scaled Step Functions timers.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from chalicelib.config import settings


def now() -> datetime:
    """Current system time, UTC, whole seconds (Step Functions timestamps have no fractions)."""
    cfg = settings()
    wall = time.time()
    if cfg.time_scale != 1.0 and cfg.clock_epoch is not None:
        wall = cfg.clock_epoch + (wall - cfg.clock_epoch) * cfg.time_scale
    return datetime.fromtimestamp(int(wall), UTC)


@lru_cache(maxsize=1 << 14)
def iso(moment: datetime) -> str:
    """``2026-11-22T08:15:00Z`` — the only time format the API and the workflow use.
    Remembered: a ticket's times are written out again on every save and every read."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def after(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)
