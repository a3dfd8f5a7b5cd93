"""``python -m infra package --stage dev``: the deployable template and bundle in ``build/<stage>/``.

0. Before anything is built: the ``ServiceLevelPolicy`` of every state machine is validated
   (:func:`check_policies`), so an invalid ops edit never reaches a template — the build
   stops with the keys named.
1. A staging copy of the Chalice project (``app.py``, ``chalicelib/``, ``requirements.txt``)
   in ``build/.staging/`` with a generated ``.chalice/config.json``: the checked-in one plus
   ``manage_iam_role: false``, so Chalice writes no role of its own (its default role has
   ``logs:*`` on ``arn:*:logs:*:*:*`` and ``sqs:*`` on ``*``); the merge template gives every
   function its own role instead. The staging directory keeps Chalice's wheel cache
   (``.chalice/deployments``), so only the first build downloads the Lambda wheels from PyPI.
2. ``merge-template.json`` from :func:`infra.template.merge_template`.
3. ``chalice package --stage <stage> --merge-template merge-template.json build/<stage>``
   (a subprocess: Chalice imports ``app.py``), which writes ``sam.json`` and ``deployment.zip``.
4. The console's origin bound into the CORS answers Chalice wrote (:mod:`infra.console`), and
   the console's release built into ``build/<stage>/console/`` (:func:`console.site.build`).
5. The bundle made lean and ready to run (:func:`finish_bundle`): the distributions the
   Lambda runtime provides (``RUNTIME_PROVIDED``: boto3 and what it needs) are taken out — a
   copy in the zip would shadow the runtime's and cost upload and cold-start time —, so are
   the parts of bundled distributions no function runs (``TRIMMED``: other countries'
   holiday calendars, Powertools' event handler), and every
   module gets its bytecode, compiled for the runtime's Python with unchecked-hash pycs: the
   function's code directory is read-only, so without them every cold start would compile
   every module it imports from source.
6. Checks on the result: no placeholder left (authorizer ARN, role ARN, console origin), every
   function has the role of its own, every resource a type (a patch that missed its target
   would not).

No AWS call is made (``AWS_DEFAULT_REGION`` is set to us-east-1 if missing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from chalicelib.config import USER_POOL_ARN_PLACEHOLDER
from chalicelib.policy import PolicyError, from_definition
from chalicelib.policy.loader import STATE as POLICY_STATE
from console import site
from infra import iam
from infra.console import CONSOLE_ORIGIN_PLACEHOLDER, bind_console_origin
from infra.resources import FUNCTION_IDS, state_machine_files
from infra.template import REPO_ROOT, chalice_config, merge_template

STAGES = ("dev", "prod")
# Chalice needs a role ARN when it does not manage roles; every function's Role is then
# replaced by the merge template (and the build fails if one is not).
PLACEHOLDER_ROLE_ARN = "arn:aws:iam::000000000000:role/replaced-by-infra-merge-template"
PROJECT_FILES = ("app.py", "requirements.txt")
PROJECT_DIRS = ("chalicelib",)
# What the Lambda Python runtime ships: boto3 and its dependencies, distribution -> import
# names. The bundle must not carry them (a copy would shadow the runtime's; bench/coldstart.py
# lays out the runtime from the same table).
RUNTIME_PROVIDED: dict[str, tuple[str, ...]] = {
    "boto3": ("boto3",), "botocore": ("botocore",), "s3transfer": ("s3transfer",), "jmespath": ("jmespath",),
    "python-dateutil": ("dateutil",), "six": ("six",), "urllib3": ("urllib3",),
}
LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the bundle: the path tracebacks show


class PackageError(RuntimeError):
    """The build did not produce a template we would deploy."""

# Parts of bundled distributions no function runs, each package directory -> the modules it
# keeps (their file names) and the text its ``__init__.py`` is rewritten to (these ``__init__``s
# import every sibling they list). The test of the unpacked bundle imports every handler and
# every chalicelib module, and computes China's calendar, from what is left.
# - ``holidays`` ships every country, its financial markets and their translations (~4 MB of
#   the zip): the policy supports ``holidays: "CN"`` only (chalicelib/policy/official.py).
# - Powertools' event handler (~0.7 MB) is a router: Chalice routes here; Powertools itself
#   imports one helper from it (``openapi.compat._model_dump`` for pydantic in its JSON).
# - Powertools utilities the code does not use.
TRIMMED: dict[str, tuple[frozenset[str], str]] = {
    "holidays/countries": (frozenset({"china.py"}), "from holidays.countries.china import China, CN, CHN\n"),
    "holidays/financial": (frozenset(), ""),
    "aws_lambda_powertools/event_handler": (frozenset(), ""),
    "aws_lambda_powertools/event_handler/openapi": (frozenset({"compat.py", "types.py"}), ""),
}
DROPPED_DIRECTORIES = tuple(f"aws_lambda_powertools/utilities/{name}/" for name in (
    "auth_alpha", "circuit_breaker", "data_masking", "feature_flags", "kafka", "parameters", "streaming", "validation"))
HOLIDAY_LOCALE_KEPT = "CN.mo"


@dataclass(frozen=True)
class Package:
    stage: str
    out_dir: Path
    template_path: Path
    bundle_path: Path
    console_dir: Path

    def template(self) -> dict[str, Any]:
        return dict(json.loads(self.template_path.read_text(encoding="utf-8")))


def generated_chalice_config(project_dir: Path = REPO_ROOT) -> dict[str, Any]:
    config = chalice_config(project_dir)
    config["manage_iam_role"] = False
    config["iam_role_arn"] = PLACEHOLDER_ROLE_ARN
    for stage_config in config.get("stages", {}).values():
        stage_config.pop("manage_iam_role", None)
        stage_config.pop("iam_role_arn", None)
        for function_config in stage_config.get("lambda_functions", {}).values():
            function_config.pop("manage_iam_role", None)
            function_config.pop("iam_role_arn", None)
    return config


def stage_project(staging: Path, stage: str, project_dir: Path = REPO_ROOT) -> Path:
    """Copy the Chalice project into ``staging`` (keeping its wheel cache); returns the merge template path."""
    staging.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        shutil.copy2(project_dir / name, staging / name)
    for name in PROJECT_DIRS:
        shutil.rmtree(staging / name, ignore_errors=True)
        shutil.copytree(project_dir / name, staging / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (staging / ".chalice").mkdir(exist_ok=True)
    (staging / ".chalice" / "config.json").write_text(json.dumps(generated_chalice_config(project_dir), indent=2))
    merge_path = staging / f"merge-template.{stage}.json"
    merge_path.write_text(json.dumps(merge_template(stage, project_dir), indent=2, ensure_ascii=False), encoding="utf-8")
    return merge_path


def _chalice(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
           "CONSOLE_ORIGIN": CONSOLE_ORIGIN_PLACEHOLDER}  # Chalice writes the CORS preflights with it
    command = [sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())", *args]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackageError(f"chalice {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def check_policies(files: dict[str, Path] | None = None) -> None:
    """Every ASL file that has a ``ServiceLevelPolicy`` state holds a valid policy; raises
    ``PackageError`` with each problem's key otherwise."""
    for path in (files or state_machine_files()).values():
        definition = json.loads(path.read_text(encoding="utf-8"))
        if POLICY_STATE not in definition.get("States", {}):
            continue
        try:
            from_definition(definition, source=f"{path.name} {POLICY_STATE}.Result")
        except PolicyError as exc:
            raise PackageError(str(exc)) from exc


