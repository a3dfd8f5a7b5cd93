"""Reports through the whole local system: complaints filed and worked over HTTP, the tickets
table's stream delivered to the analytics function, ``GET /reports/*`` seconds later."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.e2e.helpers import act, file_complaint, rolled_out, roomy_windows, wait_status


def summary(sys: Any, token: str, **params: str) -> Any:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return sys.http("GET", f"/reports/summary?{query}", token=token)


def test_summary_shows_what_just_happened(local_system: Any, tmp_path: Path) -> None:
    sys = local_system
    ops = sys.token("O-1", "ops")
    start = sys.system.system_now().date()
    today = start.isoformat()
    # Two system days: at x3600 a system day is 24 wall seconds, so a window of one day would
    # miss the complaints whenever the test runs across the system's midnight.
    window = {"from": today, "to": (start + timedelta(days=2)).isoformat()}
    # Given three complaints: one contacted then resolved, one contacted, one left waiting —
    # all within their windows (roomy ones: a starved machine may take 8 s, a P3's 8 h here,
    # from intake to triage)
    with rolled_out(sys, tmp_path, roomy_windows):
        resolved = file_complaint(sys, "C-R1", product={"sku": "SKU-CUP"}, order_id="O-R1")
        contacted = file_complaint(sys, "C-R2", product={"sku": "SKU-CUP"}, order_id="O-R2")
        waiting = file_complaint(sys, "C-R3", channel="web", order_id="O-R2")
        for cid in (resolved, contacted, waiting):
            wait_status(sys, cid, "awaiting_contact")
    assert act(sys, resolved, "contact", {"note": "called"}).status == 200
    assert act(sys, resolved, "resolve", {"resolution": "refund", "note": "refunded"}).status == 200
    assert act(sys, contacted, "contact", {}).status == 200

    # When ops read today's summary, Then it shows them within seconds (the stream's delay)
    def caught_up() -> Any:
        body = summary(sys, ops, **window).json()
        return body if body["counts"]["by_status"].get("in_progress") == 1 and body["sla"]["resolution"]["met"] == 1 else None

    # (45 s: the suite's load and fault tests may starve the stream poller's thread meanwhile)
    body = sys.wait_for(caught_up, timeout=45, what="the summary to show the actions")
    assert body["from"] == f"{today}T00:00:00Z"
    counts = body["counts"]
    assert counts["total"] == 3
    assert counts["by_category"] == {"damaged_in_transit": 3}
    assert counts["by_team"] == {"logistics": 3} and counts["by_channel"] == {"app": 2, "web": 1}
    assert counts["by_status"]["awaiting_contact"] == 1 and counts["by_status"]["resolved"] == 1
    assert body["sla"]["first_contact"] == {**body["sla"]["first_contact"], "met": 2, "breached": 0, "open": 1, "compliance": 1.0}
    assert body["sla"]["resolution"]["open"] == 2
    assert body["durations_s"]["first_contact"]["median"] is not None and body["durations_s"]["first_contact"]["count"] == 2
    assert body["top_products"] == [{"sku": "SKU-CUP", "complaints": 2}]
    assert body["top_orders"][0] == {"order_id": "O-R2", "complaints": 2}
    assert body["csat"]["surveys_sent"] in (0, 1)  # the survey goes out 2 system hours after resolving

    # And the hotspots of today against yesterday name the SKU and the category
    spots = sys.http("GET", f"/reports/hotspots?from={today}&to={window['to']}&min_complaints=2", token=ops).json()
    assert {"sku": "SKU-CUP", "complaints": 2, "previous": 0, "change": None} in [
        {k: i[k] for k in ("sku", "complaints", "previous", "change")} for i in spots["items"] if "sku" in i]
    assert any(i.get("category") == "damaged_in_transit" and i["complaints"] == 3 for i in spots["items"])


def test_reports_are_for_ops_and_supervisors_with_a_valid_window(local_system: Any) -> None:
    sys = local_system
    window = {"from": "2026-11-01", "to": "2026-11-30"}
    assert summary(sys, sys.token("S-1", "supervisors"), **window).status == 200
    assert summary(sys, sys.token("A-7", "agents"), **window).status == 403
    assert summary(sys, sys.token("C-1", "customers"), **window).status == 403
    assert sys.http("GET", "/reports/summary?from=2026-11-01&to=2026-11-30").status == 401
    ops = sys.token("O-1", "ops")
    for params, field in (({"from": "2026-11-01"}, "to"), ({"from": "01/11/2026", "to": "2026-11-30"}, "from"),
                          ({"from": "2026-11-30", "to": "2026-11-01"}, "to")):
        response = summary(sys, ops, **params)
        assert response.status == 400, params
        error = response.json()["error"]
        assert error["code"] == "validation_error" and error["details"][0]["field"] == field
    hotspots = sys.http("GET", "/reports/hotspots?from=2026-11-01&to=2026-11-08", token=ops)
    assert hotspots.status == 200 and hotspots.json()["previous"]["from"] == "2026-10-25T00:00:00Z"


def test_triage_report_and_proposals_show_an_agents_correction(local_system: Any, capsys: Any) -> None:
    sys = local_system
    today = sys.system.system_now().date()
    window = {"from": today.isoformat(), "to": (today + timedelta(days=2)).isoformat()}
    # Given a complaint triaged as a delivery problem that an agent re-triages as counterfeit
    cid = file_complaint(sys, "C-TR1", order_id="O-TR1", description="收到的杯子是假货，和官网的完全不一样")
    view = sys.wait_for(lambda: (v := sys.http("GET", f"/complaints/{cid}", token=sys.token("A-7", "agents")).json())
                        .get("category") and v, what="triage")
    corrected_to = "not_as_described" if view["category"] == "counterfeit" else "counterfeit"
    resp = act(sys, cid, "triage", {"category": corrected_to, "reason": "checked the photos"})
    assert resp.status == 200, resp.json()
    # When ops read the triage report of the window
    query = f"from={window['from']}&to={window['to']}"
    body = sys.http("GET", f"/reports/triage?{query}", token=sys.token("O-1", "ops")).json()
    # Then the correction is counted and named as a confusion pair
    assert body["corrected"] >= 1 and body["triaged"] >= body["corrected"]
    assert {"predicted": view["category"], "corrected": corrected_to, "count": 1} in body["confusion"]["category"]
    assert 0 <= body["accuracy"]["category"] < 1
    # And customers and agents may not read it; a bad window is a 400 naming the field
    assert sys.http("GET", f"/reports/triage?{query}", token=sys.token("C-TR1", "customers")).status == 403
    bad = sys.http("GET", "/reports/triage?from=2026-11-02&to=2026-11-01", token=sys.token("O-1", "ops"))
    assert bad.status == 400 and bad.json()["error"]["details"][0]["field"] == "to"
    # And the CLI prints the report's summary as TOML comments, the proposals as rule syntax
    from local.triage_proposals import run

    token = sys.token("O-1", "ops")
    assert run(argparse.Namespace(start=window["from"], end=window["to"], endpoint=sys.api_url, token=token)) == 0
    out = capsys.readouterr().out
    assert f"category {view['category']} -> {corrected_to}: 1" in out
