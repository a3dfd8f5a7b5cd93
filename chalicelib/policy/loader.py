"""Reading the policy out of a state-machine definition, and checking it for ops.

``from_definition(asl)`` is what the code uses: the ``Result`` of the ``Pass`` state named
``ServiceLevelPolicy``, validated. ``check(asl, today=...)`` is what ops (and ``make test``)
run on an edit: the errors, plus warnings that do not stop a deploy but need a decision —
today: a calendar on ``holidays: "CN"`` for a year whose official dates are not published.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from chalicelib.policy.errors import PolicyError
from chalicelib.policy.model import ServiceLevelPolicy
from chalicelib.policy.official import library_version, official_year

STATE = "ServiceLevelPolicy"


def policy_result(definition: Any) -> Any:
    """The raw ``Result`` of the ``ServiceLevelPolicy`` Pass state (not validated)."""
    states = definition.get("States") if isinstance(definition, dict) else None
    state = states.get(STATE) if isinstance(states, dict) else None
    if not isinstance(state, dict):
        raise PolicyError([f"States.{STATE}: missing: the definition has no {STATE} state"], source=STATE)
    if state.get("Type") != "Pass" or "Result" not in state:
        raise PolicyError([f"States.{STATE}: must be a Pass state with a Result"], source=STATE)
    return state["Result"]


def from_definition(definition: Any, *, source: str = STATE) -> ServiceLevelPolicy:
    return ServiceLevelPolicy.parse(policy_result(definition), source=source)


def load(path: Path) -> ServiceLevelPolicy:
    return from_definition(json.loads(path.read_text(encoding="utf-8")), source=f"{path.name} {STATE}.Result")


@dataclass
class Check:
    source: str
    policy: ServiceLevelPolicy | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def warnings(policy: ServiceLevelPolicy, today: date) -> list[str]:
    """What ops should act on although the policy is valid: for this year and the next (a
    window is at most 365 days), a year whose official schedule is not published while a
    calendar follows ``holidays: "CN"``. One warning per year, naming the calendars."""
    found: list[str] = []
    cn = {name: cal for name, cal in policy.calendars.items() if cal.holidays == "CN"}
    business = [s for s in ("P1", "P2", "P3") if policy.severity(s).hours == "business"]
    for year in (today.year, today.year + 1):
        official = official_year(year)
        if not cn or official.published:
            continue
        given = {name: sum(d.year == year for d in (*cal.closed, *cal.open)) for name, cal in cn.items()}
        dates = ", ".join(f"{name} {n}" for name, n in given.items())
        used = f"{', '.join(business)} run on business hours" if business else "unused today: every severity runs 24x7"
        found.append(
            f"{year}: mainland China's official schedule for {year} is not published in holidays "
            f"{library_version()} (it lists {len(official.statutory)} days off, no make-up working days). Calendars "
            f"{', '.join(cn)} (holidays \"CN\") run {year} on their week plus closed/open (dates given for {year}: "
            f"{dates}) and due times in {year} are counted as unconfirmed ({used}). Add {year}'s days off to closed "
            f"and its make-up working days to open until the library publishes them.")
    return found


def check(definition: Any, *, today: date, source: str = STATE) -> Check:
    result = Check(source=source)
    try:
        result.policy = from_definition(definition, source=source)
    except PolicyError as exc:
        result.errors = exc.problems
        return result
    result.warnings = warnings(result.policy, today)
    return result


def check_file(path: Path, *, today: date) -> Check:
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Check(source=str(path), errors=[f"cannot read {path}: {exc}"])
    return check(definition, today=today, source=str(path))
