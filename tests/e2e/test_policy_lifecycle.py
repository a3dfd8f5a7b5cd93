"""The policy-driven lifecycle through the local system (docs/policy.md, docs/lifecycle.md):
an edited policy changes the observed due times, business hours, a pause across a would-be
breach, re-triage into an immediate breach, an invalid edit named by key, and a record far
past due catching up in one step — every new event on the timeline, customer and staff view."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.clock import iso, parse
from chalicelib.policy.official import official_year
from tests.e2e.helpers import (
    AlertInbox,
    HeldTimers,
    act,
    customer_view,
    execution,
    file_complaint,
    rolled_out,
    roomy_windows,
    staff_view,
    timeline,
    wait_event,
    wait_status,
)

SHANGHAI = timedelta(hours=8)


def policy(asl: dict[str, Any]) -> dict[str, Any]:
    return dict(asl["States"]["ServiceLevelPolicy"]["Result"])


@pytest.fixture(scope="module")
def inbox(local_system: Any) -> AlertInbox:
    return AlertInbox(local_system)


@pytest.fixture(autouse=True)
def stop_what_the_test_started(local_system: Any) -> Iterator[None]:
    """Overdue complaints repeat their last level every few SLA minutes: stop them after each
    test so they don't load the next."""
    yield
    arn = local_system.env["LIFECYCLE_STATE_MACHINE_ARN"]
    pages = local_system.sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, statusFilter="RUNNING")
    for found in [e for page in pages for e in page["executions"]]:
        local_system.sfn.stop_execution(executionArn=found["executionArn"])


def details(view: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["detail"] for e in view["timeline"] if e["type"] == kind]


def import_one(sys: Any, batch_id: str, external_id: str, raised_at: datetime, **fields: Any) -> dict[str, Any]:
    record = {"external_id": external_id, "raised_at": iso(raised_at), "customer_id": f"C-{external_id}",
              "order_id": f"O-{external_id}", "channel": "marketplace", "desired_outcome": "refund",
              "description": "包裹一直没收到", **fields}
    batch = {"source": "generic", "batch_id": batch_id, "exported_at": iso(sys.system.system_now()), "records": [record]}
    sys.sqs.send_message(QueueUrl=sys.import_queue_url, MessageBody=json.dumps(batch, ensure_ascii=False))
    ops = sys.token("O-1", "ops")
    resp = sys.wait_for(lambda: (r := sys.http("GET", f"/imports/{batch_id}", token=ops)).status == 200 and r,
                        timeout=40, what=f"import report {batch_id}")
    return dict(resp.json())


# -- an edited policy -------------------------------------------------------------------------------
def test_an_edited_policy_changes_the_observed_due_times(local_system: Any, tmp_path: Path) -> None:
    """Ops set level 1's fraction to 1.0 and P3's first contact to 10 min, and roll it out."""
    sys = local_system

    def edit(asl: dict[str, Any]) -> None:
        p = policy(asl)
        p["P3"]["first_contact_s"] = 600
        p["P2"]["first_contact_s"] = 600  # a more urgent severity never waits longer (validated)
        p["P1"]["first_contact_s"] = 300
        p["escalation"]["levels"][0]["next_window_fraction"] = 1.0

    with rolled_out(sys, tmp_path, edit):
        cid = file_complaint(sys, "C-EDIT", category="after_sales", description="退货申请一直没人审核")
        view = wait_event(sys, cid, "escalated")
    created = parse(view["created_at"])
    (ack,) = details(view, "acknowledged")
    assert parse(ack["first_contact_due"]) - created == timedelta(minutes=10)  # what the customer was promised
    first = details(view, "escalated")[0]
    assert (first["clock"], first["level"], first["alert"]) == ("first_contact", 1, "team_lead")
    # level 1's next deadline: 1.0 x the 10 min window after the breach (0.5 x by default)
    assert parse(first["next_due"]) - created == timedelta(minutes=20)
    assert view["clocks"]["first_contact"]["window_s"] == 600 and view["clocks"]["first_contact"]["breached"] is True
    assert view["vouchers"][0]["amount"] == "5.00"


