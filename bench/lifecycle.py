"""Lifecycle (issues 3 and 11): what one complaint costs in Step Functions transitions,
Lambda invocations and DynamoDB request units, per path through
``state_machines/lifecycle.asl.json``, and the resulting cost per 1,000 complaints at
published prices - this revision against the revision before the lean state machine
(``--before``), each in a fresh process, one after the other.

    python -m bench.lifecycle [--time-scale 300] [--before c2cb6e9]
    python bench/lifecycle.py --repo <checkout> --out <file.json>   # one revision (what the above runs twice)

Four complaints run at once through the whole local system of the checkout (``LocalSystem``:
its ASL on moto's interpreter, its Lambda handlers in-process), driven through its API
in-process (``chalice.test.Client``) like the e2e tests drive it over HTTP:

- ``happy``:  contacted and resolved in time, rated 4.
- ``breach``: first contact missed once (level-1 escalation + voucher), then contacted,
  resolved, rated 4.
- ``climb``:  a P1 nobody touches, until the third level-3 alert (levels 1, 2, 3, 3, 3), then
  resolved, rated 4.
- ``reopen``: resolved, rated 1 (reopened), resolved again, rated 4.

Per complaint, from the execution history: states entered (every ``*StateEntered`` event,
Map iterations' states included), what AWS bills as state transitions (those, plus every
retry of a task), Lambda invocations by the workflow (``LambdaFunctionScheduled`` +
``TaskScheduled``), plus the API requests (each one an invocation of the API function); from
the app's DynamoDB client, the read and write request units of every call about the complaint
(on-demand: 1 KB per write unit, transactions twice; 4 KB per read unit, eventually
consistent reads half). Lambda durations are measured in-process around each handler (moto
answers in microseconds where AWS answers in milliseconds): the GB-s cost is an estimate.

The time scale is a trade-off: SLA time must pass fast, but a ladder window (225 s for P1 at
level 3) must stay longer than one trip Timeout -> Await on this machine, and the intake ->
Triage delay must stay well inside the P1 first-contact window, otherwise two breaches
collapse into one step (fewer transitions than on AWS). Every scenario checks its timeline
and its states (the lean machine: the exact sequence AWS would run; the machine before it:
the number of timer expiries and resumes) and says ``faithful: false`` with the difference if
the machine was too slow for the scale.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

if __name__ == "__main__":  # python bench/lifecycle.py --repo <checkout>: that checkout's code runs
    sys.path[0:1] = [sys.argv[sys.argv.index("--repo") + 1] if "--repo" in sys.argv else str(Path(__file__).parents[1])]

from bench._support import REPO, cheap_transaction_rollback, fmt, quiet, ratio, table, worktree, write_result

NAME = "lifecycle"
BEFORE = "c2cb6e9"  # the last commit before the lean state machine (Notify map, Route, 9 states)
DEFAULT_TIME_SCALE = 300.0
RUN_TIMEOUT_S = 420  # one revision's run
POLL_S = 0.1  # polling the table costs the interpreter threads CPU: not faster

# Published prices (us-east-1, November 2026): Step Functions Standard, Lambda x86.
PRICE_PER_TRANSITION = 0.025 / 1000
PRICE_PER_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_PER_GB_SECOND = 0.0000166667
PRICE_PER_WRITE_UNIT = 0.625 / 1_000_000  # DynamoDB on-demand
PRICE_PER_READ_UNIT = 0.125 / 1_000_000

BODIES: dict[str, dict[str, Any]] = {
    "P1": {"description": "充电器用的时候冒烟起火了", "product": {"sku": "SKU-C1", "kind": "electronics"}},
    "P2": {"description": "手机屏幕有坏点", "order_amount": {"amount": "4999.00", "currency": "CNY"},
           "product": {"sku": "SKU-PH", "kind": "electronics"}},
    "P3": {"description": "衣服颜色和图片不一样", "product": {"sku": "SKU-T", "kind": "apparel"}},
}
BASE: dict[str, Any] = {"channel": "app", "desired_outcome": "refund",
                        "contact": {"locale": "zh-CN", "phone": "+8613800000000"}}


# -- instrumentation: every Lambda invocation, timed ----------------------------------------------
@dataclass
class Invocations:
    """Every handler run by the local Lambda dispatcher: function, complaint, seconds."""

    rows: list[tuple[str, str | None, float, float]] = field(default_factory=list)  # fn, complaint, wall, cpu
    lock: threading.Lock = field(default_factory=threading.Lock)
    step_done: threading.Condition = field(default_factory=threading.Condition)  # notified after every handler

    @contextmanager
    def recording(self) -> Iterator[Invocations]:
        from local.lambda_dispatch import LambdaDispatcher

        original = LambdaDispatcher.invoke_local
        book = self

        def invoke_local(dispatcher: Any, function_name: str, event: Any, context: Any) -> Any:
            start, cpu_start = time.perf_counter(), time.thread_time()
            try:
                return original(dispatcher, function_name, event, context)
            finally:
                seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
                cid = event.get("complaint_id") if isinstance(event, dict) else None
                with book.lock:
                    book.rows.append((function_name, cid, seconds, cpu))
                with book.step_done:
                    book.step_done.notify_all()

        with mock.patch.object(LambdaDispatcher, "invoke_local", invoke_local):
            yield self

    def of(self, complaint_id: str) -> list[tuple[str, float, float]]:
        with self.lock:
            return [(fn, s, cpu) for fn, cid, s, cpu in self.rows if cid == complaint_id]

    def unattributed(self) -> Counter[str]:
        with self.lock:
            return Counter(fn for fn, cid, _, _ in self.rows if cid is None)


# -- instrumentation: DynamoDB request units of every call about a complaint ----------------------
_COMPLAINT_ID = re.compile(r"CMP-[0-9A-Za-z]+")
_READS = {"GetItem", "Query", "BatchGetItem", "Scan"}


def item_size(value: Any) -> int:
    """DynamoDB's size of an item or attribute value (names + values, UTF-8)."""
    if isinstance(value, dict) and len(value) == 1:
        (kind, inner), = value.items()
        if kind in ("S", "B"):
            return len(str(inner).encode())
        if kind == "N":
            return 1 + (len(str(inner)) + 1) // 2
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode()) + item_size(v) for k, v in inner.items())
        if kind == "L":
            return 3 + sum(1 + item_size(v) for v in inner)
        if kind in ("SS", "NS", "BS"):
            return sum(len(str(v).encode()) for v in inner)
    if isinstance(value, dict):  # an item: name -> attribute value
        return sum(len(k.encode()) + item_size(v) for k, v in value.items())
    return 0


