"""The simulator against the real local system: the same small load, the same policy and the
same scripted agents give the same breaches, escalations and vouchers per complaint (the
scenario: ``local/simulate/crosscheck.py``). At x1200 the half SLA hour between a scripted
action and the nearest deadline is 1.5 s of wall-clock time."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from chalicelib.clock import parse
from infra.resources import state_machine_files
from local.simulate import crosscheck
from local.simulate.figures import complaint_outcome
from tests.e2e.helpers import act, rolled_out, staff_view, wait_status

LOCAL_TIME_SCALE = 1200.0  # an SLA hour in 3 s


def test_the_simulator_and_the_local_system_agree_per_complaint(local_system: Any, tmp_path: Path) -> None:
    sys = local_system
    definition = json.loads(state_machine_files()["lifecycle"].read_text(encoding="utf-8"))
    crosscheck.four_and_twelve_hours(definition)

    with rolled_out(sys, tmp_path, crosscheck.four_and_twelve_hours):
        filed = {}
        for customer in crosscheck.SCRIPTS:
            resp = sys.http("POST", "/complaints", token=sys.token(customer, "customers"),
                            json_body=crosscheck.body(customer))
            assert resp.status == 202, resp.json()
            filed[customer] = resp.json()["complaint_id"]
        raised = {customer: parse(wait_status(sys, cid, "awaiting_contact")["created_at"])
                  for customer, cid in filed.items()}
        actions = sorted((raised[c] + timedelta(seconds=after), c, action)
                         for c, script in crosscheck.SCRIPTS.items() for after, action in script)
        for due, customer, action in actions:  # the scripted agents, on the system's clock
            while sys.system.system_now() < due:
                time.sleep(0.02)
            body = crosscheck.RESOLVE_BODY if action == "resolve" else {}
            assert act(sys, filed[customer], action, body).status == 200, (customer, action)
        for cid in filed.values():
            wait_status(sys, cid, "resolved")
        real = {customer: complaint_outcome(staff_view(sys, cid)) for customer, cid in filed.items()}

    assert real == crosscheck.simulated(definition, min(raised.values()))
    # and what they agree on is the scenario, not a vacuous match
    assert real["C-XA"]["breached"] == [] and real["C-XA"]["vouchers"] == []
    assert real["C-XB"]["escalations"] == [["first_contact", 1]] and len(real["C-XB"]["vouchers"]) == 1
    assert real["C-XC"]["escalations"] == [["first_contact", 1], ["first_contact", 2]]