def package(stage: str, out_dir: Path | None = None, *, work_dir: Path | None = None,
            project_dir: Path = REPO_ROOT) -> Package:
    """Build ``sam.json`` + ``deployment.zip`` for ``stage`` into ``out_dir`` (``build/<stage>``)."""
    check_policies()
    build = project_dir / "build"
    out_dir = (out_dir or build / stage).resolve()
    staging = (work_dir or build / ".staging").resolve()
    merge_path = stage_project(staging, stage, project_dir)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _chalice(["package", "--stage", stage, "--merge-template", str(merge_path), str(out_dir)], cwd=staging)
    shutil.copy2(merge_path, out_dir / "merge-template.json")
    _prune_wheel_cache(staging)
    template_path = out_dir / "sam.json"
    bound = bind_console_origin(json.loads(template_path.read_text(encoding="utf-8")))
    template_path.write_text(json.dumps(bound, indent=2, ensure_ascii=False), encoding="utf-8")
    release = site.build(out_dir / "console")
    result = Package(stage, out_dir, template_path, out_dir / "deployment.zip", release.directory)
    template = result.template()
    check(template)
    finish_bundle(result.bundle_path, _runtime_of(template))
    return result


def _runtime_of(template: dict[str, Any]) -> str:
    runtimes = {r["Properties"].get("Runtime") for r in template["Resources"].values() if r.get("Type") == "AWS::Serverless::Function"}
    if len(runtimes) != 1:
        raise PackageError(f"the functions run on {sorted(map(str, runtimes))}, expected one runtime")
    return str(runtimes.pop())


