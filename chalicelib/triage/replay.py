"""The replay check: run labelled complaints (the labelled examples and every recorded
correction) through two rule sets and show what changes — accuracy before/after, the
complaints a proposed rule would fix and the ones it would break.

    cases = read_examples(path) + [LabelledCase.from_correction(c) for c in fold(corrections)]
    result = replay(cases, before=load_rules(), after=build_rules(merge(load_rule_data(), snippet)))
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.models import Category, Severity
from chalicelib.triage.classifier import TriageInput, TriageResult, triage
from chalicelib.triage.corrections import Correction
from chalicelib.triage.rules import Rules, without_model


class LabelledCase(BaseModel):
    """A complaint with the category and severity it should get."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: str  # the file it came from, or "corrections"
    text: str
    product_kind: str | None = None
    order_amount: Decimal | None = None
    tier: str = "standard"
    other_open_on_order: bool = False
    category: Category
    severity: Severity

    def to_input(self) -> TriageInput:
        return TriageInput(
            text=self.text,
            order_amount=self.order_amount,
            product_kind=self.product_kind,
            tier=self.tier,
            other_open_on_order=self.other_open_on_order,
        )

    @classmethod
    def from_correction(cls, correction: Correction) -> LabelledCase:
        """What staff set is the label (use :func:`~.corrections.fold` first)."""
        return cls(
            id=correction.complaint_id,
            source="corrections",
            text=correction.text,
            product_kind=correction.product_kind,
            order_amount=correction.order_amount,
            tier=correction.tier,
            other_open_on_order=correction.other_open_on_order,
            category=correction.corrected_category,
            severity=correction.corrected_severity,
        )


class _ExampleRow(BaseModel):
    """A line of a labelled-examples file (``triage-examples.jsonl``)."""

    model_config = ConfigDict(extra="ignore")

    text: str
    amount: Decimal | None = None
    tier: str | None = None
    kind: str | None = None
    category: Category
    severity: Severity
    id: str | None = Field(default=None)


class ExampleFileError(ValueError):
    """A line of a labelled-examples file is not valid; the message names the line."""


def read_examples(path: Path) -> list[LabelledCase]:
    """The labelled complaints of a JSON-lines file (text, amount, tier, kind, category, severity)."""
    cases: list[LabelledCase] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = _ExampleRow.model_validate(json.loads(line))
        except json.JSONDecodeError as error:
            raise ExampleFileError(f"{path}:{number}: not JSON: {error.msg}") from None
        except ValidationError as error:
            item = error.errors()[0]
            where = ".".join(str(part) for part in item["loc"])
            raise ExampleFileError(f"{path}:{number}: {where}: {item['msg']}") from None
        cases.append(LabelledCase(
            id=row.id or f"{path.name}:{number}", source=path.name, text=row.text, product_kind=row.kind,
            order_amount=row.amount, tier=row.tier or "standard", category=row.category, severity=row.severity,
        ))
    return cases


@dataclass(frozen=True)
class Scores:
    total: int
    category: float
    team: float
    severity: float
    p1_recall: float
    p1_precision: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def score(pairs: Sequence[tuple[LabelledCase, TriageResult]], rules: Rules) -> Scores:
    p1_expected = [r for c, r in pairs if c.severity == "P1"]
    p1_given = [c for c, r in pairs if r.severity == "P1"]
    return Scores(
        total=len(pairs),
        category=_ratio(sum(c.category == r.category for c, r in pairs), len(pairs)),
        team=_ratio(sum(rules.team_for(c.category) == r.team for c, r in pairs), len(pairs)),
        severity=_ratio(sum(c.severity == r.severity for c, r in pairs), len(pairs)),
        p1_recall=_ratio(sum(r.severity == "P1" for r in p1_expected), len(p1_expected)),
        p1_precision=_ratio(sum(c.severity == "P1" for c in p1_given), len(p1_given)),
    )


def run(cases: Iterable[LabelledCase], rules: Rules) -> list[tuple[LabelledCase, TriageResult]]:
    return [(case, triage(case.to_input(), rules)) for case in cases]


def wrong(case: LabelledCase, result: TriageResult) -> list[str]:
    """What ``result`` got wrong about ``case`` ("category after_sales→delivery_delay", …)."""
    found = []
    if result.category != case.category:
        found.append(f"category {case.category}→{result.category}")
    if result.severity != case.severity:
        found.append(f"severity {case.severity}→{result.severity}")
    return found


@dataclass(frozen=True)
class Change:
    """A complaint the proposed rules decide differently."""

    case: LabelledCase
    before: TriageResult
    after: TriageResult

    def _right(self, result: TriageResult) -> tuple[bool, bool]:
        return result.category == self.case.category, result.severity == self.case.severity

    @property
    def breaks(self) -> bool:
        """Something right before is wrong after (whatever else it fixes)."""
        return any(b and not a for b, a in zip(self._right(self.before), self._right(self.after), strict=True))

    @property
    def fixes(self) -> bool:
        return not self.breaks and any(
            a and not b for b, a in zip(self._right(self.before), self._right(self.after), strict=True)
        )


@dataclass(frozen=True)
class Replay:
    before: dict[str, Scores]  # by source, and "all"
    after: dict[str, Scores]
    changes: list[Change]

    @property
    def fixed(self) -> list[Change]:
        return [c for c in self.changes if c.fixes]

    @property
    def broken(self) -> list[Change]:
        return [c for c in self.changes if c.breaks]


def _by_source(pairs: Sequence[tuple[LabelledCase, TriageResult]], rules: Rules) -> dict[str, Scores]:
    sources = sorted({case.source for case, _ in pairs})
    scores = {source: score([p for p in pairs if p[0].source == source], rules) for source in sources}
    return scores | {"all": score(pairs, rules)}


def replay(cases: Sequence[LabelledCase], before: Rules, after: Rules) -> Replay:
    """Accuracy under ``before`` and ``after``, and every complaint they decide differently: the
    rule files alone (their learned second opinion switched off), since a rule is what is replayed."""
    before, after = without_model(before), without_model(after)
    old, new = run(cases, before), run(cases, after)
    changes = [
        Change(case, a, b)
        for (case, a), (_, b) in zip(old, new, strict=True)
        if (a.category, a.severity) != (b.category, b.severity)
    ]
    return Replay(_by_source(old, before), _by_source(new, after), changes)
