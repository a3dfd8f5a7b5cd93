"""Files that the repository ships but a dev-only tool builds (triage's weight table, its
character table): write them, or check that the shipped copy is what the tool builds."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(out: Path, text: str, *, check: bool, maker: str, built_by: str, about: str) -> int:
    """Write ``text`` to ``out`` (exit code 0), or with ``check`` compare: 0 when ``out`` holds
    exactly ``text``, else 1 with a one-line hint ("… is not what ``maker`` produces: run
    ``built_by``"). ``about`` follows the file's name ("2,257 complaints")."""
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out.name} is not what {maker} produces: run {built_by}", file=sys.stderr)
            return 1
        print(f"{out.name} is up to date ({about})")
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({about}, {len(text.encode()) // 1024} KiB)")
    return 0
