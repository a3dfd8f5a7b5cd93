"""Working time: the seconds that count against a service-level window.

``ALWAYS_OPEN`` is ``"24x7"`` (every second counts). ``BusinessHours`` is a team's calendar:
its week in its IANA time zone, mainland China's official days off and make-up working days
(``holidays: "CN"``), and ops' extra ``closed``/``open`` dates. Both answer the same two
questions, exactly, by walking the opening intervals day by day (no polling, no minute
loops):

- ``add(start, seconds)`` -> the ``Due`` moment when ``seconds`` of working time have passed;
- ``between(a, b)`` -> the working seconds in ``[a, b)``.

All moments are aware datetimes; results are UTC. Local opening times are converted with
``zoneinfo`` per day, so a day with a DST switch is 23 or 25 hours long and a non-existent
local time (spring forward) moves on by the gap, as ``zoneinfo``'s ``fold=0`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from chalicelib.policy.errors import CalendarError
from chalicelib.policy.official import official_year
from chalicelib.policy.week import MINUTES_PER_DAY, DayHours, WeekHours, weekday_hours

Hours = Literal["24x7", "business"]
MAX_WALK_DAYS = 100 * 366  # a valid calendar opens every week; this only bounds the loop
_ONE_DAY = timedelta(days=1)
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Due:
    """A deadline, and the years whose official holiday schedule it was computed without
    (not yet published: the week plus ``closed``/``open`` were used). The caller counts
    those as a metric so ops add the dates until the library catches up."""

    at: datetime
    unconfirmed_years: tuple[int, ...] = ()

    @property
    def confirmed(self) -> bool:
        return not self.unconfirmed_years


class WorkingTime(Protocol):
    hours: Hours

    def add(self, start: datetime, seconds: int) -> Due: ...

    def between(self, start: datetime, end: datetime) -> int: ...


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"working time needs an aware datetime, got {moment!r}")
    return moment


class AlwaysOpen:
    """``"24x7"``: every second counts."""

    hours: Hours = "24x7"

    def add(self, start: datetime, seconds: int) -> Due:
        return Due(_aware(start).astimezone(UTC) + timedelta(seconds=max(0, seconds)))

    def between(self, start: datetime, end: datetime) -> int:
        return max(0, int((_aware(end) - _aware(start)).total_seconds()))

    def __repr__(self) -> str:
        return "AlwaysOpen()"


ALWAYS_OPEN = AlwaysOpen()


class BusinessHours:
    """A team's opening hours. Which hours a local date opens with, first rule that applies:

    1. an ``open`` date: the week's weekday hours;
    2. a ``closed`` date: closed;
    3. with ``holidays="CN"`` and the year published: an official day off is closed, a
       make-up working day (调休 Saturday/Sunday) opens with the weekday hours;
    4. the week's hours for that weekday.
    """

    hours: Hours = "business"

    def __init__(self, *, name: str, timezone: ZoneInfo, week: WeekHours, closed: frozenset[date] = frozenset(),
                 open_: frozenset[date] = frozenset(), holidays: Literal["CN"] | None = None) -> None:
        self.name = name
        self.timezone = timezone
        self.week = week
        self.weekday_hours = weekday_hours(week)
        self.closed = closed
        self.open = open_
        self.holidays = holidays
        self._intervals_cache: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    def __repr__(self) -> str:
        return f"BusinessHours({self.name!r}, {self.timezone.key})"

    # -- which hours a day opens with ------------------------------------------------------
    def hours_on(self, day: date) -> DayHours:
        if day in self.open:
            return self.weekday_hours
        if day in self.closed:
            return ()
        if self.holidays == "CN":
            official = official_year(day.year)
            if official.published:
                if day in official.days_off:
                    return ()
                if day in official.workdays:
                    return self.weekday_hours
        return self.week[day.weekday()]

    def unconfirmed_years(self, start: datetime, end: datetime) -> tuple[int, ...]:
        """The years in ``[start, end]`` whose official schedule this calendar would use but
        the library has not published."""
        if self.holidays != "CN":
            return ()
        first, last = self._local_date(start).year, self._local_date(end).year
        return tuple(y for y in range(first, last + 1) if not official_year(y).published)

    # -- the two questions -----------------------------------------------------------------
    def add(self, start: datetime, seconds: int) -> Due:
        start = _aware(start).astimezone(UTC)
        if seconds <= 0:
            return Due(start, self.unconfirmed_years(start, start))
        remaining = timedelta(seconds=seconds)
        day = self._local_date(start) - _ONE_DAY  # an interval of the day before may still run
        for _ in range(MAX_WALK_DAYS):
            for opens, closes in self._intervals(day):
                if closes <= start:
                    continue
                opens = max(opens, start)
                span = closes - opens
                if remaining <= span:
                    due = opens + remaining
                    return Due(due, self.unconfirmed_years(start, due))
                remaining -= span
            day += _ONE_DAY
        raise CalendarError(f"calendar {self.name!r} does not open for {MAX_WALK_DAYS} days after {start.isoformat()}")

    def between(self, start: datetime, end: datetime) -> int:
        start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
        if end <= start:
            return 0
        total = timedelta(0)
        day, last = self._local_date(start) - _ONE_DAY, self._local_date(end)
        while day <= last:  # bounded: one pass per local day in [start, end]
            for opens, closes in self._intervals(day):
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    total += hi - lo
            day += _ONE_DAY
        return int(total.total_seconds())

    # -- local days as UTC intervals -------------------------------------------------------
    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()

    def _at(self, day: date, minute: int) -> datetime:
        if minute >= MINUTES_PER_DAY:
            day, minute = day + _ONE_DAY, minute - MINUTES_PER_DAY
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.timezone)
        return local.astimezone(UTC)

    def _intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        cached = self._intervals_cache.get(day)
        if cached is None:
            pairs = ((self._at(day, s), self._at(day, e)) for s, e in self.hours_on(day))
            cached = tuple((a, b) for a, b in pairs if b > a)  # an hour skipped by DST is empty
            if len(self._intervals_cache) >= _CACHE_LIMIT:
                self._intervals_cache.clear()
            self._intervals_cache[day] = cached
        return cached
