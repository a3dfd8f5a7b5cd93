"""``python -m bench.policy``: what the service-level policy costs the lifecycle Lambda.

1. **A due time across a 30-day holiday calendar**: the product team's calendar (Mon-Fri
   09:00-18:00 Shanghai, China's holidays) and a 150-working-hour window from Friday
   2026-02-06 — it crosses Spring Festival (closed 02-15..02-23) and both make-up Saturdays
   and ends ~29 days later. Timed cold (a new calendar: every day's intervals computed), warm
   (the same calendar again) and on first use (the library's 2026 schedule built too);
   against the 24x7 arithmetic and a naive minute-by-minute walk — what "no minute loops"
   avoids — that must give the same moment.
2. **Import cost** of ``holidays`` (loaded on first use only) in fresh processes, against
   ``import boto3``; and that ``import chalicelib.policy`` does not load it.
3. **The policy itself**: validating the real ``ServiceLevelPolicy`` Result, its size on a
   ticket, reading it back.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench._support import REPO, fmt, median, ratio, table, write_result

NAME = "policy"
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 2, 6, 10, 0, tzinfo=SHANGHAI)
WINDOW_S = 150 * 3600


def minute_walk(hours: Any, start: datetime, seconds: int) -> datetime:
    """The reference a due time must not be computed like: minute by minute, asking the
    calendar whether each minute is open (``start`` on a whole minute, whole minutes)."""
    moment, remaining = start.astimezone(UTC), seconds
    for _ in range(10 * 366 * 24 * 60):  # bounded
        if remaining <= 0:
            return moment
        local = moment.astimezone(hours.timezone)
        minute = local.hour * 60 + local.minute
        if any(s <= minute < e for s, e in hours.hours_on(local.date())):
            remaining -= 60
        moment += timedelta(minutes=1)
    raise RuntimeError("minute walk did not finish")


def _per_call(action: Any, repeats: int) -> float:
    """Median seconds per call over ``repeats`` timed batches."""
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        action()
        samples.append(time.perf_counter() - t0)
    return median(samples)


def measure_due(repeats: int) -> dict[str, Any]:
    from chalicelib.policy import ALWAYS_OPEN, load
    from chalicelib.policy.official import official_year
    from infra.resources import state_machine_files

    spec = load(state_machine_files()["lifecycle"]).calendars["product"]
    t0 = time.perf_counter()
    import holidays.countries.china  # noqa: F401  # what the first business-hours due time imports
    import_s = time.perf_counter() - t0
    official_year.cache_clear()
    t0 = time.perf_counter()
    first = spec.working_time("product").add(START, WINDOW_S)
    first_use_s = time.perf_counter() - t0  # + the library's schedules of 2026 (and its neighbours) built
    cold_s = _per_call(lambda: spec.working_time("product").add(START, WINDOW_S), repeats)
    warm_hours = spec.working_time("product")
    warm_hours.add(START, WINDOW_S)
    warm_s = _per_call(lambda: warm_hours.add(START, WINDOW_S), repeats)
    between_cold_s = _per_call(lambda: spec.working_time("product").between(START, first.at), repeats)
    always_s = _per_call(lambda: ALWAYS_OPEN.add(START, WINDOW_S), repeats)
    t0 = time.perf_counter()
    walked = minute_walk(spec.working_time("product"), START, WINDOW_S)
    minute_walk_s = time.perf_counter() - t0
    if walked != first.at:
        raise AssertionError(f"minute walk {walked} != add {first.at}")
    return {
        "start": START.isoformat(), "window_working_hours": WINDOW_S / 3600, "due": first.at.astimezone(SHANGHAI).isoformat(),
        "calendar_days_spanned": (first.at - START).total_seconds() / 86400, "confirmed": first.confirmed,
        "seconds": {"import_holidays_in_process": import_s, "first_use": first_use_s, "cold": cold_s, "warm": warm_s, "between_cold": between_cold_s,
                    "always_open": always_s, "minute_walk": minute_walk_s},
        "ratio_cold_to_always_open": ratio(cold_s, always_s),
        "ratio_minute_walk_to_cold": ratio(minute_walk_s, cold_s),
        "ratio_first_use_to_cold": ratio(first_use_s, cold_s),
    }


def _run(code: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, stdout=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure_imports(runs: int) -> dict[str, Any]:
    cases = {
        "python": "pass",
        "boto3": "import boto3",
        "holidays_china": "import holidays.countries.china",
        "chalicelib_models": "import chalicelib.models",  # what the app imports anyway (pydantic ...)
        "chalicelib_policy": "import chalicelib.policy",
    }
    for code in cases.values():
        _run(code)  # bytecode compiled once, as in a deployed bundle
    walls: dict[str, list[float]] = {k: [] for k in cases}
    cpus: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(runs):
        for key, code in cases.items():  # interleaved: drift hits all alike
            wall, cpu_s = _run(code)
            walls[key].append(wall)
            cpus[key].append(cpu_s)
    med = {k: median(v) for k, v in walls.items()}
    cpu = {k: median(v) for k, v in cpus.items()}
    loaded = subprocess.run([sys.executable, "-c", "import sys, chalicelib.policy; print('holidays' in sys.modules)"],
                            cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()
    net = {k: med[k] - med["python"] for k in cases}
    return {
        "runs": runs, "median_s": med, "median_cpu_s": cpu,
        "ratio_holidays_to_boto3_net": ratio(net["holidays_china"], net["boto3"]),
        "cpu_ratio_holidays_to_boto3": ratio(cpu["holidays_china"] - cpu["python"], cpu["boto3"] - cpu["python"]),
        "ratio_policy_over_models_to_boto3": ratio(med["chalicelib_policy"] - med["chalicelib_models"], net["boto3"]),
        "holidays_loaded_by_import_chalicelib_policy": loaded == "True",
    }


def measure_policy(repeats: int) -> dict[str, Any]:
    from chalicelib.policy import ServiceLevelPolicy, policy_result
    from infra.resources import load_asl

    raw = policy_result(load_asl("lifecycle"))
    policy = ServiceLevelPolicy.parse(raw)
    text = policy.to_ticket()
    parse_s = _per_call(lambda: ServiceLevelPolicy.parse(raw), repeats)
    from_ticket_s = _per_call(lambda: ServiceLevelPolicy.from_ticket(text), repeats)
    return {"result_bytes": len(json.dumps(raw, separators=(",", ":"))), "ticket_bytes": len(text),
            "seconds": {"parse": parse_s, "from_ticket": from_ticket_s}}


def run(repeats: int = 200, import_runs: int = 5) -> dict[str, Any]:
    return {"due": measure_due(repeats), "imports": measure_imports(import_runs), "policy": measure_policy(repeats)}


def rows(r: dict[str, Any]) -> list[list[str]]:
    """[figure, value, reference, ratio] rows (``python -m bench`` prefixes the benchmark)."""
    d, i, p = r["due"], r["imports"], r["policy"]
    us = {k: v * 1e6 for k, v in d["seconds"].items()}
    out = [
        ["due time, 150 working h over Spring Festival (cold calendar)", f"{fmt(us['cold'], 0)} µs",
         f"24x7 {fmt(us['always_open'], 1)} µs", fmt(d["ratio_cold_to_always_open"], 0)],
        ["… naive minute-by-minute walk (same due time)", f"{fmt(us['minute_walk'] / 1000, 0)} ms",
         f"cold {fmt(us['cold'], 0)} µs", fmt(d["ratio_minute_walk_to_cold"], 0)],
        ["… warm calendar (day intervals cached)", f"{fmt(us['warm'], 0)} µs", f"cold {fmt(us['cold'], 0)} µs",
         fmt(us["warm"] / us["cold"], 2)],
        ["… first use (2026's official schedule built, after the import)", f"{fmt(us['first_use'] / 1000, 1)} ms",
         f"cold {fmt(us['cold'], 0)} µs", fmt(d["ratio_first_use_to_cold"], 0)],
        ["working time between start and due (cold)", f"{fmt(us['between_cold'], 0)} µs",
         f"add {fmt(us['cold'], 0)} µs", fmt(us["between_cold"] / us["cold"], 2)],
        ["import holidays.countries.china, ms wall (fresh process, net)",
         f"{fmt((i['median_s']['holidays_china'] - i['median_s']['python']) * 1000, 0)}",
         f"import boto3 {fmt((i['median_s']['boto3'] - i['median_s']['python']) * 1000, 0)}",
         f"{fmt(i['ratio_holidays_to_boto3_net'], 2)} (CPU {fmt(i['cpu_ratio_holidays_to_boto3'], 2)})"],
        ["import chalicelib.policy over chalicelib.models, ms (holidays loaded: "
         f"{i['holidays_loaded_by_import_chalicelib_policy']})",
         f"{fmt((i['median_s']['chalicelib_policy'] - i['median_s']['chalicelib_models']) * 1000, 0)}",
         f"import boto3 {fmt((i['median_s']['boto3'] - i['median_s']['python']) * 1000, 0)}",
         fmt(i["ratio_policy_over_models_to_boto3"], 2)],
        ["policy on a ticket (compact JSON)", f"{p['ticket_bytes']} B", f"ASL Result {p['result_bytes']} B",
         fmt(p["ticket_bytes"] / p["result_bytes"], 2)],
        ["validate the ASL policy / read it from a ticket", f"{fmt(p['seconds']['parse'] * 1e6, 0)} µs",
         f"from ticket {fmt(p['seconds']['from_ticket'] * 1e6, 0)} µs",
         fmt(p["seconds"]["parse"] / p["seconds"]["from_ticket"], 2)],
    ]
    return out


def report(r: dict[str, Any]) -> str:
    d = r["due"]
    head = (f"due {d['due']} ({fmt(d['calendar_days_spanned'], 1)} calendar days after {d['start']}, "
            f"confirmed={d['confirmed']})")
    return head + "\n" + table(rows(r), ["figure", "value", "reference (same run)", "ratio"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.policy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--import-runs", type=int, default=5)
    args = parser.parse_args(argv)
    result = run(args.repeats, args.import_runs)
    print(report(result))
    print(f"\nwritten: {write_result(NAME, result).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
