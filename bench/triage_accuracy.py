"""Triage accuracy on the labelled examples and on the project's own held-out examples.

Run from the repo root:  python -m bench.triage_accuracy [extra.jsonl ...]

Prints, per data set: category / team / severity accuracy, P1 recall and precision, and every
miss (expected → got, with the rules that fired), so a rule-file edit can be judged at a glance.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from chalicelib.triage import TriageInput, TriageResult, team_for, triage

REPO = Path(__file__).resolve().parents[1]
DATASETS: tuple[Path, ...] = (
    REPO.parent / "shared/data/triage-examples.jsonl",
    REPO / "tests/data/triage-holdout.jsonl",
)


@dataclass(frozen=True)
class Example:
    text: str
    amount: Decimal | None
    tier: str
    kind: str | None
    category: str
    severity: str

    def to_input(self) -> TriageInput:
        return TriageInput(text=self.text, order_amount=self.amount, product_kind=self.kind, tier=self.tier)


@dataclass(frozen=True)
class Scores:
    total: int
    category: float
    team: float
    severity: float
    p1_recall: float
    p1_precision: float
    misses: tuple[str, ...]


def load_examples(path: Path) -> list[Example]:
    """Read a JSON-lines file of labelled complaints (text, amount, tier, kind, category, severity)."""
    examples: list[Example] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        amount = row.get("amount")
        examples.append(
            Example(
                text=row["text"],
                amount=Decimal(amount) if amount is not None else None,
                tier=row.get("tier") or "standard",
                kind=row.get("kind"),
                category=row["category"],
                severity=row["severity"],
            )
        )
    return examples


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def _miss(example: Example, result: TriageResult) -> str | None:
    wrong = []
    if result.category != example.category:
        wrong.append(f"category {example.category}→{result.category}")
    if result.severity != example.severity:
        wrong.append(f"severity {example.severity}→{result.severity}")
    if not wrong:
        return None
    return f"{', '.join(wrong)} | {example.text}\n      reasons: {'; '.join(result.reasons)}"


def evaluate(examples: Sequence[Example]) -> Scores:
    """Run triage over ``examples`` and score it against their labels."""
    results = [triage(example.to_input()) for example in examples]
    pairs = list(zip(examples, results, strict=True))
    p1_expected = [r for e, r in pairs if e.severity == "P1"]
    p1_given = [e for e, r in pairs if r.severity == "P1"]
    return Scores(
        total=len(pairs),
        category=_ratio(sum(e.category == r.category for e, r in pairs), len(pairs)),
        team=_ratio(sum(team_for(e.category) == r.team for e, r in pairs), len(pairs)),
        severity=_ratio(sum(e.severity == r.severity for e, r in pairs), len(pairs)),
        p1_recall=_ratio(sum(r.severity == "P1" for r in p1_expected), len(p1_expected)),
        p1_precision=_ratio(sum(e.severity == "P1" for e in p1_given), len(p1_given)),
        misses=tuple(m for m in (_miss(e, r) for e, r in pairs) if m),
    )


def report(path: Path) -> str:
    scores = evaluate(load_examples(path))
    lines = [
        f"== {path.name} ({scores.total} examples)",
        f"  category accuracy  {scores.category:6.1%}   (target ≥ 90 %)",
        f"  team accuracy      {scores.team:6.1%}   (target ≥ 95 %)",
        f"  severity accuracy  {scores.severity:6.1%}",
        f"  P1 recall          {scores.p1_recall:6.1%}   (target 100 %)",
        f"  P1 precision       {scores.p1_precision:6.1%}",
        f"  misses ({len(scores.misses)}):",
        *(f"    - {miss}" for miss in scores.misses),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    paths = [Path(arg) for arg in argv] or [path for path in DATASETS if path.exists()]
    for path in paths:
        print(report(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
