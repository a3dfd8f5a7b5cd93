"""The complaint lifecycle of docs/lifecycle.md, end to end: HTTP API → Step Functions (the real
ASL file on moto's interpreter) → Lambdas → DynamoDB/SNS, with SLA time x3600
(an SLA hour per second)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from chalicelib.clock import parse
from tests.e2e.helpers import (
    FILED,
    AlertInbox,
    HeldTimers,
    act,
    customer_view,
    execution,
    file_complaint,
    history,
    rolled_out,
    roomy_windows,
    settle,
    staff_view,
    states_entered,
    timeline,
    wait_event,
    wait_status,
    wait_waiting,
)

SAFETY = {"description": "酸奶打开有股怪味，已经变质了，孩子喝了肚子疼", "product": {"sku": "SKU-Y1", "name": "酸奶", "kind": "food"}}


@pytest.fixture(scope="module")
def inbox(local_system: Any) -> AlertInbox:
    return AlertInbox(local_system)


@pytest.fixture(autouse=True)
def _settled(local_system: Any) -> Iterator[None]:
    """Each test's complaints stop climbing when it ends (``settle``)."""
    FILED.clear()
    yield
    settle(local_system)


def test_p1_safety_complaint_nobody_touches_climbs_the_ladder(local_system: Any, inbox: AlertInbox) -> None:
    sys = local_system
    cid = file_complaint(sys, "C-P1", **SAFETY)
    view = wait_event(sys, cid, "escalated", count=4, timeout=30)
    # Then: triaged P1 for the product team, and the ladder climbed 1 → 2 → 3 → 3 (repeat)
    assert (view["severity"], view["team"], view["category"]) == ("P1", "product", "product_quality")
    # (a machine too busy to wake every repeat gets them summarised: bounded catch-up)
    ladder_only = [t for t in timeline(view) if t not in ("at_risk", "repeats_skipped")]
    assert ladder_only[:8] == ["received", "triaged", "acknowledged", "escalated", "voucher_issued",
                               "escalated", "escalated", "escalated"]
    # the owning team is warned at 0.75 of each window of a running clock, once per window, and
    # always before that window's breach. Which windows get their warning depends on the machine:
    # one that wakes the workflow after a window's 0.75 mark and its end (0.1 s apart here at
    # x3600) escalates instead, as it should - a warning for a breached window helps nobody.
    events = view["timeline"]
    warned = [e["detail"] for e in events if e["type"] == "at_risk"]
    assert len({(w["clock"], w["due"]) for w in warned}) == len(warned)
    for index, event in enumerate(events):
        if event["type"] != "at_risk":
            continue
        window = event["detail"]
        assert parse(event["at"]) < parse(window["due"])
        breach = next((i for i, e in enumerate(events) if e["type"] == "escalated"
                       and e["detail"]["clock"] == window["clock"] and e["detail"]["level"] == window["level"] + 1), None)
        assert breach is None or index < breach, (window, timeline(view))
    ladder = [e["detail"] for e in view["timeline"] if e["type"] == "escalated"]
    assert [(d["clock"], d["level"], d["repeat"]) for d in ladder[:4]] == [
        ("first_contact", 1, False), ("first_contact", 2, False), ("first_contact", 3, False), ("first_contact", 3, True)]
    assert view["escalation_level"] == 3
    # one voucher for the clock, 10 CNY for P1
    assert view["vouchers"] == [{"amount": "10.00", "currency": "CNY", "reason": "first_contact_breach",
                                 "issued_at": view["vouchers"][0]["issued_at"]}]
    # alerts: team lead (team topic) at level 1, manager at 2, director/on-call at 3 and again
    # (the first-contact clock's: on a slow machine the resolution clock's 24 h - 24 s here -
    # may run out too before the alerts are read, and climbs its own ladder)
    every = sys.wait_for(lambda: (a := inbox.about(cid)) and len(a.get("level:3", [])) >= 2 and a)
    alerts = {topic: [a for a in bodies if "its first_contact window" in a] for topic, bodies in every.items()}
    breaches = [a for a in alerts["team:product"] if not a.startswith("[at risk]")]
    assert len(breaches) == 1 and "[L1]" in breaches[0]
    assert len(alerts["team:product"]) <= 1 + len(warned)  # the at-risk warnings go to the team too
    assert len(alerts["level:2"]) == 1 and "[L2]" in alerts["level:2"][0]
    assert all("[L3]" in a for a in every["level:3"])
    assert "team:logistics" not in every and "team:service" not in every
    # the customer sees the voucher, never the escalations
    seen = timeline(customer_view(sys, cid, "C-P1"))
    assert "escalated" not in seen and "triaged" not in seen and "at_risk" not in seen and "voucher_issued" in seen
    # contact stops the first-contact clock: no more first-contact escalations
    assert act(sys, cid, "contact", {"note": "called, apologised"}).status == 200
    stopped = staff_view(sys, cid)
    before = len([e for e in stopped["timeline"] if e["type"] == "escalated"])
    assert stopped["status"] == "in_progress"
    sys.wait_for(lambda: execution(sys, cid)["status"] == "RUNNING")
    later = staff_view(sys, cid)
    assert [e for e in later["timeline"] if e["type"] == "escalated"][before:] == [] or all(
        e["detail"]["clock"] == "resolution" for e in later["timeline"][len(stopped["timeline"]):] if e["type"] == "escalated")


