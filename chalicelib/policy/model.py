"""The service-level policy ops own, as one validated pydantic model.

Its shape is the ``Result`` of the ``ServiceLevelPolicy`` state in
``state_machines/lifecycle.asl.json`` (explained key by key in state_machines/README.md and
docs/policy.md). Every rule of that contract is checked here, and every error names its key:
unknown keys, durations that are not positive whole seconds, fractions outside (0, 1], a
level missing or out of order, ``repeat`` anywhere but on the last level, unknown time zones,
bad day ranges or intervals, a calendar that is never open.

The model is frozen and round-trips: ``to_ticket()`` is the compact JSON string a ticket
keeps (running complaints keep the policy they were triaged under) and ``from_ticket()``
reads it back to an equal policy.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from chalicelib.models import TEAMS, Severity
from chalicelib.policy.errors import PolicyError, from_validation_error, problem
from chalicelib.policy.hours import ALWAYS_OPEN, BusinessHours, Hours, WorkingTime
from chalicelib.policy.week import WeekHours, parse_week

SEVERITIES: tuple[Severity, ...] = ("P1", "P2", "P3")
ClockName = Literal["first_contact", "resolution"]
Alert = Literal["team_lead", "manager", "director"]
CustomerMessage = Literal["apology_voucher", "progress_update"]
MAX_DURATION_S = 365 * 86400


def _positive_seconds(value: int) -> int:
    if value <= 0:
        raise problem("", f"must be a positive number of seconds, got {value}")
    if value > MAX_DURATION_S:
        raise problem("", f"must be at most {MAX_DURATION_S} s (365 days), got {value}")
    return value


def _number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise problem("", f"must be a number, got {value!r}")
    return value


def _fraction(value: float) -> float:
    if not 0 < value <= 1:
        raise problem("", f"must be in (0, 1], got {value}")
    return value


def _date_text(value: object) -> object:
    if not isinstance(value, str | date):
        raise problem("", f"must be a date like 2027-02-05, got {value!r}")
    return value


Seconds = Annotated[StrictInt, AfterValidator(_positive_seconds)]
Day = Annotated[date, BeforeValidator(_date_text)]
Fraction = Annotated[float, BeforeValidator(_number), AfterValidator(_fraction)]
Voucher = Annotated[Decimal, Field(ge=0, decimal_places=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeverityPolicy(_Strict):
    first_contact_s: Seconds
    resolution_s: Seconds
    voucher_cny: Voucher
    hours: Hours = "24x7"

    @field_serializer("voucher_cny")
    def _amount(self, amount: Decimal) -> str:
        return f"{amount:.2f}"

    @model_validator(mode="after")
    def _first_contact_within_resolution(self) -> SeverityPolicy:
        if self.first_contact_s > self.resolution_s:
            raise problem("first_contact_s", f"must not be longer than resolution_s ({self.first_contact_s} > "
                          f"{self.resolution_s})")
        return self

    def window_s(self, clock: ClockName) -> int:
        return self.first_contact_s if clock == "first_contact" else self.resolution_s


class EscalationLevel(_Strict):
    level: StrictInt
    alert: Alert
    customer: CustomerMessage | None = None
    next_window_fraction: Fraction
    repeat: StrictBool = False

    def window_s(self, original_window_s: int) -> int:
        """The deadline this level sets after the breach: its fraction of the clock's
        original window (whole seconds, at least one)."""
        return max(1, round(self.next_window_fraction * original_window_s))


class Escalation(_Strict):
    at_risk_fraction: Fraction | None
    levels: list[EscalationLevel]

    @field_validator("levels")
    @classmethod
    def _numbered_one_to_n(cls, levels: list[EscalationLevel]) -> list[EscalationLevel]:
        if not levels:
            raise problem("", "give at least one level")
        for i, lvl in enumerate(levels):
            if lvl.level != i + 1:
                raise problem(f"[{i}].level", f"levels must be numbered 1..{len(levels)} in order: expected {i + 1}, "
                              f"got {lvl.level}" + (" (a level is missing)" if lvl.level > i + 1 else ""))
            if lvl.repeat and i != len(levels) - 1:
                raise problem(f"[{i}].repeat", "only the last level may repeat")
        return levels

    @property
    def last(self) -> EscalationLevel:
        return self.levels[-1]

    def level(self, number: int) -> EscalationLevel:
        if not 1 <= number <= len(self.levels):
            raise KeyError(f"escalation has levels 1..{len(self.levels)}, not {number}")
        return self.levels[number - 1]

    def after(self, current: int) -> tuple[EscalationLevel, bool] | None:
        """What a missed deadline at level ``current`` (0 = the original window) leads to:
        ``(next level, False)``, ``(last level, True)`` for a repeat, or ``None`` when the
        ladder has ended (the last level does not repeat)."""
        if current < len(self.levels):
            return self.levels[current], False
        return (self.last, True) if self.last.repeat else None

    def manual(self, current: int) -> EscalationLevel:
        """Manual escalation jumps to the next level (and stays on the last)."""
        return self.levels[min(current, len(self.levels) - 1)]

    def at_risk_s(self, window_s: int) -> int | None:
        """Working seconds into a window at which the owning team is warned (None = off)."""
        if self.at_risk_fraction is None:
            return None
        return max(1, round(self.at_risk_fraction * window_s))


class Calendar(_Strict):
    timezone: str
    week: dict[str, list[Any]]
    holidays: Literal["CN"] | None = None
    closed: list[Day] = []
    open: list[Day] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise problem("", f"unknown time zone {name!r}: use an IANA name like 'Asia/Shanghai'") from exc
        return name

    @field_validator("week")
    @classmethod
    def _valid_week(cls, week: dict[str, list[Any]]) -> dict[str, list[Any]]:
        parse_week(week)
        return week

    @model_validator(mode="after")
    def _closed_or_open(self) -> Calendar:
        both = sorted(set(self.closed) & set(self.open))
        if both:
            raise problem("open", f"{both[0].isoformat()} is also listed in closed: a date is one or the other")
        return self

    @cached_property
    def week_hours(self) -> WeekHours:
        return parse_week(self.week)

    def working_time(self, name: str) -> BusinessHours:
        return BusinessHours(name=name, timezone=ZoneInfo(self.timezone), week=self.week_hours,
                             closed=frozenset(self.closed), open_=frozenset(self.open), holidays=self.holidays)


class FollowUp(_Strict):
    survey_delay_s: Seconds
    reminder_after_s: Seconds
    answer_window_s: Seconds
    reopen_at_or_below: Annotated[StrictInt, Field(ge=0, le=4)]
    max_reopens: Annotated[StrictInt, Field(ge=0, le=10)]
    pending_timeout_s: Seconds

    @model_validator(mode="after")
    def _reminder_before_expiry(self) -> FollowUp:
        if self.reminder_after_s >= self.answer_window_s:
            raise problem("reminder_after_s", f"must be shorter than answer_window_s ({self.reminder_after_s} >= "
                          f"{self.answer_window_s}): the reminder comes before the survey expires")
        return self


class ServiceLevelPolicy(_Strict):
    P1: SeverityPolicy
    P2: SeverityPolicy
    P3: SeverityPolicy
    escalation: Escalation
    calendars: dict[str, Calendar] = {}
    follow_up: FollowUp

    @model_validator(mode="after")
    def _consistent(self) -> ServiceLevelPolicy:
        for clock in ("first_contact_s", "resolution_s"):
            for shorter, longer in (("P1", "P2"), ("P2", "P3")):
                a, b = getattr(self.severity(shorter), clock), getattr(self.severity(longer), clock)
                if a > b:
                    raise problem(f"{longer}.{clock}", f"must not be shorter than {shorter}.{clock} ({b} < {a}): "
                                  "a more urgent severity never waits longer")
        for name in self.calendars:
            if name not in TEAMS:
                raise problem(f"calendars.{name}", f"no team is called {name!r} (teams: {', '.join(TEAMS)})")
        business = [s for s in SEVERITIES if self.severity(s).hours == "business"]
        missing = [t for t in TEAMS if t not in self.calendars]
        if business and missing:
            raise problem("calendars", f"{business[0]} runs on business hours but team {missing[0]!r} has no calendar")
        return self

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> ServiceLevelPolicy:
        """Frozen: a deep copy of a ticket shares its policy (and the calendars' caches)."""
        return self

    # -- reading it ------------------------------------------------------------------------
    def severity(self, severity: str) -> SeverityPolicy:
        if severity not in SEVERITIES:
            raise KeyError(f"unknown severity {severity!r}")
        sev: SeverityPolicy = getattr(self, severity)
        return sev

    def hours_for(self, severity: str, team: str) -> WorkingTime:
        """The working time a clock of this severity owned by this team runs on."""
        if self.severity(severity).hours == "24x7":
            return ALWAYS_OPEN
        calendars = self.business_hours
        if team not in calendars:
            raise KeyError(f"no calendar for team {team!r}")
        return calendars[team]

    @cached_property
    def business_hours(self) -> dict[str, BusinessHours]:
        """Each team's calendar, built once per policy (its day intervals are cached)."""
        return {name: cal.working_time(name) for name, cal in self.calendars.items()}

    # -- on a ticket -----------------------------------------------------------------------
    def to_ticket(self) -> str:
        """The compact JSON a ticket keeps (defaults left out; floats stay exact, which a
        DynamoDB map would not allow). Computed once per policy object."""
        return self._ticket_json

    @cached_property
    def _ticket_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_ticket(cls, text: str) -> ServiceLevelPolicy:
        """The policy a ticket keeps. Tickets triaged under the same policy share one parsed
        (frozen) object per process: loading a ticket does not validate its policy again."""
        return _from_ticket(text)

    # -- from ops' file --------------------------------------------------------------------
    @classmethod
    def parse(cls, data: object, *, source: str = "ServiceLevelPolicy") -> ServiceLevelPolicy:
        """Validate ops' policy; raises ``PolicyError`` whose lines name each bad key."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc, cls, source=source) from None


@lru_cache(maxsize=64)
def _from_ticket(text: str) -> ServiceLevelPolicy:
    return ServiceLevelPolicy.model_validate_json(text)


__all__ = ["SEVERITIES", "Calendar", "ClockName", "Escalation", "EscalationLevel", "FollowUp", "PolicyError",
           "ServiceLevelPolicy", "SeverityPolicy"]
