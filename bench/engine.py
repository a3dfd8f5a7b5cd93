"""The local engine (issue 11, item 4): this revision against the revision before the engine
work, side by side in one run.

    python -m bench.engine [--before 330de4a] [--waiting 200] [--complaints 50] [--lifecycles 40]
                           [--time-scale 1200] [--rounds 2] [--query-sizes 500,10000] [--skip-load]

1. **Load** (``bench/engine_load.py``, one fresh process per revision, one after the other):
   the same script drives the local system of this checkout and of a temporary ``git
   worktree`` of ``--before``: complaints per second through triage and through a whole
   lifecycle at x1200, process CPU per complaint, the threads held while ``--waiting``
   complaints wait, the idle CPU share of one core (nothing to do; everything waiting), and
   how long ``stop()`` takes with all of them waiting. ``--rounds`` runs per revision in the
   order before, after, after, before, ...; the figures are the medians. Process CPU per
   complaint is the steadier figure on a shared machine: the complaints per second move with
   the CPU the neighbours leave.
2. **Query cost** (in this process): one DynamoDB ``Query`` of each kind the app makes (the
   timeline on the base table; ``by_order``, ``by_customer`` and ``team_queue`` on the GSIs) on
   the system's tickets table holding 500 and 10,000 items, moto as shipped (what the revision
   before answered with) against ``local.moto.dynamodb.indexed_queries``. Goal: flat.

Ratios are this revision's figure over the before's (or the 10,000-item cost over the
500-item one); bench/README.md says how to read them. Nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench._support import REPO, fmt, median, moto_stack, quiet, ratio, table, worktree, write_result

NAME = "engine"
BEFORE = "330de4a"  # the last commit before the engine work (local/moto_patches.py)
LOAD_SCRIPT = REPO / "bench" / "engine_load.py"
LOAD_TIMEOUT_S = 600  # one load run
QUERY_ROUNDS = 5
QUERIES_PER_ROUND = 20


# -- 1. load, both revisions ---------------------------------------------------------------------
def load(repo: Path, waiting: int, complaints: int, lifecycles: int, time_scale: float) -> dict[str, Any]:
    """``engine_load.py`` against ``repo`` in a fresh process (this interpreter): its figures."""
    command = [sys.executable, str(LOAD_SCRIPT), "--repo", str(repo), "--waiting", str(waiting),
               "--complaints", str(complaints), "--lifecycles", str(lifecycles), "--time-scale", str(time_scale)]
    proc = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=LOAD_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(f"load on {repo} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


def _median_figures(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every number over the rounds (nested dicts kept), the rest from the first."""
    first = runs[0]
    merged: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, dict):
            merged[key] = _median_figures([r[key] for r in runs])
        elif isinstance(value, int | float) and not isinstance(value, bool):
            middle = median([float(r[key]) for r in runs])
            merged[key] = int(middle) if isinstance(value, int) and middle.is_integer() else middle
        else:
            merged[key] = value
    return merged


def compare_load(before_rev: str, waiting: int, complaints: int, lifecycles: int, time_scale: float,
                 rounds: int) -> dict[str, Any]:
    """The load on both revisions, ``rounds`` times each in the order before, after, after,
    before, ... (a machine whose load drifts during the run favours neither); medians."""
    samples: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with worktree(before_rev) as before:
        order = [("before", before), ("after", REPO)]
        for n in range(rounds):
            for name, repo in order if n % 2 == 0 else order[::-1]:
                samples[name].append(load(repo, waiting, complaints, lifecycles, time_scale))
    runs: dict[str, Any] = {name: _median_figures(figures) for name, figures in samples.items()}
    b, a = runs["before"], runs["after"]
    runs["ratios"] = {
        "triage_complaints_per_s": ratio(a["triage"]["complaints_per_s"], b["triage"]["complaints_per_s"]),
        "triage_cpu_per_complaint": ratio(a["triage"]["cpu_s_per_complaint"], b["triage"]["cpu_s_per_complaint"]),
        "lifecycle_complaints_per_s": ratio(a["lifecycle"]["complaints_per_s"], b["lifecycle"]["complaints_per_s"]),
        "lifecycle_cpu_per_complaint": ratio(a["lifecycle"]["cpu_s_per_complaint"], b["lifecycle"]["cpu_s_per_complaint"]),
        "threads_waiting": ratio(a["threads_waiting"], b["threads_waiting"]),
        "idle_cpu_share": ratio(a["idle_cpu_share"], b["idle_cpu_share"]),
        "idle_cpu_share_waiting": ratio(a["idle_cpu_share_waiting"], b["idle_cpu_share_waiting"]),
        "stop_seconds": ratio(a["stop_seconds"], b["stop_seconds"]),
    }
    runs["before_revision"] = before_rev
    runs["rounds"] = rounds
    runs["samples"] = samples
    return runs


