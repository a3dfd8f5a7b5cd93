"""Triage accuracy on the labelled examples and on the project's own held-out sets.

Run from the repo root:  python -m bench.triage_accuracy [--rules-only] [extra.jsonl ...]

``--rules-only`` switches the learned second opinion off (the rule file alone); leave-one-holdout-out
figures for the model are ``python -m bench.triage_model``.

Prints, per data set: category / team / severity accuracy, P1 recall and precision, and every
miss (expected → got, with the rules that fired), so a rule-file edit can be judged at a glance.
The data sets: ``../shared/data/triage-examples.jsonl`` (the labelled examples, when checked
out beside this repository), every ``tests/data/triage-*.jsonl`` (the holdouts the rules were
tuned on round by round, each measured once first, and the corpora the learned model is trained
on) and ``tests/data/unseen/`` (written before tuning, never trained or tuned on); bench/README.md,
section 4, says which round read which.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chalicelib.triage import load_rules
from chalicelib.triage.replay import LabelledCase, read_examples, run, score, wrong
from chalicelib.triage.rules import without_model

REPO = Path(__file__).resolve().parents[1]
SHARED_EXAMPLES = REPO.parent / "shared/data/triage-examples.jsonl"
DATA = REPO / "tests/data"
UNSEEN = DATA / "unseen"  # never trained or tuned on: the honest measure (bench/README.md, section 4)
DATASETS: tuple[Path, ...] = (SHARED_EXAMPLES, *sorted(DATA.glob("triage-*.jsonl")), *sorted(UNSEEN.glob("triage-*.jsonl")))
TARGETS = {"category": 0.97, "team": 0.98, "severity": 0.97, "p1_recall": 1.0}  # issue 15, on unseen complaints


@dataclass(frozen=True)
class Scores:
    total: int
    category: float
    team: float
    severity: float
    p1_recall: float
    p1_precision: float
    misses: tuple[str, ...]


def load_examples(path: Path) -> list[LabelledCase]:
    """Read a JSON-lines file of labelled complaints (text, amount, tier, kind, category, severity)."""
    return read_examples(path)


def evaluate(examples: Sequence[LabelledCase], *, rules_only: bool = False) -> Scores:
    """Run triage over ``examples`` with the deployed rules (and their learned second opinion,
    unless ``rules_only``) and score it against their labels."""
    rules = without_model(load_rules()) if rules_only else load_rules()
    pairs = run(examples, rules)
    s = score(pairs, rules)
    misses = tuple(
        f"{', '.join(wrong(case, result))} | {case.text}\n      reasons: {'; '.join(result.reasons)}"
        for case, result in pairs
        if wrong(case, result)
    )
    return Scores(s.total, s.category, s.team, s.severity, s.p1_recall, s.p1_precision, misses)


def report(path: Path, *, rules_only: bool = False) -> str:
    scores = evaluate(load_examples(path), rules_only=rules_only)
    t = TARGETS
    lines = [
        f"== {path.name} ({scores.total} examples)",
        f"  category accuracy  {scores.category:6.1%}   (target ≥ {t['category']:.0%} on unseen complaints)",
        f"  team accuracy      {scores.team:6.1%}   (target ≥ {t['team']:.0%})",
        f"  severity accuracy  {scores.severity:6.1%}   (target ≥ {t['severity']:.0%})",
        f"  P1 recall          {scores.p1_recall:6.1%}   (target 100 %)",
        f"  P1 precision       {scores.p1_precision:6.1%}",
        f"  misses ({len(scores.misses)}):",
        *(f"    - {miss}" for miss in scores.misses),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.triage_accuracy",
        description="Triage accuracy per labelled data set, with every miss and the rules that fired.",
    )
    parser.add_argument("files", nargs="*", type=Path, help="JSON-lines files of labelled complaints "
                        "(default: the shared examples and every set under tests/data)")
    parser.add_argument("--rules-only", action="store_true", help="switch the learned second opinion off")
    args = parser.parse_args(argv)
    paths = list(args.files) or [path for path in DATASETS if path.exists()]
    missing = [path for path in paths if not path.exists()]
    if missing:
        print(f"no such file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    for path in paths:
        print(report(path, rules_only=args.rules_only))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
