"""Corrections: what staff changed when they re-triaged a complaint (policy.md, re-triage).

Every ``POST /complaints/{id}/triage`` is one :class:`Correction`: the complaint's text and the
facts triage saw, what triage (or the previous correction) said, what staff set, who and when.
The team is not stored: it follows the category (``rules.toml``). A complaint corrected twice
counts once, from what triage first said to what staff finally set (:func:`fold`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from chalicelib.models import Category, Severity, Team
from chalicelib.triage.classifier import TriageInput, team_for


class Correction(BaseModel):
    """One re-triage by staff, kept for triage learning.

    ``order_amount``, ``tier`` and ``other_open_on_order`` are what triage saw (the severity rules
    depend on them); fill them from the ticket so the replay check judges severity fairly."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    complaint_id: str = Field(min_length=1)
    text: str
    product_kind: str | None = None
    order_amount: Decimal | None = None
    tier: str = "standard"
    other_open_on_order: bool = False
    predicted_category: Category
    predicted_severity: Severity
    corrected_category: Category
    corrected_severity: Severity
    actor: str
    at: datetime
    reason: str = ""

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented computed_field usage
    @property
    def predicted_team(self) -> Team:
        return team_for(self.predicted_category)

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented computed_field usage
    @property
    def corrected_team(self) -> Team:
        return team_for(self.corrected_category)

    @property
    def category_changed(self) -> bool:
        return self.predicted_category != self.corrected_category

    @property
    def severity_changed(self) -> bool:
        return self.predicted_severity != self.corrected_severity

    @property
    def team_changed(self) -> bool:
        return self.predicted_team != self.corrected_team

    @property
    def changed(self) -> bool:
        return self.category_changed or self.severity_changed

    def to_input(self) -> TriageInput:
        """What triage saw, to run it again under other rules."""
        return TriageInput(
            text=self.text,
            order_amount=self.order_amount,
            product_kind=self.product_kind,
            tier=self.tier,
            other_open_on_order=self.other_open_on_order,
        )


def fold(corrections: Iterable[Correction]) -> list[Correction]:
    """One correction per complaint: what triage first said → what staff set last (by ``at``),
    with the last correction's actor, time and reason. Ordered by complaint id."""
    by_complaint: dict[str, list[Correction]] = {}
    for correction in corrections:
        by_complaint.setdefault(correction.complaint_id, []).append(correction)
    folded: list[Correction] = []
    for complaint_id in sorted(by_complaint):
        ordered = sorted(by_complaint[complaint_id], key=lambda c: c.at)
        first, last = ordered[0], ordered[-1]
        folded.append(
            last.model_copy(
                update={"predicted_category": first.predicted_category, "predicted_severity": first.predicted_severity}
            )
        )
    return folded


class CorrectionFileError(ValueError):
    """A line of a corrections export is not a valid correction; the message names the line."""


def read_jsonl(path: Path) -> Iterator[Correction]:
    """The corrections of a JSON-lines export (one :class:`Correction` per line)."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield Correction.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as error:
                detail = error.msg if isinstance(error, json.JSONDecodeError) else _first_error(error)
                raise CorrectionFileError(f"{path}:{number}: not a valid correction: {detail}") from None


def _first_error(error: ValidationError) -> str:
    item = error.errors()[0]
    where = ".".join(str(part) for part in item["loc"])
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {item['msg']}{more}"