def test_an_invalid_policy_edit_fails_the_complaint_with_the_key_named(local_system: Any, tmp_path: Path) -> None:
    sys = local_system

    def broken(asl: dict[str, Any]) -> None:
        policy(asl)["escalation"]["levels"][1]["next_window_fraction"] = 1.5

    with rolled_out(sys, tmp_path, broken):
        cid = file_complaint(sys, "C-BROKEN", category="after_sales", description="退货申请一直没人审核")
        view = sys.wait_for(lambda: (v := staff_view(sys, cid)).get("failure") and v, timeout=60, what="the failure")
    assert "escalation.levels[1].next_window_fraction: must be in (0, 1], got 1.5" in view["failure"]
    assert view["status"] == "received" and "workflow_failed" in timeline(view)
    sys.wait_for(lambda: execution(sys, cid)["status"] == "FAILED", timeout=30)


# -- business hours ---------------------------------------------------------------------------------
def _last_ordinary_friday(now: datetime) -> datetime | None:
    """The latest Friday, at least 4 days ago and within the import horizon, that is an
    ordinary working day, as is the Monday after it (published official years only)."""
    day = (now + SHANGHAI).date() - timedelta(days=4)
    for _ in range(28):
        monday = day + timedelta(days=3)
        years = {official_year(d.year) for d in (day, monday)}
        if day.weekday() == 4 and all(y.published for y in years) and not any(
                d in y.days_off or d in y.workdays for y in years for d in (day, day + timedelta(days=1),
                                                                             day + timedelta(days=2), monday)):
            return datetime(day.year, day.month, day.day, 17, 55, tzinfo=UTC) - SHANGHAI
        day -= timedelta(days=1)
    return None


def test_a_p3_on_business_hours_received_just_before_closing_is_due_the_next_open_day(local_system: Any,
                                                                                   tmp_path: Path) -> None:
    sys = local_system
    friday = _last_ordinary_friday(sys.system.system_now())
    if friday is None:
        pytest.skip("no ordinary Friday in a published holiday year within the import horizon")

    def business(asl: dict[str, Any]) -> None:
        policy(asl)["P3"].update(hours="business", first_contact_s=7200)

    # Given P3 on business hours (product: Mon-Fri 09:00-18:00 Shanghai) and a marketplace record
    # raised on a Friday at 17:55 Shanghai time
    with rolled_out(sys, tmp_path, business):
        rep = import_one(sys, "biz-1", "BIZ-1", friday, category="not_as_described",
                         description="颜色和图片不一样")
        assert rep["created"] == 1, rep
        cid = sys.wait_for(lambda: (items := sys.http("GET", "/customers/C-BIZ-1/complaints",
                                                      token=sys.token("A-7", "agents")).json()["items"])
                           and items[0]["complaint_id"])
        view = wait_event(sys, cid, "acknowledged")
    # Then 5 working minutes on Friday and 1 h 55 min on Monday: due Monday 10:55 Shanghai
    (ack,) = details(view, "acknowledged")
    assert parse(ack["first_contact_due"]) == friday + timedelta(days=2, hours=17)  # Fri 09:55Z -> Mon 02:55Z
    assert view["clocks"]["first_contact"]["hours"] == "business" and view["team"] == "product"


