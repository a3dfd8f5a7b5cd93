"""Intake (issue 2): what one accepted complaint costs on the synchronous path.

    python -m bench.intake [--requests 100] [--rounds 4] [--lifecycle-requests 30]

1. AWS calls per accepted ``POST /complaints`` (without and with ``Idempotency-Key``, and a
   replay of the same key), counted with botocore ``before-call`` events on the app's own
   in-process clients (``chalicelib.adapters.aws.client``), only on the request's thread (the same
   clients serve the workflow's Lambda steps on other threads). Floor: one write (PutItem)
   + one StartExecution.
2. Requests per second, in-process against moto inside a running ``LocalSystem``, through
   ``chalice.test.Client`` (its local gateway decodes the dev JWT of ``system.token`` into
   the Cognito claims the routes read; it does not check the signature), relative to a bare
   ``put_item`` loop of the same ticket item in the same run. The app is pointed at a no-op
   state machine for these rounds, so that the lifecycle's own steps (which run on the
   interpreter's threads in this process) do not compete with the request; one more round
   with the real lifecycle shows the local system's end-to-end rate. Also given: the CPU time
   of the request's thread per request (moto answers on it), a ratio steadier than wall time
   when other processes load the machine.
The cold start of the functions is ``bench.coldstart``'s.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench._support import (
    REPO,
    CallCounter,
    app_clients,
    cheap_transaction_rollback,
    fmt,
    median,
    quiet,
    reset_app_caches,
    table,
    write_result,
)

NAME = "intake"
CUSTOMER = "C-BENCH"
COMPLAINT: dict[str, Any] = {
    "customer_id": CUSTOMER,
    "order_id": "O-20261122-0001",
    "channel": "app",
    "desired_outcome": "refund",
    "description": "快递到的时候杯子碎了",
    "order_amount": {"amount": "129.00", "currency": "CNY"},
    "product": {"sku": "SKU-88", "name": "玻璃水杯", "kind": "home"},
    "contact": {"locale": "zh-CN", "phone": "+8613800000000"},
}
NOOP_DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
FLOOR = {"dynamodb.GetItem": 1, "dynamodb.PutItem": 1, "stepfunctions.StartExecution": 1}
FLOOR_LABELS = ("dynamodb.GetItem@orders", "dynamodb.PutItem@tickets", "stepfunctions.StartExecution")

# Why each call beyond the floor is made (keys: operation@table role).
EXPLAIN = {
    "dynamodb.GetItem@tickets": "customer profile (CUST#<id>/PROFILE: tier, locale) read by intake._submit "
    "before the ticket is built — could move to the Triage step, which reads the ticket anyway",
    "dynamodb.PutItem@idempotency": "Powertools idempotency: save_inprogress (conditional PutItem of the "
    "key's record) before the handler runs",
    "dynamodb.UpdateItem@idempotency": "Powertools idempotency: save_success (the stored answer) after the "
    "handler returned",
    "dynamodb.GetItem@orders": "the order directory: the complaint's amount and product (floor)",
    "dynamodb.PutItem@tickets": "the ticket (floor)",
    "stepfunctions.StartExecution": "the lifecycle execution (floor)",
}


# -- helpers ----------------------------------------------------------------------------------
def _role(table_name: str, env: dict[str, str]) -> str:
    if table_name == env.get("TABLE_NAME"):
        return "tickets"
    if table_name == env.get("IDEMPOTENCY_TABLE_NAME"):
        return "idempotency"
    if table_name == env.get("ORDERS_TABLE_NAME"):
        return "orders"
    return table_name


def _service(key: str) -> str:
    # botocore names Step Functions "sfn" in its events; report the service's usual name
    return key.replace("sfn.", "stepfunctions.", 1)


def _by_operation(counter: CallCounter, env: dict[str, str]) -> Counter[str]:
    out: Counter[str] = Counter()
    for key, params_list in counter.params.items():
        for params in params_list:
            table_name = params.get("TableName")
            label = _service(key) + (f"@{_role(table_name, env)}" if table_name else "")
            out[label] += 1
    return out


class Api:
    """``chalice.test.Client`` on the running app, as one customer."""

    def __init__(self, system: Any) -> None:
        from chalice.test import Client

        self.client = Client(system.app, stage_name="dev", project_dir=str(REPO))
        self.token = system.token(CUSTOMER, "customers")

    def submit(self, body: dict[str, Any], key: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"authorization": f"Bearer {self.token}", "content-type": "application/json"}
        if key is not None:
            headers["idempotency-key"] = key
        resp = self.client.http.post("/complaints", headers=headers, body=json.dumps(body, ensure_ascii=False).encode())
        return resp.status_code, json.loads(resp.body or b"{}")


def _body(i: int) -> dict[str, Any]:
    return {**COMPLAINT, "order_id": f"O-BENCH-{i:06d}"}


# -- 1. AWS calls per accepted complaint ----------------------------------------------------------
def measure_calls(system: Any, api: Api, n: int) -> dict[str, Any]:
    counter = CallCounter(only_thread=threading.get_ident(), keep_params=True)
    counter.attach(*app_clients("dynamodb", "stepfunctions", "sns", "ses"))
    variants: dict[str, Any] = {}
    ticket_item: dict[str, Any] | None = None
    try:
        _put_orders(system, [_body(20_000 + i)["order_id"] for i in range(n)])
        cases = [("no_key", lambda i: api.submit(_body(i))),
                 ("known_order", lambda i: api.submit(_body(20_000 + i))),
                 ("with_key", lambda i: api.submit(_body(10_000 + i), key=f"bench-key-{i}")),
                 ("replay_same_key", lambda i: api.submit(_body(10_000 + i), key=f"bench-key-{i}"))]
        for name, call in cases:
            per_op: Counter[str] = Counter()
            statuses: Counter[int] = Counter()
            for i in range(n):
                counter.reset()
                status, _ = call(i)
                statuses[status] += 1
                per_op.update(_by_operation(counter, system.env))
                if ticket_item is None:
                    puts = counter.params.get("dynamodb.PutItem", [])
                    ticket_item = next((p["Item"] for p in puts if p.get("TableName") == system.env["TABLE_NAME"]), None)
            per_request = {k: v / n for k, v in sorted(per_op.items())}
            total = sum(per_request.values())
            variants[name] = {
                "requests": n,
                "statuses": dict(statuses),
                "calls_per_request": per_request,
                "total_per_request": total,
                "ratio_to_floor": total / sum(FLOOR.values()),
                "beyond_floor": {k: EXPLAIN.get(k, "unexplained") for k in per_request if k not in FLOOR_LABELS},
            }
    finally:
        counter.detach()
    variants["replay_same_key"]["note"] = (
        "a retried request with the same key and body: answered from the idempotency record "
        "(the conditional PutItem fails and returns the stored answer); nothing new is written or started")
    return {"floor": FLOOR, "variants": variants, "ticket_item": ticket_item, "explain": EXPLAIN}


def _put_orders(system: Any, order_ids: list[str]) -> None:
    """The directory knows these orders (of the bench's customer, 12,999 CNY)."""
    from chalicelib.adapters.orders import DynamoDBOrderDirectory
    from chalicelib.orders import Order

    directory = DynamoDBOrderDirectory(system.client("dynamodb", in_process=True), system.env["ORDERS_TABLE_NAME"])
    for order_id in order_ids:
        directory.put(Order.model_validate({"order_id": order_id, "customer_id": CUSTOMER, "amount": "12999.00",
                                            "items": [{"sku": "SKU-88", "name": "玻璃水杯", "kind": "home"}]}))


# -- 2. throughput --------------------------------------------------------------------------------
def _use_state_machine(system: Any, arn: str) -> None:
    os.environ["LIFECYCLE_STATE_MACHINE_ARN"] = arn
    reset_app_caches()


@dataclass(frozen=True)
class Rate:
    per_s: float  # operations per wall-clock second
    cpu_ms: float  # CPU milliseconds of the calling thread per operation (moto answers on it too)


def _rate(ops: list[Callable[[], Any]]) -> Rate:
    start, cpu_start = time.perf_counter(), time.thread_time()
    for op in ops:
        op()
    wall, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
    return Rate(len(ops) / wall, cpu * 1000 / len(ops))


def measure_throughput(system: Any, api: Api, n: int, rounds: int, ticket_item: dict[str, Any],
                       lifecycle_n: int) -> dict[str, Any]:
    """Requests/s of four paths, interleaved round by round, with the app pointed at a no-op
    state machine (so the lifecycle's own work does not compete), against a bare ``put_item``
    loop of the same ticket item; and one round with the real lifecycle behind it."""
    from chalicelib import intake
    from chalicelib.adapters import aws
    from chalicelib.bootstrap import services

    lifecycle_arn = system.env["LIFECYCLE_STATE_MACHINE_ARN"]
    sfn_admin = system.client("stepfunctions", in_process=True)
    noop_arn = sfn_admin.create_state_machine(
        name="bench-intake-noop", definition=NOOP_DEFINITION,
        roleArn=f"arn:aws:iam::{system.account_id}:role/bench")["stateMachineArn"]
    seq = iter(range(1_000_000))
    table_name = system.env["TABLE_NAME"]
    item_bytes = len(json.dumps(ticket_item, ensure_ascii=False).encode())

    def submit(body: dict[str, Any]) -> None:
        status, answer = api.submit(body)
        if status != 202:
            raise RuntimeError(f"POST /complaints answered {status}: {answer}")

    def http_ops(count: int = n) -> list[Callable[[], Any]]:
        return [partial(submit, _body(next(seq))) for _ in range(count)]

    def service_ops() -> list[Callable[[], Any]]:
        return [partial(intake.submit, services(), _body(next(seq)), CUSTOMER, None) for _ in range(n)]

    def fresh_item(prefix: str) -> tuple[int, dict[str, Any]]:
        i, item = next(seq), copy.deepcopy(ticket_item)
        item["pk"] = {"S": f"C#BENCH-{prefix}-{i}"}
        return i, item

    def put_ops() -> list[Callable[[], Any]]:
        ddb = aws.client("dynamodb")
        return [partial(ddb.put_item, TableName=table_name, Item=fresh_item("PUT")[1],
                        ConditionExpression="attribute_not_exists(pk)") for _ in range(n)]

    def floor_ops() -> list[Callable[[], Any]]:
        ddb, sfn = aws.client("dynamodb"), aws.client("stepfunctions")

        def op(i: int, item: dict[str, Any]) -> None:
            ddb.put_item(TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
            sfn.start_execution(stateMachineArn=noop_arn, name=f"BENCH-FLOOR-{i}", input=json.dumps({"complaint_id": i}))

        return [partial(op, *fresh_item("FLOOR")) for _ in range(n)]

    # with the real lifecycle running behind (what the local system does): one round
    with_lifecycle = _rate(http_ops(lifecycle_n))
    _wait_quiet(system, lifecycle_arn)

    runs: dict[str, list[Rate]] = defaultdict(list)
    _use_state_machine(system, noop_arn)
    try:
        _rate(http_ops(20))  # warm-up with the other machine
        for _ in range(rounds):  # interleaved: a load change on the machine hits every path alike
            runs["http_noop"].append(_rate(http_ops()))
            runs["service_noop"].append(_rate(service_ops()))
            runs["put_item"].append(_rate(put_ops()))
            runs["put_item_start_execution"].append(_rate(floor_ops()))
    finally:
        _use_state_machine(system, lifecycle_arn)
    rps = {"http_with_lifecycle": with_lifecycle.per_s, **{k: median([r.per_s for r in v]) for k, v in runs.items()}}
    cpu = {"http_with_lifecycle": with_lifecycle.cpu_ms, **{k: median([r.cpu_ms for r in v]) for k, v in runs.items()}}
    return {
        "requests_per_round": n,
        "requests_with_lifecycle": lifecycle_n,
        "rounds": rounds,
        "item_bytes": item_bytes,
        "rps": rps,
        "cpu_ms_per_request": cpu,
        "rps_runs": {k: [r.per_s for r in v] for k, v in runs.items()},
        "ratio_to_put_item": {k: v / rps["put_item"] for k, v in rps.items()},
        # the same ratio from the request thread's CPU time: steadier on a busy machine
        "cpu_ratio_to_put_item": {k: cpu["put_item"] / v for k, v in cpu.items()},
    }


def _wait_quiet(system: Any, arn: str, timeout: float = 60.0) -> None:
    """Let the executions started so far reach their first wait (so they stop using the CPU)."""
    sfn = system.client("stepfunctions", in_process=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [e["executionArn"] for e in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]]
        busy = 0
        for e in running[-20:]:
            events = sfn.get_execution_history(executionArn=e, maxResults=1000)["events"]
            last = max(events, key=lambda ev: ev["id"])["type"] if events else "ExecutionStarted"
            busy += last not in ("TaskSubmitted", "TaskStarted")  # waiting for an agent (AwaitAgent)
        if not busy:
            return
        time.sleep(0.2)


# -- the benchmark --------------------------------------------------------------------------------
def run(requests: int = 100, rounds: int = 4, call_samples: int = 20, lifecycle_requests: int = 30) -> dict[str, Any]:
    from local.runtime import LocalSystem

    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = now - mark
        mark = now

    with tempfile.TemporaryDirectory() as tmp, quiet():
        system = LocalSystem(port=0, aws_port=0, time_scale=1.0, secret_path=Path(tmp) / "secret")
        with system, cheap_transaction_rollback():
            from chalicelib.bootstrap import services

            services()  # settings + adapters from the system's environment, before any request
            api = Api(system)
            api.submit(_body(999_999))  # warm-up: first client use, first execution
            phase("start")
            calls = measure_calls(system, api, call_samples)
            phase("calls")
            item = calls.pop("ticket_item")
            if item is None:
                raise RuntimeError("no PutItem of a ticket was seen")
            throughput = measure_throughput(system, api, requests, rounds, item, lifecycle_requests)
            phase("throughput")
        phase("stop")
    return {"calls": calls, "throughput": throughput, "phases_s": phases}


def report(result: dict[str, Any]) -> str:
    calls, tp = result["calls"], result["throughput"]
    lines = ["== intake: AWS calls per accepted POST /complaints (request thread, app's clients)"]
    rows = []
    for name, v in calls["variants"].items():
        ops = ", ".join(f"{k} {fmt(c, 2).rstrip('0').rstrip('.')}" for k, c in v["calls_per_request"].items())
        rows.append([name, fmt(v["total_per_request"]), fmt(v["ratio_to_floor"]), ops])
    lines.append(table(rows, ["variant", "calls", "x floor (3)", "by operation@table"]))
    extra = {k: why for v in calls["variants"].values() for k, why in v["beyond_floor"].items()}
    lines.append("  beyond the floor:" + ("" if extra else " nothing"))
    lines += [f"    {k}: {why}" for k, why in extra.items()]
    lines.append("")
    lines.append(f"== intake: requests/s in-process on moto ({tp['requests_per_round']} requests x {tp['rounds']} rounds, "
                 f"median; ticket item {tp['item_bytes']} B)")
    rows = [[k, fmt(v, 0), fmt(tp["ratio_to_put_item"][k], 3), fmt(tp["cpu_ms_per_request"][k], 2),
             fmt(tp["cpu_ratio_to_put_item"][k], 3)] for k, v in tp["rps"].items()]
    lines.append(table(rows, ["path", "req/s", "ratio to put_item", "CPU ms/req", "ratio (CPU)"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--lifecycle-requests", type=int, default=30)
    args = parser.parse_args(argv)
    result = run(args.requests, args.rounds, lifecycle_requests=args.lifecycle_requests)
    print(report(result))
    print(f"\nwritten: {write_result(NAME, result).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
