"""``python -m local simulate``: try a service-level policy on a load before deploying it
(docs/simulate.md).

    python -m local simulate --make-load --days 7 --per-day 300 --out LOAD.jsonl
    python -m local simulate --load LOAD.jsonl [--policy FILE.asl.json] [--compare FILE_OR_GIT_REV]
        [--staff product=4,logistics=3,service=3] [--handle-minutes product=45,logistics=30,service=20]
        [--shifts FILE] [--seed 1] [--json] [--out sim.html]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any, TextIO

from local.simulate.load import DEFAULT_START, Arrival, LoadError, make_load, read_load, write_load

if TYPE_CHECKING:
    from local.simulate.people import Staffing

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = Path("state_machines/lifecycle.asl.json")
DEFAULT_DRAIN_DAYS = 5.0
PROGRESS_BATCH = 25  # complaints a worker process counts before it tells the progress bar


class SimulateError(Exception):
    """A bad input: printed as one line, exit status 2."""


@dataclass(frozen=True)
class PolicySource:
    name: str
    definition: dict[str, Any]


def _definition_text(text: str, name: str) -> PolicySource:
    from chalicelib.policy import check

    try:
        definition = json.loads(text)
    except ValueError as exc:
        raise SimulateError(f"{name}: not JSON: {exc}") from None
    checked = check(definition, today=date.today(), source=name)
    if not checked.ok:
        raise SimulateError(f"{name}: invalid service-level policy:\n" + "\n".join(f"  {e}" for e in checked.errors))
    if not isinstance(definition.get("States"), dict):
        raise SimulateError(f"{name}: not a state-machine definition (no States)")
    return PolicySource(name, definition)


def read_policy(path: Path) -> PolicySource:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SimulateError(f"--policy {path}: cannot read it: {exc}") from None
    return _definition_text(text, str(path))


def _repo_path(path: Path) -> str:
    """``path`` as git names it in the checkout (for ``git show REV:path``)."""
    try:
        return (path if path.is_absolute() else Path.cwd() / path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return DEFINITION.as_posix()


def compared_policy(value: str, policy_path: Path) -> PolicySource:
    """``--compare``: a file, or a git revision of the ``--policy`` file."""
    candidate = Path(value)
    if candidate.is_file():
        return read_policy(candidate)
    spec = f"{value}:{_repo_path(policy_path)}"
    try:
        shown = subprocess.run(["git", "show", spec], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SimulateError(f"--compare {value}: not a file, and git could not be run: {exc}") from None
    if shown.returncode != 0:
        why = shown.stderr.strip().splitlines()[-1] if shown.stderr.strip() else f"git exited {shown.returncode}"
        raise SimulateError(f"--compare {value}: neither a file nor a git revision of {_repo_path(policy_path)} ({why})")
    return _definition_text(shown.stdout, spec)


@contextlib.contextmanager
def _quiet_metrics() -> Iterator[None]:
    """Powertools prints every metric (EMF) to stdout; a simulation's are not for the screen."""
    from local.cli import _DropMetricLines

    target = sys.stdout
    sys.stdout = _DropMetricLines(target)
    try:
        yield
    finally:
        sys.stdout = target


