"""Mainland China's official holiday periods and make-up working days (调休), from the
maintained ``holidays`` library — never a hand-typed list.

A holiday *period* is what the State Council's notice announces, e.g. "2月15日（周日）至23日
（周一）放假调休，共9天": the statutory and bridge days off plus the weekend days between and
around them. It is derived from the library as each maximal run of non-working days (for the
standard Monday-Friday week with the make-up days worked) that holds at least one listed day
off. A team on ``holidays: "CN"`` is closed for the whole period even if its week opens on
weekends, and opens on a make-up working day with its weekday hours.

The State Council publishes a year's schedule late in the year before. Until the library
ships it, it still knows that year's *statutory* holidays (fixed by law) but not the bridge
days off nor the weekend days worked in exchange. A year counts as **published** when the
library knows at least one make-up working day for it: every schedule since 2001 has had
some (5 to 12 a year). An unpublished year is never guessed at: the calendar falls back to
its week plus ``closed``/``open``, validation warns naming the year, and due times computed
on it are flagged (``Due.unconfirmed_years``).

``holidays`` is imported on first use only (its package imports every country, ~0.1-0.2 s;
see bench/README.md): a policy whose severities all run 24x7 never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

_BORDER = timedelta(days=15)  # a period may start in December or end in January


@dataclass(frozen=True)
class OfficialYear:
    year: int
    published: bool
    days_off: frozenset[date]  # the announced holiday periods, weekends inside included (empty when unpublished)
    workdays: frozenset[date]  # Saturdays/Sundays that are working days (empty when unpublished)
    statutory: frozenset[date]  # what the library knows even when unpublished (for warnings only)


@cache
def official_year(year: int) -> OfficialYear:
    from holidays.countries.china import China  # lazy: only a calendar with holidays "CN" needs it

    cn = China(years=(year - 1, year, year + 1))
    known = frozenset(d for d in cn if d.year == year)
    workdays = frozenset(d for d in cn.weekend_workdays if d.year == year)
    published = bool(workdays)
    if not published:
        return OfficialYear(year=year, published=False, days_off=frozenset(), workdays=frozenset(), statutory=known)
    periods: set[date] = set()
    run: list[date] = []
    day, last = date(year, 1, 1) - _BORDER, date(year, 12, 31) + _BORDER
    while day <= last:  # one pass over the year (+ borders)
        if cn.is_working_day(day):
            if any(d in cn for d in run):
                periods.update(run)
            run = []
        else:
            run.append(day)
        day += timedelta(days=1)
    if any(d in cn for d in run):
        periods.update(run)
    return OfficialYear(year=year, published=True, days_off=frozenset(d for d in periods if d.year == year),
                        workdays=workdays, statutory=known)


def library_version() -> str:
    from holidays.version import __version__

    return str(__version__)