def _prune_wheel_cache(staging: Path) -> None:
    """Chalice keys its dependency cache on requirements *and* app code, so every code change
    adds a ~20 MB zip: keep only the newest."""
    cached = sorted((staging / ".chalice" / "deployments").glob("*.zip"), key=lambda p: p.stat().st_mtime)
    for stale in cached[:-1]:
        stale.unlink()


def check(template: dict[str, Any]) -> None:
    """What must hold for a merged template: raises PackageError otherwise."""
    text = json.dumps(template)
    placeholders = (USER_POOL_ARN_PLACEHOLDER, PLACEHOLDER_ROLE_ARN, CONSOLE_ORIGIN_PLACEHOLDER)
    problems = [f"placeholder {p} is still in the template" for p in placeholders if p in text]
    resources = template.get("Resources", {})
    problems += [f"{lid} has no Type (a merge-template patch missed its target?)" for lid, r in resources.items() if "Type" not in r]
    functions = {lid for lid, r in resources.items() if r.get("Type") == "AWS::Serverless::Function"}
    if functions != set(FUNCTION_IDS.values()):
        problems.append(f"functions {sorted(functions)} are not infra.resources.FUNCTION_IDS {sorted(FUNCTION_IDS.values())}")
    for function, logical_id in FUNCTION_IDS.items():
        role = resources.get(logical_id, {}).get("Properties", {}).get("Role")
        if role != {"Fn::GetAtt": [iam.role_id(function), "Arn"]}:
            problems.append(f"{logical_id} runs with {role!r}, not its own role")
    for logical_id in functions:
        for name, event in resources[logical_id]["Properties"].get("Events", {}).items():
            if event.get("Type") == "SQS" and event["Properties"].get("FunctionResponseTypes") != ["ReportBatchItemFailures"]:
                problems.append(f"{logical_id}.{name}: SQS mapping without ReportBatchItemFailures")
    problems += [f"{path}: merged intrinsic function {keys}" for path, keys in _merged_intrinsics(template)]
    if problems:
        raise PackageError("; ".join(problems))


