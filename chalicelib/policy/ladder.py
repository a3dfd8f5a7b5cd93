"""The escalation ladder and the at-risk warning, computed from the policy's data.

When a clock's deadline passes it climbs one level: that level names who is alerted, what
the customer gets and the next deadline — ``next_window_fraction`` × the clock's original
window, in the clock's own working time, counted from the missed deadline. Past the last
level, a ``repeat: true`` last level alerts again every such window until the clock stops;
otherwise the ladder has ended and no deadline follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib import topics
from chalicelib.policy.hours import Due, WorkingTime
from chalicelib.policy.model import Alert, Escalation, EscalationLevel


def alert_topic(alert: Alert, team: str) -> str:
    """``team_lead`` is the owning team's staff topic; ``manager``/``director`` their own
    (the names live in :mod:`chalicelib.topics`)."""
    return topics.alert_topic(alert, team)


@dataclass(frozen=True)
class Rung:
    """One step up (or one more repeat of the last level) after a missed deadline."""

    level: EscalationLevel
    missed: datetime  # the deadline that was missed (the breach moment)
    repeat: bool  # the last level alerting again
    times: int  # deadlines missed on this rung: > 1 when a run of repeats was collapsed into one
    next_due: Due | None  # the next deadline; None: the ladder has ended

    @property
    def alert(self) -> Alert:
        return self.level.alert


def next_deadline(hours: WorkingTime, missed: datetime, level: EscalationLevel, original_window_s: int) -> Due:
    """The deadline a level sets, counted from the missed one."""
    return hours.add(missed, level.window_s(original_window_s))


def at_risk(hours: WorkingTime, escalation: Escalation, window_start: datetime, window_s: int) -> Due | None:
    """When the owning team is warned about a window: ``at_risk_fraction`` of it in working
    time after it started (None: warnings are off)."""
    seconds = escalation.at_risk_s(window_s)
    return None if seconds is None else hours.add(window_start, seconds)


def climb(escalation: Escalation, hours: WorkingTime, *, level: int, due: datetime, original_window_s: int,
          now: datetime) -> list[Rung]:
    """Every rung a clock at ``level`` (0 = not breached) whose deadline is ``due`` has
    climbed by ``now``, in order. A run of repeats of the last level is one rung with
    ``times`` (computed from the working time, not missed deadline by missed deadline), so
    a clock found long overdue — an import, a restored backup — gives one alert per level,
    never a flood."""
    rungs: list[Rung] = []
    deadline: datetime | None = due
    for _ in range(len(escalation.levels) + 1):  # each pass climbs a level or ends
        if deadline is None or deadline > now:
            break
        step = escalation.after(level)
        if step is None:
            break
        reached, repeat = step
        window = reached.window_s(original_window_s)
        if repeat:
            later = hours.between(deadline, now) // window  # further repeat deadlines already passed
            rungs.append(Rung(reached, deadline, True, 1 + later, hours.add(deadline, (later + 1) * window)))
            break
        following: Due | None = hours.add(deadline, window) if escalation.after(reached.level) else None
        rungs.append(Rung(reached, deadline, False, 1, following))
        level, deadline = reached.level, following.at if following else None
    return rungs
