"""``python -m local serve | token`` and the commands other modules register (``import``,
``report``, ``demo``); what they do: ``docs/local.md``."""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any, TextIO

from local.arguments import port, positive_float, positive_int
from local.tokens import GROUPS, TokenIssuer

DEMO_USERS = (  # (label, user, group, shell variable)
    ("customer", "C-1001", "customers", "CUSTOMER_TOKEN"),
    ("agent", "A-7", "agents", "AGENT_TOKEN"),
    ("supervisor", "S-1", "supervisors", "SUPERVISOR_TOKEN"),
    ("ops", "O-1", "ops", "OPS_TOKEN"),
)
# Subcommands other modules may add: a module with ``register(subparsers)`` (e.g. ``report``).
OPTIONAL_COMMAND_MODULES = ("local.send_imports", "local.orders", "local.report", "local.triage_proposals", "local.demo", "local.simulate.command")


class _DropMetricLines(io.TextIOBase):
    """stdout without Powertools' EMF metric records (``{"_aws": ...}`` JSON lines): on the
    serve console they would drown the lifecycle events. Lambda sends them to CloudWatch."""

    def __init__(self, target: TextIO) -> None:
        self._target = target
        self._skip_newline = threading.local()

    def write(self, text: str) -> int:
        if text.startswith('{"_aws":'):
            self._skip_newline.active = not text.endswith("\n")
            return len(text)
        if text == "\n" and getattr(self._skip_newline, "active", False):
            self._skip_newline.active = False
            return 1
        self._skip_newline.active = False
        return self._target.write(text)

    def flush(self) -> None:
        self._target.flush()

    def writable(self) -> bool:
        return True


def quickstart(system: Any) -> str:
    aws = system.aws_url
    queue_name = system.import_queue_url.rsplit("/", 1)[-1]
    lines = [
        f"Complaint system running locally - stage {system.stage}, time x{system.clock.scale:g} "
        f"(1 wall-clock second = {system.clock.scale:g} s of system time; system clock now {system.system_now():%Y-%m-%dT%H:%M:%SZ})",
        "",
        f"  API           {system.api_url}          (GET {system.api_url}/health)",
        f"  Agent console {system.api_url}/console/  (sign in as any agent or supervisor, e.g. A-7 / agents)",
        f"  AWS endpoint  {aws}          region us-east-1, any access key",
        f"  tickets table {system.names['table']}",
        f"  state machine {system.env['LIFECYCLE_STATE_MACHINE_ARN']}",
        f"  import queue  {aws}/{system.account_id}/{queue_name}  (DLQ {system.names['import_dlq']})",
        "",
        "Dev tokens (valid 24 h; more with `python -m local token --user A-8 --group agents`):",
    ]
    for label, user, group, variable in DEMO_USERS:
        lines.append(f"  # {label} {user} ({group})")
        lines.append(f"  export {variable}={system.token(user, group)}")
    body = (
        '{"customer_id": "C-1001", "order_id": "O-20261122-0001", "channel": "app", '
        '"desired_outcome": "refund", "description": "快递到的时候杯子碎了"}'
    )
    lines += [
        "",
        "Try:",
        f"  curl -s -X POST {system.api_url}/complaints -H \"Authorization: Bearer $CUSTOMER_TOKEN\" \\",
        f"       -H 'Content-Type: application/json' -d '{body}'",
        f"  curl -s {system.api_url}/queues/logistics -H \"Authorization: Bearer $AGENT_TOKEN\"",
        f"  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --endpoint-url {aws} --region us-east-1 \\",
        f"       stepfunctions list-executions --state-machine-arn {system.env['LIFECYCLE_STATE_MACHINE_ARN']}",
        "",
        "Lifecycle events (HH:MM:SS = system clock). Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    from local.runtime import LocalSystem

    stdout = _DropMetricLines(sys.stdout)
    sys.stdout = stdout

    def emit(line: str) -> None:
        print(line, file=stdout, flush=True)

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C interrupts the stop

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        system = LocalSystem(
            app=args.app,
            stage=args.stage,
            host=args.host,
            port=args.port,
            aws_port=args.aws_port,
            time_scale=args.time_scale,
            event_sink=emit,
        )
        try:
            system.start()
        except OSError as exc:
            print(f"cannot start: {exc} (is another `python -m local serve` running? try --port/--aws-port)", file=sys.stderr)
            return 1
        try:
            emit(quickstart(system))
            while not stop.wait(0.5):
                pass
            print("stopping ...", file=sys.stderr, flush=True)
        finally:
            system.stop()
        print("stopped", file=sys.stderr, flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.stdout = stdout._target


def token(args: argparse.Namespace) -> int:
    issuer = TokenIssuer.for_checkout()
    print(issuer.mint(args.user, args.group, ttl_seconds=args.ttl))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local", description="The complaint system on this machine (moto, no Docker).")
    parser.add_argument("-v", "--verbose", action="store_true", help="log INFO (handler errors, redeliveries) to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="run the whole system: HTTP API + AWS endpoint")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=port, default=8000, help="HTTP API (default 8000; 0 = any free port)")
    run.add_argument("--aws-port", type=port, default=4566, help="moto AWS endpoint (default 4566; 0 = any free port)")
    run.add_argument("--time-scale", type=positive_float, default=60.0, help="timers run N times faster (default 60)")
    run.add_argument("--stage", default="local", help=argparse.SUPPRESS)
    run.add_argument("--app", default="app", help=argparse.SUPPRESS)  # module holding the Chalice `app`
    run.set_defaults(handler=serve)

    mint = commands.add_parser("token", help="print a dev JWT the local API accepts")
    mint.add_argument("--user", required=True, help="cognito:username, e.g. C-1001")
    mint.add_argument("--group", required=True, action="append", choices=GROUPS, help="repeat for several groups")
    mint.add_argument("--ttl", type=positive_int, default=24 * 3600, help="seconds of validity, wall clock (default 86400)")
    mint.set_defaults(handler=token)

    for module_name in OPTIONAL_COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return int(args.handler(args))
