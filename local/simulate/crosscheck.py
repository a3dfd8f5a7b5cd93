"""The cross-check scenario: a small scripted load whose outcome per complaint the simulator
and the real local system must agree on (``tests/e2e/test_simulator_cross_check.py``; timed
by ``bench.simulate``).

The policy gives every severity 4 h to first contact and 12 h to resolve (24x7), so triage
cannot move a complaint's deadlines; the ladder climbs at 4 h, 6 h, 7 h. Each scripted
action lands at least half an SLA hour from any deadline:

- A contacts at 1 h, resolves at 2 h: nothing breached;
- B contacts at 5 h (after level 1), resolves at 7 h: first contact breached, level 1, a voucher;
- C resolves at 6.5 h without a contact (after level 2): first contact breached, levels 1 and 2.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from chalicelib import queries
from chalicelib.models import Caller
from local.simulate.engine import Simulation
from local.simulate.figures import complaint_outcome
from local.simulate.load import parse_line
from local.simulate.people import Customers, Staffing

HOUR = 3600
SCRIPTS: dict[str, tuple[tuple[int, str], ...]] = {  # customer -> (seconds after raised, action)
    "C-XA": ((1 * HOUR, "contact"), (2 * HOUR, "resolve")),
    "C-XB": ((5 * HOUR, "contact"), (7 * HOUR, "resolve")),
    "C-XC": ((int(6.5 * HOUR), "resolve"),),
}
LAST_ACTION_S = max(after for script in SCRIPTS.values() for after, _ in script)
COMPLAINT: dict[str, Any] = {"channel": "app", "desired_outcome": "refund", "description": "快递到的时候杯子碎了",
                             "contact": {"locale": "zh-CN", "phone": "+8613800000000"}}
RESOLVE_BODY = {"resolution": "refund"}


def four_and_twelve_hours(asl: dict[str, Any]) -> None:
    """The scenario's policy, as an edit of the definition."""
    result = asl["States"]["ServiceLevelPolicy"]["Result"]
    for severity in ("P1", "P2", "P3"):
        result[severity].update(first_contact_s=4 * HOUR, resolution_s=12 * HOUR, hours="24x7")


def body(customer: str) -> dict[str, Any]:
    """The complaint the customer files (``POST /complaints``)."""
    return {**COMPLAINT, "customer_id": customer, "order_id": f"O-{customer}"}


def simulated(definition: dict[str, Any], start: datetime) -> dict[str, dict[str, Any]]:
    """Customer -> the complaint's outcome, in the simulator."""
    arrivals = []
    for n, (customer, script) in enumerate(SCRIPTS.items(), 1):
        line = {**body(customer), "at": start.isoformat(), "customer": {"rates": False, "replies": False},
                "agent": {f"{action}_after_s": after for after, action in script}}
        arrivals.append(parse_line(json.dumps(line), n, start, "cross-check"))
    simulation = Simulation(definition, arrivals, staffing=Staffing(agents={"product": 0, "logistics": 0, "service": 0}),
                            customers=Customers(), horizon=start + timedelta(seconds=LAST_ACTION_S + HOUR))
    result = simulation.run()
    supervisor = Caller(username="S-1", groups=frozenset({"supervisors"}))
    views = [queries.complaint(result.services, cid, supervisor) for cid in result.complaint_ids]
    return {view["customer_id"]: complaint_outcome(view) for view in views}
