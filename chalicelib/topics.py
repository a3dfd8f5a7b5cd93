"""The staff alert topics, named once: infra declares exactly these (``infra/resources.py``),
the notifier publishes to them, the lifecycle picks one per alert.

- ``team:<team>``: the owning team's topic (its lead): the ladder's ``team_lead`` target and
  the at-risk warnings;
- ``level:2``: the customer-service manager (``manager``), who also hears of complaints
  closed unsatisfied;
- ``level:3``: director / on-call (``director``).

The topic follows the alert target, not the level number: a level 4 added to the policy with
``alert: "director"`` alerts ``level:3`` again (docs/policy.md). A new target needs a new
literal in ``chalicelib.policy.model.Alert`` and a line in ``TARGET_LEVEL``; infra creates
its topic from there.
"""

from __future__ import annotations

from chalicelib.models import TEAMS

# the per-level topics of the alert targets above a team's lead
TARGET_LEVEL: dict[str, int] = {"manager": 2, "director": 3}
ALERT_LEVELS: tuple[int, ...] = tuple(sorted(set(TARGET_LEVEL.values())))
QUALITY_TEAM = "service"  # hears of every reopened complaint


def team_topic(team: str | None) -> str:
    return f"team:{team or QUALITY_TEAM}"


def level_topic(level: int) -> str:
    return f"level:{level}"


def alert_topic(alert: str, team: str | None) -> str:
    """``team_lead`` -> the owning team's topic; ``manager``/``director`` -> their level's."""
    return team_topic(team) if alert == "team_lead" else level_topic(TARGET_LEVEL[alert])


STAFF_TOPICS: tuple[str, ...] = (*(team_topic(t) for t in TEAMS), *(level_topic(n) for n in ALERT_LEVELS))
MANAGER_TOPIC = level_topic(TARGET_LEVEL["manager"])
QUALITY_TOPIC = team_topic(QUALITY_TEAM)
