"""``python -m local demo`` (``make demo``): the five-minute tour of the product.

1. starts the whole local system at a high time scale (default 120: an SLA hour in 30 seconds);
2. replays the mixed sample (``tests/data/imports/mixed-demo.jsonl``, regenerated with the
   system clock as anchor, like ``make_demo.py --anchor now``): the marketplace records go
   to the import queue in one batch per marketplace (SQS -> import Lambda), the ``generic``
   ones are filed by their customers through the HTTP API; the invalid ones are rejected;
3. keeps customers filing new complaints through the API for the rest of the run, with a
   product that suddenly gets many more complaints on the last day (the hotspot);
4. lets simulated agents work part of each team's queue (first contact, resolution, now and
   then a manual escalation) - the rest breaches its SLA clocks, climbs the escalation
   ladder and earns the customer a voucher - and customers answer most surveys (a low score
   reopens the complaint);
5. prints the reports' figures as it goes and ends by writing the HTML report.

Everything goes through the public surfaces (HTTP API, SQS, the report endpoints): what the
demo shows is what the product does.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from chalicelib.models import TEAMS
from local.arguments import port, positive_float, positive_int
from local.report import http_source, make_report
from local.testing import HttpResponse, http

REPO = Path(__file__).resolve().parent.parent
MAKE_DEMO = REPO / "tests" / "data" / "imports" / "make_demo.py"
SCORES = (1, 2, 3, 4, 5)
SCORE_WEIGHTS = (6, 8, 14, 32, 40)

# New complaints filed through the API during the run: (category, sku, name, kind, zh text, en text)
CATALOGUE = (
    ("damaged_in_transit", "HOME-CUP-45", "玻璃水杯 450ml", "home", "快递到的时候杯子碎了", "The glass arrived broken."),
    ("delivery_delay", "FOOD-NUT-15", "坚果礼盒 1.5kg", "food", "下单五天了还没发货", "Ordered five days ago, still not shipped."),
    ("lost_parcel", "APP-RUN-42", "轻量跑步鞋", "apparel", "显示已签收但我没收到", "Tracking says delivered but nothing came."),
    ("product_quality", "ELE-HP-ANC", "无线降噪耳机", "electronics", "左耳没有声音", "The left earbud has no sound."),
    ("not_as_described", "APP-COAT-M", "羊毛混纺大衣", "apparel", "颜色和图片完全不一样", "The colour is nothing like the photos."),
    ("after_sales", "HOME-BED-4", "纯棉四件套", "home", "申请退货一直没人处理", "My return request has been ignored."),
    ("service_attitude", "HOME-DIN-24", "陶瓷餐具套装", "home", "客服态度很差，直接挂电话", "The agent hung up on me."),
    ("promotion_rules", "COS-MSK-10", "玻尿酸补水面膜 10片", "cosmetics", "满减活动没有生效", "The promotion discount was not applied."),
)
SPIKE = ("product_quality", "ELE-PWB-20", "20000mAh 充电宝", "electronics", "充电宝充电时发烫鼓包", "The power bank swells and gets hot while charging.")


def load_make_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo", MAKE_DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_demo", module)  # dataclasses look their module up there
    spec.loader.exec_module(sys.modules["make_demo"])
    return sys.modules["make_demo"]


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter[str] = field(default_factory=Counter)
    resolved: dict[str, datetime] = field(default_factory=dict)  # complaint id -> when to look for its survey
    rated: set[str] = field(default_factory=set)

    def add(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n


class Demo:
    def __init__(self, system: Any, args: argparse.Namespace, say: Any) -> None:
        self.system, self.args, self.say = system, args, say
        self.rng = random.Random(args.seed)
        self.tally = Tally()
        self.stop = threading.Event()
        self.start_at = system.system_now()
        self.end_at = self.start_at + timedelta(hours=args.hours)
        self.ops = system.token("O-1", "ops")

    # -- time ------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.system.system_now()

    def sleep_simulated(self, seconds: float) -> None:
        self.stop.wait(max(0.02, seconds / self.system.clock.scale))

    def api(self, method: str, path: str, token: str, body: Any = None) -> Any:
        """One request; a timeout (the local system is busy) reads as a 503 and the caller moves on."""
        try:
            return http(method, self.system.api_url + path, token=token, json_body=body, timeout=60)
        except OSError:
            self.tally.add("timeouts")
            return HttpResponse(503, {}, b"{}")

    # -- 2. the mixed sample --------------------------------------------------------------------
    def replay_sample(self) -> None:
        """The sample, spread over its first ``--replay-hours``: marketplace records in batches
        of ``--batch`` on the import queue, ``generic`` ones filed over HTTP by their customers."""
        lines = load_make_demo().generate(self.now().replace(microsecond=0))
        steps: list[tuple[str, Any]] = []
        pending: dict[str, list[dict[str, Any]]] = {}
        for line in lines:
            if line["source"] == "generic":
                steps.append(("api", line["record"]))
                continue
            batch = pending.setdefault(line["source"], [])
            batch.append(line["record"])
            if len(batch) >= self.args.batch:
                steps.append(("sqs", (line["source"], pending.pop(line["source"]))))
        steps += [("sqs", item) for item in pending.items()]
        self.say(f"  {sum(len(r[1]) for k, r in steps if k == 'sqs')} marketplace records in {sum(k == 'sqs' for k, _ in steps)} "
                 f"SQS batches and {sum(k == 'api' for k, _ in steps)} API complaints over the first {self.args.replay_hours:g} h")
        pause = self.args.replay_hours * 3600 / max(1, len(steps))
        sqs, stamp = self.system.client("sqs"), self.now().strftime("%Y%m%dT%H%M%S")
        filed = rejected = sent = 0
        for kind, payload in steps:
            if self.stop.is_set():
                return
            if kind == "sqs":
                source, records = payload
                sent += 1
                message = {"source": source, "batch_id": f"{source}-demo-{stamp}-{sent:03d}",
                           "exported_at": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "records": records}
                sqs.send_message(QueueUrl=self.system.import_queue_url, MessageBody=json.dumps(message, ensure_ascii=False))
            else:
                body = {k: v for k, v in payload.items() if k not in ("external_id", "raised_at")}
                body.setdefault("channel", self.rng.choice(("app", "web")))
                customer = str(body.get("customer_id") or "C-0")
                if self.api("POST", "/complaints", self.system.token(customer, "customers"), body).status == 202:
                    filed += 1
                else:
                    rejected += 1
            self.sleep_simulated(pause)
        self.tally.add("api", filed)
        self.say(f"  sample replayed: {sent} import batches sent, {filed} API complaints filed, {rejected} rejected by validation (400)")

    # -- 3. new complaints through the run --------------------------------------------------------------
    def file_one(self, spec: tuple[str, str, str, str, str, str]) -> None:
        category, sku, name, kind, zh, en = spec
        n = self.tally.counts["api"] + 1
        customer = f"C-{2000 + self.rng.randint(0, 400)}"
        english = self.rng.random() < 0.3
        body = {
            "customer_id": customer, "order_id": f"O-DEMO-{n:05d}", "channel": self.rng.choice(("app", "app", "web", "phone", "social")),
            "desired_outcome": self.rng.choice(("refund", "return", "exchange", "compensation")),
            "description": en if english else zh, "category": category,
            "order_amount": {"amount": f"{self.rng.randint(30, 900)}.00", "currency": "CNY"},
            "product": {"sku": sku, "name": name, "kind": kind},
            "contact": {"locale": "en" if english else "zh-CN", "phone": f"+86138{self.rng.randint(10**7, 10**8 - 1)}"},
        }
        if self.api("POST", "/complaints", self.system.token(customer, "customers"), body).status == 202:
            self.tally.add("api")

    def intake(self) -> None:
        spike_from = self.end_at - timedelta(hours=self.args.hours / 3)
        while not self.stop.is_set() and self.now() < self.end_at:
            spiking = self.now() >= spike_from
            self.file_one(SPIKE if spiking and self.rng.random() < 0.6 else self.rng.choice(CATALOGUE))
            self.sleep_simulated(self.rng.uniform(10, 25) * 60)

    # -- 4. agents and customers -------------------------------------------------------------------------
    def agent(self, team: str, user: str, seat: int = 0, seats: int = 1) -> None:
        token = self.system.token(user, "agents")
        while not self.stop.is_set() and self.now() < self.end_at:
            answer = self.api("GET", f"/queues/{team}?limit=40", token)
            items = answer.json().get("items", []) if answer.status == 200 else []
            items = items[seat::seats]  # the team's agents share the queue
            # A few first contacts and a few resolutions per round, soonest due first; some P3
            # complaints are left for later (they breach)
            waiting = [i for i in items if i["status"] == "awaiting_contact"][: self.rng.randint(1, 3)]
            working = [i for i in items if i["status"] == "in_progress"][: self.rng.randint(1, 2)]
            for item in [*waiting, *working]:
                cid = item["complaint_id"]
                if item.get("severity") == "P3" and self.rng.random() < 0.35:
                    continue
                if item["status"] == "awaiting_contact":
                    if self.api("POST", f"/complaints/{cid}/contact", token, {"note": "called the customer"}).status == 200:
                        self.tally.add("contacted")
                    continue
                if item.get("severity") == "P1" and item.get("escalation_level", 0) == 0 and self.rng.random() < 0.15:
                    if self.api("POST", f"/complaints/{cid}/escalate", token, {"reason": "needs the supplier"}).status == 200:
                        self.tally.add("escalated by hand")
                    continue
                body = {"resolution": self.rng.choice(("refund", "exchange", "compensation", "explanation")),
                        "note": "resolved with the customer"}
                if self.api("POST", f"/complaints/{cid}/resolve", token, body).status == 200:
                    self.tally.add("resolved")
                    with self.tally.lock:
                        self.tally.resolved[cid] = self.now() + timedelta(hours=2.5)  # survey after 2 h
            self.sleep_simulated(self.rng.uniform(10, 20) * 60)

    def customers(self) -> None:
        supervisor = self.system.token("S-1", "supervisors")
        while not self.stop.is_set():
            now = self.now()
            with self.tally.lock:
                pending = [c for c, due in self.tally.resolved.items() if due <= now and c not in self.tally.rated]
            for cid in pending:
                view = self.api("GET", f"/complaints/{cid}", supervisor).json()
                events = [e["type"] for e in view.get("timeline", [])]
                if view.get("status") != "resolved" or "survey_sent" not in events[events.index("resolved") if "resolved" in events else 0:]:
                    with self.tally.lock:  # not yet (or reopened meanwhile): look again later
                        self.tally.resolved[cid] = self.now() + timedelta(hours=1)
                    continue
                with self.tally.lock:
                    self.tally.rated.add(cid)
                    self.tally.resolved.pop(cid, None)
                if self.rng.random() < 0.2:
                    continue  # never answers: the survey expires
                score = self.rng.choices(SCORES, weights=SCORE_WEIGHTS)[0]
                token = self.system.token(view["customer_id"], "customers")
                if self.api("POST", f"/complaints/{cid}/satisfaction", token, {"score": score}).status == 200:
                    self.tally.add("rated")
            self.sleep_simulated(30 * 60)

    # -- 5. the figures -------------------------------------------------------------------------------------
    def window(self) -> tuple[str, str]:
        return self.start_at.date().isoformat(), (self.now().date() + timedelta(days=1)).isoformat()

    def progress(self) -> None:
        start, end = self.window()
        answer = self.api("GET", f"/reports/summary?from={start}&to={end}", self.ops)
        if answer.status != 200:
            return
        body = answer.json()
        counts, sla, csat = body["counts"], body["sla"], body["csat"]
        status = ", ".join(f"{k} {v}" for k, v in counts["by_status"].items())
        fc = sla["first_contact"]["compliance"]
        self.say(
            f"  {self.now():%a %H:%M}  {counts['total']} complaints ({status}); first-contact SLA "
            f"{'–' if fc is None else f'{fc * 100:.0f} %'}, {body['vouchers']['count']} vouchers, "
            f"{csat['responses']} ratings"
        )

    def run(self) -> Path:
        s = self.system
        self.say(f"System clock {self.now():%Y-%m-%d %H:%M}Z, time x{s.clock.scale:g}: the demo covers {self.args.hours:g} "
                 f"simulated hours (~{self.args.hours * 3600 / s.clock.scale:.0f} s).")
        self.say("Replaying the mixed sample (tests/data/imports/mixed-demo.jsonl, anchored at the system clock):")
        workers = [threading.Thread(target=self.replay_sample, name="demo-replay", daemon=True),
                   threading.Thread(target=self.intake, name="demo-intake", daemon=True),
                   threading.Thread(target=self.customers, name="demo-customers", daemon=True)]
        workers += [threading.Thread(target=self.agent, args=(team, f"A-{team[:3]}-{i}", i, 2), name=f"demo-agent-{team}-{i}", daemon=True)
                    for team in TEAMS for i in (0, 1)]
        self.say("Customers keep filing complaints; agents work part of each queue; customers answer surveys.")
        self.say("From the reports as the run goes (GET /reports/summary):")
        for worker in workers:
            worker.start()
        next_progress = self.now()
        while not self.stop.is_set() and self.now() < self.end_at:
            if self.now() >= next_progress:
                self.progress()
                next_progress = self.now() + timedelta(hours=self.args.progress_hours)
            self.stop.wait(0.2)
        self.stop.set()
        for worker in workers:
            worker.join(10)
        time.sleep(1.0)  # the last changes through the stream
        self.progress()
        start, end = self.window()
        spike_day = self.now().date().isoformat()  # the last day against the one before
        out = make_report(http_source(s.api_url, self.ops), start, end, Path(self.args.out),
                          hotspots_window=(spike_day, end), title="Complaint report — local demo", lang="en",
                          source=f"local demo, time x{s.clock.scale:g}")
        tally = self.tally.counts
        self.say(f"Agents: {tally['contacted']} first contacts, {tally['resolved']} resolutions, "
                 f"{tally['escalated by hand']} manual escalations; customers: {tally['rated']} ratings.")
        return out


def run(args: argparse.Namespace) -> int:
    from local.cli import _DropMetricLines
    from local.runtime import LocalSystem

    console = _DropMetricLines(sys.stdout)
    sys.stdout = console  # the functions' EMF metric lines are CloudWatch's

    def say(line: str) -> None:
        print(line, file=console, flush=True)

    interrupted = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        interrupted.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    system = LocalSystem(port=args.port, aws_port=args.aws_port, time_scale=args.time_scale)
    try:
        say(f"Starting the local system (API :{args.port}, AWS endpoint :{args.aws_port}) ...")
        try:
            system.start()
        except OSError as exc:
            print(f"cannot start: {exc} (is `python -m local serve` running? try --port/--aws-port)", file=sys.stderr)
            return 1
        demo = Demo(system, args, say)

        def stop_on_interrupt() -> None:
            interrupted.wait()
            demo.stop.set()

        watcher = threading.Thread(target=stop_on_interrupt, daemon=True)
        watcher.start()
        out = demo.run()
        say(f"Report: {out.resolve()} (open it in a browser)")
        if args.keep and not interrupted.is_set():
            say(f"The system keeps running: API {system.api_url}, AWS endpoint {system.aws_url}. Ctrl-C stops it.")
            say(f"  python -m local report --from {demo.window()[0]} --to {demo.window()[1]} --endpoint {system.api_url} --out again.html")
            interrupted.wait()
        return 0
    finally:
        system.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.stdout = console._target


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="the five-minute tour: run, replay the sample, work it, write the report",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", type=positive_float, default=120.0, help="timers run N times faster (default 120)")
    parser.add_argument("--hours", type=positive_float, default=10.0, help="simulated hours of work (default 10)")
    parser.add_argument("--replay-hours", type=positive_float, default=6.0,
                        help="the sample is spread over this many hours (default 6)")
    parser.add_argument("--batch", type=positive_int, default=10, help="marketplace records per import message (default 10)")
    parser.add_argument("--out", default="report.html", help="the HTML report (default report.html)")
    parser.add_argument("--port", type=port, default=8000, help="HTTP API (default 8000; 0 = any free port)")
    parser.add_argument("--aws-port", type=port, default=4566, help="moto AWS endpoint (default 4566; 0 = any free port)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the simulated people (default 7)")
    parser.add_argument("--progress-hours", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the system running after the report (Ctrl-C stops it)")
    parser.set_defaults(handler=run)
