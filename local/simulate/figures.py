"""The figures of a simulated policy, read from what the run left in the store (tickets and
their timelines, as a report would read them) and from what the interpreter counted; and the
difference between two policies.

- compliance: clocks met / clocks decided (met or breached); a clock still running unbreached
  at the end of the simulation is counted under ``open``, neither met nor breached;
- times: seconds from when the customer complained (``raised_at``) to the first contact and
  to the (last) resolution, elapsed time; median and p90 of the complaints that got there;
- escalations per level: the ladder's escalations (``escalated`` events, not manual ones);
- AWS cost: Step Functions Standard state transitions and Lambda requests plus duration at
  the published us-east-1 prices below (no free tier), with an assumed duration per call.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from chalicelib.models import Event
from chalicelib.ticket import Ticket
from local.simulate.engine import Result

SEVERITIES = ("P1", "P2", "P3")
CLOCKS = ("first_contact", "resolution")
# Published prices (USD, us-east-1, December 2026): Step Functions Standard per state
# transition; Lambda per request and per GB-second (x86).
PRICE_PER_TRANSITION = Decimal("0.000025")
PRICE_PER_REQUEST = Decimal("0.0000002")
PRICE_PER_GB_SECOND = Decimal("0.0000166667")
ASSUMED_DURATION_MS = 100  # per Lambda call, billed in 1 ms steps; a warm step takes tens of ms
DEFAULT_MEMORY_MB = 128
MAX_FAILURES_LISTED = 5
PAUSE_EVENTS = {"paused": "asked", "customer_replied": "replied", "pause_expired": "expired"}
_CHALICE_CONFIG = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"


def memory_mb(function: str) -> int:
    """The function's configured memory (``.chalice/config.json``, stage prod)."""
    try:
        config = json.loads(_CHALICE_CONFIG.read_text(encoding="utf-8"))
        return int(config["stages"]["prod"]["lambda_functions"][function]["lambda_memory_size"])
    except (OSError, ValueError, KeyError):
        return DEFAULT_MEMORY_MB


def _ratio(met: int, decided: int) -> float | None:
    return round(met / decided, 4) if decided else None


def _p90(values: list[int]) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def _median(values: list[int]) -> int | None:
    return int(statistics.median_low(values)) if values else None


def _seconds(later: datetime, earlier: datetime) -> int:
    return int((later - earlier).total_seconds())


def _clock_state(ticket: Ticket, name: str) -> str:
    clock = ticket.clocks.get(name)
    if clock is None:
        return "open"
    if clock.breached:
        return "breached"
    return "met" if clock.stopped_at is not None else "open"


def _compliance(tickets: list[Ticket], name: str) -> dict[str, Any]:
    states = Counter(_clock_state(t, name) for t in tickets)
    return {"compliance": _ratio(states["met"], states["met"] + states["breached"]),
            "met": states["met"], "breached": states["breached"], "open": states["open"]}