def simulate(args: argparse.Namespace, *, progress_file: TextIO | None = None) -> dict[str, Any]:
    """The figures of ``args`` as the ``--json`` object."""
    from local.simulate.figures import difference
    from local.simulate.people import Staffing, StaffingError, per_team, read_shifts

    start = _start(args.start)
    if not args.load:
        raise SimulateError("--load LOAD.jsonl is required (or --make-load to write one)")
    try:
        arrivals = read_load(Path(args.load), start)
    except LoadError as exc:
        raise SimulateError(str(exc)) from None
    policy_path = Path(args.policy) if args.policy else ROOT / DEFINITION
    policies = [read_policy(policy_path) if args.policy else _definition_text(policy_path.read_text(encoding="utf-8"), DEFINITION.as_posix())]
    if args.compare:
        policies.append(compared_policy(args.compare, policy_path))
    try:
        staffing = Staffing(agents={**Staffing().agents, **per_team(args.staff or "", "--staff", int)},
                            handle_minutes={**Staffing().handle_minutes,
                                            **per_team(args.handle_minutes or "", "--handle-minutes", float)},
                            shifts=read_shifts(Path(args.shifts)) if args.shifts else [], seed=args.seed)
    except StaffingError as exc:
        raise SimulateError(str(exc)) from None
    horizon = arrivals[-1].at + timedelta(days=args.drain_days)
    from tqdm import tqdm

    jobs = max(1, min(len(policies), args.jobs or os.cpu_count() or 1))
    with _quiet_metrics(), tqdm(total=len(arrivals) * len(policies), unit="complaint", file=progress_file or sys.stderr,
                                disable=None if progress_file is None else False, leave=False) as bar:
        if jobs == 1:
            results = [run_policy(source, arrivals, staffing, args.seed, horizon, bar.update) for source in policies]
        else:
            results = _in_processes(policies, arrivals, staffing, args.seed, horizon, bar.update, jobs)
    out: dict[str, Any] = {
        "seed": args.seed, "complaints": len(arrivals),
        "load": {"from": arrivals[0].at.isoformat(), "to": arrivals[-1].at.isoformat(), "until": horizon.isoformat()},
        "staffing": {"agents": staffing.agents, "handle_minutes": staffing.handle_minutes,
                     "shifts": len(staffing.shifts)},
        "policies": results,
    }
    if len(results) == 2:
        out["difference"] = difference(results[0], results[1])
    return out


def run_policy(source: PolicySource, arrivals: list[Arrival], staffing: Staffing, seed: int, horizon: datetime,
               progress: Callable[[int], object] | None = None) -> dict[str, Any]:
    """One policy simulated: its figures."""
    from local.simulate.engine import Simulation
    from local.simulate.figures import policy_figures
    from local.simulate.people import Customers

    simulation = Simulation(source.definition, arrivals, staffing=staffing, customers=Customers(seed),
                            horizon=horizon, progress=progress)
    return policy_figures(source.name, simulation.run())


def _child(source: PolicySource, arrivals: list[Arrival], staffing: Staffing, seed: int, horizon: datetime,
           progress: Any) -> dict[str, Any]:
    pending = 0

    def tick(n: int) -> None:
        nonlocal pending
        pending += n
        if pending >= PROGRESS_BATCH:
            progress.put(pending)
            pending = 0

    with _quiet_metrics():  # a spawned process has its own stdout
        figures = run_policy(source, arrivals, staffing, seed, horizon, tick)
    progress.put(pending)
    return figures


def _in_processes(policies: list[PolicySource], arrivals: list[Arrival], staffing: Staffing, seed: int,
                  horizon: datetime, progress: Callable[[int], object], jobs: int) -> list[dict[str, Any]]:
    """The policies side by side, one process each (they share nothing: same figures as one by one)."""
    context = multiprocessing.get_context("spawn")  # not fork: the caller may have threads (a test runner, a server)
    with context.Manager() as manager, ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        queue = manager.Queue()
        futures = [pool.submit(_child, source, arrivals, staffing, seed, horizon, queue) for source in policies]
        while not all(f.done() for f in futures):
            with contextlib.suppress(Empty):
                progress(queue.get(timeout=0.2))
        while not queue.empty():
            progress(queue.get())
        return [f.result() for f in futures]


def _start(text: str) -> datetime:
    from chalicelib.clock import parse

    try:
        return parse(text)
    except ValueError:
        raise SimulateError(f"--start {text!r}: not an ISO time") from None


