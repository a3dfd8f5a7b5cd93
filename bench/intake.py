"""Intake (issue 2): what one accepted complaint costs on the synchronous path.

    python -m bench.intake [--requests 100] [--rounds 4] [--cold-runs 7] [--lifecycle-requests 30]

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
3. Cold start: wall time of ``python -c "import app"`` in fresh subprocesses relative to
   ``python -c "import boto3"`` (median of N runs, the Lambda function's environment), and
   the heaviest imports (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
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


# -- 3. cold start --------------------------------------------------------------------------------
RUNTIME_PROVIDED = ("boto3",)  # the Lambda Python runtime ships boto3 and what it needs


def _closure(roots: list[str]) -> set[str]:
    """Distributions needed by the requirement strings ``roots`` (markers and extras honoured)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: dict[str, set[str]] = {}
    stack = [Requirement(r) for r in roots]
    while stack:
        req = stack.pop()
        key = req.name.lower().replace("_", "-")
        extras = set(req.extras)
        if key in seen and extras <= seen[key]:
            continue
        seen[key] = seen.get(key, set()) | extras
        for text in metadata.distribution(req.name).requires or []:
            child = Requirement(text)
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in (seen[key] or {""})):
                stack.append(child)
    return set(seen)


def _top_levels(distribution: str) -> set[str]:
    from importlib import metadata

    names = set()
    for file in metadata.distribution(distribution).files or []:
        top = file.parts[0]
        if top.endswith((".dist-info", ".pth")) or top in ("..", "__pycache__", "bin"):
            continue
        names.add(top)
    return names


@contextlib.contextmanager
def lambda_bundle() -> Iterator[Path]:
    """A directory laid out like the deployed function: ``app.py`` + ``chalicelib`` + the
    packages of requirements.txt (with their dependencies) + Chalice's runtime, and the boto3
    the Lambda runtime provides — nothing of the dev tools the venv also holds (moto, requests
    …), which X-Ray's ``patch_all`` would otherwise import. Run with ``python -S``."""
    from importlib import metadata

    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    roots = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    distributions = _closure(roots) | _closure(list(RUNTIME_PROVIDED))
    with tempfile.TemporaryDirectory(prefix="lambda-bundle-") as tmp:
        root = Path(tmp)
        for name in ("app.py", "chalicelib", ".chalice"):
            (root / name).symlink_to(REPO / name)
        (root / "chalice").symlink_to(Path(str(metadata.distribution("chalice").locate_file("chalice"))))
        for dist in sorted(distributions):
            site = Path(str(metadata.distribution(dist).locate_file("")))
            for top in _top_levels(dist):
                if not (root / top).exists() and (site / top).exists():
                    (root / top).symlink_to(site / top)
        yield root


def lambda_environment(task_root: Path = REPO) -> dict[str, str]:
    """What the API function's process has at cold start (template env + Lambda runtime vars)."""
    from local import stack

    account = "123456789012"
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env |= stack.chalice_environment(REPO, "dev") | stack.expected_environment("dev", account)
    env |= {
        "STAGE": "dev",
        "EMAIL_SENDER": "no-reply@complaints.example.com",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "complaints-dev",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": "app.app",
        "PYTHONPATH": str(task_root),
    }
    return env