def policy_figures(name: str, result: Result) -> dict[str, Any]:
    store = result.services.store
    tickets: list[Ticket] = []
    timelines: dict[str, list[Event]] = {}
    for complaint_id in result.complaint_ids:
        found = store.get_with_timeline(complaint_id)
        if found is not None:
            tickets.append(found[0])
            timelines[complaint_id] = found[1]
    times: dict[str, list[int]] = {"first_contact": [], "resolution": []}
    escalations: Counter[str] = Counter()
    at_risk = reopens = 0
    pauses: Counter[str] = Counter({key: 0 for key in PAUSE_EVENTS.values()})
    for ticket in tickets:
        events = timelines[ticket.complaint_id]
        contacted = next((e.at for e in events if e.type in ("contacted", "resolved")), None)
        resolved = [e.at for e in events if e.type == "resolved"]
        if contacted is not None:
            times["first_contact"].append(_seconds(contacted, ticket.raised_at))
        if resolved:
            times["resolution"].append(_seconds(resolved[-1], ticket.raised_at))
        for event in events:
            if event.type == "escalated" and not event.detail.get("manual"):
                escalations[str(event.detail.get("level"))] += 1
            elif event.type == "at_risk":
                at_risk += 1
            elif event.type == "reopened":
                reopens += 1
            elif event.type in PAUSE_EVENTS:
                pauses[PAUSE_EVENTS[event.type]] += 1
    vouchers = [v for t in tickets for v in t.vouchers]
    figures: dict[str, Any] = {"name": name, "complaints": len(tickets)}
    for clock in CLOCKS:
        figures[clock] = {**_compliance(tickets, clock), "median_s": _median(times[clock]), "p90_s": _p90(times[clock])}
    figures["by_severity"] = {
        severity: {"complaints": len(group), **{clock: _compliance(group, clock) for clock in CLOCKS}}
        for severity in SEVERITIES if (group := [t for t in tickets if t.severity == severity])}
    figures["breaches"] = {clock: sum(1 for t in tickets if _clock_state(t, clock) == "breached") for clock in CLOCKS}
    figures["escalations"] = dict(sorted(escalations.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 99))
    figures["at_risk"] = at_risk
    figures["vouchers"] = {"count": len(vouchers), "cny": _money(sum((v.amount for v in vouchers), Decimal(0)))}
    figures["reopens"] = reopens
    figures["pauses"] = dict(pauses)
    figures["closed"] = sum(1 for t in tickets if not t.is_open)
    figures["failed_executions"] = len(result.failed)
    # why (the ticket's failure names the step's error): a policy whose runs fail is not simulated
    figures["failures"] = sorted({t.failure or result.failed[t.complaint_id] for t in tickets
                                  if t.complaint_id in result.failed})[:MAX_FAILURES_LISTED]
    counters = result.counters
    figures["transitions"] = counters.transitions
    figures["lambda_invocations"] = counters.lambda_invocations
    figures["lambda_invocations_by_function"] = dict(sorted(counters.invocations.items()))
    sfn = PRICE_PER_TRANSITION * counters.transitions
    lam = sum((PRICE_PER_REQUEST + PRICE_PER_GB_SECOND * Decimal(memory_mb(f)) / 1024 * ASSUMED_DURATION_MS / 1000) * n
              for f, n in counters.invocations.items())
    figures["cost_usd"] = _money(sfn + Decimal(lam))
    figures["cost"] = {"step_functions_usd": f"{sfn:.6f}", "lambda_usd": f"{Decimal(lam):.6f}",
                       "assumed_lambda_duration_ms": ASSUMED_DURATION_MS}
    return figures


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# -- the difference of two policies ---------------------------------------------------------------
def _minus(b: Any, a: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, float) or isinstance(b, float):
        return round(b - a, 4)
    return b - a


def _levels(a: dict[str, int], b: dict[str, int]) -> Iterable[str]:
    return sorted(set(a) | set(b), key=lambda k: int(k) if k.isdigit() else 99)


def difference(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """``second`` minus ``first``, figure by figure."""
    out: dict[str, Any] = {}
    for clock in CLOCKS:
        out[clock] = {key: _minus(second[clock][key], first[clock][key])
                      for key in ("compliance", "met", "breached", "median_s", "p90_s")}
    out["by_severity"] = {
        s: {clock: {"compliance": _minus(second["by_severity"].get(s, {}).get(clock, {}).get("compliance"),
                                         first["by_severity"].get(s, {}).get(clock, {}).get("compliance"))}
            for clock in CLOCKS}
        for s in SEVERITIES if s in first["by_severity"] or s in second["by_severity"]}
    out["breaches"] = {clock: second["breaches"][clock] - first["breaches"][clock] for clock in CLOCKS}
    out["escalations"] = {level: second["escalations"].get(level, 0) - first["escalations"].get(level, 0)
                          for level in _levels(first["escalations"], second["escalations"])}
    for key in ("at_risk", "reopens", "transitions", "lambda_invocations"):
        out[key] = second[key] - first[key]
    out["vouchers"] = {"count": second["vouchers"]["count"] - first["vouchers"]["count"],
                       "cny": _money(Decimal(second["vouchers"]["cny"]) - Decimal(first["vouchers"]["cny"]))}
    out["cost_usd"] = _money(Decimal(second["cost_usd"]) - Decimal(first["cost_usd"]))
    return out


# -- one complaint, as the cross-check compares them ------------------------------------------------
def complaint_outcome(view: dict[str, Any]) -> dict[str, Any]:
    """What the service levels did to one complaint, from its staff view (``GET
    /complaints/{id}`` as a supervisor sees it): clocks breached, the ladder's escalations
    (clock, level) in order, vouchers (amount, reason), at-risk warnings."""
    timeline = view.get("timeline", [])
    return {
        "breached": sorted(name for name, clock in view.get("clocks", {}).items() if clock.get("breached")),
        "escalations": [[e["detail"].get("clock"), e["detail"].get("level")] for e in timeline
                        if e["type"] == "escalated" and not e["detail"].get("manual")],
        "vouchers": [[v["amount"], v["reason"]] for v in view.get("vouchers", [])],
        "at_risk": sum(1 for e in timeline if e["type"] == "at_risk"),
    }
