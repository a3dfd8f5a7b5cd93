"""Triage cost: time per complaint and the rule file's share of a cold start (issue 15).

    python -m bench.triage_speed [--cold-runs 7] [--rounds 5]

* **Cold start**, each in a fresh process (median of ``--cold-runs``, wall and CPU):
  ``import chalicelib.triage`` (after pydantic and ``chalicelib.models``, which ``app.py``
  imports anyway), then ``load_rules()`` (read, validate and index ``rules.toml``),
  then the first triage of an English complaint with a typo (which reads the speller's word
  list) — against ``import boto3`` measured the same way (the Lambda runtime's own import, the
  yardstick the cold-start budget is quoted in).
* **Per complaint** (warm, every labelled complaint of the data sets, median of ``--rounds``):
  ``triage()`` against ``normalize()`` alone — the floor any text classifier pays (NFKC, lower
  case) — in µs and as a ratio.
* **Report**: ``triage_report`` (accuracy, confusion, proposals) over every labelled complaint
  posing as a correction.
* **A rule edit's cost** (``--baseline-rules OLD.toml``, e.g. ``git show
  main:chalicelib/triage/rules.toml > /tmp/old.toml``): building the rules (read, validate,
  index) and ``triage()`` per complaint with the old file and the deployed one, interleaved in
  one process, as ratios — the figure to quote on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from bench._support import REPO, fmt, median, table, write_result
from bench.triage_accuracy import DATASETS
from chalicelib.models import Category
from chalicelib.triage import RULES_PATH, Rules, load_rules, normalize, triage
from chalicelib.triage.corrections import Correction
from chalicelib.triage.replay import LabelledCase, read_examples
from chalicelib.triage.report import triage_report
from chalicelib.triage.rules import build_rules, read_toml

_CHILD = """
import json, time
import pydantic, chalicelib.models  # imported by app.py anyway: not triage's cost
t0, c0 = time.perf_counter(), time.process_time()
import chalicelib.triage as T
t1, c1 = time.perf_counter(), time.process_time()
T.load_rules()
t2, c2 = time.perf_counter(), time.process_time()
T.triage(T.TriageInput(text="The parcel was marked deliverd but I never recieved it"))
t3, c3 = time.perf_counter(), time.process_time()
print(json.dumps({"import": [t1 - t0, c1 - c0], "load_rules": [t2 - t1, c2 - c1], "first_triage": [t3 - t2, c3 - c2]}))
"""
_BOTO3 = """
import json, time
t0, c0 = time.perf_counter(), time.process_time()
import boto3
print(json.dumps({"boto3": [time.perf_counter() - t0, time.process_time() - c0]}))
"""


def _child(code: str) -> dict[str, list[float]]:
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True)
    timings: dict[str, list[float]] = json.loads(out.stdout)
    return timings


def cold_start(runs: int) -> dict[str, Any]:
    _child(_CHILD), _child(_BOTO3)  # compile the bytecode first
    samples: dict[str, list[list[float]]] = {}
    for _ in range(runs):  # interleaved, so a busy moment hits both
        for name, values in (_child(_CHILD) | _child(_BOTO3)).items():
            samples.setdefault(name, []).append(values)
    result = {
        name: {"wall_ms": median([v[0] for v in vs]) * 1000, "cpu_ms": median([v[1] for v in vs]) * 1000}
        for name, vs in samples.items()
    }
    boto3 = result["boto3"]
    for name in ("import", "load_rules", "first_triage"):
        result[name]["ratio_to_boto3"] = result[name]["wall_ms"] / boto3["wall_ms"]
        result[name]["cpu_ratio_to_boto3"] = result[name]["cpu_ms"] / boto3["cpu_ms"]
    return result


def _per_item(action: Callable[[Any], Any], items: Sequence[Any], rounds: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        for item in items:
            action(item)
        walls.append((time.perf_counter() - t0) / len(items) * 1e6)
        cpus.append((time.process_time() - c0) / len(items) * 1e6)
    return median(walls), median(cpus)


def per_complaint(cases: Sequence[LabelledCase], rounds: int) -> dict[str, Any]:
    inputs = [case.to_input() for case in cases]
    triage(inputs[0])  # rules loaded, word list read
    triage_wall, triage_cpu = _per_item(triage, inputs, rounds)
    floor_wall, floor_cpu = _per_item(normalize, [case.text for case in cases], rounds)
    return {
        "complaints": len(cases), "triage_us": triage_wall, "triage_cpu_us": triage_cpu,
        "normalize_us": floor_wall, "normalize_cpu_us": floor_cpu,
        "ratio_to_normalize": triage_wall / floor_wall, "cpu_ratio_to_normalize": triage_cpu / floor_cpu,
    }


def _build(path: Path) -> tuple[Rules, float]:
    c0 = time.process_time()
    rules = build_rules(read_toml(path))
    return rules, time.process_time() - c0


def compare_rules(baseline: Path, cases: Sequence[LabelledCase], rounds: int, builds: int = 15) -> dict[str, Any]:
    """The deployed rule file against ``baseline`` in one process: build CPU ms and triage CPU µs."""
    paths = {"baseline": baseline, "current": RULES_PATH}
    build_ms: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(builds):  # interleaved, so a busy moment hits both
        for name, path in paths.items():
            build_ms[name].append(_build(path)[1] * 1000)
    rules = {name: _build(path)[0] for name, path in paths.items()}
    inputs = [case.to_input() for case in cases]
    per_us: dict[str, list[float]] = {name: [] for name in paths}
    for name in paths:
        triage(inputs[0], rules[name])  # the speller's word list read
    for _ in range(rounds):
        for name in paths:
            c0 = time.process_time()
            for item in inputs:
                triage(item, rules[name])
            per_us[name].append((time.process_time() - c0) / len(inputs) * 1e6)
    result: dict[str, Any] = {
        name: {"build_cpu_ms": median(build_ms[name]), "triage_cpu_us": median(per_us[name]),
               "phrases": sum(len(s) for s in _phrase_sets(rules[name]))}
        for name in paths
    }
    result["build_ratio"] = result["current"]["build_cpu_ms"] / result["baseline"]["build_cpu_ms"]
    result["triage_ratio"] = result["current"]["triage_cpu_us"] / result["baseline"]["triage_cpu_us"]
    return result


def report_cost(cases: Sequence[LabelledCase]) -> dict[str, Any]:
    """``triage_report`` over every labelled complaint as if staff had corrected it to its label."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    corrections = []
    for i, case in enumerate(cases):
        said = triage(case.to_input())
        corrections.append(Correction(
            complaint_id=f"CMP-{i:05d}", text=case.text, product_kind=case.product_kind,
            order_amount=case.order_amount, tier=case.tier, predicted_category=cast(Category, said.category),
            predicted_severity=said.severity, corrected_category=case.category, corrected_severity=case.severity,
            actor="bench", at=now,
        ))
    t0 = time.perf_counter()
    report = triage_report(len(corrections), corrections)
    return {"corrections": len(corrections), "corrected": report.corrected, "proposals": len(report.proposals),
            "report_ms": (time.perf_counter() - t0) * 1000}


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.triage_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline-rules", type=Path, help="an older rules.toml to compare the deployed one with")
    args = parser.parse_args(argv)
    cases = [case for path in DATASETS if path.exists() for case in read_examples(Path(path))]
    if args.baseline_rules is not None:
        cmp = compare_rules(args.baseline_rules, cases, args.rounds)
        old, new = cmp["baseline"], cmp["current"]
        print(table([
            ["phrases", str(old["phrases"]), str(new["phrases"]), "-"],
            ["build rules (read, validate, index)", f"{fmt(old['build_cpu_ms'], 1)} ms CPU",
             f"{fmt(new['build_cpu_ms'], 1)} ms CPU", fmt(cmp["build_ratio"], 3)],
            [f"triage() per complaint ({len(cases)})", f"{fmt(old['triage_cpu_us'], 0)} µs CPU",
             f"{fmt(new['triage_cpu_us'], 0)} µs CPU", fmt(cmp["triage_ratio"], 3)],
        ], ["figure", str(args.baseline_rules), "deployed rules.toml", "ratio"]))
        write_result("triage_speed_rules", cmp)
        return 0
    load_rules()
    result = {
        "cold_start": cold_start(args.cold_runs),
        "per_complaint": per_complaint(cases, args.rounds),
        "report": report_cost(cases),
        "rule_file": {"phrases": sum(len(s) for s in _phrase_sets()), "bytes": _rule_bytes()},
    }
    cold, warm, rep = result["cold_start"], result["per_complaint"], result["report"]
    rows = [
        [name, f"{fmt(cold[name]['wall_ms'], 1)} ms ({fmt(cold[name]['cpu_ms'], 1)} CPU)",
         f"import boto3 {fmt(cold['boto3']['wall_ms'], 0)} ms ({fmt(cold['boto3']['cpu_ms'], 0)} CPU)",
         f"{fmt(cold[name]['ratio_to_boto3'], 3)} (CPU {fmt(cold[name]['cpu_ratio_to_boto3'], 3)})"]
        for name in ("import", "load_rules", "first_triage")
    ]
    rows.append(["triage() per complaint (warm)", f"{fmt(warm['triage_us'], 0)} µs ({fmt(warm['triage_cpu_us'], 0)} CPU)",
                 f"normalize() {fmt(warm['normalize_us'], 1)} µs ({fmt(warm['normalize_cpu_us'], 1)} CPU)",
                 f"{fmt(warm['ratio_to_normalize'], 1)} (CPU {fmt(warm['cpu_ratio_to_normalize'], 1)})"])
    rows.append([f"triage_report, {rep['corrections']} corrections", f"{fmt(rep['report_ms'], 0)} ms",
                 f"{rep['proposals']} proposals", "-"])
    print(table(rows, ["figure", "value", "reference (same run)", "ratio"]))
    write_result("triage_speed", result)
    return 0


def _phrase_sets(rules: Rules | None = None) -> list[Any]:
    rules = rules or load_rules()
    return [rules.category_phrases, rules.severity_phrases, *(t.phrases for t in rules.together)]


def _rule_bytes() -> int:
    return RULES_PATH.stat().st_size


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