# -- pause -------------------------------------------------------------------------------------------
def test_a_pause_across_a_would_be_breach_never_breaches_and_resumes_with_the_remaining_time(
        local_system: Any, tmp_path: Path, held_timers: HeldTimers) -> None:
    sys = local_system

    def short_resolution(asl: dict[str, Any]) -> None:
        p = policy(asl)
        for severity in ("P1", "P2", "P3"):  # 4 SLA hours (4 s here) to resolve, whatever the severity
            p[severity]["resolution_s"] = 4 * 3600 + 1
        p["P3"]["first_contact_s"] = 4 * 3600

    with rolled_out(sys, tmp_path, short_resolution):
        cid = file_complaint(sys, "C-PAUSE", category="after_sales", description="退货申请一直没人审核")
        wait_status(sys, cid, "awaiting_contact")
    assert act(sys, cid, "contact", {"note": "called"}).status == 200
    # customers cannot pause, agents cannot pause before first contact is made ... it is made now
    assert act(sys, cid, "pause", {}, user="C-PAUSE", group="customers").status == 403
    paused = act(sys, cid, "pause", {"reason": "awaiting_customer", "note": "label unreadable",
                                     "ask": "a photo of the shipping label"})
    assert paused.status == 200 and paused.json()["status"] == "pending_customer"
    held_timers.release(cid)
    view = staff_view(sys, cid)
    clock = view["clocks"]["resolution"]
    assert clock["paused"] is True and clock["due"] is None and view["pause"]["by"] == "agent:A-7"
    remaining = clock["remaining_s"]
    assert 0 < remaining <= 4 * 3600 + 1
    assert act(sys, cid, "pause", {}).status == 409  # already waiting
    # When the moment it would have run out passes (5 SLA hours)
    time.sleep(5)
    view = staff_view(sys, cid)
    assert view["status"] == "pending_customer" and "escalated" not in timeline(view) and not view["vouchers"]
    # the customer sees "waiting for your reply" without the internal note, and answers
    seen = customer_view(sys, cid, "C-PAUSE")
    (shown,) = details(seen, "paused")
    assert "note" not in shown and "reason" not in shown and shown["ask"] == "a photo of the shipping label"
    assert act(sys, cid, "reply", {"text": "here", "attachments": ["https://x.example/label.jpg"]},
               user="C-OTHER", group="customers").status == 404
    assert act(sys, cid, "reply", {"text": "here it is"}, user="A-7", group="agents").status == 403
    replied = act(sys, cid, "reply", {"text": "照片在这里", "attachments": ["https://x.example/label.jpg"]},
                  user="C-PAUSE", group="customers")
    assert replied.status == 200 and replied.json()["status"] == "in_progress"
    # Then the clock runs again with exactly the working time it had left
    view = staff_view(sys, cid)
    event = next(e for e in view["timeline"] if e["type"] == "customer_replied")
    assert parse(event["detail"]["resolution_due"]) == parse(event["at"]) + timedelta(seconds=remaining)
    assert view["clocks"]["resolution"]["paused"] is False and view["clocks"]["resolution"]["breached"] is False
    assert [e["type"] for e in customer_view(sys, cid, "C-PAUSE")["timeline"]][-2:] == ["paused", "customer_replied"]
    staff_paused = next(e for e in view["timeline"] if e["type"] == "paused")
    assert staff_paused["detail"]["note"] == "label unreadable" and staff_paused["internal_detail"] == ["note", "reason"]
    # the customer was asked on their channel (SMS for the app without a push token)
    assert act(sys, cid, "resume", {}).status == 409  # no longer paused


