"""``python -m chalicelib.policy [FILE.asl.json ...] [--today YYYY-MM-DD]``: check the
service-level policy of each definition (default: every state_machines/*.asl.json that has
one). Prints each error with its key and each warning; exits 1 if any policy is invalid."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from chalicelib.policy.loader import STATE, check_file

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "state_machines"


def _has_policy(path: Path) -> bool:
    try:
        return STATE in json.loads(path.read_text(encoding="utf-8")).get("States", {})
    except (OSError, ValueError, AttributeError):
        return True  # let check_file report what is wrong with it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.policy", description=__doc__)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(UTC).date(),
                        help="the date warnings are computed for (default: today, UTC)")
    args = parser.parse_args(argv)
    files = args.files or [p for p in sorted(DEFAULT_DIR.glob("*.asl.json")) if _has_policy(p)]
    failed = False
    for path in files:
        result = check_file(path, today=args.today)
        print(f"{path}: {'OK' if result.ok else 'INVALID'}"
              + (f", {len(result.warnings)} warning(s)" if result.warnings else ""))
        for line in result.errors:
            print(f"  error: {line}")
        for line in result.warnings:
            print(f"  warning: {line}")
        failed |= not result.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
