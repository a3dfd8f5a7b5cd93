"""Cold start of every Lambda function against ``import boto3``, and the bundle's size, for this
revision and a revision before (default ``330de4a``), built and measured in the same run.

    python -m bench.coldstart [--runs 9] [--before 330de4a | --no-before] [--instructions]

1. Both bundles are built as ``make package`` builds them (``infra.package``; the revision
   before in a temporary ``git worktree``) and unpacked like Lambda unpacks them: the zip in a
   *task* directory; boto3 and its dependencies (``infra.package.RUNTIME_PROVIDED``, from this
   venv, with their bytecode as the runtime ships them) in a *runtime* directory after it on
   ``PYTHONPATH``. ``PYTHONDONTWRITEBYTECODE=1``: the task directory is read-only on Lambda, so
   a module without bytecode in the zip is compiled again by every cold start.
2. Each function runs in fresh processes (``python -S -c``) with its environment from the
   bundle's own template (its variables, memory, handler, name) plus what the Lambda runtime
   sets (``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_EXECUTION_ENV``, ``LAMBDA_TASK_ROOT``, X-Ray's
   daemon address, ...). Two figures per function:
   - **init**: ``import app`` and the handler looked up, what Lambda's init phase does;
   - **ready**: init + ``import boto3`` + the modules the handler imports when it first runs
     (the imports inside the handler's function in ``app.py``, read from its syntax tree; for
     the API every route's). This is the figure the target (≤ 1.5× ``import boto3``) is for:
     a lazy import only moves a cost into the first invocation.
   The reference, ``import boto3`` in the runtime directory, runs interleaved with them (one
   round = every case once, median of the rounds), wall and CPU time (user + system of the
   child; steadier than wall time when the machine is shared).
3. Option (a) of the tracing choice, measured rather than guessed: this revision's *ready*
   plus the X-Ray SDK (``aws_xray_sdk`` + ``wrapt`` taken from the revision before's bundle,
   compiled) imported and set up the way Powertools' ``Tracer(patch_modules=["botocore"])``
   does when Lambda tracing is on.
4. Bundle: zipped size, unpacked size, files, and botocore's files in it.

Writes ``bench/results/coldstart.json``; nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import contextlib
import json
import os
import py_compile
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench._support import REPO, fmt, median, table, write_result

NAME = "coldstart"
BEFORE = "330de4a"  # the last revision before the cold-start work (issue 11, items 2 and 3)
STAGE = "dev"
REGION = "us-east-1"
# What every function imports before any code of its own, as app.py does it (collector off):
# the floor under the functions' figures.
LIBRARIES = ("import gc; gc.disable(); import boto3, chalice.app, pydantic.main; from pydantic import Field; "
             "from aws_lambda_powertools import Logger, Metrics")
TRACER_SETUP = "from aws_lambda_powertools import Tracer; Tracer(service='complaints', patch_modules=['botocore'])"


@dataclass(frozen=True)
class Function:
    """One Lambda function of a bundle, as its template describes it."""

    name: str  # Chalice's: api_handler, lifecycle_step ...
    handler: str  # app.app, app.lifecycle_step ...
    env: dict[str, str]
    modules: tuple[str, ...]  # what the handler imports when it first runs

    def init_code(self) -> str:
        module, attribute = self.handler.rsplit(".", 1)
        return f"import {module}; {module}.{attribute}"

    def ready_code(self) -> str:
        return "; ".join([self.init_code(), "import boto3", *(f"import {m}" for m in self.modules)])


@dataclass(frozen=True)
class Bundle:
    label: str
    zip_path: Path
    task: Path
    functions: dict[str, Function]

    def figures(self) -> dict[str, Any]:
        with zipfile.ZipFile(self.zip_path) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
        return {
            "zipped_bytes": self.zip_path.stat().st_size,
            "unpacked_bytes": sum(i.file_size for i in infos),
            "files": len(infos),
            "botocore_files": sum(1 for i in infos if i.filename.split("/")[0].startswith("botocore")),
            "bytecode_files": sum(1 for i in infos if i.filename.endswith(".pyc")),
        }


# -- the bundles ----------------------------------------------------------------------------------
def build_bundle(project: Path, out_dir: Path, work_dir: Path) -> Path:
    """``infra.package.package`` of the project checked out at ``project`` (a subprocess: it
    imports that revision's ``infra`` and ``app.py``); returns its ``build`` directory."""
    code = ("import sys; from pathlib import Path; from infra.package import package; "
            f"package({STAGE!r}, Path(sys.argv[1]), work_dir=Path(sys.argv[2]))")
    env = {**os.environ, "AWS_DEFAULT_REGION": REGION, "PYTHONPATH": str(project)}
    subprocess.run([sys.executable, "-c", code, str(out_dir), str(work_dir)], cwd=project, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return out_dir


@contextlib.contextmanager
def checkout(revision: str, where: Path) -> Iterator[Path]:
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(where), revision], cwd=REPO, check=True)
    try:
        yield where
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=REPO, check=False)