def _run_python(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of ``python -S -c code`` in a fresh process
    in the bundle (``env["LAMBDA_TASK_ROOT"]``). The CPU time is the process's own work: it
    hardly moves when other processes load the machine, the wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-S", "-c", code], cwd=env["LAMBDA_TASK_ROOT"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def parse_importtime(stderr: str) -> list[tuple[int, int, str, int]]:
    """Rows of ``-X importtime``: (self us, cumulative us, module, depth); children come before
    their parent, one indentation step (two spaces) deeper."""
    rows: list[tuple[int, int, str, int]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:"):].split("|", 2)
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((int(self_us), int(cumulative_us), name.strip(), depth))
    return rows


def _importers(rows: list[tuple[int, int, str, int]], index: int) -> list[str]:
    """The chain of modules whose import brought in ``rows[index]`` (nearest first)."""
    depth, chain = rows[index][3], []
    for _, _, name, d in rows[index + 1:]:
        if d < depth:
            chain.append(name)
            depth = d
    return chain


def _via(rows: list[tuple[int, int, str, int]], package: str) -> str:
    """How the app first reached ``package``: the importers where the package changes."""
    index = next(i for i, r in enumerate(rows) if r[2].split(".")[0] == package)
    steps, last = [rows[index][2]], package
    for name in _importers(rows, index):
        top = name.split(".")[0]
        if top != last or name.startswith("chalicelib") or name == "app":
            steps.append(name)
            last = top
    return " <- ".join(steps)


def heaviest_imports(env: dict[str, str], top: int = 10) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", "import app"], cwd=env["LAMBDA_TASK_ROOT"],
                          env=env, check=True, capture_output=True, text=True)
    rows = parse_importtime(proc.stderr)
    by_package: Counter[str] = Counter()
    for self_us, _, name, _ in rows:
        by_package[name.split(".")[0]] += self_us
    total = sum(by_package.values())
    modules = sorted(rows, key=lambda r: r[0], reverse=True)[:top]
    app_row = next((r for r in rows if r[2] == "app"), None)
    direct = [(name, cumulative) for _, cumulative, name, depth in rows if depth == 1]
    return {
        "total_self_ms": total / 1000,
        "app_cumulative_ms": app_row[1] / 1000 if app_row else float("nan"),
        "modules_imported": len(rows),
        "app_direct_imports_cumulative_ms": {n: c / 1000 for n, c in sorted(direct, key=lambda x: -x[1])[:8]},
        "by_package_ms": {k: v / 1000 for k, v in by_package.most_common(top)},
        "by_package_share": {k: v / total for k, v in by_package.most_common(top)},
        "by_package_via": {k: _via(rows, k) for k, _ in by_package.most_common(top) if k not in ("app", "chalicelib")},
        "heaviest_modules_self_ms": {name: s / 1000 for s, _, name, _ in modules},
    }


def measure_cold_start(runs: int) -> dict[str, Any]:
    with lambda_bundle() as root:
        return _cold_start(lambda_environment(root), runs, root)


def _cold_start(env: dict[str, str], runs: int, root: Path) -> dict[str, Any]:
    no_tracer = {**env, "POWERTOOLS_TRACE_DISABLED": "true"}
    cases = {
        "python": ("pass", env),
        "boto3": ("import boto3", env),
        "app": ("import app", env),
        "app_tracer_disabled": ("import app", no_tracer),
    }
    for code, case_env in cases.values():  # compile .pyc once, as a package with bytecode would have
        _run_python(code, case_env)
    walls: dict[str, list[float]] = {k: [] for k in cases}
    cpus: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(runs):
        for k, (code, case_env) in cases.items():  # interleaved, so drift hits all alike
            wall, cpu = _run_python(code, case_env)
            walls[k].append(wall)
            cpus[k].append(cpu)
    med = {k: median(v) for k, v in walls.items()}
    cpu_med = {k: median(v) for k, v in cpus.items()}
    net_app, net_boto3 = med["app"] - med["python"], med["boto3"] - med["python"]
    return {
        "runs": runs,
        "median_s": med,
        "median_cpu_s": cpu_med,
        "walls_s": walls,
        "cpus_s": cpus,
        "ratio_app_to_boto3": med["app"] / med["boto3"],
        "ratio_app_to_boto3_net_of_interpreter": net_app / net_boto3 if net_boto3 > 0 else float("nan"),
        "ratio_app_tracer_disabled_to_boto3": med["app_tracer_disabled"] / med["boto3"],
        "cpu_ratio_app_to_boto3": cpu_med["app"] / cpu_med["boto3"],
        "cpu_ratio_app_tracer_disabled_to_boto3": cpu_med["app_tracer_disabled"] / cpu_med["boto3"],
        "tracer_share_of_app": (med["app"] - med["app_tracer_disabled"]) / med["app"],
        "tracer_share_of_app_cpu": (cpu_med["app"] - cpu_med["app_tracer_disabled"]) / cpu_med["app"],
        "importtime": heaviest_imports(env),
        "environment": sorted(env),
        "bundle": sorted(p.name for p in root.iterdir()),
    }


# -- the benchmark --------------------------------------------------------------------------------
def run(requests: int = 100, rounds: int = 4, cold_runs: int = 7, call_samples: int = 20,
        lifecycle_requests: int = 30) -> dict[str, Any]:
    from local.runtime import LocalSystem

    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = now - mark
        mark = now

    cold = measure_cold_start(cold_runs)
    phase("cold_start")
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
    return {"calls": calls, "throughput": throughput, "cold_start": cold, "phases_s": phases}


def report(result: dict[str, Any]) -> str:
    calls, tp, cold = result["calls"], result["throughput"], result["cold_start"]
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
    lines.append("")
    med = cold["median_s"]
    lines.append(f"== cold start: fresh `python -c` (median of {cold['runs']}, Lambda environment)")
    cpu = cold["median_cpu_s"]
    lines.append(table([[k, fmt(v * 1000, 0), fmt(cpu[k] * 1000, 0)] for k, v in med.items()], ["import", "wall ms", "CPU ms"]))
    lines.append(f"  app / boto3 = {fmt(cold['ratio_app_to_boto3'])} wall, {fmt(cold['cpu_ratio_app_to_boto3'])} CPU "
                 f"(wall net of the bare interpreter: {fmt(cold['ratio_app_to_boto3_net_of_interpreter'])}); "
                 f"with POWERTOOLS_TRACE_DISABLED: {fmt(cold['ratio_app_tracer_disabled_to_boto3'])} wall, "
                 f"{fmt(cold['cpu_ratio_app_tracer_disabled_to_boto3'])} CPU; the Tracer is "
                 f"{cold['tracer_share_of_app_cpu']:.0%} of the app's import CPU ({cold['tracer_share_of_app']:.0%} wall)")
    imp = cold["importtime"]
    lines.append(f"  -X importtime: {imp['modules_imported']} modules, {fmt(imp['total_self_ms'], 0)} ms self time "
                 f"(`import app` cumulative {fmt(imp['app_cumulative_ms'], 0)} ms); heaviest packages (self time):")
    for k, ms in imp["by_package_ms"].items():
        via = imp["by_package_via"].get(k, "")
        lines.append(f"    {k:24s} {fmt(ms, 1):>7s} ms  {imp['by_package_share'][k]:5.1%}  {via}")
    lines.append("  heaviest modules (self):")
    lines += [f"    {k:44s} {fmt(ms, 1):>7s} ms" for k, ms in list(imp["heaviest_modules_self_ms"].items())[:6]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--lifecycle-requests", type=int, default=30)
    args = parser.parse_args(argv)
    result = run(args.requests, args.rounds, args.cold_runs, lifecycle_requests=args.lifecycle_requests)
    print(report(result))
    print(f"\nwritten: {write_result(NAME, result).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