def summary(figures: dict[str, Any]) -> str:
    """The figures as a few lines of text (without ``--json``)."""
    lines = [f"{figures['complaints']} complaints, seed {figures['seed']}, "
             f"{figures['load']['from']} .. {figures['load']['to']} (simulated until {figures['load']['until']})"]
    rows = [("first-contact compliance", lambda p: _pct(p["first_contact"]["compliance"])),
            ("resolution compliance", lambda p: _pct(p["resolution"]["compliance"])),
            ("first contact median / p90", lambda p: f"{_dur(p['first_contact']['median_s'])} / {_dur(p['first_contact']['p90_s'])}"),
            ("resolution median / p90", lambda p: f"{_dur(p['resolution']['median_s'])} / {_dur(p['resolution']['p90_s'])}"),
            ("escalations per level", lambda p: ", ".join(f"L{k} {v}" for k, v in p["escalations"].items()) or "none"),
            ("at-risk warnings", lambda p: str(p["at_risk"])),
            ("vouchers", lambda p: f"{p['vouchers']['count']} (CNY {p['vouchers']['cny']})"),
            ("reopens", lambda p: str(p["reopens"])),
            ("transitions / Lambda calls", lambda p: f"{p['transitions']} / {p['lambda_invocations']}"),
            ("AWS cost (USD)", lambda p: p["cost_usd"])]
    names = [p["name"] for p in figures["policies"]]
    width = max(len(r[0]) for r in rows)
    column = max(20, *(len(n) for n in names))
    lines.append("")
    lines.append(" " * (width + 2) + " | ".join(f"{n:>{column}}" for n in names))
    for label, value in rows:
        lines.append(f"{label:<{width}}  " + " | ".join(f"{value(p):>{column}}" for p in figures["policies"]))
    if "difference" in figures:
        d = figures["difference"]
        lines.append("")
        lines.append(f"difference (second - first): first contact {_signed_pct(d['first_contact']['compliance'])}, "
                     f"resolution {_signed_pct(d['resolution']['compliance'])}, escalations "
                     f"{', '.join(f'L{k} {v:+d}' for k, v in d['escalations'].items()) or '0'}, vouchers "
                     f"{d['vouchers']['count']:+d} (CNY {d['vouchers']['cny']}), cost USD {d['cost_usd']}")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _signed_pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f} pt"


def _dur(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m"


def run(args: argparse.Namespace) -> int:
    try:
        if args.make_load:
            if not args.out:
                raise SimulateError("--make-load needs --out LOAD.jsonl")
            lines = make_load(days=args.days, per_day=args.per_day, seed=args.seed, start=_start(args.start))
            write_load(lines, Path(args.out))
            print(f"wrote {len(lines)} complaints to {args.out}", file=sys.stderr)
            return 0
        figures = simulate(args)
        for policy in figures["policies"]:
            if policy["failed_executions"]:
                print(f"simulate: WARNING {policy['name']}: {policy['failed_executions']} executions failed, e.g. "
                      f"{'; '.join(policy['failures'])}", file=sys.stderr)
        if args.out:
            from local.simulate.html import render

            Path(args.out).write_text(render(figures), encoding="utf-8")
            print(f"wrote {args.out}", file=sys.stderr)
        print(json.dumps(figures, ensure_ascii=False) if args.json else summary(figures))
        return 0
    except SimulateError as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 2


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value

    return parse


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("simulate", help="simulate a service-level policy on a week of load",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", help="complaints to simulate, one JSON line each (see docs/simulate.md)")
    parser.add_argument("--make-load", action="store_true", help="write a synthetic load to --out instead")
    parser.add_argument("--days", type=_positive(int), default=7, help="--make-load: days of load (default 7)")
    parser.add_argument("--per-day", type=_positive(int), default=300, help="--make-load: complaints a day (default 300)")
    parser.add_argument("--start", default=DEFAULT_START, help=f"first day of --make-load; time 0 of numeric 'at' (default {DEFAULT_START})")
    parser.add_argument("--policy", help=f"state-machine definition to simulate (default {DEFINITION})")
    parser.add_argument("--compare", help="a second definition: a file, or a git revision of the --policy file")
    parser.add_argument("--staff", help="agents per team, e.g. product=4,logistics=3,service=3 (the default)")
    parser.add_argument("--handle-minutes", help="median handling minutes per team (default product=45,logistics=30,service=20)")
    parser.add_argument("--shifts", help="JSON file of shifts: agents on duty by team calendar (overrides --staff for its teams)")
    parser.add_argument("--drain-days", type=_positive(float), default=DEFAULT_DRAIN_DAYS,
                        help=f"days simulated after the last arrival (default {DEFAULT_DRAIN_DAYS:g})")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--jobs", type=_positive(int), help="processes for the policies (default: one per policy, up to the CPUs)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--out", help="write the HTML report here (with --make-load: the load file)")
    parser.set_defaults(handler=run)