# -- re-triage ---------------------------------------------------------------------------------------
def test_retriage_p3_to_p1_after_p1s_window_breaches_at_once_with_the_p1_ladder(
        local_system: Any, held_timers: HeldTimers, inbox: AlertInbox) -> None:
    sys = local_system
    cid = file_complaint(sys, "C-RETRIAGE", category="delivery_delay", description="快递一直没到")
    view = wait_status(sys, cid, "awaiting_contact")
    assert (view["severity"], view["team"]) == ("P3", "logistics")
    # more than P1's 30 min of first-contact time passes (1 s = an SLA hour)
    sys.wait_for(lambda: sys.system.system_now() - parse(view["created_at"]) > timedelta(minutes=45), timeout=10)
    assert act(sys, cid, "triage", {"reason": "nothing to change"}).status == 400  # neither category nor severity
    assert act(sys, cid, "triage", {"severity": "P1", "reason": "x"}, user="C-RETRIAGE", group="customers").status == 403
    resp = act(sys, cid, "triage", {"category": "counterfeit", "severity": "P1", "reason": "fake goods, customer ill"},
               user="S-1", group="supervisors")
    assert resp.status == 200, resp.json()
    view = staff_view(sys, cid)
    assert (view["category"], view["severity"], view["team"]) == ("counterfeit", "P1", "product")
    (retriaged,) = [e for e in view["timeline"] if e["type"] == "retriaged"]
    assert retriaged["actor"] == "supervisor:S-1" and retriaged["internal"] is True
    assert retriaged["detail"]["from"] == {"category": "delivery_delay", "severity": "P3", "team": "logistics"}
    assert retriaged["detail"]["to"] == {"category": "counterfeit", "severity": "P1", "team": "product"}
    # the new window was used up: breached at once, level 1 of the P1 ladder (next: 0.5 x 30 min)
    first = details(view, "escalated")[0]
    at = parse(retriaged["at"])
    assert (first["clock"], first["level"]) == ("first_contact", 1)
    assert parse(first["next_due"]) == at + timedelta(minutes=15)
    assert view["clocks"]["first_contact"]["window_s"] == 1800
    assert parse(view["clocks"]["first_contact"]["started_at"]) == parse(view["created_at"])  # its start is kept
    assert view["vouchers"][0]["amount"] == "10.00"  # the P1 voucher
    alerts = sys.wait_for(lambda: (a := inbox.about(cid)) and a.get("team:product") and a)
    assert any("[L1]" in a for a in alerts["team:product"])
    assert "retriaged" not in timeline(customer_view(sys, cid, "C-RETRIAGE"))
    # the correction is kept for triage learning, in its month's bucket of the table
    month = f"CORR#{at:%Y-%m}"
    items = sys.dynamodb.query(TableName=sys.env["TABLE_NAME"], KeyConditionExpression="pk = :p",
                               ExpressionAttributeValues={":p": {"S": month}})["Items"]
    mine = [i for i in items if i["complaint_id"]["S"] == cid]
    assert len(mine) == 1 and mine[0]["predicted_category"]["S"] == "delivery_delay"
    assert mine[0]["corrected_severity"]["S"] == "P1" and mine[0]["actor"]["S"] == "supervisor:S-1"
    held_timers.release(cid)


def test_retriage_of_a_closed_complaint_is_a_conflict(local_system: Any, tmp_path: Path) -> None:
    sys = local_system
    with rolled_out(sys, tmp_path, roomy_windows):
        cid = file_complaint(sys, "C-CLOSED", category="promotion_rules", description="满减活动没有生效")
        wait_status(sys, cid, "awaiting_contact")
    assert act(sys, cid, "resolve", {"resolution": "explanation"}).status == 200
    sys.wait_for(lambda: "survey_sent" in timeline(staff_view(sys, cid)), timeout=30)
    assert act(sys, cid, "satisfaction", {"score": 5}, user="C-CLOSED", group="customers").status == 200
    wait_status(sys, cid, "closed")
    resp = act(sys, cid, "triage", {"severity": "P1", "reason": "late"})
    assert resp.status == 409 and resp.json()["error"]["code"] == "conflict"