def _key(item: dict[str, Any]) -> str:
    return f"{item.get('pk', {}).get('S')}|{item.get('sk', {}).get('S')}"


@dataclass
class DynamoDBMeter:
    """Request units per complaint: requests seen at ``before-parameter-build``, their items'
    sizes (written, or returned) at ``after-call``."""

    writes: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # complaint -> write units
    reads: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)  # complaint -> requests
    sizes: dict[str, int] = field(default_factory=dict)  # item key -> last size seen
    lock: threading.Lock = field(default_factory=threading.Lock)
    _pending: threading.local = field(default_factory=threading.local)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb.*", self._request)
        client.meta.events.register("after-call.dynamodb.*", self._response)

    def _request(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._pending.call = (model.name, json.loads(json.dumps(params, default=str)))

    def _units_written(self, item: dict[str, Any], factor: int) -> float:
        size = item_size(item)
        self.sizes[_key(item)] = size
        return factor * max(1, math.ceil(size / 1024))

    def _known(self, key: dict[str, Any]) -> int:
        return self.sizes.get(_key(key), 1)

    def _response(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        call = getattr(self._pending, "call", None)
        if call is None or call[0] != model.name or "Error" in parsed:
            return
        operation, params = call
        found = _COMPLAINT_ID.search(json.dumps(params))
        cid = found.group(0) if found else "-"
        consistent = 1.0 if params.get("ConsistentRead") else 0.5
        with self.lock:
            w = r = 0.0
            if operation == "PutItem":
                w = self._units_written(params["Item"], 1)
            elif operation in ("UpdateItem", "DeleteItem"):
                w = max(1, math.ceil(self._known(params["Key"]) / 1024))
            elif operation == "TransactWriteItems":
                for entry in params["TransactItems"]:
                    if "Put" in entry:
                        w += self._units_written(entry["Put"]["Item"], 2)
                    elif "Update" in entry or "Delete" in entry:
                        w += 2 * max(1, math.ceil(self._known((entry.get("Update") or entry["Delete"])["Key"]) / 1024))
                    elif "ConditionCheck" in entry:
                        r += 2 * max(1, math.ceil(self._known(entry["ConditionCheck"]["Key"]) / 4096))
            elif operation == "BatchWriteItem":
                for requests in params["RequestItems"].values():
                    w += sum(self._units_written(q["PutRequest"]["Item"], 1) for q in requests if "PutRequest" in q)
            elif operation == "GetItem":
                item = parsed.get("Item") or {}
                if item:
                    self.sizes[_key(item)] = item_size(item)
                r = consistent * max(1, math.ceil(item_size(item) / 4096))
            elif operation in ("Query", "Scan"):
                r = consistent * max(1, math.ceil(sum(item_size(i) for i in parsed.get("Items", [])) / 4096))
            elif operation == "BatchGetItem":
                r = sum(0.5 * max(1, math.ceil(item_size(i) / 4096))
                        for items in parsed.get("Responses", {}).values() for i in items)
            if operation in _READS or w or r:
                self.writes[cid] += w
                self.reads[cid] += r
                self.calls[cid] += 1

    def of(self, complaint_id: str) -> dict[str, float]:
        with self.lock:
            return {"requests": self.calls[complaint_id], "write_units": self.writes[complaint_id],
                    "read_units": self.reads[complaint_id]}


# -- driving complaints --------------------------------------------------------------------------
class Driver:
    """The API in-process (one request at a time: chalice.test swaps ``os.environ`` per
    request) and a look into the table and the executions that does not use the app's clients."""

    def __init__(self, system: Any, book: Invocations) -> None:
        from chalice.test import Client

        from chalicelib.adapters.store import DynamoDBTicketStore

        self.system = system
        self.book = book
        self.client = Client(system.app, stage_name="dev", project_dir=str(REPO))  # the checkout under test
        self.api_lock = threading.Lock()
        self.store = DynamoDBTicketStore(system.client("dynamodb", in_process=True), system.env["TABLE_NAME"])
        self.sfn = system.client("stepfunctions", in_process=True)
        self.api_seconds: dict[str, list[tuple[str, float, float]]] = defaultdict(list)  # label, wall, cpu

    def _request(self, cid: str | None, label: str, path: str, user: str, group: str, body: dict[str, Any]) -> Any:
        headers = {"authorization": f"Bearer {self.system.token(user, group)}", "content-type": "application/json"}
        with self.api_lock:
            start, cpu_start = time.perf_counter(), time.thread_time()
            resp = self.client.http.post(path, headers=headers, body=json.dumps(body, ensure_ascii=False).encode())
            seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
        payload = json.loads(resp.body or b"{}")
        if resp.status_code >= 300:
            raise RuntimeError(f"{label} {path}: {resp.status_code} {payload}")
        self.api_seconds[cid or payload.get("complaint_id", "?")].append((label, seconds, cpu))
        return payload

    def file(self, customer: str, severity: str) -> str:
        body = {**BASE, **BODIES[severity], "customer_id": customer, "order_id": f"O-{customer}"}
        return str(self._request(None, "submit", "/complaints", customer, "customers", body)["complaint_id"])

    def act(self, cid: str, action: str, body: dict[str, Any]) -> None:
        self._request(cid, action, f"/complaints/{cid}/{action}", "A-7", "agents", body)

    def rate(self, cid: str, customer: str, score: int) -> None:
        self._request(cid, "rate", f"/complaints/{cid}/satisfaction", customer, "customers", {"score": score})

    def timeline(self, cid: str) -> tuple[Any, list[str]]:
        found = self.store.get_with_timeline(cid)
        if found is None:
            return None, []
        ticket, events = found
        return ticket, [e.type for e in events]

    def wait(self, cid: str, done: Callable[[Any, list[str]], bool], what: str, timeout: float) -> list[str]:
        """Until ``done(ticket, event types)``; looks again after every Lambda step (so an agent
        reacts at once, as the ladder's short windows need) or every POLL_S at the latest."""
        deadline = time.monotonic() + timeout
        while True:
            ticket, kinds = self.timeline(cid)
            if ticket is not None and done(ticket, kinds):
                return kinds
            if time.monotonic() > deadline:
                status = ticket.status.value if ticket is not None else None
                raise TimeoutError(f"{cid}: gave up waiting for {what} (status {status}, timeline {kinds})")
            with self.book.step_done:
                self.book.step_done.wait(POLL_S)

    def wait_waiting(self, cid: str, timeout: float) -> list[str]:
        """Until the workflow waits for someone again (its task token is on the ticket): an
        agent acts while the workflow waits, not in the milliseconds after the last action."""
        return self.wait(cid, lambda t, _: t.wait_token is not None, "the workflow to wait", timeout)

    def wait_status(self, cid: str, status: str, timeout: float) -> list[str]:
        return self.wait(cid, lambda t, _: t.status.value == status, f"status {status}", timeout)

    def wait_event(self, cid: str, kind: str, count: int, timeout: float) -> list[str]:
        return self.wait(cid, lambda _, k: k.count(kind) >= count, f"{count}x {kind}", timeout)

    def execution_arn(self, cid: str) -> str:
        return self.system.env["LIFECYCLE_STATE_MACHINE_ARN"].replace(":stateMachine:", ":execution:") + f":{cid}"

    def wait_execution_end(self, cid: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            status = str(self.sfn.describe_execution(executionArn=self.execution_arn(cid))["status"])
            if status != "RUNNING" or time.monotonic() > deadline:
                return status
            time.sleep(POLL_S)

    def history(self, cid: str) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=self.execution_arn(cid))
        return sorted((e for page in pages for e in page["events"]), key=lambda e: e["id"])


# -- the scenarios --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    name: str
    severity: str
    story: str
    drive: Callable[[Driver, str, str, float], None]
    expected_timeline: tuple[str, ...]
    expected_states: tuple[str, ...]  # what AWS runs on the lean machine, in order
    before_wakeups: int  # the machine before it: waits that end (ClockExpired + Resumed + SurveyTimedOut)


def _close_after_resolve(d: Driver, cid: str, customer: str, t: float, surveys: int = 1) -> None:
    d.wait_event(cid, "survey_sent", surveys, t)
    d.wait_waiting(cid, t)
    d.rate(cid, customer, 4)
    d.wait_status(cid, "closed", t)


def drive_happy(d: Driver, cid: str, customer: str, t: float) -> None:
    d.wait_waiting(cid, t)
    d.act(cid, "contact", {"note": "called"})
    d.wait_waiting(cid, t)
    d.act(cid, "resolve", {"resolution": "refund", "note": "full refund"})
    _close_after_resolve(d, cid, customer, t)


def drive_breach(d: Driver, cid: str, customer: str, t: float) -> None:
    d.wait(cid, lambda tk, k: "escalated" in k and tk.wait_token is not None, "first breach", t)
    d.act(cid, "contact", {"note": "sorry for the wait"})
    d.wait_waiting(cid, t)
    d.act(cid, "resolve", {"resolution": "refund"})
    _close_after_resolve(d, cid, customer, t)


def drive_climb(d: Driver, cid: str, customer: str, t: float) -> None:
    # levels 1, 2, 3 and two repeats of 3 = the third level-3 alert; resolved as soon as the
    # workflow waits again (the next level-3 window is 225 s)
    d.wait(cid, lambda tk, k: k.count("escalated") >= 5 and tk.wait_token is not None, "the 5th escalation", t)
    d.act(cid, "resolve", {"resolution": "refund"})
    _close_after_resolve(d, cid, customer, t)


def drive_reopen(d: Driver, cid: str, customer: str, t: float) -> None:
    d.wait_waiting(cid, t)
    d.act(cid, "contact", {})
    d.wait_waiting(cid, t)
    d.act(cid, "resolve", {"resolution": "exchange"})
    d.wait_event(cid, "survey_sent", 1, t)
    d.wait_waiting(cid, t)
    d.rate(cid, customer, 1)
    d.wait(cid, lambda tk, k: "reopened" in k and tk.wait_token is not None, "reopened, waiting", t)
    d.act(cid, "resolve", {"resolution": "refund", "note": "second try"})
    _close_after_resolve(d, cid, customer, t, surveys=2)


_CLOSE = ("survey_sent", "rated", "closed")
_START = ("ServiceLevelPolicy", "Triage")
_TIMER = ("Await", "Timeout")  # a wait the timer ends, and the step that does what is due
# after the last resolve: the survey delay's wait and the survey, the rating's wait, the wait
# that finds the complaint closed
_FOLLOW_UP = (*_TIMER, "Await", "Await", "Closed")
SCENARIOS = (
    Scenario("happy", "P3", "contact + resolve in time, rated 4", drive_happy,
             ("triaged", "acknowledged", "contacted", "resolved", *_CLOSE),
             (*_START, "Await", "Await", *_FOLLOW_UP), 3),
    Scenario("breach", "P2", "first contact missed once, then contacted, resolved, rated 4", drive_breach,
             ("triaged", "acknowledged", "escalated", "voucher_issued", "contacted", "resolved", *_CLOSE),
             (*_START, *_TIMER, "Await", "Await", *_FOLLOW_UP), 4),
    Scenario("climb", "P1", "nobody acts until the third level-3 alert, then resolved, rated 4", drive_climb,
             ("triaged", "acknowledged", "escalated", "voucher_issued", "escalated", "escalated", "escalated",
              "escalated", "resolved", *_CLOSE),
             (*_START, *_TIMER * 5, "Await", *_FOLLOW_UP), 7),
    Scenario("reopen", "P3", "resolved, rated 1 (reopened), resolved again, rated 4", drive_reopen,
             ("triaged", "acknowledged", "contacted", "resolved", "survey_sent", "rated", "reopened", "resolved",
              *_CLOSE),
             (*_START, "Await", "Await", *_TIMER, "Await", "Await", *_FOLLOW_UP), 5),
)


# -- figures from one execution -------------------------------------------------------------------
def history_figures(events: list[dict[str, Any]]) -> dict[str, Any]:
    types = Counter(e["type"] for e in events)
    entered = [e for e in events if e["type"].endswith("StateEntered")]
    states = Counter(e["stateEnteredEventDetails"]["name"] for e in entered)
    scheduled = types["LambdaFunctionScheduled"] + types["TaskScheduled"]
    retries = max(0, scheduled - types["TaskStateEntered"])
    empty_maps, in_map, iterated = 0, False, False
    for e in events:  # a Notify Map entered for a step that decided no message
        if e["type"] == "MapStateEntered":
            in_map, iterated = True, False
        elif e["type"] == "MapIterationStarted":
            iterated = True
        elif e["type"] == "MapStateExited" and in_map:
            empty_maps += not iterated
            in_map = False
    return {
        "history_events": len(events),
        "sequence": [e["stateEnteredEventDetails"]["name"] for e in entered],
        "states_entered": len(entered),
        "retries": retries,
        "billed_transitions": len(entered) + retries,
        "workflow_lambda_invocations": scheduled,
        "states": dict(sorted(states.items(), key=lambda kv: -kv[1])),
        "map_iterations": types["MapIterationStarted"],
        "empty_maps": empty_maps,
    }


def memory_mb() -> dict[str, int]:
    """Memory per function from .chalice/config.json (dev stage; Chalice's default 128 MB)."""
    config = json.loads((REPO / ".chalice" / "config.json").read_text(encoding="utf-8"))
    default = int(config.get("lambda_memory_size", 128))
    stage = config.get("stages", {}).get("dev", {})
    functions = stage.get("lambda_functions", {})
    names = {"lifecycle_step", "import_batch", "api_handler", *functions}
    return {n: int(functions.get(n, {}).get("lambda_memory_size", stage.get("lambda_memory_size", default))) for n in names}


def _short(function_name: str) -> str:
    """complaints-local-lifecycle_step -> lifecycle_step"""
    return function_name.split("-", 2)[-1] if function_name.count("-") >= 2 else function_name


def cost_per_1000(transitions: int, invocations: dict[str, int], gb_seconds: float,
                  dynamodb: dict[str, float]) -> dict[str, float]:
    sfn = transitions * PRICE_PER_TRANSITION * 1000
    requests = sum(invocations.values()) * PRICE_PER_LAMBDA_REQUEST * 1000
    compute = gb_seconds * PRICE_PER_GB_SECOND * 1000
    ddb = (dynamodb["write_units"] * PRICE_PER_WRITE_UNIT + dynamodb["read_units"] * PRICE_PER_READ_UNIT) * 1000
    return {"step_functions_usd": sfn, "lambda_requests_usd": requests, "lambda_compute_usd_estimate": compute,
            "dynamodb_usd": ddb, "total_usd": sfn + requests + compute + ddb}


def figures(scenario: Scenario, d: Driver, book: Invocations, meter: DynamoDBMeter, cid: str, timeline: list[str],
            status: str, wall_s: float, severity: str | None) -> dict[str, Any]:
    mem = memory_mb()
    hist = history_figures(d.history(cid))
    runs = book.of(cid)
    api = d.api_seconds.get(cid, [])
    invocations: Counter[str] = Counter(_short(fn) for fn, _, _ in runs)
    invocations["api_handler"] += len(api)
    durations: dict[str, float] = defaultdict(float)
    gb_seconds = gb_seconds_cpu = 0.0
    for fn, seconds, cpu in [*((_short(f), s, c) for f, s, c in runs), *(("api_handler", s, c) for _, s, c in api)]:
        billed_ms = max(1, math.ceil(seconds * 1000))  # Lambda bills per started millisecond
        durations[fn] += billed_ms
        gb_seconds += billed_ms / 1000 * mem.get(fn, 128) / 1024
        gb_seconds_cpu += max(1, math.ceil(cpu * 1000)) / 1000 * mem.get(fn, 128) / 1024
    problems = []
    if tuple(timeline) != scenario.expected_timeline:
        problems.append(f"timeline {timeline} != expected {list(scenario.expected_timeline)}")
    if "Await" in hist["states"]:  # the lean machine: the exact sequence
        if tuple(hist["sequence"]) != scenario.expected_states:
            problems.append(f"states {hist['sequence']} != what AWS would run {list(scenario.expected_states)}: "
                            "two breaches handled in one step, or a timer that woke early")
    else:  # the machine before: an action that lands as a timer fires is picked up by ClockExpired
        # instead of Resumed (same transitions and invocations), so the two are counted together
        wakeups = sum(hist["states"].get(k, 0) for k in ("ClockExpired", "Resumed", "SurveyTimedOut"))
        if wakeups != scenario.before_wakeups:
            problems.append(f"{wakeups} waits ended (ClockExpired + Resumed), AWS would end {scenario.before_wakeups}")
    if severity != scenario.severity:
        problems.append(f"triaged {severity}, the scenario needs {scenario.severity}")
    if status != "SUCCEEDED":
        problems.append(f"execution {status}")
    if hist["workflow_lambda_invocations"] != len(runs):
        problems.append(f"history schedules {hist['workflow_lambda_invocations']} Lambda tasks, "
                        f"the dispatcher ran {len(runs)}")
    return {
        "story": scenario.story,
        "severity": severity,
        "complaint_id": cid,
        "execution_status": status,
        "faithful": not problems,
        "problems": problems,
        "timeline": timeline,
        "wall_s": wall_s,
        **hist,
        "api_requests": len(api),
        "lambda_invocations": dict(sorted(invocations.items())),
        "lambda_invocations_total": sum(invocations.values()),
        "lambda_billed_ms": dict(sorted(durations.items())),
        "lambda_gb_seconds_estimate": gb_seconds,
        "lambda_gb_seconds_from_thread_cpu": gb_seconds_cpu,
        "dynamodb": meter.of(cid),
        "cost_per_1000_complaints": cost_per_1000(hist["billed_transitions"], invocations, gb_seconds, meter.of(cid)),
    }


# -- the benchmark --------------------------------------------------------------------------------
def warm_up(d: Driver, timeout: float) -> None:
    """One complaint through triage and resolve first, so the first-use costs of this process
    (lazy imports, first clients, the triage rules) land on no scenario."""
    cid = d.file("C-LC-WARMUP", "P3")
    d.wait_status(cid, "awaiting_contact", timeout)
    d.act(cid, "resolve", {"resolution": "refund"})
    d.wait(cid, lambda t, _: t.wait_token is None and t.status.value == "resolved", "resolved", timeout)


def run(time_scale: float = DEFAULT_TIME_SCALE, timeout: float = 90.0) -> dict[str, Any]:
    """The scenarios on the checkout this process imports (``REPO``)."""
    from chalicelib.adapters import aws
    from local.runtime import LocalSystem

    book = Invocations()
    meter = DynamoDBMeter()
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, quiet(), book.recording():
        system = LocalSystem(port=0, aws_port=0, time_scale=time_scale, secret_path=Path(tmp) / "secret")
        with system, cheap_transaction_rollback():
            driver = Driver(system, book)
            meter.attach(aws.client("dynamodb"))  # the app's client (API and Lambda steps), not the driver's
            warm_up(driver, timeout)

            def play(scenario: Scenario) -> None:
                customer = f"C-LC-{scenario.name.upper()}"
                try:
                    begin = time.perf_counter()
                    cid = driver.file(customer, scenario.severity)
                    scenario.drive(driver, cid, customer, timeout)
                    status = driver.wait_execution_end(cid, timeout)
                    wall = time.perf_counter() - begin
                    ticket, timeline = driver.timeline(cid)
                    results[scenario.name] = figures(scenario, driver, book, meter, cid, timeline, status, wall,
                                                     ticket.severity if ticket else None)
                except Exception as exc:  # reported, never hidden
                    errors[scenario.name] = f"{type(exc).__name__}: {exc}"

            threads = [threading.Thread(target=play, args=(s,), name=f"bench-{s.name}") for s in SCENARIOS]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            other = {_short(k): v for k, v in book.unattributed().items()}
    return {
        "repo": str(REPO),
        "time_scale": time_scale,
        "wall_s": time.perf_counter() - started,
        "prices": {"per_state_transition": PRICE_PER_TRANSITION, "per_lambda_request": PRICE_PER_LAMBDA_REQUEST,
                   "per_gb_second": PRICE_PER_GB_SECOND, "per_write_unit": PRICE_PER_WRITE_UNIT,
                   "per_read_unit": PRICE_PER_READ_UNIT},
        "memory_mb": memory_mb(),
        "scenarios": {s.name: results[s.name] for s in SCENARIOS if s.name in results},
        "errors": errors,
        "other_invocations_not_per_complaint": other,
    }


# -- both revisions ----------------------------------------------------------------------------------
def run_checkout(repo: Path, time_scale: float, timeout: float) -> dict[str, Any]:
    """:func:`run` on ``repo``'s code, in a fresh process (this file drives it)."""
    with tempfile.TemporaryDirectory(prefix="lifecycle-run-") as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--repo", str(repo), "--out", str(out),
                   "--time-scale", str(time_scale), "--timeout", str(timeout)]
        proc = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        if proc.returncode != 0:
            raise RuntimeError(f"the run on {repo} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result


def compare(before: str, time_scale: float, timeout: float) -> dict[str, Any]:
    with worktree(before) as checkout:
        runs = {"before": run_checkout(checkout, time_scale, timeout), "after": run_checkout(REPO, time_scale, timeout)}
    ratios: dict[str, dict[str, float]] = {}
    for name in runs["after"]["scenarios"]:
        b, a = runs["before"]["scenarios"].get(name), runs["after"]["scenarios"][name]
        if b is None:
            continue
        ratios[name] = {
            "billed_transitions": ratio(a["billed_transitions"], b["billed_transitions"]),
            "workflow_lambda_invocations": ratio(a["workflow_lambda_invocations"], b["workflow_lambda_invocations"]),
            "dynamodb_write_units": ratio(a["dynamodb"]["write_units"], b["dynamodb"]["write_units"]),
            "total_usd": ratio(a["cost_per_1000_complaints"]["total_usd"], b["cost_per_1000_complaints"]["total_usd"]),
        }
    return {"before_revision": before, **runs, "ratios": ratios}


def _scenario_rows(label: str, result: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, r in result["scenarios"].items():
        cost = r["cost_per_1000_complaints"]
        rows.append([label, name, r["severity"], str(r["billed_transitions"]), str(r["workflow_lambda_invocations"]),
                     str(r["api_requests"]), fmt(r["dynamodb"]["write_units"], 0), fmt(r["dynamodb"]["read_units"], 1),
                     fmt(cost["step_functions_usd"], 3),
                     fmt(cost["lambda_requests_usd"] + cost["lambda_compute_usd_estimate"], 4),
                     fmt(cost["dynamodb_usd"], 3), fmt(cost["total_usd"], 3), "yes" if r["faithful"] else "NO"])
    return rows


def report(result: dict[str, Any]) -> str:
    lines = [f"== lifecycle: per complaint, this revision vs {result['before_revision']}, time scale "
             f"x{result['after']['time_scale']:g} (Standard workflow, on-demand DynamoDB, published prices)"]
    rows = [*_scenario_rows("before", result["before"]), *_scenario_rows("after", result["after"])]
    lines.append(table(rows, ["rev", "scenario", "sev", "billed transitions", "workflow λ", "API λ", "DDB WRU",
                              "DDB RRU", "SFN $/1k", "λ $/1k (est.)", "DDB $/1k", "total $/1k", "faithful"]))
    lines.append("  after / before:")
    for name, r in result["ratios"].items():
        lines.append(f"    {name:8s} transitions {r['billed_transitions']:.2f} x   workflow λ "
                     f"{r['workflow_lambda_invocations']:.2f} x   DDB writes {r['dynamodb_write_units']:.2f} x   "
                     f"$ {r['total_usd']:.2f} x")
    after = result["after"]["scenarios"]
    if "happy" in after and "breach" in after:
        extra = after["breach"]["billed_transitions"] - after["happy"]["billed_transitions"]
        lines.append(f"  one more due moment (a breach; likewise an at-risk warning, a reminder, a pause that "
                     f"expires): +{extra} transitions (Await ended by its timer, Timeout)")
    for label in ("before", "after"):
        for name, r in result[label]["scenarios"].items():
            states = ", ".join(f"{k} {v}" for k, v in r["states"].items())
            lines.append(f"  {label} {name}: {states}; λ {r['lambda_invocations']}")
            for problem in r["problems"]:
                lines.append(f"    NOT FAITHFUL: {problem}")
        for name, error in result[label]["errors"].items():
            lines.append(f"  {label} {name}: FAILED {error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE)
    parser.add_argument("--timeout", type=float, default=90.0, help="per wait, wall-clock seconds")
    parser.add_argument("--before", default=BEFORE, help="the revision to compare with (default %(default)s)")
    parser.add_argument("--repo", type=Path, help="run one checkout's scenarios in this process (internal)")
    parser.add_argument("--out", type=Path, help="with --repo: where to write its figures")
    args = parser.parse_args(argv)
    if args.repo is not None:
        one = run(args.time_scale, args.timeout)
        (args.out or Path("lifecycle-run.json")).write_text(json.dumps(one, indent=2, default=str), encoding="utf-8")
        return 0
    result = compare(args.before, args.time_scale, args.timeout)
    print(report(result))
    print(f"\nwritten: {write_result(NAME, result).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