def test_contacted_and_resolved_in_time_is_never_escalated_and_closes_on_a_good_score(local_system: Any,
                                                                                      tmp_path: Path) -> None:
    sys = local_system
    with rolled_out(sys, tmp_path, roomy_windows):  # "in time" even on a starved machine (P3: 8 h = 8 s)
        cid = file_complaint(sys, "C-HAPPY", category="delivery_delay", description="物流太慢了，一周还没到")
        wait_status(sys, cid, "awaiting_contact")
    wait_waiting(sys, cid)  # each action ends a wait (one that lands while a step runs is picked up by the step)
    assert act(sys, cid, "contact", {"note": "called"}).status == 200
    wait_waiting(sys, cid)
    resp = act(sys, cid, "resolve", {"resolution": "compensation", "note": "5 元券", "refund": {"amount": "5.00", "currency": "CNY"}})
    assert resp.status == 200 and resp.json()["status"] == "resolved"
    wait_event(sys, cid, "survey_sent")  # after the 2 h survey delay
    wait_waiting(sys, cid)
    rated = sys.http("POST", f"/complaints/{cid}/satisfaction", token=sys.token("C-HAPPY", "customers"),
                     json_body={"score": 4, "comment": "很满意"})
    assert rated.status == 200
    view = wait_status(sys, cid, "closed")
    assert timeline(view) == ["received", "triaged", "acknowledged", "contacted", "resolved", "survey_sent", "rated", "closed"]
    assert view["escalation_level"] == 0 and view["vouchers"] == []
    assert view["satisfaction"]["score"] == 4 and view["satisfaction"]["comment"] == "很满意"
    assert [e["actor"] for e in view["timeline"]][3:5] == ["agent:A-7", "agent:A-7"]
    sys.wait_for(lambda: execution(sys, cid)["status"] == "SUCCEEDED")
    # nine billed transitions: each action ends the wait with the next one, the survey delay
    # times out into the step that sends the survey, the rating's wait finds the complaint closed
    events = history(sys, cid)
    assert states_entered(events) == ["ServiceLevelPolicy", "Triage", "Await", "Await", "Await", "Timeout", "Await",
                                      "Await", "Closed"]
    # ... and it ended through ComplaintClosed, a task failure the ASL catches, not a Lambda error
    failures = [e for e in events if "Failed" in e["type"]]
    assert [(e["type"], e["taskFailedEventDetails"]["error"]) for e in failures] == [("TaskFailed", "ComplaintClosed")]
    # a second rating, a resolve on a closed complaint, a second contact: 409, nothing changes
    customer = sys.token("C-HAPPY", "customers")
    assert sys.http("POST", f"/complaints/{cid}/satisfaction", token=customer, json_body={"score": 1}).status == 409
    assert act(sys, cid, "resolve", {"resolution": "refund"}).status == 409
    assert act(sys, cid, "contact", {}).status == 409
    assert timeline(staff_view(sys, cid)) == timeline(view)


