"""Service-level clocks in working time, under the policy a ticket was triaged with.

Every moment of a :class:`~chalicelib.ticket.Clock` — its deadline, its at-risk moment — is
computed here with the policy's calendars (``chalicelib.policy``) exactly when the clock
starts, climbs the ladder, pauses, resumes or is retimed by a re-triage; nothing polls.
A paused clock has no deadline: it keeps the working seconds left of its current window
(``remaining_s``) and gets a new deadline from them when it resumes.

``SlaClocks`` counts the due times it computed on a year whose official holiday schedule
is not published (``unconfirmed``): the caller turns that into a metric.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.policy import ALWAYS_OPEN, Due, Rung, ServiceLevelPolicy, WorkingTime, climb
from chalicelib.policy.hours import Hours
from chalicelib.policy.model import ClockName
from chalicelib.ticket import Clock


class SlaClocks:
    """The clock arithmetic of one ticket: its policy and its owning team's calendar."""

    def __init__(self, policy: ServiceLevelPolicy, team: str | None) -> None:
        self.policy = policy
        self.team = team
        self.unconfirmed = 0  # due times computed on a year without a published holiday schedule

    # -- working time ------------------------------------------------------------------------
    def hours(self, hours: Hours) -> WorkingTime:
        if hours == "24x7":
            return ALWAYS_OPEN
        calendars = self.policy.business_hours
        if self.team not in calendars:
            raise KeyError(f"no calendar for team {self.team!r}")
        return calendars[str(self.team)]

    def _at(self, due: Due) -> datetime:
        if not due.confirmed:
            self.unconfirmed += 1
        return due.at

    def _left(self, clock: Clock, now: datetime) -> int | None:
        """Working seconds left of the clock's current window at ``now`` (0 once overdue)."""
        if clock.paused_at is not None:
            return clock.remaining_s
        if clock.due is None:
            return None
        return self.hours(clock.hours).between(now, clock.due)

    def used_s(self, clock: Clock, now: datetime) -> int:
        """Working seconds used of the original window (all of it once breached)."""
        if clock.level > 0 or clock.breached:
            return clock.window_s
        left = self._left(clock, now)
        return clock.window_s if left is None else max(0, clock.window_s - left)

    # -- at risk -----------------------------------------------------------------------------
    def _set_at_risk(self, clock: Clock, now: datetime) -> None:
        """When ``at_risk_fraction`` of the current window will have passed (None: warnings
        are off, the clock is paused, has no deadline, or is on the ladder's last level —
        whose repeated alerts to its target are the warnings from then on)."""
        clock.at_risk_at = None
        window = clock.window_now_s
        warn_s = self.policy.escalation.at_risk_s(window)
        left = self._left(clock, now)
        last = clock.level >= len(self.policy.escalation.levels)
        if warn_s is None or last or clock.paused_at is not None or clock.due is None or left is None:
            return
        threshold = window - warn_s  # warned once no more than this is left
        if left <= threshold:
            clock.at_risk_at = now
        else:
            clock.at_risk_at = self._at(self.hours(clock.hours).add(now, left - threshold))

    # -- start, stop -------------------------------------------------------------------------
    def start(self, severity: str, name: ClockName, start: datetime, now: datetime) -> Clock:
        sev = self.policy.severity(severity)
        window = sev.window_s(name)
        due = self._at(self.hours(sev.hours).add(start, window))
        clock = Clock(window_s=window, hours=sev.hours, started_at=start, due=due, current_window_s=window)
        self._set_at_risk(clock, min(max(start, now), due))
        return clock

    def stop(self, clock: Clock, now: datetime) -> None:
        clock.spent_s = self.used_s(clock, now)
        clock.stopped_at = now
        clock.at_risk_at, clock.paused_at, clock.remaining_s = None, None, None

    def reopened(self, old: Clock, now: datetime) -> Clock:
        """The resolution clock of a reopened complaint: one level higher than it was (the
        last level at most), that level's window from now."""
        escalation = self.policy.escalation
        level = escalation.level(min(old.level + 1, len(escalation.levels)))
        window = level.window_s(old.window_s)
        clock = Clock(window_s=old.window_s, hours=old.hours, started_at=now,
                      due=self._at(self.hours(old.hours).add(now, window)), current_window_s=window,
                      level=level.level, breached=old.breached, voucher_issued=old.voucher_issued)
        self._set_at_risk(clock, now)
        return clock

    # -- pause, resume -----------------------------------------------------------------------
    def pause(self, clock: Clock, now: datetime) -> None:
        clock.remaining_s = self._left(clock, now)
        clock.spent_s = self.used_s(clock, now)
        clock.paused_at, clock.due, clock.at_risk_at = now, None, None

    def resume(self, clock: Clock, now: datetime) -> None:
        remaining = clock.remaining_s
        clock.paused_at, clock.remaining_s = None, None
        if remaining is not None:
            clock.due = self._at(self.hours(clock.hours).add(now, remaining))
            if not clock.at_risk_warned:
                self._set_at_risk(clock, now)

    # -- re-triage -----------------------------------------------------------------------------
    def retime(self, clock: Clock, name: str, severity: str, used: int, now: datetime) -> None:
        """The new severity's window and hours (and this owning team's calendar) for a running
        clock that keeps its start and the working time it has ``used`` (counted in its old
        hours and calendar). Not yet breached: the rest of the new window from now (due now —
        a breach at once — when it is already used up). Already breached: it stays on its
        level and deadline; the new window times the levels that follow."""
        sev = self.policy.severity(severity)
        clock.window_s = sev.first_contact_s if name == "first_contact" else sev.resolution_s
        clock.hours = sev.hours
        if clock.level > 0:
            clock.current_window_s = self.policy.escalation.level(clock.level).window_s(clock.window_s)
            return
        clock.current_window_s = clock.window_s
        clock.spent_s = used
        left = max(0, clock.window_s - used)
        if clock.paused_at is not None:
            clock.remaining_s = left
            return
        clock.due = self._at(self.hours(clock.hours).add(now, left)) if left else now
        if not clock.at_risk_warned:
            self._set_at_risk(clock, now)

    # -- the ladder ----------------------------------------------------------------------------
    def climb(self, clock: Clock, now: datetime) -> list[Rung]:
        """Every rung the clock has climbed by ``now`` — at most one per level plus one for
        a run of repeats, however long overdue — applied to the clock."""
        if not clock.ticking or clock.due is None or clock.due > now:
            return []
        rungs = climb(self.policy.escalation, self.hours(clock.hours), level=clock.level, due=clock.due,
                      original_window_s=clock.window_s, now=now)
        if not rungs:  # the last level does not repeat: the ladder has ended
            clock.due, clock.at_risk_at = None, None
            return []
        last = rungs[-1]
        for rung in rungs:
            if rung.next_due is not None:
                self._at(rung.next_due)
        clock.level, clock.breached = last.level.level, True
        clock.due = last.next_due.at if last.next_due else None
        clock.current_window_s = last.level.window_s(clock.window_s)
        clock.at_risk_warned = False  # a new window
        self._set_at_risk(clock, now)
        return rungs
