"""Steps the e2e tests share: file a complaint, act on it, watch its timeline and the alerts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from chalicelib import steps
from infra.resources import ASL_FUNCTION_PLACEHOLDERS, TEAMS, state_machine_files

COMPLAINT: dict[str, Any] = {
    "order_id": "O-1",
    "channel": "app",
    "desired_outcome": "refund",
    "description": "快递到的时候杯子碎了",
    "contact": {"locale": "zh-CN", "phone": "+8613800000000"},
}


FILED: list[str] = []  # complaints filed by file_complaint, for a module that settles them (see settle)


def file_complaint(sys: Any, customer: str, **changes: Any) -> str:
    body = {**COMPLAINT, "customer_id": customer, "order_id": f"O-{customer}", **changes}
    resp = sys.http("POST", "/complaints", token=sys.token(customer, "customers"), json_body=body)
    assert resp.status == 202, resp.json()
    FILED.append(str(resp.json()["complaint_id"]))
    return FILED[-1]


def settle(sys: Any) -> None:
    """Resolve what the test left open (a 409 for those already done): a complaint nobody
    works climbs the ladder and repeats its top level every few system minutes - a fraction of
    a second at x3600 - and its escalations and alerts would load the machine for the tests
    after it."""
    for cid in FILED:
        act(sys, cid, "resolve", {"resolution": "explanation"})
    FILED.clear()


def staff_view(sys: Any, cid: str) -> dict[str, Any]:
    resp = sys.http("GET", f"/complaints/{cid}", token=sys.token("S-1", "supervisors"))
    assert resp.status == 200, resp.json()
    return dict(resp.json())


def customer_view(sys: Any, cid: str, customer: str) -> dict[str, Any]:
    return dict(sys.http("GET", f"/complaints/{cid}", token=sys.token(customer, "customers")).json())


def act(sys: Any, cid: str, action: str, body: dict[str, Any], user: str = "A-7", group: str = "agents") -> Any:
    """The action as a client sends it, again after a 409 that says "Retry-After" (the ticket was
    busy with its workflow's own steps — at x36000 a P1's ladder changes it every few ms)."""
    for _ in range(3):
        resp = sys.http("POST", f"/complaints/{cid}/{action}", token=sys.token(user, group), json_body=body)
        if resp.status != 409 or "Retry-After" not in resp.headers:
            return resp
        time.sleep(0.2)
    return resp


def timeline(view: dict[str, Any]) -> list[str]:
    return [e["type"] for e in view["timeline"]]


def wait_status(sys: Any, cid: str, status: str, timeout: float = 30) -> dict[str, Any]:
    return sys.wait_for(lambda: (v := staff_view(sys, cid))["status"] == status and v, timeout=timeout,
                        what=f"{cid} to be {status}")


def wait_event(sys: Any, cid: str, kind: str, count: int = 1, timeout: float = 30) -> dict[str, Any]:
    return sys.wait_for(lambda: timeline(v := staff_view(sys, cid)).count(kind) >= count and v, timeout=timeout,
                        what=f"{count}x {kind} on {cid}")


def execution(sys: Any, cid: str) -> dict[str, Any]:
    arn = sys.env["LIFECYCLE_STATE_MACHINE_ARN"].replace(":stateMachine:", ":execution:") + f":{cid}"
    return dict(sys.sfn.describe_execution(executionArn=arn))


def wait_waiting(sys: Any, cid: str, timeout: float = 30) -> None:
    """Until the workflow waits for someone (its task token is on the ticket, read directly):
    an agent who acts then ends that wait, as the console's users do, rather than a step that
    is still running."""

    def waiting() -> bool:
        item = sys.dynamodb.get_item(TableName=sys.names["table"], Key={"pk": {"S": f"C#{cid}"}, "sk": {"S": "TICKET"}},
                                     ConsistentRead=True).get("Item", {})
        return "wait_token" in item

    sys.wait_for(waiting, timeout=timeout, what=f"the workflow of {cid} to wait")


def history(sys: Any, cid: str) -> list[dict[str, Any]]:
    """The execution's history, oldest event first (what the Step Functions console shows)."""
    arn = execution(sys, cid)["executionArn"]
    pages = sys.sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    return sorted((e for page in pages for e in page["events"]), key=lambda e: e["id"])


def states_entered(events: list[dict[str, Any]]) -> list[str]:
    """The states an execution went through, in order: one billed transition each."""
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


