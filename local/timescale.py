"""Scaled time: N simulated seconds pass per wall-clock second.

The formula is the one of ``chalicelib/clock.py`` (``CLOCK_EPOCH`` + elapsed wall time x
``TIME_SCALE``), so the timers patched into moto and the times the app records agree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

# A scaled timer never becomes 0 (that would mean "no wait" or "no timeout").
MIN_REAL_SECONDS = 0.001


@dataclass(frozen=True)
class TimeScale:
    scale: float = 60.0
    epoch: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.scale <= 0:
            raise ValueError(f"time scale must be positive, got {self.scale}")

    def real(self, simulated_seconds: float) -> float:
        """Wall-clock seconds a simulated duration lasts (never 0 for a positive duration)."""
        if simulated_seconds <= 0:
            return 0.0
        return max(simulated_seconds / self.scale, MIN_REAL_SECONDS)

    def now_timestamp(self) -> float:
        """Simulated POSIX time now."""
        return self.epoch + (time.time() - self.epoch) * self.scale

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_timestamp(), UTC)
