"""``python -m infra package --stage dev|prod`` (offline) and ``python -m infra deploy --stage ...``
(needs AWS credentials). See infra/README.md."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from infra.package import STAGES, PackageError, package


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    pkg = commands.add_parser("package", help="build build/<stage>/sam.json and deployment.zip (offline)")
    pkg.add_argument("--stage", choices=STAGES, default="dev")
    pkg.add_argument("--out", type=Path, help="output directory (default build/<stage>)")

    dep = commands.add_parser("deploy", help="deploy build/<stage> with CloudFormation (AWS credentials needed)")
    dep.add_argument("--stage", choices=STAGES, default="dev")
    dep.add_argument("--build-dir", type=Path, help="what `package` wrote (default build/<stage>)")
    dep.add_argument("--stack-name", help="default complaints-<stage>")
    dep.add_argument("--s3-bucket", help="artifact bucket (default complaints-deploy-<account>-<region>, created if missing)")
    dep.add_argument("--region", help="default: your AWS configuration's region")
    dep.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                     help="template parameter (EmailSender, AlarmEmail, SlaBreachesPerHourThreshold, Api5xxPercentThreshold); "
                          "parameters not given keep their deployed value")
    dep.add_argument("--no-execute", action="store_true", help="create and show the change set, do not execute it")

    args = parser.parse_args(argv)
    if args.command == "package":
        started = time.monotonic()
        try:
            built = package(args.stage, args.out)
        except PackageError as exc:
            print(f"package failed: {exc}", file=sys.stderr)
            return 1
        print(f"{built.template_path}\n{built.bundle_path}\nbuilt in {time.monotonic() - started:.1f}s")
        return 0

    from infra.deploy import DeployError, deploy, parse_parameters

    try:
        outputs = deploy(
            args.stage,
            build_dir=args.build_dir,
            stack_name=args.stack_name,
            bucket=args.s3_bucket,
            region=args.region,
            parameters=parse_parameters(args.parameter),
            execute=not args.no_execute,
        )
    except DeployError as exc:
        print(f"deploy failed: {exc}", file=sys.stderr)
        return 1
    for key, value in sorted(outputs.items()):
        print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
