"""``python -m bench.simulate``: what the SLA policy simulator costs.

1. **A week of 2,000 complaints, two policies compared** (``python -m local simulate --load
   WEEK --compare RETIMED``): the real definition against a retimed copy (first-contact
   windows halved, a steeper ladder), with agents that keep up with the real one. Wall time
   against the 60 s goal (the ratio), CPU seconds, peak memory (resident set of the biggest
   process), and the same run with the policies one after the other (``--jobs 1``): the ratio
   is what running them side by side buys on this machine now.
2. **The cross-check load** (``local/simulate/crosscheck.py``: three complaints, 7 SLA
   hours): the simulator's wall time against the local system's (the e2e cross-check test at
   x1200, moto, HTTP), and whether their figures per complaint agree (that test's verdict).

Runs the command in fresh processes (as ops would); the load is made with ``--make-load``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._support import REPO, fmt, machine, median, quiet, ratio, table, write_result

NAME = "simulate"
GOAL_S = 60.0
STAFF = "product=6,logistics=4,service=3"


def retimed(definition: dict[str, Any]) -> dict[str, Any]:
    result = definition["States"]["ServiceLevelPolicy"]["Result"]
    for severity in ("P1", "P2", "P3"):
        result[severity]["first_contact_s"] //= 2
    for level in result["escalation"]["levels"]:
        level["next_window_fraction"] /= 2
    return definition


def _run(args: list[str], stdout: Any = subprocess.PIPE) -> tuple[float, float, int, str]:
    """(wall s, CPU s, peak RSS MB of the children, stdout) of ``python -m local simulate ...``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "local", "simulate", *args], cwd=REPO, check=True, stdout=stdout,
                          stderr=subprocess.DEVNULL, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, int(after.ru_maxrss / 1024), proc.stdout or ""


def measure_week(days: int, per_day: int, rounds: int, work: Path) -> dict[str, Any]:
    load = work / "week.jsonl"
    subprocess.run([sys.executable, "-m", "local", "simulate", "--make-load", "--days", str(days), "--per-day",
                    str(per_day), "--out", str(load)], cwd=REPO, check=True, stderr=subprocess.DEVNULL)
    definition = json.loads((REPO / "state_machines" / "lifecycle.asl.json").read_text(encoding="utf-8"))
    other = work / "retimed.asl.json"
    other.write_text(json.dumps(retimed(definition)), encoding="utf-8")
    common = ["--load", str(load), "--compare", str(other), "--staff", STAFF, "--json"]
    side_by_side: list[tuple[float, float]] = []
    one_by_one: list[tuple[float, float]] = []
    peak = 0
    figures: dict[str, Any] = {}
    outputs = set()
    for _ in range(rounds):  # interleaved: what the machine's other load does hits both alike
        wall, cpu, rss, out = _run(common)
        side_by_side.append((wall, cpu))
        peak = max(peak, rss)
        outputs.add(out)
        figures = json.loads(out)
        wall, cpu, rss, out = _run([*common, "--jobs", "1"])
        one_by_one.append((wall, cpu))
        outputs.add(out)
    wall_2 = median([w for w, _ in side_by_side])
    wall_1 = median([w for w, _ in one_by_one])
    cpu_2 = median([c for _, c in side_by_side])
    first, second = figures["policies"]
    return {
        "complaints": figures["complaints"], "policies": 2, "rounds": rounds, "staff": STAFF,
        "wall_s": wall_2, "wall_one_by_one_s": wall_1, "cpu_s": cpu_2,
        "cpu_s_per_1000_complaints_and_policy": cpu_2 / (2 * figures["complaints"] / 1000),
        "peak_rss_mb": peak,
        "ratio_wall_to_goal": ratio(wall_2, GOAL_S),
        "ratio_side_by_side_to_one_by_one": ratio(wall_2, wall_1),
        "identical_json_every_run": len(outputs) == 1,
        "figures": {p["name"].rsplit("/", 1)[-1]: {
            "first_contact_compliance": p["first_contact"]["compliance"], "resolution_compliance": p["resolution"]["compliance"],
            "escalations": p["escalations"], "vouchers": p["vouchers"], "transitions": p["transitions"],
            "lambda_invocations": p["lambda_invocations"], "cost_usd": p["cost_usd"]} for p in (first, second)},
        "difference": figures["difference"],
    }


def measure_cross_check(skip_local: bool) -> dict[str, Any]:
    from infra.resources import state_machine_files
    from local.simulate import crosscheck

    definition = json.loads(state_machine_files()["lifecycle"].read_text(encoding="utf-8"))
    crosscheck.four_and_twelve_hours(definition)
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    samples = []
    with quiet():
        crosscheck.simulated(definition, start)  # warm: the rules file, the policy model
        for _ in range(5):
            t0 = time.perf_counter()
            outcome = crosscheck.simulated(definition, start)
            samples.append(time.perf_counter() - t0)
    sim_s = median(samples)
    out: dict[str, Any] = {"complaints": len(outcome), "sla_hours": (crosscheck.LAST_ACTION_S + crosscheck.HOUR) / 3600,
                           "simulated_s": sim_s, "simulated": outcome}
    if skip_local:
        return out
    t0 = time.perf_counter()
    test = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--reruns", "0",
                           "tests/e2e/test_simulator_cross_check.py"], cwd=REPO, capture_output=True, text=True)
    local_s = time.perf_counter() - t0
    out.update(local_system_s=local_s, agree=test.returncode == 0, ratio_local_to_simulated=ratio(local_s, sim_s))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--per-day", type=int, default=286, help="complaints a day (default 286: 2,002 a week)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each variant (median)")
    parser.add_argument("--skip-local", action="store_true", help="no local-system run of the cross-check load")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        week = measure_week(args.days, args.per_day, args.rounds, Path(tmp))
    cross = measure_cross_check(args.skip_local)
    result = {"machine": {**machine(), "load_average_before": load_before, "load_average_after": os.getloadavg()[0]},
              "week": week, "cross_check": cross}
    write_result(NAME, result)
    rows = [
        ["week: wall, 2 policies side by side", f"{fmt(week['wall_s'], 1)} s", f"{fmt(week['ratio_wall_to_goal'])} x goal (60 s)"],
        ["week: wall, one after the other", f"{fmt(week['wall_one_by_one_s'], 1)} s",
         f"side by side {fmt(week['ratio_side_by_side_to_one_by_one'])} x"],
        ["week: CPU", f"{fmt(week['cpu_s'], 1)} s", f"{fmt(week['cpu_s_per_1000_complaints_and_policy'], 1)} s per 1,000 complaints x policy"],
        ["week: peak memory", f"{week['peak_rss_mb']} MB", f"identical JSON every run: {week['identical_json_every_run']}"],
        ["cross-check: simulated", f"{fmt(cross['simulated_s'] * 1000, 1)} ms", f"{cross['complaints']} complaints, {fmt(cross['sla_hours'], 1)} SLA h"],
    ]
    if "local_system_s" in cross:
        rows.append(["cross-check: local system (x1200)", f"{fmt(cross['local_system_s'], 1)} s",
                     f"{fmt(cross['ratio_local_to_simulated'], 0)} x the simulator; agree: {cross['agree']}"])
    print(table(rows, ["measure", "value", "ratio / note"]))
    print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