class AlertInbox:
    """SQS queues subscribed to every staff alert topic, as an on-call tool would be."""

    def __init__(self, sys: Any) -> None:
        self.sys = sys
        topics = json.loads(sys.env["STAFF_ALERT_TOPICS"])
        self.queues: dict[str, str] = {}
        for name, arn in topics.items():
            url = sys.sqs.create_queue(QueueName=f"inbox-{name.replace(':', '-')}")["QueueUrl"]
            qarn = sys.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sys.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
            self.queues[name] = url
        self.seen: dict[str, list[str]] = {name: [] for name in self.queues}

    def drain(self, rounds: int = 20) -> dict[str, list[str]]:
        """What the queues hold now, up to ``rounds`` x 10 messages a queue a call (bounded: a
        complaint still climbing adds alerts while they are read)."""
        for name, url in self.queues.items():
            for _ in range(rounds):
                msgs = self.sys.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if not msgs:
                    break
                for m in msgs:
                    self.seen[name].append(m["Body"])
                    self.sys.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return self.seen

    def about(self, cid: str) -> dict[str, list[str]]:
        self.drain()
        return {name: [b for b in bodies if cid in b] for name, bodies in self.seen.items() if any(cid in b for b in bodies)}


@contextmanager
def rolled_out(sys: Any, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """An edited copy of lifecycle.asl.json rolled out the way a deployment does (same
    substitutions, the state machine updated), the original restored afterwards."""
    source = state_machine_files()["lifecycle"].read_text(encoding="utf-8")
    asl = json.loads(source)
    edit(asl)
    edited = tmp_path / "lifecycle.asl.json"
    edited.write_text(json.dumps(asl, ensure_ascii=False, indent=2), encoding="utf-8")
    arns = {placeholder: sys.lambda_.get_function(FunctionName=f"complaints-{sys.system.stage}-{function}")
            ["Configuration"]["FunctionArn"] for placeholder, function in ASL_FUNCTION_PLACEHOLDERS.items()}

    def substituted(definition: str) -> str:
        for placeholder, arn in arns.items():
            definition = definition.replace("${" + placeholder + "}", arn)
        return definition

    machine = sys.env["LIFECYCLE_STATE_MACHINE_ARN"]
    sys.sfn.update_state_machine(stateMachineArn=machine, definition=substituted(edited.read_text(encoding="utf-8")))
    try:
        yield
    finally:
        sys.sfn.update_state_machine(stateMachineArn=machine, definition=substituted(source))


def roomy_windows(asl: dict[str, Any]) -> None:
    """Every severity gets 30 days for first contact and 60 for resolution: for tests whose
    premise is an agent acting in time, which a CPU-starved machine must not turn into a
    breach (8 h are 8 s at x3600 — less, on a busy machine, than intake to triage may take;
    and a complaint on an order with another open one is triaged a severity up)."""
    for severity in ("P1", "P2", "P3"):
        asl["States"]["ServiceLevelPolicy"]["Result"][severity].update(first_contact_s=30 * 86400,
                                                                        resolution_s=60 * 86400)


class HeldTimers:
    """While a test runs, every complaint's ``timeout`` step waits until the test
    releases that complaint (or ends)."""

    def __init__(self) -> None:
        self._released: set[str] = set()
        self._all_released = False
        self._changed = threading.Condition()

    def release(self, *complaint_ids: str) -> None:
        """Let these complaints' timeout steps run (none given: every complaint's)."""
        with self._changed:
            self._released.update(complaint_ids)
            self._all_released = self._all_released or not complaint_ids
            self._changed.notify_all()

    def wait(self, complaint_id: str, timeout: float = 60) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._all_released or complaint_id in self._released, timeout=timeout)


@contextmanager
def agents_act_first(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldTimers]:
    """For tests whose premise is an agent acting within a window that lasts a fraction of a
    second to a few seconds here: a complaint's timeout step runs only once the test released
    it (after the agent's action), so a CPU-starved machine cannot let the timer's step run
    first. The product's rule for that order is the same (the timeout step reads the action
    from the ticket); what a starved machine cannot change is which one the test exercises.
    (What it can still change: a window that ran out before triage is escalated by triage.)"""
    held = HeldTimers()
    timeout = steps.STEPS["timeout"]

    def after_release(services: Any, event: Any) -> Any:
        held.wait(event.complaint_id)
        return timeout(services, event)

    monkeypatch.setitem(steps.STEPS, "timeout", after_release)
    try:
        yield held
    finally:
        held.release()


__all__ = ["TEAMS", "AlertInbox", "HeldTimers", "agents_act_first", "rolled_out", "roomy_windows"]


def stored(sys: Any, customers: list[str]) -> dict[str, list[str]]:
    """complaint ids per customer, from the table's by_customer index."""
    found: dict[str, list[str]] = {}
    for customer in customers:
        kwargs: dict[str, Any] = {"TableName": sys.env["TABLE_NAME"], "IndexName": "by_customer",
                                  "KeyConditionExpression": "customer_pk = :c",
                                  "ExpressionAttributeValues": {":c": {"S": customer}}}
        items = [i for page in sys.dynamodb.get_paginator("query").paginate(**kwargs) for i in page["Items"]]
        found[customer] = [i["pk"]["S"].removeprefix("C#") for i in items]
    return found
