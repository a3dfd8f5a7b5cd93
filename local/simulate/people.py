"""The people of a simulation: agents per team (optionally by shift) and customers.

Every random draw comes from its own generator seeded by ``(seed, complaint, what, n)``, so a
complaint is handled just as long, and its customer answers just as late, under every policy
compared: the policies differ, the people do not (common random numbers). A customer's score
is drawn from the outcome they saw under that policy (was a promise broken?).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.models import TEAMS
from chalicelib.policy import BusinessHours, Calendar
from chalicelib.ticket import Ticket
from local.simulate.load import Arrival

DEFAULT_STAFF = {"product": 4, "logistics": 3, "service": 3}
DEFAULT_HANDLE_MINUTES = {"product": 45.0, "logistics": 30.0, "service": 20.0}
HANDLING_SPREAD = 0.5  # sigma of the log-normal handling time around its median
CONTACT_SHARE = 0.25
REPLY_MEDIAN_S = 3 * 3600  # a customer asked for something answers in about three hours  # the first contact comes after this share of the handling time, resolution after the rest
# Survey scores (1..5) and their weights, by what the customer saw.
SCORES_KEPT = (1, 2, 6, 38, 53)  # no clock breached: mostly 4 and 5
SCORES_BROKEN = (14, 20, 26, 24, 16)  # a clock breached: far more 1 and 2 (a reopen)


class StaffingError(ValueError):
    """A ``--staff``, ``--handle-minutes`` or ``--shifts`` value that cannot be used."""


class Shift(BaseModel):
    """Agents on duty whenever ``calendar`` (the policy's calendar model) is open."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    team: str
    agents: int = Field(ge=0)
    calendar: Calendar


class ShiftFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    shifts: list[Shift]


def read_shifts(path: Path) -> list[Shift]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StaffingError(f"--shifts {path}: cannot read it: {exc}") from exc
    try:
        shifts = ShiftFile.model_validate(data).shifts
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StaffingError(f"--shifts {path}: {where}: {first['msg']}") from None
    unknown = sorted({s.team for s in shifts} - set(TEAMS))
    if unknown:
        raise StaffingError(f"--shifts {path}: unknown team {unknown[0]!r} (teams: {', '.join(TEAMS)})")
    return shifts


def per_team(text: str, option: str, kind: type[int] | type[float]) -> dict[str, Any]:
    """``product=4,logistics=3`` -> {"product": 4, "logistics": 3}."""
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        team, sep, value = part.partition("=")
        if not sep or team not in TEAMS:
            raise StaffingError(f"{option}: {part!r}: write team=value with a team of {', '.join(TEAMS)}")
        try:
            number = kind(value)
        except ValueError:
            raise StaffingError(f"{option}: {part!r}: {value!r} is not a number") from None
        if number < 0 or (kind is float and not math.isfinite(number)) or (kind is float and number == 0):
            raise StaffingError(f"{option}: {part!r}: must be {'positive' if kind is float else 'zero or more'}")
        out[team] = number
    return out


@dataclass
class Staffing:
    agents: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_STAFF))
    handle_minutes: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_HANDLE_MINUTES))
    shifts: list[Shift] = field(default_factory=list)
    seed: int = 1

    def __post_init__(self) -> None:
        self._hours = [(s, s.calendar.working_time(f"shift {i}")) for i, s in enumerate(self.shifts)]
        self._by_shift = {s.team for s in self.shifts}

    @property
    def teams(self) -> tuple[str, ...]:
        return TEAMS

    def on_duty(self, team: str, now: datetime) -> int:
        if team not in self._by_shift:
            return self.agents.get(team, 0)
        return sum(s.agents for s, hours in self._hours if s.team == team and hours.between(now, now + _SECOND) > 0)

    def changes(self, team: str, start_s: int, end_s: int) -> list[int]:
        """When agents of ``team`` come on or go off duty, within [start, end] (epoch seconds)."""
        moments: set[int] = set()
        for shift, hours in self._hours:
            if shift.team == team:
                moments |= _boundaries(hours, start_s, end_s)
        return sorted(moments)

    def handling(self, team: str, complaint_id: str, session: int) -> tuple[int, int]:
        """Seconds to the first contact, then to the resolution, of one handling."""
        rng = random.Random(f"{self.seed}:{complaint_id}:handle:{session}")
        median_s = self.handle_minutes.get(team, DEFAULT_HANDLE_MINUTES.get(team, 30.0)) * 60
        total = median_s * math.exp(rng.gauss(0.0, HANDLING_SPREAD))
        contact = max(1, round(total * CONTACT_SHARE))
        return contact, max(1, round(total - contact))


_SECOND = timedelta(seconds=1)


def _boundaries(hours: BusinessHours, start_s: int, end_s: int) -> set[int]:
    tz: ZoneInfo = hours.timezone
    first = datetime.fromtimestamp(start_s, UTC).astimezone(tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end_s, UTC).astimezone(tz).date()
    out: set[int] = set()
    day: date = first
    while day <= last:
        for opens, closes in hours.hours_on(day):
            for minute in (opens, closes):
                local = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minute)
                moment = int(local.astimezone(UTC).timestamp())
                if start_s <= moment <= end_s:
                    out.add(moment)
        day += timedelta(days=1)
    return out


@dataclass
class Customers:
    seed: int = 1

    def reply_delay(self, arrival: Arrival, complaint_id: str) -> int | None:
        """Seconds until the customer answers the agent's question, or None: never."""
        if not arrival.replies:
            return None
        rng = random.Random(f"{self.seed}:{complaint_id}:reply")
        return max(60, round(REPLY_MEDIAN_S * math.exp(rng.gauss(0.0, HANDLING_SPREAD))))

    def answer(self, arrival: Arrival, ticket: Ticket) -> tuple[int, int] | None:
        """(seconds after the survey, score) — or None: this customer never answers."""
        if not arrival.rates:
            return None
        rng = random.Random(f"{self.seed}:{ticket.complaint_id}:survey:{ticket.reopen_count}")
        broken = any(clock.breached for clock in ticket.clocks.values())
        score = rng.choices((1, 2, 3, 4, 5), weights=SCORES_BROKEN if broken else SCORES_KEPT)[0]
        return max(1, round(arrival.answer_after_s * math.exp(rng.gauss(0.0, HANDLING_SPREAD)))), score
