"""Train triage's learned second opinion offline and write its weight table (dev-only: needs
scikit-learn from requirements-dev.txt; the Lambda only reads the table, chalicelib/triage/model.py).

    python -m local.triage_train                          # rebuild chalicelib/triage/model.json
    python -m local.triage_train --corrections c.jsonl    # ... also from staff corrections
    python -m local.triage_train --check                  # exit 1 if the shipped table is stale

Training data: every labelled file ``tests/data/triage-*.jsonl`` (text, amount, tier, kind,
category, severity) and, optionally, exported corrections (``Correction`` JSON lines: what staff
set is the label; a complaint corrected twice counts once). The shared examples beside the
checkout are deliberately NOT trained on: they are the check that must stay at 100 %.

Two heads share the features (``model.features``): a multinomial logistic regression over the
categories, and a binary one for "a safety risk" (P1 for a reason other than the amount or the
tier; quality complaints about food/medicine are left out — the rule file makes those P1 on its
own, and counting them would teach the head that every food word is a risk).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from chalicelib.models import CATEGORIES
from chalicelib.triage.corrections import Correction, fold, read_jsonl
from chalicelib.triage.model import FORMAT_VERSION, features
from chalicelib.triage.model_view import model_view
from chalicelib.triage.replay import LabelledCase, read_examples
from chalicelib.triage.rules import RULES_PATH, Rules, build_rules, read_toml
from chalicelib.triage.text import normalize
from local.generated import write_or_check

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests/data"
TABLE_PATH = RULES_PATH.with_name("model.json")
SCALE = 1000  # weights are stored as integers: round(w * SCALE)
MIN_WEIGHT = 0.12  # weights smaller than this (before scaling) are dropped: the table stays small (0.1: 522 KiB)
MIN_COUNT = 3  # a feature seen in fewer training complaints is not a feature
C = 4.0  # inverse regularisation strength (scikit-learn's C)


def rules_without_model(path: Path = RULES_PATH) -> Rules:
    """The rule file with its [model] switched off: what the model is trained beside."""
    data = read_toml(path)
    return build_rules({**data, "model": {**data.get("model", {}), "enabled": False}}, path.parent)


def labelled_files(data: Path = DATA) -> list[Path]:
    return sorted(data.glob("triage-*.jsonl"))


def cases_from_corrections(corrections: Iterable[Correction]) -> list[LabelledCase]:
    return [
        LabelledCase(
            id=c.complaint_id, source="corrections", text=c.text, product_kind=c.product_kind,
            order_amount=c.order_amount, tier=c.tier, other_open_on_order=c.other_open_on_order,
            category=c.corrected_category, severity=c.corrected_severity,
        )
        for c in fold(corrections)
    ]


def is_safety(case: LabelledCase, rules: Rules) -> bool | None:
    """The safety head's label: True/False, or None when the case teaches it nothing."""
    kind = (case.product_kind or "").lower()
    if case.category == rules.safety_category and kind in rules.quality_complaint_kinds:
        return None
    if case.severity != "P1":
        return False
    large = case.order_amount is not None and case.order_amount >= rules.p1_amount
    raised = case.tier.lower() in rules.raise_tiers
    return None if large or raised else True


def model_text(text: str, rules: Rules) -> str:
    """The text the model sees: what the rules see (normalised, English typos read), negated
    keywords blanked (chalicelib/triage/model_view.py) — as at run time."""
    return model_view(rules.speller.fix(normalize(text))[0], rules)


def train(cases: Sequence[LabelledCase], rules: Rules | None = None) -> dict[str, Any]:
    """The weight table (the JSON document ``model.json`` holds) trained on ``cases``."""
    from sklearn.feature_extraction import DictVectorizer  # dev-only imports
    from sklearn.linear_model import LogisticRegression

    rules = rules or rules_without_model()
    rows = [
        {f: 1 for f in features(model_text(c.text, rules), (c.product_kind or "").lower() or None)} for c in cases
    ]
    counts: dict[str, int] = {}
    for row in rows:
        for f in row:
            counts[f] = counts.get(f, 0) + 1
    rows = [{f: 1 for f in row if counts[f] >= MIN_COUNT} for row in rows]
    vectorizer = DictVectorizer(sort=True)
    x = vectorizer.fit_transform(rows)
    names = list(vectorizer.get_feature_names_out())
    categories = list(CATEGORIES)
    y = [categories.index(c.category) for c in cases]
    category_head = LogisticRegression(
        # no intercept: a text the table knows nothing about gets no opinion (every category
        # alike) rather than the commonest one's; with one, 10 % of the repo's log and UI strings
        # were "product_quality" at ≥ 70 %, without it 0.4 %
        C=C, max_iter=2000, class_weight="balanced", fit_intercept=False
    ).fit(x, y)
    coef = [[0.0] * len(names) for _ in categories]
    bias = [0.0] * len(categories)
    for row_index, klass in enumerate(category_head.classes_):
        coef[int(klass)] = list(category_head.coef_[row_index])
    safety_rows = [i for i, c in enumerate(cases) if is_safety(c, rules) is not None]
    safety_y = [int(bool(is_safety(cases[i], rules))) for i in safety_rows]
    safety_head = LogisticRegression(
        C=C, max_iter=2000, class_weight="balanced"
    ).fit(x[safety_rows], safety_y)
    coef.append(list(safety_head.coef_[0]))
    bias.append(float(safety_head.intercept_[0]))
    weights: dict[str, dict[str, int]] = {}
    for j, name in enumerate(names):
        row = {str(h): round(coef[h][j] * SCALE) for h in range(len(coef)) if abs(coef[h][j]) >= MIN_WEIGHT}
        if row:
            weights[name] = row
    return {
        "version": FORMAT_VERSION,
        "categories": categories,
        "bias": [round(b, 4) for b in bias],
        "scale": SCALE,
        "trained_on": len(cases),
        "weights": weights,
    }


def dumps(table: dict[str, Any]) -> str:
    """The table as the file holds it: one feature per line, so a retrain diffs readably."""
    head = {k: v for k, v in table.items() if k != "weights"}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ', "weights": {']
    items = sorted(table["weights"].items())
    for i, (name, row) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"{json.dumps(name, ensure_ascii=False)}: {json.dumps(row, separators=(',', ':'))}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def training_cases(files: Sequence[Path], corrections: Sequence[Path] = ()) -> list[LabelledCase]:
    cases = [case for path in files for case in read_examples(path)]
    for path in corrections:
        cases += cases_from_corrections(read_jsonl(path))
    return cases


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.triage_train", description=__doc__.splitlines()[0])
    parser.add_argument("--corrections", type=Path, action="append", default=[], help="a corrections export (JSON lines)")
    parser.add_argument("--out", type=Path, default=TABLE_PATH)
    parser.add_argument("--check", action="store_true", help="only check that --out is what training produces")
    args = parser.parse_args(argv)
    try:
        cases = training_cases(labelled_files(), args.corrections)
    except (OSError, ValueError) as error:
        print(f"triage-train: {error}", file=sys.stderr)
        return 2
    return write_or_check(args.out, dumps(train(cases)), check=args.check, maker="training",
                          built_by="make triage-train", about=f"{len(cases)} complaints")

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