def runtime_directory(root: Path) -> Path:
    """boto3 and its dependencies as the Lambda runtime has them (the venv's copies, compiled)."""
    from infra.package import RUNTIME_PROVIDED

    root.mkdir(parents=True)
    for distribution, imports in RUNTIME_PROVIDED.items():
        site = Path(str(metadata.distribution(distribution).locate_file("")))
        for name in imports:
            for candidate in (site / name, site / f"{name}.py"):
                if candidate.exists():
                    (root / candidate.name).symlink_to(candidate)
    return root


def unpack(label: str, build: Path, root: Path) -> Bundle:
    task = root / label / "task"
    with zipfile.ZipFile(build / "deployment.zip") as z:
        z.extractall(task)
    template = json.loads((build / "sam.json").read_text(encoding="utf-8"))
    handlers = handler_imports((task / "app.py").read_text(encoding="utf-8"), task)
    functions = {}
    for name, logical_id in _function_ids().items():
        props = template["Resources"][logical_id]["Properties"]
        env = {k: _placeholder(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
        function_name = _placeholder(props.get("FunctionName", f"complaints-{STAGE}-{name}"))
        env |= lambda_runtime_environment(function_name, props.get("MemorySize", 128), props["Handler"],
                                          tracing=props.get("Tracing") == "Active")
        functions[name] = Function(name, props["Handler"], env, handlers.get(name, ()))
    return Bundle(label, build / "deployment.zip", task, functions)


def _function_ids() -> dict[str, str]:
    from infra.resources import FUNCTION_IDS

    return dict(FUNCTION_IDS)


def _placeholder(value: Any) -> str:
    """A template value as the function would see it, with intrinsic functions replaced by
    plausible strings (the values are not used at import time, their presence is)."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        return re.sub(r"\$\{([\w:.]+)\}", lambda m: {"AWS::Region": REGION, "AWS::AccountId": "123456789012"}.get(m.group(1), m.group(1)), text)
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"arn:aws:placeholder:{REGION}:123456789012:{'.'.join(value['Fn::GetAtt'])}"
    return json.dumps(value)


def lambda_runtime_environment(function_name: str, memory: int, handler: str, *, tracing: bool) -> dict[str, str]:
    """What the Lambda runtime adds to a function's own variables (the task and runtime
    directories and ``PYTHONPATH`` are set per case)."""
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "_HANDLER": handler,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only
    }
    if tracing:
        env |= {"AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000", "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
                "_AWS_XRAY_DAEMON_PORT": "2000", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"}
    return env


# -- what a handler imports -------------------------------------------------------------------------
_FUNCTION_DECORATORS = {"lambda_function", "on_sqs_message", "on_dynamodb_record", "on_s3_event", "on_sns_message",
                        "schedule", "on_cw_event", "on_kinesis_record"}


def handler_imports(source: str, task: Path) -> dict[str, tuple[str, ...]]:
    """Chalice function name -> the modules imported inside its handler's body in ``app.py``.
    The API function (``api_handler``) runs every route and every helper that is not another
    function's handler."""
    tree = ast.parse(source)
    functions: dict[str, set[str]] = {}
    api: set[str] = set()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        imported = _imports_in(node, task)
        name = _function_name(node)
        if name is None:
            api |= imported
        else:
            functions[name] = imported
    functions["api_handler"] = api
    return {name: tuple(sorted(modules)) for name, modules in functions.items()}


def _function_name(node: ast.FunctionDef) -> str | None:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) and decorator.func.attr in _FUNCTION_DECORATORS:
            named = [k.value.value for k in decorator.keywords if k.arg == "name" and isinstance(k.value, ast.Constant)]
            return str(named[0]) if named else node.name
    return None


