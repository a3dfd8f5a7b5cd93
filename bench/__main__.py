"""``make bench`` = ``python -m bench``: every benchmark, then one summary table.

    python -m bench                  # intake, lifecycle, imports, engine, triage_speed, policy, coldstart, simulate, triage_accuracy
    python -m bench imports intake   # some of them

Each benchmark runs in its own process (``python -m bench.<name>``: moto is process-wide, and
a fresh process keeps one benchmark's threads, tables and memory out of the next one's
figures), prints its own report and writes ``bench/results/<name>.json``; the triage accuracy
is computed here with ``bench.triage_accuracy``. The summary quotes every figure as a ratio
to the reference path of the same run (see bench/README.md for how to read them).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._support import REPO, RESULTS_DIR, fmt, table, write_result

BENCHMARKS = ("intake", "lifecycle", "imports", "engine", "triage_speed", "policy", "coldstart", "simulate")
TIMEOUT_S = 240
TIMEOUTS_S = {"engine": 1800,  # two revisions under load, twice each, and 10,000-item tables
              "lifecycle": 900,  # two revisions, one after the other
              "coldstart": 900,  # builds two bundles, then ~25 fresh processes per round
              "simulate": 900}  # a week twice two ways, and the cross-check on the local system


def run_benchmark(name: str) -> tuple[dict[str, Any] | None, str]:
    started = time.perf_counter()
    print(f"\n### bench.{name}", flush=True)
    try:
        proc = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=REPO, timeout=TIMEOUTS_S.get(name, TIMEOUT_S))
    except subprocess.TimeoutExpired:
        return None, f"timed out after {TIMEOUTS_S.get(name, TIMEOUT_S)} s"
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        return None, f"exit code {proc.returncode}"
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")), f"{elapsed:.0f} s"


def triage_figures() -> dict[str, Any]:
    from bench import triage_accuracy

    datasets = {}
    for path in triage_accuracy.DATASETS:
        if not Path(path).exists():
            continue
        scores = triage_accuracy.evaluate(triage_accuracy.load_examples(Path(path)))
        datasets[Path(path).name] = {
            "examples": scores.total, "category": scores.category, "team": scores.team, "severity": scores.severity,
            "p1_recall": scores.p1_recall, "p1_precision": scores.p1_precision, "misses": list(scores.misses),
        }
    return {"datasets": datasets, "targets": triage_accuracy.TARGETS}


# -- the summary ------------------------------------------------------------------------------------
Row = list[str]


def intake_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    floor = sum(r["calls"]["floor"].values())
    for variant, label in (("no_key", "AWS calls / accepted complaint"), ("with_key", "… with Idempotency-Key"),
                           ("replay_same_key", "… replay of the same key")):
        v = r["calls"]["variants"][variant]
        rows.append(["intake", label, fmt(v["total_per_request"], 2), f"floor {floor} (PutItem + StartExecution)",
                     fmt(v["ratio_to_floor"], 2)])
    tp = r["throughput"]
    put = tp["rps"]["put_item"]
    labels = {"http_noop": "POST /complaints req/s (chalice.test, no-op machine)",
              "service_noop": "intake.submit() calls/s (no-op machine)",
              "put_item_start_execution": "put_item + start_execution loop /s",
              "http_with_lifecycle": "POST /complaints req/s, real lifecycle running"}
    cpu = tp["cpu_ms_per_request"]
    for key, label in labels.items():
        rows.append(["intake", label, f"{fmt(tp['rps'][key], 0)} ({fmt(cpu[key], 1)} CPU ms)",
                     f"put_item loop {fmt(put, 0)}/s ({fmt(cpu['put_item'], 1)} CPU ms)",
                     f"{fmt(tp['ratio_to_put_item'][key], 3)} (CPU {fmt(tp['cpu_ratio_to_put_item'][key], 3)})"])
    return rows


def lifecycle_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    r = result["after"]  # this revision (the before revision's figures: bench.lifecycle's own report)
    for name, s in r["scenarios"].items():
        before = result["before"]["scenarios"].get(name)
        if before:
            rows.append(["lifecycle", f"{name}: billed transitions, this revision vs {result['before_revision']}",
                         str(s["billed_transitions"]), f"before {before['billed_transitions']}",
                         fmt(result["ratios"][name]["billed_transitions"], 2)])
    scenarios = r["scenarios"]
    happy = scenarios.get("happy")
    for name, s in scenarios.items():
        flag = "" if s["faithful"] else " (NOT FAITHFUL, see its report)"
        cost = s["cost_per_1000_complaints"]["total_usd"]
        rows.append(["lifecycle", f"{name}: billed transitions / complaint{flag}", str(s["billed_transitions"]),
                     f"happy {happy['billed_transitions']}" if happy else "-",
                     fmt(s["billed_transitions"] / happy["billed_transitions"], 2) if happy else "-"])
        rows.append(["lifecycle", f"{name}: Lambda invocations (workflow + API)",
                     f"{s['workflow_lambda_invocations']} + {s['api_requests']}",
                     f"happy {happy['lambda_invocations_total']}" if happy else "-",
                     fmt(s["lambda_invocations_total"] / happy["lambda_invocations_total"], 2) if happy else "-"])
        rows.append(["lifecycle", f"{name}: $ per 1,000 complaints (SFN + λ est. + DynamoDB)", fmt(cost, 3),
                     f"happy ${fmt(happy['cost_per_1000_complaints']['total_usd'], 3)}" if happy else "-",
                     fmt(cost / happy["cost_per_1000_complaints"]["total_usd"], 2) if happy else "-"])
    for name, error in r.get("errors", {}).items():
        rows.append(["lifecycle", f"{name}: FAILED", error[:60], "-", "-"])
    return rows


def imports_rows(r: dict[str, Any]) -> list[Row]:
    rps, n = r["records_per_s"], r["records"]
    cpr = r["calls_per_record"]
    second = r["second_delivery"]
    return [
        ["imports", f"import_batch records/s ({n}-record message)", fmt(rps["import_batch"], 0),
         f"naive put+start {fmt(rps['naive'], 0)}/s", fmt(r["ratio_import_to_naive"], 2)],
        ["imports", "… against the floor", fmt(rps["import_batch"], 0),
         f"BatchWrite/25 + start {fmt(rps['floor'], 0)}/s", fmt(r["ratio_import_to_floor"], 2)],
        ["imports", "AWS calls / record", fmt(cpr["import_batch"], 3), f"floor {fmt(cpr['floor_computed'], 3)}",
         fmt(cpr["import_batch"] / cpr["floor_computed"], 3)],
        ["imports", "… naive baseline", fmt(cpr["naive"], 3), f"floor {fmt(cpr['floor_computed'], 3)}",
         fmt(cpr["naive"] / cpr["floor_computed"], 3)],
        ["imports", "2nd delivery: new tickets / executions",
         f"{second['while_received']['created_tickets']} / {second['while_received']['created_executions']}",
         f"{n} records", "0"],
        ["imports", "2nd delivery AWS calls (workflows not started / after triage)",
         f"{second['while_received']['calls_total']} / {second['after_triage']['calls_total']}",
         f"first delivery {sum(r['calls']['import_batch'].values())}",
         f"{fmt(second['while_received']['calls_total'] / sum(r['calls']['import_batch'].values()), 2)} / "
         f"{fmt(second['after_triage']['calls_total'] / sum(r['calls']['import_batch'].values()), 3)}"],
        ["imports", "same records, new batch id: duplicates", str(second["overlapping_batch"]["report"]["duplicates"]),
         f"{n} records", fmt(second["overlapping_batch"]["report"]["duplicates"] / n, 2)],
        ["imports", "handler peak memory (MiB, tracemalloc, incl. moto)", fmt(r["memory"]["handler"]["peak_mib"], 1),
         f"function memory {r['memory']['lambda_memory_mb']} MB", fmt(r["memory"]["handler"]["peak_mib"] / r["memory"]["lambda_memory_mb"], 3)],
        ["imports", "moto: 3-item transaction as shipped (ms)", fmt(r["moto_transaction"]["as_shipped_s"] * 1000, 0),
         f"item-level rollback {fmt(r['moto_transaction']['item_level_rollback_s'] * 1000, 1)} ms "
         f"({r['moto_transaction']['table_items']} items)", fmt(r["moto_transaction"]["ratio_as_shipped_to_item_level"], 0)],
    ]


def engine_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    load = r.get("load")
    if load:
        b, a, x = load["before"], load["after"], load["ratios"]
        before = load["before_revision"]
        rows += [
            ["engine", f"complaints/s through triage ({b['triage']['complaints']} at once, x{r['time_scale']:g})",
             fmt(a["triage"]["complaints_per_s"]), f"{before}: {fmt(b['triage']['complaints_per_s'])}",
             fmt(x["triage_complaints_per_s"])],
            ["engine", f"complaints/s through a whole lifecycle ({b['lifecycle']['complaints']} at once)",
             fmt(a["lifecycle"]["complaints_per_s"]), f"{before}: {fmt(b['lifecycle']['complaints_per_s'])}",
             fmt(x["lifecycle_complaints_per_s"])],
            ["engine", f"threads, {b['waiting_complaints']} complaints waiting", str(a["threads_waiting"]),
             f"{before}: {b['threads_waiting']}", fmt(x["threads_waiting"])],
            ["engine", "idle CPU, share of one core", f"{a['idle_cpu_share']:.2%}", f"{before}: {b['idle_cpu_share']:.2%}",
             fmt(x["idle_cpu_share"])],
        ]
    q = r["query"]
    small, large = str(q["sizes"][0]), str(q["sizes"][-1])
    for kind in q["ms"][small]["indexed"]:
        rows.append(["engine", f"Query {kind}: ms at {large} items (indexed)", fmt(q["ms"][large]["indexed"][kind]),
                     f"at {small}: {fmt(q['ms'][small]['indexed'][kind])}; moto as shipped x{fmt(q['growth']['shipped'][kind], 1)}",
                     fmt(q["growth"]["indexed"][kind])])
    return rows


def triage_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    targets = r["targets"]
    for name, d in r["datasets"].items():
        for key in ("category", "team", "severity", "p1_recall", "p1_precision"):
            target = targets.get(key)
            rows.append(["triage", f"{name} ({d['examples']}): {key}", f"{d[key]:.1%}",
                         f"target {target:.0%}" if target else "-", fmt(d[key] / target, 3) if target else "-"])
    return rows


def triage_speed_rows(r: dict[str, Any]) -> list[Row]:
    cold, warm = r["cold_start"], r["per_complaint"]
    boto3 = cold["boto3"]
    rows: list[Row] = []
    for key, label in (("import", "import chalicelib.triage, ms (CPU)"), ("load_rules", "load_rules(): rules.toml read + indexed"),
                       ("first_triage", "first triage (reads the word list)")):
        rows.append(["triage", label, f"{fmt(cold[key]['wall_ms'], 1)} ({fmt(cold[key]['cpu_ms'], 1)})",
                     f"import boto3 {fmt(boto3['wall_ms'], 0)} ({fmt(boto3['cpu_ms'], 0)})",
                     f"{fmt(cold[key]['ratio_to_boto3'], 3)} (CPU {fmt(cold[key]['cpu_ratio_to_boto3'], 3)})"])
    rows.append(["triage", "triage() µs per complaint (CPU)", f"{fmt(warm['triage_us'], 0)} ({fmt(warm['triage_cpu_us'], 0)})",
                 f"normalize() {fmt(warm['normalize_us'], 1)}", f"{fmt(warm['ratio_to_normalize'], 1)}"])
    return rows


def policy_rows(r: dict[str, Any]) -> list[Row]:
    from bench import policy

    return [["policy", *row] for row in policy.rows(r)]


def coldstart_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    ratios, base = r["ratios_to_boto3"], r["timings"]["boto3"]
    reference = f"import boto3 {fmt(base['wall_s'] * 1000, 0)} ms ({fmt(base['cpu_s'] * 1000, 0)} CPU)"
    for name in r["handler_modules"]["after"]:
        for key, label in ((f"before/{name}/ready", "before"), (f"after/{name}/init", "after, init only"),
                           (f"after/{name}/ready", "after"), (f"after/{name}/ready+xray_sdk", "after + X-Ray SDK (option a)")):
            if key in ratios:
                ms = r["timings"][key]["wall_s"] * 1000
                rows.append(["coldstart", f"{name}: {label}, ms wall", fmt(ms, 0), reference,
                             f"{fmt(ratios[key]['wall'])} (CPU {fmt(ratios[key]['cpu'])})"])
    lib = ratios["libraries"]
    rows.append(["coldstart", "floor: boto3 + chalice + pydantic + Powertools imports, ms wall",
                 fmt(r["timings"]["libraries"]["wall_s"] * 1000, 0), reference, f"{fmt(lib['wall'])} (CPU {fmt(lib['cpu'])})"])
    bundles = r["bundles"]
    for label, b in bundles.items():
        ref = bundles.get("before", b)
        rows.append(["coldstart", f"bundle {label}: MB zipped / unpacked / files (botocore)",
                     f"{fmt(b['zipped_bytes'] / 1e6, 1)} / {fmt(b['unpacked_bytes'] / 1e6, 1)} / {b['files']} ({b['botocore_files']})",
                     "before" if label != "before" else "-", fmt(b["zipped_bytes"] / ref["zipped_bytes"]) if label != "before" else "-"])
    return rows


def simulate_rows(r: dict[str, Any]) -> list[Row]:
    week, cross = r["week"], r["cross_check"]
    rows: list[Row] = [
        ["simulate", f"a week ({week['complaints']} complaints), 2 policies: wall s", fmt(week["wall_s"], 1),
         "goal 60 s", fmt(week["ratio_wall_to_goal"], 2)],
        ["simulate", "… side by side vs one after the other", fmt(week["wall_s"], 1),
         f"--jobs 1: {fmt(week['wall_one_by_one_s'], 1)} s", fmt(week["ratio_side_by_side_to_one_by_one"], 2)],
        ["simulate", "… CPU s, peak MB", f"{fmt(week['cpu_s'], 1)}, {week['peak_rss_mb']}",
         f"identical JSON: {week['identical_json_every_run']}", "-"],
    ]
    if "local_system_s" in cross:
        rows.append(["simulate", f"cross-check load ({cross['complaints']} complaints): local system s",
                     fmt(cross["local_system_s"], 1), f"simulated {fmt(cross['simulated_s'] * 1000, 0)} ms; agree: {cross['agree']}",
                     fmt(cross["ratio_local_to_simulated"], 0)])
    return rows


SUMMARIES = {"intake": intake_rows, "lifecycle": lifecycle_rows, "imports": imports_rows, "engine": engine_rows, "triage_speed": triage_speed_rows,
             "policy": policy_rows, "coldstart": coldstart_rows, "simulate": simulate_rows,
             "triage_accuracy": triage_rows}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run benchmarks (each in its own process), then print one summary table.",
        epilog="Figures are written to bench/results/<name>.json; bench/README.md explains them.")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all of {', '.join(SUMMARIES)})")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    names = parser.parse_args(argv).names or [*BENCHMARKS, "triage_accuracy"]
    unknown = [n for n in names if n not in SUMMARIES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(SUMMARIES)}")
    results: dict[str, dict[str, Any]] = {}
    status: dict[str, str] = {}
    started = time.perf_counter()
    for name in names:
        if name == "triage_accuracy":
            t0 = time.perf_counter()
            results[name] = triage_figures()
            write_result(name, results[name])
            status[name] = f"{time.perf_counter() - t0:.0f} s"
            continue
        result, status[name] = run_benchmark(name)
        if result is not None:
            results[name] = result
    rows: list[Row] = []
    for name in names:
        if name in results:
            rows += SUMMARIES[name](results[name])
        else:
            rows.append([name, "FAILED", status[name], "-", "-"])
    print(f"\n### summary ({time.perf_counter() - started:.0f} s; per benchmark: "
          + ", ".join(f"{k} {v}" for k, v in status.items()) + ")")
    print(table(rows, ["bench", "figure", "value", "reference (same run)", "ratio"]))
    print(f"\nresults: {RESULTS_DIR.relative_to(REPO)}/<name>.json   how to read them: bench/README.md")
    return 0 if all(n in results for n in names) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
