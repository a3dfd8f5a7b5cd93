"""A calendar's ``week``: day ranges (``mon-fri``, ``sat``) mapped to opening intervals
(``"09:00-18:00"``) in the calendar's local time, parsed into minutes of the day per weekday."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import pairwise

from chalicelib.policy.errors import problem

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
MINUTES_PER_DAY = 24 * 60

Interval = tuple[int, int]  # [start, end) in minutes after local midnight; end may be 1440 (24:00)
DayHours = tuple[Interval, ...]
WeekHours = tuple[DayHours, DayHours, DayHours, DayHours, DayHours, DayHours, DayHours]

_RANGE = re.compile(r"^([a-z]{3})(?:-([a-z]{3}))?$")
_INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def _days(key: str) -> range:
    m = _RANGE.match(key)
    if not m or m.group(1) not in DAYS or (m.group(2) is not None and m.group(2) not in DAYS):
        raise problem(key, "bad day range: use mon, tue, wed, thu, fri, sat, sun or a range like 'mon-fri'")
    first = DAYS.index(m.group(1))
    last = DAYS.index(m.group(2)) if m.group(2) else first
    if last < first:
        raise problem(key, f"bad day range: days run mon…sun, so write '{m.group(1)}-sun' and 'mon-{m.group(2)}'")
    return range(first, last + 1)


def _minutes(hh: str, mm: str) -> int | None:
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and m != 0):
        return None
    return h * 60 + m


def parse_interval(text: object) -> Interval | None:
    """``"09:00-18:00"`` -> ``(540, 1080)``; ``None`` if it is not a valid interval."""
    m = _INTERVAL.match(text) if isinstance(text, str) else None
    if not m:
        return None
    start, end = _minutes(m.group(1), m.group(2)), _minutes(m.group(3), m.group(4))
    if start is None or end is None or start >= end or start == MINUTES_PER_DAY:
        return None
    return start, end


def parse_week(week: Mapping[str, Sequence[object]]) -> WeekHours:
    """Opening intervals per weekday. Raises a policy problem naming the day range or the
    interval: a bad range, a bad or overlapping interval, a day listed twice."""
    days: list[list[Interval]] = [[] for _ in DAYS]
    owner: dict[int, str] = {}
    for key, intervals in week.items():
        span = _days(key)
        for day in span:
            if day in owner:
                raise problem(key, f"{DAYS[day]} is already given by '{owner[day]}': list each day once")
            owner[day] = key
        if not isinstance(intervals, list | tuple):
            raise problem(key, 'must be a list of opening intervals like ["09:00-18:00"]')
        parsed: list[Interval] = []
        for i, text in enumerate(intervals):
            interval = parse_interval(text)
            if interval is None:
                raise problem(f"{key}[{i}]", f"bad interval {text!r}: write 'HH:MM-HH:MM' that ends after it starts "
                              "('24:00' ends at midnight; split a night shift at midnight)")
            parsed.append(interval)
        parsed.sort()
        for (s1, e1), (s2, e2) in pairwise(parsed):
            if s2 < e1:
                raise problem(key, f"intervals {_fmt((s1, e1))} and {_fmt((s2, e2))} overlap")
        for day in span:
            days[day] = parsed
    if not any(days):
        raise problem("", "never open: give at least one day range with opening hours")
    mon, tue, wed, thu, fri, sat, sun = (tuple(d) for d in days)
    return (mon, tue, wed, thu, fri, sat, sun)


def weekday_hours(week: WeekHours) -> DayHours:
    """The hours a make-up working day (or an extra ``open`` date) opens with: those of the
    first day Monday to Friday the week opens on (the week's own first open day if it has
    none — a weekend-only team)."""
    return next((hours for hours in week[:5] if hours), next((hours for hours in week if hours), ()))


def _fmt(interval: Interval) -> str:
    (s, e) = interval
    return f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"


def format_hours(hours: DayHours) -> str:
    return ", ".join(_fmt(i) for i in hours) or "closed"