def _imports_in(node: ast.FunctionDef, task: Path) -> set[str]:
    modules: set[str] = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Import):
            modules |= {alias.name for alias in inner.names}
        elif isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
            for alias in inner.names:  # `from chalicelib import steps` imports a module, `from x import name` x
                sub = f"{inner.module}.{alias.name}"
                is_module = (task / Path(*sub.split("."))).with_suffix(".py").exists() or (task / Path(*sub.split("."))).is_dir()
                modules.add(sub if is_module else inner.module)
    return modules


# -- measuring --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    code: str
    env: dict[str, str]
    cwd: Path


def run_once(case: Case) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh ``python -S -c`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-S", "-c", case.code], cwd=case.cwd, env=case.env, check=False,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{case.code!r} failed in {case.cwd}:\n{proc.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def instructions(case: Case) -> int | None:
    """Instructions the process executes (valgrind's callgrind; None without valgrind): the
    same on a busy machine as on an idle one, unlike any time. It under-weights memory-bound
    work such as the garbage collector's passes, so it complements the times, not replaces them."""
    if shutil.which("valgrind") is None:
        return None
    with tempfile.TemporaryDirectory(prefix="callgrind-") as tmp:
        proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", sys.executable, "-S", "-c",
                               case.code], cwd=case.cwd, env=case.env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    return int(found.group(1)) if proc.returncode == 0 and found else None


def measure(cases: dict[str, Case], runs: int) -> dict[str, dict[str, Any]]:
    for case in cases.values():  # each case once before timing: fails fast, warms the page cache
        run_once(case)
    walls: dict[str, list[float]] = {k: [] for k in cases}
    cpus: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(runs):
        for key, case in cases.items():  # interleaved: drift of the machine hits every case alike
            wall, cpu = run_once(case)
            walls[key].append(wall)
            cpus[key].append(cpu)
    return {k: {"wall_s": median(walls[k]), "cpu_s": median(cpus[k]), "min_wall_s": min(walls[k]), "min_cpu_s": min(cpus[k]),
                "walls_s": walls[k], "cpus_s": cpus[k]} for k in cases}


def cases_of(bundle: Bundle, runtime: Path, *, init: bool = True, extra_path: Path | None = None,
             suffix: str = "", extra_code: str = "") -> dict[str, Case]:
    cases = {}
    path = os.pathsep.join(str(p) for p in (bundle.task, extra_path, runtime) if p is not None)
    for name, fn in bundle.functions.items():
        env = {**fn.env, "LAMBDA_TASK_ROOT": str(bundle.task), "LAMBDA_RUNTIME_DIR": str(runtime), "PYTHONPATH": path}
        if init:
            cases[f"{bundle.label}/{name}/init"] = Case(fn.init_code(), env, bundle.task)
        cases[f"{bundle.label}/{name}/ready{suffix}"] = Case("; ".join(filter(None, [fn.ready_code(), extra_code])), env, bundle.task)
    return cases


def parse_importtime(stderr: str) -> list[tuple[int, int, str, int]]:
    """Rows of ``-X importtime``: (self us, cumulative us, module, depth); children come before
    their parent, one indentation step (two spaces) deeper."""
    rows: list[tuple[int, int, str, int]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:"):].split("|", 2)
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((int(self_us), int(cumulative_us), name.strip(), depth))
    return rows


def _importers(rows: list[tuple[int, int, str, int]], index: int) -> list[str]:
    """The chain of modules whose import brought in ``rows[index]`` (nearest first)."""
    depth, chain = rows[index][3], []
    for _, _, name, d in rows[index + 1:]:
        if d < depth:
            chain.append(name)
            depth = d
    return chain


def _via(rows: list[tuple[int, int, str, int]], package: str) -> str:
    """How the app first reached ``package``: the importers where the package changes."""
    index = next(i for i, r in enumerate(rows) if r[2].split(".")[0] == package)
    steps, last = [rows[index][2]], package
    for name in _importers(rows, index):
        top = name.split(".")[0]
        if top != last or name.startswith("chalicelib") or name == "app":
            steps.append(name)
            last = top
    return " <- ".join(steps)


def heaviest_imports(case: Case, top: int = 10) -> dict[str, Any]:
    """Where a case's import time goes (``-X importtime``, one run): self time by package, and
    how the app first reached each of the heaviest packages."""
    proc = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", case.code], cwd=case.cwd, env=case.env,
                          check=True, capture_output=True, text=True)
    rows = parse_importtime(proc.stderr)
    by_package: Counter[str] = Counter()
    for self_us, _, name, _ in rows:
        by_package[name.split(".")[0]] += self_us
    total = sum(by_package.values())
    return {
        "total_self_ms": total / 1000,
        "modules_imported": len(rows),
        "by_package_ms": {k: v / 1000 for k, v in by_package.most_common(top)},
        "by_package_share": {k: v / total for k, v in by_package.most_common(top)},
        "by_package_via": {k: _via(rows, k) for k, _ in by_package.most_common(top) if k not in ("app", "chalicelib")},
        "heaviest_modules_self_ms": {name: s / 1000 for s, _, name, _ in sorted(rows, key=lambda r: r[0], reverse=True)[:top]},
    }


def xray_directory(before_task: Path, root: Path) -> Path:
    """The X-Ray SDK and wrapt as option (a) would ship them: from the revision before's
    bundle, without its botocore, compiled."""
    root.mkdir(parents=True)
    for entry in before_task.iterdir():
        if entry.name.split("-")[0] in ("aws_xray_sdk", "wrapt"):
            shutil.copytree(entry, root / entry.name) if entry.is_dir() else shutil.copy2(entry, root / entry.name)
    compileall.compile_dir(root, quiet=2, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return root


def run(runs: int = 9, before: str | None = BEFORE, *, count_instructions: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as tmp:
        root = Path(tmp)
        runtime = runtime_directory(root / "runtime")
        bundles = {"after": unpack("after", build_bundle(REPO, root / "build-after", REPO / "build" / ".staging"), root)}
        if before:
            with checkout(before, root / "before-src") as project:
                # its own wheel cache, kept between runs (Chalice keys it on requirements + code)
                build = build_bundle(project, root / "build-before", REPO / "build" / f".staging-{before}")
            bundles["before"] = unpack("before", build, root)
        baseline_env = {**bundles["after"].functions["api_handler"].env, "PYTHONPATH": str(runtime),
                        "LAMBDA_TASK_ROOT": str(runtime)}
        cases = {"boto3": Case("import boto3", baseline_env, runtime)}
        after_env = {**bundles["after"].functions["lifecycle_step"].env, "LAMBDA_TASK_ROOT": str(bundles["after"].task),
                     "PYTHONPATH": os.pathsep.join(map(str, (bundles["after"].task, runtime)))}
        cases["libraries"] = Case(LIBRARIES, after_env, bundles["after"].task)
        for bundle in bundles.values():
            cases |= cases_of(bundle, runtime)
        if "before" in bundles:
            xray = xray_directory(bundles["before"].task, root / "xray")
            cases |= cases_of(bundles["after"], runtime, init=False, extra_path=xray, suffix="+xray_sdk", extra_code=TRACER_SETUP)
        timings = measure(cases, runs)
        importtime = {k: heaviest_imports(c) for k, c in cases.items() if k.startswith("after/") and k.endswith("/ready")}
        counted: dict[str, int | None] = {}
        if count_instructions:
            counted = {k: instructions(c) for k, c in cases.items()
                       if k in ("boto3", "libraries") or k.endswith(("/ready", "/ready+xray_sdk"))}
        result = {
            "runs": runs,
            "before_revision": before,
            "after_revision": _revision(),
            "timings": timings,
            "ratios_to_boto3": {k: {"wall": v["wall_s"] / timings["boto3"]["wall_s"], "cpu": v["cpu_s"] / timings["boto3"]["cpu_s"],
                                    "min_wall": v["min_wall_s"] / timings["boto3"]["min_wall_s"]}
                                for k, v in timings.items() if k != "boto3"},
            "bundles": {label: b.figures() for label, b in bundles.items()},
            "importtime_after_ready": importtime,
            "instructions": counted,
            "instruction_ratios_to_boto3": {k: v / reference for k, v in counted.items()
                                            if k != "boto3" and v and (reference := counted.get("boto3"))},
            "handler_modules": {label: {n: list(f.modules) for n, f in b.functions.items()} for label, b in bundles.items()},
            "elapsed_s": time.perf_counter() - started,
        }
    return result


def _revision() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()
    return f"{head}{'+changes' if dirty else ''}"


# -- the report --------------------------------------------------------------------------------------
def report(result: dict[str, Any]) -> str:
    t, r = result["timings"], result["ratios_to_boto3"]
    base = t["boto3"]
    lines = [f"== cold start per function: fresh processes, median of {result['runs']} interleaved rounds; "
             f"reference `import boto3` {fmt(base['wall_s'] * 1000, 0)} ms wall, {fmt(base['cpu_s'] * 1000, 0)} ms CPU",
             f"   before = {result['before_revision']}, after = {result['after_revision']}; ratio = case / `import boto3`: "
             f"median wall (median CPU, fastest wall: the machine's noise only ever adds)"]
    rows = []
    for name in _function_ids():
        row = [name]
        for key in (f"before/{name}/ready", f"after/{name}/init", f"after/{name}/ready", f"after/{name}/ready+xray_sdk"):
            row.append(f"{fmt(r[key]['wall'])} ({fmt(r[key]['cpu'])}, {fmt(r[key]['min_wall'])})" if key in r else "-")
        rows.append(row)
    lines.append(table(rows, ["function", "before: ready", "after: init", "after: ready", "after + X-Ray SDK (option a)"]))
    lines.append("   init = import app + the handler; ready = init + import boto3 + the modules the handler imports")
    lib = r["libraries"]
    lines.append(f"   the libraries alone (boto3, chalice, pydantic, Powertools logging + metrics; collector off): "
                 f"{fmt(lib['wall'])} ({fmt(lib['cpu'])}, {fmt(lib['min_wall'])})")
    if result.get("instruction_ratios_to_boto3"):
        ir = result["instruction_ratios_to_boto3"]
        lines.append(f"   instructions (valgrind; `import boto3` {fmt(result['instructions']['boto3'] / 1e6, 0)} M): " + ", ".join(
            f"{k} {fmt(v)}" for k, v in ir.items()))
    lines.append("")
    lines.append("== where `after: ready` goes (-X importtime, one run): self time by package")
    for key, imp in result["importtime_after_ready"].items():
        top = ", ".join(f"{k} {fmt(v, 0)}" for k, v in list(imp["by_package_ms"].items())[:7])
        lines.append(f"   {key.split('/')[1]:15s} {imp['modules_imported']} modules, {fmt(imp['total_self_ms'], 0)} ms: {top}")
    lines.append("")
    lines.append("== bundle (deployment.zip)")
    b = result["bundles"]
    rows = [[label, fmt(f["zipped_bytes"] / 1e6, 1), fmt(f["unpacked_bytes"] / 1e6, 1), str(f["files"]), str(f["botocore_files"]),
             str(f["bytecode_files"])] for label, f in b.items()]
    lines.append(table(rows, ["revision", "zipped MB", "unpacked MB", "files", "botocore files", ".pyc files"]))
    if "before" in b:
        lines.append(f"   after / before: zipped {fmt(b['after']['zipped_bytes'] / b['before']['zipped_bytes'])}, "
                     f"unpacked {fmt(b['after']['unpacked_bytes'] / b['before']['unpacked_bytes'])}, "
                     f"files {fmt(b['after']['files'] / b['before']['files'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.coldstart", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="interleaved rounds (default 9)")
    parser.add_argument("--before", default=BEFORE, help=f"the revision to compare with (default {BEFORE})")
    parser.add_argument("--no-before", action="store_true", help="measure this revision only")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each 'ready' case's instructions under valgrind (slow; steady on a busy machine)")
    args = parser.parse_args(argv)
    result = run(args.runs, None if args.no_before else args.before, count_instructions=args.instructions)
    print(report(result))
    print(f"\nwritten: {write_result(NAME, result).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