# -- 2. query cost ---------------------------------------------------------------------------------
CUSTOMER_COMPLAINTS = 5  # complaints per customer: the by_customer partition is the same at every size
TEAMS = ("product", "logistics", "service")


def fill(ddb: Any, table_name: str, items: int) -> dict[str, str]:
    """``items`` items shaped like the app's (a ticket with its GSI keys + 2 timeline events per
    complaint, as ``chalicelib.store`` writes them); returns the keys the queries look up. Every
    queried partition has the same size at every table size but the team queue's (a third of
    the tickets: what an agent's queue holds when nobody works it)."""
    complaints = max(1, items // 3)
    requests: list[dict[str, Any]] = []
    for n in range(complaints):
        cid = f"CMP-{n:06d}"
        created = f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:00:00Z#{cid}"
        requests.append({"PutRequest": {"Item": {
            "pk": {"S": f"C#{cid}"}, "sk": {"S": "TICKET"}, "complaint_id": {"S": cid}, "status": {"S": "awaiting_contact"},
            "customer_pk": {"S": f"CUST#C-{n // CUSTOMER_COMPLAINTS:05d}"}, "created_sk": {"S": created},
            "queue_pk": {"S": f"QUEUE#{TEAMS[n % 3]}"}, "queue_sk": {"S": created},
            "order_pk": {"S": f"ORDER#O-{n:06d}"}, "description": {"S": "x" * 200}}}})
        for event in ("received", "triaged"):
            requests.append({"PutRequest": {"Item": {"pk": {"S": f"C#{cid}"}, "sk": {"S": f"EV#{created}#{event}"},
                                                     "type": {"S": event}, "detail": {"S": "y" * 60}}}})
    for start in range(0, len(requests), 25):
        ddb.batch_write_item(RequestItems={table_name: requests[start:start + 25]})
    middle = complaints // 2
    return {"complaint": f"C#CMP-{middle:06d}", "order": f"ORDER#O-{middle:06d}",
            "customer": f"CUST#C-{middle // CUSTOMER_COMPLAINTS:05d}", "queue": f"QUEUE#{TEAMS[1]}"}


def queries(ddb: Any, table_name: str, keys: dict[str, str]) -> dict[str, Callable[[], Any]]:
    def q(**kwargs: Any) -> Callable[[], Any]:
        return lambda: ddb.query(TableName=table_name, **kwargs)

    return {
        "timeline (base table)": q(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": keys["complaint"]}}),
        "by_order (triage's lookup)": q(IndexName="by_order", KeyConditionExpression="order_pk = :o",
                                        ExpressionAttributeValues={":o": {"S": keys["order"]}}),
        "by_customer, newest 20": q(IndexName="by_customer", KeyConditionExpression="customer_pk = :c",
                                    ExpressionAttributeValues={":c": {"S": keys["customer"]}}, Limit=20,
                                    ScanIndexForward=False),
        "team_queue, first 50": q(IndexName="team_queue", KeyConditionExpression="queue_pk = :q",
                                  ExpressionAttributeValues={":q": {"S": keys["queue"]}}, Limit=50),
    }


def partition_sizes(ddb: Any, table_name: str, keys: dict[str, str]) -> dict[str, int]:
    """How many items each query's partition holds (what moto walks and sorts)."""
    def count(**kwargs: Any) -> int:
        total, kwargs = 0, {"TableName": table_name, "Select": "COUNT", **kwargs}
        while True:
            page = ddb.query(**kwargs)
            total += int(page["Count"])
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    return {
        "timeline (base table)": count(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": keys["complaint"]}}),
        "by_order (triage's lookup)": count(IndexName="by_order", KeyConditionExpression="order_pk = :o",
                                            ExpressionAttributeValues={":o": {"S": keys["order"]}}),
        "by_customer, newest 20": count(IndexName="by_customer", KeyConditionExpression="customer_pk = :c",
                                        ExpressionAttributeValues={":c": {"S": keys["customer"]}}),
        "team_queue, first 50": count(IndexName="team_queue", KeyConditionExpression="queue_pk = :q",
                                      ExpressionAttributeValues={":q": {"S": keys["queue"]}}),
    }


def clone_table(ddb: Any, source: str, name: str) -> None:
    """A table with ``source``'s keys and indexes (empty)."""
    described = ddb.describe_table(TableName=source)["Table"]
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=described["KeySchema"],
        AttributeDefinitions=described["AttributeDefinitions"],
        GlobalSecondaryIndexes=[{"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g["Projection"]}
                                for g in described.get("GlobalSecondaryIndexes", [])],
    )


@contextlib.contextmanager
def walked_items() -> Iterator[list[int]]:
    """How many items ``Table.all_items`` hands ``Table.query`` (moto walks and sorts them)."""
    from unittest import mock

    from moto.dynamodb.models.table import Table

    counts: list[int] = []
    current = Table.all_items

    def counting(self: Any) -> Any:
        items = current(self)
        counts.append(len(items))
        return items

    with mock.patch.object(Table, "all_items", counting):
        yield counts


def query_cost(sizes: list[int]) -> dict[str, Any]:
    """ms per query by kind, table size and mode (moto as shipped / indexed): one table per
    size (the tickets table's keys and indexes), sizes and modes interleaved in every round,
    median of the rounds."""
    import boto3

    from local.moto import dynamodb

    result: dict[str, Any] = {"sizes": sizes, "rounds": QUERY_ROUNDS, "queries_per_round": QUERIES_PER_ROUND}
    with quiet(), moto_stack() as stack_:
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        runs: dict[int, dict[str, Callable[[], Any]]] = {}
        for size in sizes:
            name = f"{stack_.table}-{size}"
            clone_table(ddb, stack_.table, name)
            keys = fill(ddb, name, size)
            runs[size] = queries(ddb, name, keys)
            result.setdefault("partition_items", {})[str(size)] = partition_sizes(ddb, name, keys)
        samples: dict[str, dict[str, dict[str, list[float]]]] = {
            str(s): {m: {k: [] for k in runs[s]} for m in ("shipped", "indexed")} for s in sizes}
        answers: dict[tuple[int, str], dict[str, Any]] = {}
        for _ in range(QUERY_ROUNDS):
            for mode in ("shipped", "indexed"):
                with dynamodb.indexed_queries() if mode == "indexed" else contextlib.nullcontext():
                    for size in sizes:
                        for kind, query in runs[size].items():
                            with walked_items() as walked:  # warm-up (builds the index); what moto walks
                                answers.setdefault((size, kind), {})[mode] = query()["Items"]
                            result.setdefault("walked_items", {}).setdefault(str(size), {}).setdefault(
                                mode, {})[kind] = sum(walked)
                            start = time.perf_counter()
                            for _ in range(QUERIES_PER_ROUND):
                                query()
                            elapsed = time.perf_counter() - start
                            samples[str(size)][mode][kind].append(elapsed / QUERIES_PER_ROUND * 1000)
    result["ms"] = {s: {m: {k: median(v) for k, v in kinds.items()} for m, kinds in modes.items()}
                    for s, modes in samples.items()}
    result["same_answers"] = all(a["shipped"] == a["indexed"] for a in answers.values())
    result["items_returned"] = {str(s): {k: len(answers[(s, k)]["shipped"]) for k in runs[s]} for s in sizes}
    small, large = str(sizes[0]), str(sizes[-1])
    result["growth"] = {m: {k: ratio(result["ms"][large][m][k], result["ms"][small][m][k]) for k in result["ms"][small][m]}
                        for m in ("shipped", "indexed")}
    result["speedup_at_largest"] = {k: ratio(result["ms"][large]["shipped"][k], result["ms"][large]["indexed"][k])
                                    for k in result["ms"][large]["shipped"]}
    return result


# -- report ----------------------------------------------------------------------------------------
def run(before: str = BEFORE, waiting: int = 200, complaints: int = 50, lifecycles: int = 40,
        time_scale: float = 1200.0, query_sizes: tuple[int, ...] = (500, 10_000), skip_load: bool = False,
        rounds: int = 2) -> dict[str, Any]:
    result: dict[str, Any] = {"time_scale": time_scale}
    if not skip_load:
        result["load"] = compare_load(before, waiting, complaints, lifecycles, time_scale, rounds)
    result["query"] = query_cost(list(query_sizes))
    return result


def report(result: dict[str, Any]) -> str:
    lines: list[str] = []
    if "load" in result:
        ld = result["load"]
        b, a, r = ld["before"], ld["after"], ld["ratios"]
        lines.append(f"== local engine: this revision vs {ld['before_revision']} (same load, one after the other, "
                     f"x{result['time_scale']:g}; median of {ld['rounds']} runs each, alternating)")
        rows = [
            [f"through triage, complaints/s ({b['triage']['complaints']} at once)", fmt(b["triage"]["complaints_per_s"]),
             fmt(a["triage"]["complaints_per_s"]), fmt(r["triage_complaints_per_s"])],
            ["  process CPU s per complaint", fmt(b["triage"]["cpu_s_per_complaint"], 3),
             fmt(a["triage"]["cpu_s_per_complaint"], 3), fmt(r["triage_cpu_per_complaint"])],
            ["  Lambda steps per complaint (timers that fired add some)", fmt(b["triage"]["lambda_steps_per_complaint"]),
             fmt(a["triage"]["lambda_steps_per_complaint"]), "-"],
            [f"whole lifecycle, complaints/s ({b['lifecycle']['complaints']} at once)",
             fmt(b["lifecycle"]["complaints_per_s"]), fmt(a["lifecycle"]["complaints_per_s"]),
             fmt(r["lifecycle_complaints_per_s"])],
            ["  process CPU s per complaint", fmt(b["lifecycle"]["cpu_s_per_complaint"], 3),
             fmt(a["lifecycle"]["cpu_s_per_complaint"], 3), fmt(r["lifecycle_cpu_per_complaint"])],
            [f"threads with {b['waiting_complaints']} complaints waiting (x{b['waiting_time_scale']:g})",
             str(b["threads_waiting"]),
             str(a["threads_waiting"]), fmt(r["threads_waiting"])],
            ["  threads of the idle system", str(b["threads_idle"]), str(a["threads_idle"]),
             fmt(ratio(a["threads_idle"], b["threads_idle"]))],
            ["idle CPU, share of one core (nothing to do)", f"{b['idle_cpu_share']:.2%}", f"{a['idle_cpu_share']:.2%}",
             fmt(r["idle_cpu_share"])],
            ["  with every complaint waiting", f"{b['idle_cpu_share_waiting']:.2%}",
             f"{a['idle_cpu_share_waiting']:.2%}", fmt(r["idle_cpu_share_waiting"])],
            ["stop() with every complaint waiting, s", fmt(b["stop_seconds"], 1), fmt(a["stop_seconds"], 1),
             fmt(r["stop_seconds"])],
        ]
        lines.append(table(rows, ["figure", "before", "after", "after / before"]))
        lines.append("")
    q = result["query"]
    small, large = str(q["sizes"][0]), str(q["sizes"][-1])
    lines.append(f"== DynamoDB Query, ms per query (median of {QUERY_ROUNDS} rounds of {QUERIES_PER_ROUND}), "
                 f"tickets table of {small} and {large} items")
    rows = []
    for kind in q["ms"][small]["shipped"]:
        parts = q["partition_items"]
        rows.append([kind, f"{q['items_returned'][large][kind]} of {parts[small][kind]} / {parts[large][kind]}",
                     fmt(q["ms"][small]["shipped"][kind]), fmt(q["ms"][large]["shipped"][kind]),
                     fmt(q["growth"]["shipped"][kind]),
                     fmt(q["ms"][small]["indexed"][kind]), fmt(q["ms"][large]["indexed"][kind]),
                     fmt(q["growth"]["indexed"][kind]), fmt(q["speedup_at_largest"][kind], 1),
                     f"{q['walked_items'][large]['shipped'][kind]} / {q['walked_items'][large]['indexed'][kind]}"])
    lines.append(table(rows, ["query", f"returned of partition ({small} / {large})", f"shipped {small}", f"shipped {large}", "growth",
                              f"indexed {small}", f"indexed {large}", "growth", f"shipped/indexed at {large}",
                              f"items walked at {large}: shipped / indexed"]))
    lines.append(f"  same answers, shipped vs indexed: {q['same_answers']}. The team queue's partition grows with the "
                 "table: moto sorts a whole partition before it stops at Limit (DynamoDB reads only Limit items).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help="the revision to compare with (default %(default)s)")
    parser.add_argument("--waiting", type=int, default=200, help="complaints parked to count threads and idle CPU")
    parser.add_argument("--complaints", type=int, default=50, help="complaints sent at once through triage")
    parser.add_argument("--lifecycles", type=int, default=40, help="complaints driven through a whole lifecycle at once")
    parser.add_argument("--time-scale", type=float, default=1200.0)
    parser.add_argument("--query-sizes", default="500,10000", help="table sizes of the Query cost, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="load runs per revision, alternating (medians)")
    parser.add_argument("--skip-load", action="store_true", help="only the Query cost (no worktree, seconds)")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.query_sizes.split(","))
    if min(args.waiting, args.complaints, args.lifecycles, args.rounds) < 1 or args.time_scale <= 0 or len(sizes) < 2 or min(sizes) < 3:
        parser.error("--waiting, --complaints, --lifecycles and --rounds >= 1, --time-scale > 0, two or more --query-sizes >= 3")
    result = run(args.before, args.waiting, args.complaints, args.lifecycles, args.time_scale, sizes, args.skip_load,
                 args.rounds)
    print(report(result))
    print(f"\nwritten: {write_result(NAME, result).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
