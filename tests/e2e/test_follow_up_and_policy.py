"""Slow clocks at a faster scale (x36000: ten SLA hours a second): the survey that nobody
answers, and an ops edit of the ASL timing rolled out to the running system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.clock import parse
from tests.e2e.helpers import (
    act,
    customer_view,
    execution,
    file_complaint,
    rolled_out,
    roomy_windows,
    staff_view,
    timeline,
    wait_status,
)

LOCAL_TIME_SCALE = 36000.0


def test_unanswered_survey_is_reminded_once_then_closed_without_feedback(local_system: Any, tmp_path: Path) -> None:
    sys = local_system

    # P3's 8 h are 0.8 s here, less than a starved machine may need to triage: the agent gets
    # 30 days, so what this test times is the follow-up alone (its timings unchanged)
    with rolled_out(sys, tmp_path, roomy_windows):
        cid = file_complaint(sys, "C-QUIET", category="promotion_rules", description="满减活动没有生效")
        wait_status(sys, cid, "awaiting_contact")
    assert act(sys, cid, "resolve", {"resolution": "explanation", "note": "规则说明"}).status == 200
    view = wait_status(sys, cid, "closed", timeout=40)
    assert timeline(view) == ["received", "triaged", "acknowledged", "resolved", "survey_sent", "survey_reminder", "closed"]
    assert view["satisfaction"] == {"score": None, "feedback": "none"}
    at = {e["type"]: parse(e["at"]) for e in view["timeline"]}
    hours = {k: (at[k] - at["survey_sent"]).total_seconds() / 3600 for k in ("survey_reminder", "closed")}
    # at x36000 a wall-clock second is 10 SLA hours: allow for the machine's processing lag
    assert 24 <= hours["survey_reminder"] < 48 and 72 <= hours["closed"] < 96
    assert (at["survey_sent"] - at["resolved"]).total_seconds() >= 2 * 3600
    assert customer_view(sys, cid, "C-QUIET")["satisfaction"] == {"score": None, "feedback": "none"}
    sys.wait_for(lambda: execution(sys, cid)["status"] == "SUCCEEDED")
    # too late to rate
    late = sys.http("POST", f"/complaints/{cid}/satisfaction", token=sys.token("C-QUIET", "customers"), json_body={"score": 5})
    assert late.status == 409


def test_an_edited_window_in_the_asl_file_changes_the_behaviour(local_system: Any, tmp_path: Path) -> None:
    """Ops edit a copy of lifecycle.asl.json (P3 first contact 8 h → 1 h) and roll it out."""
    sys = local_system

    def one_hour(asl: dict[str, Any]) -> None:
        asl["States"]["ServiceLevelPolicy"]["Result"]["P3"]["first_contact_s"] = 3600
        # triage validates the whole policy: a more urgent severity never waits longer
        asl["States"]["ServiceLevelPolicy"]["Result"]["P2"]["first_contact_s"] = 3600

    with rolled_out(sys, tmp_path, one_hour):
        cid = file_complaint(sys, "C-OPS", category="after_sales", description="退货申请一直没人审核")
        view = sys.wait_for(lambda: (v := staff_view(sys, cid)) and "acknowledged" in timeline(v) and v)
        created = parse(view["created_at"])
        promised = next(e for e in view["timeline"] if e["type"] == "acknowledged")["detail"]["first_contact_due"]
        assert (parse(promised) - created).total_seconds() == 3600  # what the customer was promised
        assert view["clocks"]["first_contact"]["window_s"] == 3600
        # and the ladder runs on the new window: breached after an SLA hour, not eight
        escalated = sys.wait_for(lambda: [e for e in staff_view(sys, cid)["timeline"] if e["type"] == "escalated"], timeout=20)
        assert escalated[0]["detail"]["clock"] == "first_contact" and escalated[0]["detail"]["level"] == 1
        # the breach of the 1 h window, whenever the machine got to it: the next window is half
        # an hour after that window's end (on the old 8 h window it would be 12 h after creation)
        assert (parse(escalated[0]["detail"]["next_due"]) - created).total_seconds() == 3600 + 1800


SEVERITY_CASES = {
    "P1": {"description": "充电器用的时候冒烟起火了", "product": {"sku": "SKU-C1", "kind": "electronics"}},
    "P2": {"description": "手机屏幕有坏点", "order_amount": {"amount": "4999.00", "currency": "CNY"},
           "product": {"sku": "SKU-PH", "kind": "electronics"}},
    "P3": {"description": "衣服颜色和图片不一样", "product": {"sku": "SKU-T", "kind": "apparel"}},
}


@pytest.mark.parametrize("severity", sorted(SEVERITY_CASES))
def test_every_severity_runs_the_real_definition_to_its_end(local_system: Any, severity: str) -> None:
    sys = local_system
    customer = f"C-END-{severity}"
    cid = file_complaint(sys, customer, **SEVERITY_CASES[severity])
    view = sys.wait_for(lambda: (v := staff_view(sys, cid))["severity"] and v)
    assert view["severity"] == severity
    resolved = act(sys, cid, "resolve", {"resolution": "refund"})
    assert resolved.status == 200, resolved.json()
    sys.wait_for(lambda: "survey_sent" in timeline(staff_view(sys, cid)), timeout=30)
    token = sys.token(customer, "customers")
    assert sys.http("POST", f"/complaints/{cid}/satisfaction", token=token, json_body={"score": 5}).status == 200
    assert wait_status(sys, cid, "closed")["satisfaction"]["score"] == 5
    sys.wait_for(lambda: execution(sys, cid)["status"] == "SUCCEEDED", timeout=20)