def _merged_intrinsics(node: Any, path: str = "") -> list[tuple[str, list[str]]]:
    """Dicts that mix an intrinsic function with other keys: what Chalice's deep merge makes of
    a patch whose intrinsic differs from the one Chalice wrote (``Fn::Sub`` + ``Fn::GetAtt``)."""
    found: list[tuple[str, list[str]]] = []
    if isinstance(node, dict):
        keys = list(node)
        if len(keys) > 1 and any(k == "Ref" or k.startswith("Fn::") for k in keys):
            found.append((path, keys))
        for key, value in node.items():
            found += _merged_intrinsics(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _merged_intrinsics(value, f"{path}/{i}")
    return found


# -- the bundle ---------------------------------------------------------------------------------
def _distribution_of(directory: str) -> str | None:
    """``botocore-1.44.8.dist-info`` -> ``botocore``; None for a directory that is not metadata."""
    if not directory.endswith((".dist-info", ".data")):
        return None
    return directory.rsplit(".", 1)[0].rsplit("-", 1)[0].lower().replace("_", "-")


def is_runtime_provided(path: str) -> bool:
    """Whether ``path`` (in the zip) belongs to a distribution of ``RUNTIME_PROVIDED``."""
    top = PurePosixPath(path).parts[0]
    imports = {name for names in RUNTIME_PROVIDED.values() for name in names}
    return top.removesuffix(".py") in imports or _distribution_of(top) in RUNTIME_PROVIDED


def is_trimmed(path: str) -> bool:
    """Whether ``path`` (in the zip) is a part of a bundled distribution that no function runs
    (``TRIMMED``, ``DROPPED_DIRECTORIES``, translations of other countries' holidays)."""
    posix = PurePosixPath(path)
    if path.startswith(DROPPED_DIRECTORIES):
        return True
    if posix.parts[:2] == ("holidays", "locale"):
        return posix.name != HOLIDAY_LOCALE_KEPT
    for package, (kept, _) in TRIMMED.items():
        inside = PurePosixPath(package)
        if posix.parent == inside:
            return posix.name not in kept | {"__init__.py"}
        if inside in posix.parents and not any(str(posix).startswith(f"{other}/") for other in TRIMMED
                                               if other != package and other.startswith(f"{package}/")):
            return True  # a subpackage of a trimmed package that keeps nothing of its own
    return False


def finish_bundle(bundle: Path, runtime: str) -> None:
    """Rewrite ``bundle`` without the runtime's distributions and with the bytecode of every
    module, compiled by this interpreter, which must be the runtime's Python."""
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != here:
        raise PackageError(f"the functions run on {runtime} but the bundle is built with {here}: build with {runtime}")
    with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(bundle) as original:
            kept = [info for info in original.infolist() if not info.is_dir() and not is_runtime_provided(info.filename)
                    and not is_trimmed(info.filename)]
            for info in kept:
                original.extract(info, root)
        for package, (_, init) in TRIMMED.items():
            if (root / package / "__init__.py").exists():
                (root / package / "__init__.py").write_text(init, encoding="utf-8")
        # no_debug_ranges: tracebacks keep file and line, not the ^^^ under the expression;
        # the bytecode is ~8 % smaller (upload, unzip and unmarshal at cold start)
        compiled = subprocess.run([sys.executable, "-X", "no_debug_ranges", "-m", "compileall", "-q", "--invalidation-mode",
                                   "unchecked-hash", "-s", str(root), "-p", LAMBDA_TASK_ROOT, str(root)],
                                  capture_output=True, text=True, check=False)
        if compiled.returncode != 0:
            raise PackageError(f"a module of the bundle does not compile:\n{compiled.stdout[-2000:]}")
        written = bundle.with_name(bundle.name + ".tmp")
        with zipfile.ZipFile(written, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as lean:
            for info in kept:  # in the original order, with the original dates and permissions
                lean.writestr(_entry(info.filename, info), (root / info.filename).read_bytes())
                source = PurePosixPath(info.filename)
                if source.suffix == ".py":
                    pyc = source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
                    lean.writestr(_entry(str(pyc), info), (root / pyc).read_bytes())
        written.replace(bundle)


def _entry(name: str, like: zipfile.ZipInfo) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=like.date_time)
    entry.external_attr, entry.compress_type = like.external_attr, zipfile.ZIP_DEFLATED
    return entry
