"""``make bench`` = ``python -m bench``: every benchmark, then one summary table.

    python -m bench                  # intake, lifecycle, imports, coldstart, triage_accuracy
    python -m bench imports intake   # some of them

Each benchmark runs in its own process (``python -m bench.<name>``: moto is process-wide, and
a fresh process keeps one benchmark's threads, tables and memory out of the next one's
figures), prints its own report and writes ``bench/results/<name>.json``; the triage accuracy
is computed here with ``bench.triage_accuracy``. The summary quotes every figure as a ratio
to the reference path of the same run (see bench/README.md for how to read them).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._support import REPO, RESULTS_DIR, fmt, table, write_result

BENCHMARKS = ("intake", "lifecycle", "imports", "coldstart")
TIMEOUT_S = 240
TIMEOUTS_S = {"coldstart": 600}  # builds two bundles, then ~25 fresh processes per round


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
    return {"datasets": datasets, "targets": {"category": 0.90, "team": 0.95, "p1_recall": 1.0}}


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


def lifecycle_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
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
        rows.append(["lifecycle", f"{name}: $ per 1,000 complaints (SFN + λ est.)", fmt(cost, 3),
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


def triage_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, d in r["datasets"].items():
        for key, target in (("category", 0.90), ("team", 0.95), ("severity", None), ("p1_recall", 1.0), ("p1_precision", None)):
            rows.append(["triage", f"{name} ({d['examples']}): {key}", f"{d[key]:.1%}",
                         f"target {target:.0%}" if target else "-", fmt(d[key] / target, 3) if target else "-"])
    return rows


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


SUMMARIES = {"intake": intake_rows, "lifecycle": lifecycle_rows, "imports": imports_rows, "coldstart": coldstart_rows,
             "triage_accuracy": triage_rows}


def main(argv: list[str]) -> int:
    names = [n for n in argv if not n.startswith("-")] or [*BENCHMARKS, "triage_accuracy"]
    unknown = [n for n in names if n not in SUMMARIES]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {', '.join(SUMMARIES)}", file=sys.stderr)
        return 2
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
