"""One load run of the local engine, in this process, against the checkout given by ``--repo``.

    python bench/engine_load.py --repo <checkout> [--waiting 200] [--complaints 50] [--lifecycles 40]
                                [--time-scale 1200]

``bench.engine`` runs this file twice, once against this revision and once against a
temporary ``git worktree`` of the revision before the engine work, and compares the two. So it
uses only what both revisions have: ``local.runtime.LocalSystem`` (free ports), the HTTP API
(``POST /complaints``, the agents' actions, ``POST /complaints/{id}/satisfaction``), the
Lambda dispatcher's listeners (to see a workflow park on a task token without polling the
table) and ``describe_execution``. Nothing of ``bench/`` is imported: that package differs
between the revisions. It prints one JSON object (the figures) as its last line of stdout.

Three phases, each in a fresh local system (one after the other, in this process), each
warmed up by one complaint:

1. **waiting** (time scale x60, ``serve``'s default: no timer fires during the phase): the
   CPU share of one core the idle system burns, then ``--waiting`` P3 complaints parked on
   their first task token - the threads the process holds and the idle CPU share with all of
   them waiting - then how long ``stop()`` takes.
2. **triage** (``--time-scale``): ``--complaints`` P3 complaints sent at once by 4 client
   threads, done when every workflow has parked on its first task token (Triage, Notify,
   Route, AwaitAgent's Lambda): complaints per second, process CPU and Lambda steps per
   complaint. A P3's first clock (8 h) fires 24 s after it was filed at x1200: a phase that
   lasts longer than that also measures escalation steps (3 steps per complaint when none
   fired).
3. **lifecycle** (``--time-scale``): ``--lifecycles`` complaints, each driven by its own thread
   the way an agent and a customer would (contact, resolve, rate 4 once the survey waits)
   until the execution has SUCCEEDED: complaints per second and CPU per complaint.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

CLIENT_THREADS = 4
IDLE_SECONDS = 4.0
POLL_S = 0.05
TIMEOUT_S = 240.0  # per wait, wall-clock seconds
WAITING_TIME_SCALE = 60.0  # `serve`'s default: a P3's first clock (8 h) is 8 minutes away
BODY: dict[str, Any] = {
    "channel": "app",
    "desired_outcome": "refund",
    "description": "衣服颜色和图片不一样",  # apparel, P3: its first clock is hours away even at x1200
    "product": {"sku": "SKU-T", "kind": "apparel"},
    "contact": {"locale": "zh-CN", "phone": "+8613800000000"},
}


def cpu_seconds() -> float:
    """CPU time (user + system) of this process, every thread."""
    times = os.times()
    return times.user + times.system


def os_threads() -> int:
    """Threads of this process as the kernel counts them (Python's and any other)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return threading.active_count()


def idle_share(seconds: float) -> float:
    """Share of one core this process burns over ``seconds`` of doing nothing itself."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    time.sleep(seconds)
    return (cpu_seconds() - cpu) / (time.perf_counter() - wall)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The app prints EMF metric lines and logs: keep stdout for the figures."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


class Parks:
    """Counts, per complaint, the task-token parks of its workflow (an invocation whose event
    carries a ``token`` and that succeeded), as the Lambda dispatcher reports them."""

    def __init__(self) -> None:
        self.count: dict[str, int] = defaultdict(int)
        self.steps: dict[str, int] = defaultdict(int)
        self.changed = threading.Condition()

    def listener(self, invocation: Any) -> None:
        event = invocation.event
        if not isinstance(event, dict) or not isinstance(event.get("complaint_id"), str):
            return
        with self.changed:
            self.steps[event["complaint_id"]] += 1
            if "token" in event and invocation.error_type is None:
                self.count[event["complaint_id"]] += 1
            self.changed.notify_all()

    def wait(self, complaint_id: str, parks: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.count[complaint_id] < parks:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{complaint_id}: {self.count[complaint_id]} of {parks} parks")
                self.changed.wait(left)


class Load:
    def __init__(self, system: Any, timeout: float) -> None:
        from local.testing import http

        self.system = system
        self.http = http
        self.timeout = timeout
        self.parks = Parks()
        system._dispatcher.add_listener(self.parks.listener)
        self.agent = system.token("A-7", "agents")
        self.sfn = system.client("stepfunctions", in_process=True)

    def submit(self, n: int) -> str:
        customer = f"C-{n:05d}"
        response = self.http("POST", self.system.api_url + "/complaints", token=self.system.token(customer, "customers"),
                             json_body={**BODY, "customer_id": customer, "order_id": f"O-{n:05d}"}, timeout=60)
        if response.status != 202:
            raise RuntimeError(f"POST /complaints: {response.status} {response.body[:200]!r}")
        return str(response.json()["complaint_id"])

    def act(self, complaint_id: str, path: str, body: dict[str, Any], token: str) -> None:
        response = self.http("POST", f"{self.system.api_url}/complaints/{complaint_id}/{path}", token=token,
                             json_body=body, timeout=60)
        if response.status != 200:
            raise RuntimeError(f"{path} {complaint_id}: {response.status} {response.body[:200]!r}")

    def wait_succeeded(self, complaint_id: str) -> None:
        arn = self.system.env["LIFECYCLE_STATE_MACHINE_ARN"].replace(":stateMachine:", ":execution:") + f":{complaint_id}"
        deadline = time.monotonic() + self.timeout
        while (status := self.sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{complaint_id}: still RUNNING")
            time.sleep(POLL_S)
        if status != "SUCCEEDED":
            raise RuntimeError(f"{complaint_id}: {status}")

    def triage(self, first: int, count: int) -> dict[str, Any]:
        wall, cpu = time.perf_counter(), cpu_seconds()
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            ids = list(pool.map(self.submit, range(first, first + count)))
        submitted = time.perf_counter() - wall
        for complaint_id in ids:
            self.parks.wait(complaint_id, 1, self.timeout)
        seconds = time.perf_counter() - wall
        used = cpu_seconds() - cpu
        return {"complaints": count, "seconds": seconds, "submit_seconds": submitted,
                "complaints_per_s": count / seconds, "cpu_s_per_complaint": used / count}

    def lifecycle_one(self, n: int) -> None:
        complaint_id = self.submit(n)
        customer = self.system.token(f"C-{n:05d}", "customers")
        self.parks.wait(complaint_id, 1, self.timeout)
        self.act(complaint_id, "contact", {"note": "called"}, self.agent)
        self.parks.wait(complaint_id, 2, self.timeout)
        self.act(complaint_id, "resolve", {"resolution": "refund", "note": "full refund"}, self.agent)
        self.parks.wait(complaint_id, 3, self.timeout)  # the survey waits for the customer
        self.act(complaint_id, "satisfaction", {"score": 4}, customer)
        self.wait_succeeded(complaint_id)

    def lifecycles(self, first: int, count: int) -> dict[str, Any]:
        wall, cpu = time.perf_counter(), cpu_seconds()
        with ThreadPoolExecutor(count) as pool:
            list(pool.map(self.lifecycle_one, range(first, first + count)))
        seconds = time.perf_counter() - wall
        used = cpu_seconds() - cpu
        return {"complaints": count, "seconds": seconds, "complaints_per_s": count / seconds,
                "cpu_s_per_complaint": used / count}


@contextlib.contextmanager
def local_system(time_scale: float) -> Iterator[tuple[Any, Load, dict[str, float]]]:
    """A fresh local system (free ports) with a load driver; yields also a dict that gets the
    seconds ``start`` and ``stop`` took."""
    from local.runtime import LocalSystem

    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        system = LocalSystem(port=0, aws_port=0, time_scale=time_scale, secret_path=Path(tmp) / "secret")
        system.start()
        try:
            seconds["start"] = time.perf_counter() - started
            load = Load(system, TIMEOUT_S)
            load.triage(0, 1)  # warm-up: first clients, first execution, lazy imports
            yield system, load, seconds
        finally:
            stopping = time.perf_counter()
            system.stop()
            seconds["stop"] = time.perf_counter() - stopping


def run(repo: Path, waiting: int, complaints: int, lifecycles: int, time_scale: float) -> dict[str, Any]:
    sys.path.insert(0, str(repo))
    os.chdir(repo)
    figures: dict[str, Any] = {"repo": str(repo), "time_scale": time_scale, "waiting_time_scale": WAITING_TIME_SCALE}
    with quiet():
        # 1. idle, then `waiting` complaints parked, at the serve default scale (no timer fires)
        with local_system(WAITING_TIME_SCALE) as (_, load, seconds):
            figures["threads_idle"] = os_threads()
            figures["idle_cpu_share"] = idle_share(IDLE_SECONDS)
            load.triage(1, waiting)
            time.sleep(0.5)  # the last invocations' threads end
            figures["waiting_complaints"] = waiting + 1
            figures["threads_waiting"] = os_threads()
            figures["idle_cpu_share_waiting"] = idle_share(IDLE_SECONDS)
        figures["start_seconds"], figures["stop_seconds"] = seconds["start"], seconds["stop"]
        # 2. through triage at `time_scale`
        with local_system(time_scale) as (_, load, _seconds):
            steps = sum(load.parks.steps.values())
            figures["triage"] = load.triage(1, complaints)
            figures["triage"]["lambda_steps_per_complaint"] = (sum(load.parks.steps.values()) - steps) / complaints
        # 3. whole lifecycles at `time_scale`
        with local_system(time_scale) as (_, load, _seconds):
            figures["lifecycle"] = load.lifecycles(100_000, lifecycles)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/engine_load.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="the checkout whose local system to load")
    parser.add_argument("--waiting", type=int, default=200, help="complaints parked to count threads and idle CPU")
    parser.add_argument("--complaints", type=int, default=50, help="complaints sent at once through triage")
    parser.add_argument("--lifecycles", type=int, default=40, help="complaints driven through a whole lifecycle")
    parser.add_argument("--time-scale", type=float, default=1200.0)
    args = parser.parse_args(argv)
    figures = run(args.repo.resolve(), args.waiting, args.complaints, args.lifecycles, args.time_scale)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    raise SystemExit(main())