def test_action_conflicts_and_validation(local_system: Any) -> None:
    sys = local_system
    cid = file_complaint(sys, "C-409", category="after_sales", description="客服不处理退货")
    wait_status(sys, cid, "awaiting_contact")
    customer = sys.token("C-409", "customers")
    # no survey pending yet → 409
    assert sys.http("POST", f"/complaints/{cid}/satisfaction", token=customer, json_body={"score": 5}).status == 409
    assert sys.http("POST", f"/complaints/{cid}/satisfaction", token=customer, json_body={"score": 6}).status == 400
    assert act(sys, cid, "resolve", {"resolution": "sorry"}).status == 400
    assert act(sys, cid, "escalate", {}).status == 400
    assert act(sys, "CMP-MISSING", "contact", {}).status == 404
    assert act(sys, cid, "contact", {}).status == 200
    again = act(sys, cid, "contact", {})
    assert again.status == 409 and again.json()["error"]["code"] == "conflict"
    note = act(sys, cid, "notes", {"text": "客户情绪激动，注意语气"})
    assert note.status == 201
    esc = act(sys, cid, "escalate", {"reason": "customer threatens to call 12315"})
    assert esc.status == 200 and esc.json()["escalation_level"] == 1
    view = staff_view(sys, cid)
    assert timeline(view)[-3:] == ["contacted", "note", "escalated"]
    assert view["timeline"][-1]["detail"]["manual"] is True
    assert "note" not in timeline(customer_view(sys, cid, "C-409"))


def test_low_score_reopens_and_two_reopens_then_closed_unsatisfied(local_system: Any, inbox: AlertInbox) -> None:
    sys = local_system
    customer = "C-SAD"
    cid = file_complaint(sys, customer, category="not_as_described", description="颜色和图片不一样")
    wait_status(sys, cid, "awaiting_contact")
    wait_waiting(sys, cid)
    assert act(sys, cid, "contact", {}).status == 200
    token = sys.token(customer, "customers")
    for round_ in range(3):
        wait_waiting(sys, cid)
        assert act(sys, cid, "resolve", {"resolution": "exchange", "note": f"round {round_}"}).status == 200
        wait_event(sys, cid, "survey_sent", count=round_ + 1)
        wait_waiting(sys, cid)
        assert sys.http("POST", f"/complaints/{cid}/satisfaction", token=token, json_body={"score": 1 + round_ % 2}).status == 200
        if round_ < 2:
            view = wait_event(sys, cid, "reopened", count=round_ + 1)
            assert view["status"] == "in_progress" and view["reopen_count"] == round_ + 1
            assert view["escalation_level"] == round_ + 1  # the resolution clock restarts one level up
    view = wait_status(sys, cid, "closed_unsatisfied")
    cycle = ["resolved", "survey_sent", "rated"]
    assert timeline(view) == ["received", "triaged", "acknowledged", "contacted",
                              *cycle, "reopened", *cycle, "reopened", *cycle, "closed"]
    assert view["satisfaction"]["score"] == 1
    alerts = sys.wait_for(lambda: (a := inbox.about(cid)) and a.get("level:2") and a, what=f"level:2 alert; seen {inbox.seen}")
    assert len(alerts["team:service"]) == 2 and "closed unsatisfied" in alerts["level:2"][0]
    sys.wait_for(lambda: execution(sys, cid)["status"] == "SUCCEEDED")
    # per round: the survey delay's wait and its Timeout, the rating's wait, the wait after it
    # (for the next resolve, or the one that finds the complaint closed)
    rounds = ["Await", "Timeout", "Await", "Await"] * 3
    assert states_entered(history(sys, cid)) == ["ServiceLevelPolicy", "Triage", "Await", "Await", *rounds, "Closed"]


