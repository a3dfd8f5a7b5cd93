"""Report cost: latency and read units of ``GET /reports/summary`` and ``/reports/hotspots``
for a 30-day window, with 1k versus 100k complaints' worth of aggregates.

Run from the repo root:  python -m bench.reports [--big 100000] [--small 1000]

The aggregates are written straight into a moto table (as ``chalicelib.reports.dynamodb.Aggregator`` would have
left them after that many complaints; no workflows run), then the reports are read the way
the API reads them. Two questions:

- *history*: the window holds ``small`` complaints, the table ``small`` or ``big`` in total
  (the rest in the two years before the window): does the table's size matter?
- *window*: the window itself holds ``small`` or ``big`` complaints: what grows with volume?

``read_units`` are DynamoDB's bill for the Queries, computed from the items' sizes the way
DynamoDB does (per request of at most 1 MB: bytes rounded up to 4 KB; eventually consistent =
half a unit): moto's own ``ConsumedCapacity`` is a constant.

The table is an in-memory model of DynamoDB's key layout by default (partition -> items in
sort-key order, range reads by bisection, 1 MB pages): moto answers every Query by looking at
*every item of the table*, which would make the big table look slow for moto's sake, and
writing 200k items into it takes minutes. ``--moto`` runs the same on moto anyway. Latency is
the reader's own work in process; on AWS add ~5-10 ms per Query round trip (the reader runs
the Queries of one level in parallel: 3 sequential rounds for a summary, 1 for hotspots).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from chalicelib.adapters.dynamodb import batch_write  # noqa: E402
from chalicelib.models import CATEGORIES  # noqa: E402
from chalicelib.reports.aggregates import CLOCKS, Contribution, display_bin, item_deltas, split_duration  # noqa: E402
from chalicelib.reports.dynamodb import AggregateReader  # noqa: E402
from chalicelib.reports.figures import Window, hotspots, summary  # noqa: E402
from chalicelib.triage import team_for  # noqa: E402

RESULTS = REPO / "bench" / "results" / "reports.json"
REGION = "us-east-1"
TABLE = "complaints-bench-tickets"
WINDOW = Window(date(2026, 11, 1), date(2026, 12, 1))  # 30 days
TEAM = {c: team_for(c) for c in CATEGORIES}
STATUSES = ("closed", "closed", "closed", "resolved", "in_progress", "awaiting_contact")
CHANNELS = ("app", "app", "web", "phone", "social", "marketplace")
SKUS = 3000  # a catalogue's worth of products complained about


def synthetic(rng: random.Random, order: str) -> Contribution:
    """What one complaint adds to its day (the keys of ``analytics.contribution``)."""
    c: Contribution = defaultdict(Decimal)

    def day(attr: str, amount: int | Decimal = 1) -> None:
        c[("D", "", attr)] += Decimal(amount)

    category = rng.choice(CATEGORIES)
    severity = rng.choices(("P1", "P2", "P3"), weights=(1, 2, 7))[0]
    team, status = TEAM[category], rng.choice(STATUSES)
    for attr in ("n", f"cat#{category}", f"sev#{severity}", f"team#{team}", f"ch#{rng.choice(CHANNELS)}", f"st#{status}", "src#api"):
        day(attr)
    level = 0
    for _name, short in CLOCKS.items():
        window = {"P1": 1800, "P2": 7200, "P3": 28800}[severity] * (1 if short == "fc" else 9)
        seconds = int(rng.lognormvariate(0, 0.8) * window / 2)
        done = status not in ("awaiting_contact",) if short == "fc" else status in ("closed", "resolved")
        outcome = ("breached" if seconds > window else "met") if done else "open"
        level = max(level, 1 if outcome == "breached" else 0)
        day(f"sla#{short}#{outcome}")
        day(f"slat#{short}#{team}#{outcome}")
        if done:
            b1, b2, b3 = split_duration(seconds)
            day(f"dur#{short}#n")
            day(f"dur#{short}#sum", seconds)
            day(f"l1#{short}#{b1}")
            day(f"bin#{short}#{display_bin(seconds)}")
            c[("H2", f"{short}#{b1}", f"h{b2}")] += 1
            c[("H3", f"{short}#{b1}#{b2}", f"h{b3}")] += 1
    for lvl in range(1, level + 1):
        day(f"esc#{lvl}")
    if level:
        day("vch#n")
        day("vch#amt", Decimal("5.00"))
        day("vch#r#first_contact_breach")
    if status in ("closed", "resolved"):
        day("csat#sent")
        if rng.random() < 0.6:
            score = rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 4, 5))[0]
            day("csat#resp")
            day("csat#sum", score)
            day(f"csat#s#{score}")
    c[("SKU", f"SKU-{int(rng.paretovariate(1.2)) % SKUS:04d}", "n")] += 1
    c[("ORD", order, "n")] += 1
    return c


def write_aggregates(ddb: Any, complaints: int, days: list[date], seed: int) -> int:
    """``complaints`` spread over ``days``, summed per day into aggregate items, batch-written."""
    rng = random.Random(seed)
    per_day: dict[str, Contribution] = defaultdict(lambda: defaultdict(Decimal))
    for i in range(complaints):
        day = days[i % len(days)].isoformat()
        order = f"O-{seed}-{i if rng.random() > 0.05 else max(0, i - rng.randint(1, 50))}"  # 5 % repeat orders
        for key, amount in synthetic(rng, order).items():
            per_day[day][key] += amount
    items = []
    for day, contrib in per_day.items():
        for delta in item_deltas(day, contrib):
            item = {"pk": {"S": delta.key["pk"]}, "sk": {"S": delta.key["sk"]}}
            item.update({attr: {"N": str(v)} for attr, v in delta.adds.items() if v})
            items.append(item)
    batch_write(ddb, TABLE, [{"PutRequest": {"Item": i}} for i in items])
    return len(items)


class KeyLayoutTable:
    """DynamoDB's data layout for the calls the reports and this bench make: ``batch_write_item``
    (puts) and ``query`` (``pk = :pk AND sk BETWEEN :lo AND :hi``, pages of 1 MB)."""

    PAGE_BYTES = 1024 * 1024

    def __init__(self) -> None:
        self.partitions: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.sorted: dict[str, list[str]] = {}
        self.scans: list[str] = []

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        for request in next(iter(RequestItems.values())):
            item = request["PutRequest"]["Item"]
            self.partitions[item["pk"]["S"]][item["sk"]["S"]] = item
            self.sorted.pop(item["pk"]["S"], None)
        return {}

    def query(self, **kwargs: Any) -> dict[str, Any]:
        import bisect

        from chalicelib.reports.dynamodb import item_size

        values = kwargs["ExpressionAttributeValues"]
        pk, lo, hi = values[":pk"]["S"], values[":lo"]["S"], values[":hi"]["S"]
        keys = self.sorted.get(pk)
        if keys is None:
            keys = self.sorted[pk] = sorted(self.partitions.get(pk, {}))
        start = kwargs.get("ExclusiveStartKey")
        first = bisect.bisect_right(keys, start["sk"]["S"]) if start else bisect.bisect_left(keys, lo)
        items, size = [], 0
        for sk in keys[first:bisect.bisect_right(keys, hi)]:
            item = self.partitions[pk][sk]
            items.append(item)
            size += item_size(item)
            if size >= self.PAGE_BYTES:
                return {"Items": items, "LastEvaluatedKey": {"pk": item["pk"], "sk": item["sk"]}}
        return {"Items": items}

    def get_paginator(self, operation: str) -> Any:
        assert operation == "query"
        return self

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Pages of :meth:`query` (what boto3's paginator does with ``LastEvaluatedKey``)."""
        while True:
            page = self.query(**kwargs)
            yield page
            if "LastEvaluatedKey" not in page:
                return
            kwargs = {**kwargs, "ExclusiveStartKey": page["LastEvaluatedKey"]}


