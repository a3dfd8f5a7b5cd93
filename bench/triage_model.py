"""The learned second opinion, measured honestly: leave one holdout out.

Run from the repo root (needs scikit-learn, requirements-dev.txt):

    python -m bench.triage_model                 # every labelled file left out in turn
    python -m bench.triage_model blind5 corpus-english   # some of them

For each labelled file of tests/data (holdouts and corpora), a model is trained on every other
one (never on the file itself, never on the shared examples, never on tests/data/unseen/) and
triage is scored on the file with the rules alone and with the rules + that model, using the
thresholds of ``rules.toml`` ``[model]``. The rules were tuned on the holdouts (and on the
corpora's severity misses; bench/README.md, section 4), so there the model's gain is what is
honest; the corpora left out in turn measure the model on a style it has not seen. The shared
examples and tests/data/unseen/ (never trained or tuned on) are scored with the model trained on
all of tests/data, as shipped.
Also prints the shipped table's size, its load time and the cost per complaint.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Sequence

from bench.triage_accuracy import SHARED_EXAMPLES, UNSEEN
from chalicelib.triage.model import load_model, model_from_table
from chalicelib.triage.replay import LabelledCase, Scores, read_examples, run, score
from chalicelib.triage.rules import Rules, load_rules, without_model
from local.triage_train import TABLE_PATH, labelled_files, rules_without_model, train


def with_model(rules: Rules, table: dict[str, object]) -> Rules:
    """``rules`` with a model compiled from ``table`` (the [model] thresholds are compiled into
    ``rules`` whether or not the rule file enables the model)."""
    return dataclasses.replace(rules, model=model_from_table(table, list(rules.teams), "trained table"))


def _fmt(s: Scores) -> str:
    return f"{s.category:6.1%} {s.team:6.1%} {s.severity:6.1%} {s.p1_recall:6.1%} {s.p1_precision:6.1%}"


def compare(cases: Sequence[LabelledCase], base: Rules, table: dict[str, object]) -> tuple[Scores, Scores]:
    plain = without_model(base)
    learned = with_model(base, table)
    return score(run(cases, plain), plain), score(run(cases, learned), learned)


def main(argv: Sequence[str]) -> int:
    base = rules_without_model()
    files = {p.stem.removeprefix("triage-").removeprefix("holdout-"): p for p in labelled_files()}
    wanted = list(argv) or [name for name in files if name not in ("holdout", "tuning")]
    print("set                 n   | rules only: cat   team   sev   P1rec  P1prec | rules+model: cat   team   sev   P1rec  P1prec")
    for name in wanted:
        held = files[name]
        table = train([c for p in labelled_files() if p != held for c in read_examples(p)], base)
        cases = read_examples(held)
        plain, learned = compare(cases, base, table)
        print(f"{name:<18} {len(cases):4}   | {_fmt(plain)} | {_fmt(learned)}")
    if not argv:  # the model trained on all of tests/data, as shipped
        table = train([c for p in labelled_files() for c in read_examples(p)], base)
        others = [SHARED_EXAMPLES] if SHARED_EXAMPLES.exists() else []
        for path in [*others, *sorted(UNSEEN.glob("triage-*.jsonl"))]:
            cases = read_examples(path)
            plain, learned = compare(cases, base, table)
            print(f"{path.stem.removeprefix('triage-'):<18} {len(cases):4}   | {_fmt(plain)} | {_fmt(learned)}")
    if TABLE_PATH.exists():
        started = time.perf_counter()
        model = load_model(TABLE_PATH, list(base.teams))
        load_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        load_rules.__wrapped__()  # the rule file + the table, as a cold start reads them
        cold_ms = (time.perf_counter() - started) * 1000
        shipped = load_rules()
        cases = [c for p in labelled_files() for c in read_examples(p)]
        cost: dict[str, float] = {}
        for label, rules in (("rules only", without_model(shipped)), ("rules+model", shipped)):
            started = time.perf_counter()
            run(cases, rules)
            cost[label] = (time.perf_counter() - started) / len(cases) * 1e6
        print(
            f"\nshipped table {TABLE_PATH.name}: {TABLE_PATH.stat().st_size / 1024:.0f} KiB, {len(model.weights)} features;"
            f" table load {load_ms:.1f} ms, rules + table load {cold_ms:.0f} ms;"
            f" triage per complaint over {len(cases)}: rules only {cost['rules only']:.0f} µs,"
            f" rules+model {cost['rules+model']:.0f} µs (ratio {cost['rules+model'] / cost['rules only']:.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
