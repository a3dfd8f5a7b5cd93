"""The simulator against the real local system: the same small load, the same policy and the
same scripted agents give the same breaches, escalations and vouchers per complaint.

The policy gives every severity 4 h to first contact and 12 h to resolve (24x7), so triage
cannot move a complaint's deadlines; the ladder climbs at 4 h, 6 h, 7 h. Each scripted
action lands at least an SLA hour (3 s here, x1200) from any deadline but one (0.5 h = 1.5 s):
  A contacts at 1 h, resolves at 2 h             → nothing breached
  B contacts at 5 h (after level 1), resolves at 7 h → first contact breached, level 1, voucher
  C resolves at 6.5 h without contact (after level 2) → first contact breached, levels 1 and 2
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from chalicelib import queries
from chalicelib.clock import parse
from chalicelib.models import Caller
from infra.resources import state_machine_files
from local.simulate.engine import Simulation
from local.simulate.figures import complaint_outcome
from local.simulate.load import parse_line
from local.simulate.people import Customers, Staffing
from tests.e2e.helpers import COMPLAINT, act, file_complaint, rolled_out, staff_view, wait_status

LOCAL_TIME_SCALE = 1200.0  # an SLA hour in 3 s
HOUR = 3600
SCRIPTS = {  # customer -> (seconds after the complaint was raised, action)
    "C-XA": ((1 * HOUR, "contact"), (2 * HOUR, "resolve")),
    "C-XB": ((5 * HOUR, "contact"), (7 * HOUR, "resolve")),
    "C-XC": ((int(6.5 * HOUR), "resolve"),),
}
LAST_ACTION_S = max(after for script in SCRIPTS.values() for after, _ in script)


def four_and_twelve_hours(asl: dict[str, Any]) -> None:
    result = asl["States"]["ServiceLevelPolicy"]["Result"]
    for severity in ("P1", "P2", "P3"):
        result[severity].update(first_contact_s=4 * HOUR, resolution_s=12 * HOUR, hours="24x7")


def simulated(definition: dict[str, Any], start: Any) -> dict[str, dict[str, Any]]:
    lines = []
    for n, (customer, script) in enumerate(SCRIPTS.items(), 1):
        agent = {f"{action}_after_s": after for after, action in script}
        body = {**COMPLAINT, "customer_id": customer, "order_id": f"O-{customer}", "at": start.isoformat(),
                "customer": {"rates": False, "replies": False}, "agent": agent}
        lines.append(parse_line(json.dumps(body), n, start, "cross-check"))
    simulation = Simulation(definition, lines, staffing=Staffing(agents={"product": 0, "logistics": 0, "service": 0}),
                            customers=Customers(), horizon=start + timedelta(seconds=LAST_ACTION_S + HOUR))
    result = simulation.run()
    supervisor = Caller(username="S-1", groups=frozenset({"supervisors"}))
    views = [queries.complaint(result.services, cid, supervisor) for cid in result.complaint_ids]
    return {v["customer_id"]: complaint_outcome(v) for v in views}


def test_the_simulator_and_the_local_system_agree_per_complaint(local_system: Any, tmp_path: Path) -> None:
    sys = local_system
    definition = json.loads(state_machine_files()["lifecycle"].read_text(encoding="utf-8"))
    four_and_twelve_hours(definition)

    with rolled_out(sys, tmp_path, four_and_twelve_hours):
        filed = {customer: file_complaint(sys, customer) for customer in SCRIPTS}
        raised = {customer: parse(wait_status(sys, cid, "awaiting_contact")["created_at"])
                  for customer, cid in filed.items()}
        actions = sorted((raised[c] + timedelta(seconds=after), c, action)
                         for c, script in SCRIPTS.items() for after, action in script)
        for due, customer, action in actions:  # the scripted agents, on the system's clock
            while sys.system.system_now() < due:
                time.sleep(0.02)
            body = {"resolution": "refund"} if action == "resolve" else {}
            assert act(sys, filed[customer], action, body).status == 200, (customer, action)
        for cid in filed.values():
            wait_status(sys, cid, "resolved")
        real = {customer: complaint_outcome(staff_view(sys, cid)) for customer, cid in filed.items()}

    expected = simulated(definition, min(raised.values()))
    assert real == expected
    # and what they agree on is the scenario: not a vacuous match
    assert real["C-XA"]["breached"] == [] and real["C-XA"]["vouchers"] == []
    assert real["C-XB"]["escalations"] == [["first_contact", 1]] and len(real["C-XB"]["vouchers"]) == 1
    assert real["C-XC"]["escalations"] == [["first_contact", 1], ["first_contact", 2]]