def test_an_action_that_races_the_timer_is_not_lost(local_system: Any, held_timers: HeldTimers) -> None:
    """The agent's contact reaches the API just as the first-contact clock runs out: the
    resume is refused (the wait is over), but the contact is on the ticket and the workflow
    continues from it — no escalation, and the complaint can be resolved."""
    sys = local_system
    sfn = aws.client("stepfunctions")
    # "Just as": the contact is written while the workflow still waits, and answered only once
    # the timer fired. A P3 complaint (8 h = 8 s here) leaves a loaded machine time to triage
    # before the window ends (a P1's 0.5 s did not: triage itself then escalated); the API's
    # resume is held until the timer fired, and the timeout step until the contact's write,
    # so the two meet in this order whatever the scheduling.
    resumed = threading.Event()
    cid = file_complaint(sys, "C-RACE")  # P3: first contact within 8 h = 8 s
    assert wait_status(sys, cid, "awaiting_contact")["severity"] == "P3"
    arn = execution(sys, cid)["executionArn"]

    def waiting() -> bool:  # the workflow's task token is on the ticket: Await waits
        item = sys.dynamodb.get_item(TableName=sys.names["table"], Key={"pk": {"S": f"C#{cid}"}, "sk": {"S": "TICKET"}},
                                     ConsistentRead=True).get("Item", {})
        return "wait_token" in item

    sys.wait_for(waiting, what="the workflow to wait for an agent")

    def timer_fired() -> bool:
        events = sys.sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=50)["events"]
        return any(e["type"] in ("TaskTimedOut", "TaskFailed") for e in events)

    def hold_until_timeout(**_: Any) -> None:
        held_timers.release(cid)  # the API resumes only after writing the action
        sys.wait_for(timer_fired, timeout=30, what="the first-contact timer to fire")
        resumed.set()

    # the API writes the contact, then — at the boundary — tries to resume a wait that just ended
    sfn.meta.events.register_first("before-call.states.SendTaskSuccess", hold_until_timeout)
    try:
        assert act(sys, cid, "contact", {"note": "at the boundary"}).status == 200
    finally:
        sfn.meta.events.unregister("before-call.states.SendTaskSuccess", hold_until_timeout)
    assert resumed.is_set()  # the race was run: the resume came after the timer fired
    view = staff_view(sys, cid)
    assert view["status"] == "in_progress" and "contacted" in timeline(view)
    assert act(sys, cid, "resolve", {"resolution": "refund"}).status == 200
    view = wait_event(sys, cid, "survey_sent")
    first_contact = [e for e in view["timeline"] if e["type"] == "escalated" and e["detail"]["clock"] == "first_contact"]
    assert first_contact == []
    assert view["vouchers"] == []


def test_failed_notifications_are_recorded_and_do_not_stop_the_workflow(local_system: Any) -> None:
    sys = local_system
    sns = aws.client("sns")
    broken = "+8613900000099"

    def fail_sms(params: dict[str, Any], **_: Any) -> None:
        if params.get("PhoneNumber") == broken:
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "SMS gateway down"}}, "Publish")

    sns.meta.events.register("before-parameter-build.sns.Publish", fail_sms)
    try:
        cid = file_complaint(sys, "C-NOSMS", category="lost_parcel", description="包裹丢了",
                             contact={"locale": "zh-CN", "phone": broken})
        view = wait_event(sys, cid, "notification_failed", timeout=30)
    finally:
        sns.meta.events.unregister("before-parameter-build.sns.Publish", fail_sms)
    failed = next(e for e in view["timeline"] if e["type"] == "notification_failed")
    assert failed["detail"]["template"] == "acknowledged" and failed["detail"]["to"] == "customer"
    assert view["status"] == "awaiting_contact" and execution(sys, cid)["status"] == "RUNNING"
    assert "notification_failed" not in timeline(customer_view(sys, cid, "C-NOSMS"))
    assert act(sys, cid, "resolve", {"resolution": "refund"}).status == 200
    wait_event(sys, cid, "survey_sent")


def test_a_failed_execution_is_impossible_to_miss(local_system: Any, capfd: pytest.CaptureFixture[str]) -> None:
    sys = local_system
    ddb = aws.client("dynamodb")
    marker = "C-BROKEN"

    def break_triage(params: dict[str, Any], **_: Any) -> None:
        items = str(params.get("TransactItems") or [])
        if marker in items and "'triaged'" in items:  # every attempt, retries included
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "item too large"}}, "TransactWriteItems")

    ddb.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", break_triage)
    try:
        cid = file_complaint(sys, marker, description="质量问题")
        sys.wait_for(lambda: execution(sys, cid)["status"] == "FAILED", timeout=30)
    finally:
        ddb.meta.events.unregister("before-parameter-build.dynamodb.TransactWriteItems", break_triage)
    view = staff_view(sys, cid)
    assert view["failure"].startswith("ClientError") and "item too large" in view["failure"]
    assert "workflow_failed" in timeline(view)
    out = capfd.readouterr().out
    assert '"WorkflowFailed"' in out and "ComplaintManagement" in out