# -- bounded catch-up --------------------------------------------------------------------------------
def test_a_record_far_past_due_catches_up_in_one_step_and_a_ten_year_old_one_is_rejected(
        local_system: Any, inbox: AlertInbox) -> None:
    sys = local_system
    now = sys.system.system_now()
    # a ten-year-old record is rejected with the reason in the import report
    old = import_one(sys, "old-1", "OLD-1", now - timedelta(days=3652))
    assert old["created"] == 0 and "more than 30 days before intake" in old["rejected"][0]["reason"]
    # one raised 29 days ago is imported and climbs its ladders in one step
    rep = import_one(sys, "late-1", "LATE-1", now - timedelta(days=29))
    assert rep["created"] == 1, rep
    cid = sys.wait_for(lambda: (items := sys.http("GET", "/customers/C-LATE-1/complaints",
                                                  token=sys.token("A-7", "agents")).json()["items"])
                       and items[0]["complaint_id"])
    view = wait_event(sys, cid, "repeats_skipped", count=2)
    sys.sfn.stop_execution(executionArn=execution(sys, cid)["executionArn"])  # what follows: counted below
    view = staff_view(sys, cid)
    caught_up = next(e["at"] for e in view["timeline"] if e["type"] == "escalated")
    step = [e for e in view["timeline"] if e["at"] == caught_up and e["type"] in ("escalated", "repeats_skipped")]
    for name in ("first_contact", "resolution"):
        assert [(e["type"], e["detail"]["level"]) for e in step if e["detail"]["clock"] == name] == [
            ("escalated", 1), ("escalated", 2), ("escalated", 3), ("repeats_skipped", 3)]
    assert all(e["detail"]["count"] > 10 for e in step if e["type"] == "repeats_skipped")
    assert timeline(view).count("voucher_issued") == 2  # once per clock
    # from then on the last level repeats at the ladder's cadence (0.125 x 8 h for first contact)
    later = [e for e in view["timeline"] if e["type"] == "escalated" and e["at"] != caught_up
             and e["detail"]["clock"] == "first_contact"]
    assert all(e["detail"]["repeat"] is True for e in later)
    times = [parse(caught_up)] + [parse(e["at"]) for e in later]
    assert all(b - a >= timedelta(hours=1) for a, b in itertools.pairwise(times))
    # one alert per level reached, then one per repeat: no flood, and a short execution history
    def breach_alerts() -> list[str]:
        return [a for bodies in inbox.about(cid).values() for a in bodies if not a.startswith("[at risk]")]

    breach = sys.wait_for(lambda: len(b := breach_alerts()) >= 6 and b, timeout=30, what="the six level alerts")
    repeats = len([e for e in view["timeline"] if e["type"] == "escalated" and e["at"] != caught_up])
    assert len(breach) <= 6 + repeats
    levels = [a[:4] for a in breach]
    assert (levels.count("[L1]"), levels.count("[L2]")) == (2, 2) and levels.count("[L3]") >= 2
    history = sys.sfn.get_execution_history(executionArn=execution(sys, cid)["executionArn"], maxResults=1000)
    # the catch-up step and its ~13 messages are ~110 history events (issue 12 saw 9,177 for a
    # year-2000 record before the ladder caught up in one step); each later repeat adds ~20
    assert len(history["events"]) < 150 + 30 * repeats


def test_an_unanswered_pause_expires_and_the_clock_runs_again(local_system: Any, tmp_path: Path,
                                                             inbox: AlertInbox) -> None:
    sys = local_system

    def short_pause(asl: dict[str, Any]) -> None:
        roomy_windows(asl)
        policy(asl)["follow_up"]["pending_timeout_s"] = 2 * 3600  # 2 SLA hours: 2 s here

    with rolled_out(sys, tmp_path, short_pause):
        cid = file_complaint(sys, "C-SILENT", category="after_sales", description="退货申请一直没人审核")
        wait_status(sys, cid, "awaiting_contact")
    assert act(sys, cid, "contact", {}).status == 200
    assert act(sys, cid, "pause", {"note": "need the order screenshot"}).status == 200
    paused = staff_view(sys, cid)
    left = paused["clocks"]["resolution"]["remaining_s"]
    # When nobody answers for pending_timeout_s, Then it resumes by itself with its time left
    view = wait_event(sys, cid, "pause_expired", timeout=30)
    assert view["status"] == "in_progress" and view["pause"] is None
    (expired,) = [e for e in view["timeline"] if e["type"] == "pause_expired"]
    assert expired["internal"] is True
    assert parse(expired["at"]) - parse(paused["pause"]["at"]) >= timedelta(hours=2)
    assert parse(expired["detail"]["resolution_due"]) == parse(expired["at"]) + timedelta(seconds=left)
    assert "pause_expired" not in timeline(customer_view(sys, cid, "C-SILENT"))
    alerts = sys.wait_for(lambda: (a := inbox.about(cid)) and a.get("team:service") and a)
    assert any("without a reply" in a for a in alerts["team:service"])
