"""The service-level policy as data (docs/policy.md): the validated model of the
``ServiceLevelPolicy`` state, working-time calendars and the escalation ladder.

Pure domain: pydantic, ``zoneinfo`` and the ``holidays`` library (loaded on first use);
no I/O, no boto3. Typical use by the lifecycle::

    policy = from_definition(asl)                      # or ServiceLevelPolicy.from_ticket(text)
    hours = policy.hours_for("P3", "product")          # ALWAYS_OPEN or the team's BusinessHours
    due = hours.add(start, policy.severity("P3").first_contact_s)   # Due(at, unconfirmed_years)
    spent = hours.between(start, now)                  # working seconds
    rungs = climb(policy.escalation, hours, level=0, due=due.at, original_window_s=..., now=now)
"""

from chalicelib.policy.errors import CalendarError, PolicyError
from chalicelib.policy.hours import ALWAYS_OPEN, AlwaysOpen, BusinessHours, Due, WorkingTime
from chalicelib.policy.ladder import Rung, alert_topic, at_risk, climb, next_deadline
from chalicelib.policy.loader import Check, check, check_file, from_definition, load, policy_result
from chalicelib.policy.model import (
    SEVERITIES,
    Calendar,
    ClockName,
    Escalation,
    EscalationLevel,
    FollowUp,
    ServiceLevelPolicy,
    SeverityPolicy,
)

__all__ = [
    "ALWAYS_OPEN",
    "SEVERITIES",
    "AlwaysOpen",
    "BusinessHours",
    "Calendar",
    "CalendarError",
    "Check",
    "ClockName",
    "Due",
    "Escalation",
    "EscalationLevel",
    "FollowUp",
    "PolicyError",
    "Rung",
    "ServiceLevelPolicy",
    "SeverityPolicy",
    "WorkingTime",
    "alert_topic",
    "at_risk",
    "check",
    "check_file",
    "climb",
    "from_definition",
    "load",
    "next_deadline",
    "policy_result",
]
