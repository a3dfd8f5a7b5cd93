"""Build triage's traditional → simplified character table offline (dev-only: needs zhconv from
requirements-dev.txt; the Lambda only reads the table, chalicelib/triage/traditional.json).

    python -m local.triage_tables           # rebuild chalicelib/triage/traditional.json
    python -m local.triage_tables --check   # exit 1 if the shipped table is stale

Complaints written in traditional characters ("門衛說沒看到快遞員") are read as simplified ones
("门卫说没看到快递员") before any rule-file phrase is matched. The table is every CJK character
(the unified block and extension A) that zhconv's maintained MediaWiki conversion tables turn
into one other character when converting to mainland Chinese (zh-cn), one character at a time:
a keyword match needs no phrase-level conversion, and the table costs one ``str.translate``
per complaint instead of zhconv's dictionary load at every cold start (~165 ms).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from chalicelib.triage.text import TRADITIONAL_TABLE_PATH
from local.generated import write_or_check

CJK_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000))  # extension A, the unified ideographs


def build_table() -> dict[str, str]:
    """Each traditional character zhconv converts (zh-cn) into a single other character."""
    import zhconv  # dev-only

    table: dict[str, str] = {}
    for first, end in CJK_RANGES:
        for codepoint in range(first, end):
            char = chr(codepoint)
            simplified = zhconv.convert(char, "zh-cn")
            if simplified != char and len(simplified) == 1:
                table[char] = simplified
    return table


def dumps(table: dict[str, str]) -> str:
    return json.dumps(table, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.triage_tables", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TRADITIONAL_TABLE_PATH)
    parser.add_argument("--check", action="store_true", help="only check that --out is what the build produces")
    args = parser.parse_args(argv)
    table = build_table()
    return write_or_check(args.out, dumps(table), check=args.check, maker="the build",
                          built_by="make triage-train", about=f"{len(table)} characters")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