@contextmanager
def table(use_moto: bool = False) -> Iterator[Any]:
    if not use_moto:
        yield KeyLayoutTable()
        return
    import boto3
    from moto import mock_aws

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "S"}])
        scans: list[str] = []
        ddb.meta.events.register("before-call.dynamodb.Scan", lambda **_: scans.append("Scan"))
        ddb.scans = scans
        yield ddb


def measure(ddb: Any, repeats: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, run in (("summary", lambda r: summary(r, WINDOW)), ("hotspots", lambda r: hotspots(r, WINDOW))):
        latencies, reader = [], None
        for _ in range(repeats):
            reader = AggregateReader(ddb, TABLE)
            started = time.perf_counter()
            run(reader)
            latencies.append((time.perf_counter() - started) * 1000)
        assert reader is not None
        figures[name] = {"latency_ms_median": round(statistics.median(latencies), 1), **reader.stats.as_dict()}
        families = _families(ddb, reader)
        figures[name]["read_units_by_family"] = families
    assert not ddb.scans, "a report scanned the table"
    return figures


def _families(ddb: Any, reader: AggregateReader) -> dict[str, float]:
    """Read units of the summary split into: the day items, the SKU/order counters (the
    histogram levels are the rest)."""
    fixed = AggregateReader(ddb, TABLE)
    fixed.day_items(WINDOW)
    counters = AggregateReader(ddb, TABLE)
    counters.counters(WINDOW, "sku")
    counters.counters(WINDOW, "order")
    return {"days": fixed.stats.read_units, "sku+order counters": counters.stats.read_units}


def scenario(name: str, in_window: int, before_window: int, repeats: int, use_moto: bool = False) -> dict[str, Any]:
    with table(use_moto) as ddb:
        started = time.perf_counter()
        window_days = [WINDOW.start + timedelta(days=i) for i in range(WINDOW.length)]
        written = write_aggregates(ddb, in_window, window_days, seed=1)
        if before_window:
            history = [WINDOW.start - timedelta(days=i) for i in range(1, 731)]
            written += write_aggregates(ddb, before_window, history, seed=2)
        setup_s = time.perf_counter() - started
        figures = measure(ddb, repeats)
    return {"scenario": name, "complaints_in_window": in_window, "complaints_in_table": in_window + before_window,
            "aggregate_items_in_table": written, "setup_s": round(setup_s, 1), **figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--moto", action="store_true", help="run on moto (slow, and its Query looks at every item)")
    args = parser.parse_args(argv)
    rows = [
        scenario("history: small table", args.small, 0, args.repeats, args.moto),
        scenario("history: big table", args.small, args.big - args.small, args.repeats, args.moto),
        scenario("window: small", args.small, 0, args.repeats, args.moto),
        scenario("window: big", args.big, 0, args.repeats, args.moto),
    ]
    print(f"{'scenario':<22} {'in window':>9} {'in table':>9} {'report':>8} {'ms':>7} {'queries':>7} {'items':>7} "
          f"{'KB read':>8} {'RCU':>6}  RCU days+histograms / sku+order")
    for row in rows:
        for report in ("summary", "hotspots"):
            f = row[report]
            families = f["read_units_by_family"]
            print(f"{row['scenario']:<22} {row['complaints_in_window']:>9} {row['complaints_in_table']:>9} {report:>8} "
                  f"{f['latency_ms_median']:>7} {f['queries']:>7} {f['items']:>7} {f['bytes'] / 1024:>8.1f} {f['read_units']:>6.1f}  "
                  f"{families['days']:.1f} / {families['sku+order counters']:.1f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "reports", "window_days": WINDOW.length, "rows": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
