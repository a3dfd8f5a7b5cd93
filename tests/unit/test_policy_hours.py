"""Working-time maths: due times and elapsed working time on team calendars — business hours,
nights and weekends, China's Spring Festival and Golden Week with their make-up working
days, DST switches, and a year whose official dates are not published yet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from chalicelib.policy import ALWAYS_OPEN, BusinessHours, Calendar, CalendarError
from chalicelib.policy.official import official_year

SHANGHAI = ZoneInfo("Asia/Shanghai")
H = 3600


def calendar(week: dict[str, list[str]], *, timezone: str = "Asia/Shanghai", holidays: str | None = "CN",
             **dates: Any) -> BusinessHours:
    spec = Calendar.model_validate({"timezone": timezone, "week": week, "holidays": holidays, **dates})
    return spec.working_time("team")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


OFFICE = {"mon-fri": ["09:00-18:00"]}  # the product team
SEVEN_DAYS = {"mon-sun": ["09:00-21:00"]}  # the service desk
LOGISTICS = {"mon-sun": ["08:00-22:00"]}


# -- nights, weekends, closing time ------------------------------------------------------------------
def test_the_spec_example_received_five_minutes_before_closing_is_due_the_next_open_day() -> None:
    # Given the service desk, open every day until 21:00, and a 2 h window
    service = calendar(SEVEN_DAYS)
    # When a complaint arrives at 20:55 on Friday 2026-11-27
    due = service.add(local(2026, 11, 27, 20, 55), 2 * H)
    # Then 5 minutes count on Friday and the rest from Saturday's opening
    assert due.at == local(2026, 11, 28, 10, 55)
    assert due.at.tzinfo is UTC and due.confirmed


def test_a_window_spanning_a_night_and_a_weekend_counts_only_opening_hours() -> None:
    office = calendar(OFFICE)
    # Friday 17:55 + 2 h: 5 min on Friday, the weekend is closed, Monday from 09:00
    assert office.add(local(2026, 11, 27, 17, 55), 2 * H).at == local(2026, 11, 30, 10, 55)
    # received in the night (Tuesday 23:30): the clock starts at Wednesday's opening
    assert office.add(local(2026, 11, 24, 23, 30), 1 * H).at == local(2026, 11, 25, 10, 0)
    # and the working time between is exactly what was added
    assert office.between(local(2026, 11, 27, 17, 55), local(2026, 11, 30, 10, 55)) == 2 * H
    assert office.between(local(2026, 11, 28, 0, 0), local(2026, 11, 29, 23, 59)) == 0  # a weekend


def test_a_deadline_can_fall_on_closing_time_and_lunch_breaks_do_not_count() -> None:
    assert calendar(SEVEN_DAYS).add(local(2026, 11, 27, 19, 0), 2 * H).at == local(2026, 11, 27, 21, 0)
    lunch = calendar({"mon-fri": ["09:00-12:00", "13:30-18:00"]})
    assert lunch.add(local(2026, 11, 23, 11, 0), 2 * H).at == local(2026, 11, 23, 14, 30)
    assert lunch.between(local(2026, 11, 23, 8, 0), local(2026, 11, 23, 20, 0)) == int(7.5 * H)


def test_add_and_between_agree_for_every_hour_of_a_week() -> None:
    # Given the product team's calendar across Golden Week 2026 (holidays and a make-up Saturday)
    office = calendar(OFFICE)
    start = local(2026, 9, 28)
    for hour in range(0, 14 * 24, 5):
        begin = start + timedelta(hours=hour)
        for window in (1, 1800, 9 * H, 45 * H):
            due = office.add(begin, window)
            # Then the working time from the start to the due time is the window, and due is open time
            assert office.between(begin, due.at) == window, (begin, window)
            assert office.between(due.at - timedelta(seconds=1), due.at) == 1
            # and adding in two steps is adding once (what the ladder's repeat count relies on)
            assert office.add(due.at, 3 * H).at == office.add(begin, window + 3 * H).at


def test_a_zero_window_is_due_at_once_and_24x7_counts_every_second() -> None:
    sunday = local(2026, 11, 29, 3, 0)
    assert calendar(OFFICE).add(sunday, 0).at == sunday
    assert ALWAYS_OPEN.add(sunday, 7200).at == sunday + timedelta(hours=2)
    assert ALWAYS_OPEN.between(sunday, sunday + timedelta(days=2)) == 48 * H
    assert ALWAYS_OPEN.between(sunday, sunday - timedelta(hours=1)) == 0
    with pytest.raises(ValueError, match="aware datetime"):
        calendar(OFFICE).add(datetime(2026, 11, 29, 3, 0), 60)


# -- China's official calendar ----------------------------------------------------------------------
def test_spring_festival_closes_the_team_and_the_make_up_saturday_opens_it() -> None:
    office = calendar(OFFICE)
    # Friday 2026-02-13 17:00 + 3 h: Saturday 02-14 is a make-up working day (调休), open 09:00-18:00
    assert office.add(local(2026, 2, 13, 17, 0), 3 * H).at == local(2026, 2, 14, 11, 0)
    # Saturday 17:00 + 2 h: closed from Sunday 02-15 to Monday 02-23, back on Tuesday 02-24
    assert office.add(local(2026, 2, 14, 17, 0), 2 * H).at == local(2026, 2, 24, 10, 0)
    assert office.between(local(2026, 2, 15), local(2026, 2, 24)) == 0


def test_a_seven_day_team_is_closed_for_the_whole_announced_holiday_period() -> None:
    # Given logistics, open every day 08:00-22:00, on China's holidays
    logistics = calendar(LOGISTICS)
    # Then the weekend days inside Spring Festival 2026 (02-15 to 02-23) are closed too
    for day in (date(2026, 2, 15), date(2026, 2, 21), date(2026, 2, 23)):
        assert logistics.hours_on(day) == ()
    assert logistics.add(local(2026, 2, 14, 21, 0), 2 * H).at == local(2026, 2, 24, 9, 0)
    # And an ordinary Sunday is open
    assert logistics.hours_on(date(2026, 3, 8)) == ((8 * 60, 22 * 60),)


def test_golden_week_and_its_make_up_days_open_with_weekday_hours() -> None:
    office = calendar(OFFICE)
    # Wednesday 2026-09-30 17:00 + 2 h: 1 h before National Day, closed 10-01..10-07, Thursday 10-08 09:00 + 1 h
    assert office.add(local(2026, 9, 30, 17, 0), 2 * H).at == local(2026, 10, 8, 10, 0)
    # Friday 10-09 17:00 + 2 h: Saturday 10-10 is a make-up working day
    assert office.add(local(2026, 10, 9, 17, 0), 2 * H).at == local(2026, 10, 10, 10, 0)
    # A team with shorter weekend hours works the make-up Sunday 09-20 with its weekday hours
    weekend_short = calendar({"mon-fri": ["09:00-18:00"], "sat-sun": ["10:00-16:00"]})
    assert weekend_short.hours_on(date(2026, 9, 20)) == ((9 * 60, 18 * 60),)
    assert weekend_short.hours_on(date(2026, 9, 13)) == ((10 * 60, 16 * 60),)
    assert weekend_short.hours_on(date(2026, 10, 4)) == ()  # a Sunday inside Golden Week


def test_ops_dates_win_over_the_library_and_the_week() -> None:
    office = calendar(OFFICE, closed=["2026-11-30"], open=["2026-10-03", "2026-11-29"])
    assert office.hours_on(date(2026, 10, 3)) == ((540, 1080),)  # a Golden Week Saturday, opened by ops
    assert office.hours_on(date(2026, 11, 29)) == ((540, 1080),)  # an ordinary Sunday, opened by ops
    assert office.hours_on(date(2026, 11, 30)) == ()  # a Monday, closed by ops
    # without holidays "CN", official days are ordinary days
    plain = calendar(OFFICE, holidays=None)
    assert plain.hours_on(date(2026, 10, 1)) == ((540, 1080),) and plain.hours_on(date(2026, 10, 10)) == ()


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_official_days_agree_with_chinese_calendar(year: int) -> None:
    # Given a second, independent source of China's official schedule
    days = [date(year, 1, 1) + timedelta(days=i) for i in range(366 if year % 4 == 0 else 365)]
    office, logistics = calendar(OFFICE), calendar(LOGISTICS)
    # Then a Monday-Friday team is open exactly on the official working days
    assert [d for d in days if bool(office.hours_on(d)) != chinese_calendar.is_workday(d)] == []
    # And a seven-day team is closed exactly on the named holiday periods
    named = {d for d in days if (detail := chinese_calendar.get_holiday_detail(d))[0] and detail[1] is not None}
    assert {d for d in days if not logistics.hours_on(d)} == named


# -- a year not published yet -----------------------------------------------------------------------
def test_an_unpublished_year_falls_back_to_week_and_ops_dates_and_is_flagged() -> None:
    # Given holidays 0.109: 2027's statutory days are known, its make-up working days are not
    assert not official_year(2027).published and official_year(2027).statutory
    assert official_year(2026).published
    office = calendar(OFFICE)
    # When a due time runs into 2027's Spring Festival (statutory days 02-05..02-08)
    due = office.add(local(2027, 2, 5, 17, 0), 2 * H)
    # Then it follows the week (not 24x7, not a guess at the holiday) and is flagged unconfirmed
    assert due.at == local(2027, 2, 8, 10, 0)
    assert due.unconfirmed_years == (2027,) and not due.confirmed
    # And ops' closed/open dates for that year are used
    with_dates = calendar(OFFICE, closed=["2027-02-08", "2027-02-09"], open=["2027-02-07"])
    assert with_dates.add(local(2027, 2, 5, 17, 0), 2 * H).at == local(2027, 2, 7, 10, 0)
    assert with_dates.add(local(2027, 2, 7, 17, 0), 2 * H).at == local(2027, 2, 10, 10, 0)
    # And a due time that only crosses into 2027 is flagged; one inside 2026 is not
    assert office.add(local(2026, 12, 31, 17, 0), 2 * H).unconfirmed_years == (2027,)
    assert office.add(local(2026, 12, 30, 17, 0), 2 * H).confirmed
    # And a calendar without holidays "CN" never is
    assert calendar(OFFICE, holidays=None).add(local(2027, 2, 5, 17, 0), 2 * H).confirmed


# -- time zones and DST -------------------------------------------------------------------------------
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def test_office_hours_follow_the_local_clock_across_the_spring_dst_switch() -> None:
    # Given a Berlin team on 09:00-18:00; clocks jump 02:00 -> 03:00 on Sunday 2026-03-29
    berlin = calendar(OFFICE, timezone="Europe/Berlin", holidays=None)
    # When a 2 h window starts Friday 17:00 CET (16:00 UTC)
    due = berlin.add(local(2026, 3, 27, 17, 0, BERLIN), 2 * H)
    # Then it ends Monday 10:00 CEST, which is 08:00 UTC (not 09:00 UTC as in winter)
    assert due.at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_a_round_the_clock_day_is_23_or_25_hours_long_at_a_dst_switch() -> None:
    berlin = calendar({"mon-sun": ["00:00-24:00"]}, timezone="Europe/Berlin", holidays=None)
    assert berlin.between(local(2026, 3, 29, 0, 0, BERLIN), local(2026, 3, 30, 0, 0, BERLIN)) == 23 * H
    assert berlin.add(local(2026, 3, 28, 12, 0, BERLIN), 24 * H).at == local(2026, 3, 29, 13, 0, BERLIN)
    new_york = calendar({"mon-sun": ["00:00-24:00"]}, timezone="America/New_York", holidays=None)
    assert new_york.between(local(2026, 11, 1, 0, 0, NEW_YORK), local(2026, 11, 2, 0, 0, NEW_YORK)) == 25 * H


def test_an_opening_hour_that_does_not_exist_on_the_switch_day_counts_nothing() -> None:
    night = calendar({"mon-sun": ["02:00-03:00"]}, timezone="Europe/Berlin", holidays=None)
    assert night.between(local(2026, 3, 29, 0, 0, BERLIN), local(2026, 3, 30, 0, 0, BERLIN)) == 0
    assert night.between(local(2026, 3, 30, 0, 0, BERLIN), local(2026, 3, 31, 0, 0, BERLIN)) == H
    # and the hour that happens twice in autumn (New York, 2026-11-01) counts twice
    twice = calendar({"mon-sun": ["01:00-02:00"]}, timezone="America/New_York", holidays=None)
    assert twice.between(local(2026, 11, 1, 0, 0, NEW_YORK), local(2026, 11, 2, 0, 0, NEW_YORK)) == 2 * H


def test_a_calendar_that_never_opens_is_an_error_not_an_endless_walk() -> None:
    # validation rejects such a calendar; built by hand it still cannot loop forever
    never = BusinessHours(name="never", timezone=ZoneInfo("UTC"), week=((), (), (), (), (), (), ()))
    with pytest.raises(CalendarError, match="does not open"):
        never.add(datetime(2026, 1, 1, tzinfo=UTC), 60)
    assert never.between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)) == 0
