"""How triage did, judged by what staff corrected: the body of ``GET /reports/triage``.

    report = triage_report(triaged_count, corrections)      # corrections of the window
    body = report.to_json()                                  # api.md's shape

``triaged_count`` is the number of complaints triaged in the window and ``corrections`` the
corrections of those complaints (any order, several per complaint allowed: a complaint counts
once, from what triage said to what staff set last). ``accuracy`` is the share of triaged
complaints whose category / severity / team no one changed (``None`` when nothing was triaged).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.triage.corrections import Correction, fold
from chalicelib.triage.proposals import MinerSettings, Proposal, mine_proposals
from chalicelib.triage.rules import Rules


class Accuracy(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: float | None
    severity: float | None
    team: float | None


class ConfusionPair(BaseModel):
    model_config = ConfigDict(frozen=True)

    predicted: str
    corrected: str
    count: int


class Confusion(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: list[ConfusionPair]
    severity: list[ConfusionPair]


class TriageReport(BaseModel):
    """``GET /reports/triage`` (api.md, "Added with the second release")."""

    model_config = ConfigDict(frozen=True)

    triaged: int
    corrected: int  # complaints whose category or severity staff changed
    accuracy: Accuracy
    confusion: Confusion
    proposals: list[Proposal]

    def to_json(self) -> dict[str, Any]:
        """The API body: a proposal shows ``category`` or ``severity``, whichever it is about."""
        return self.model_dump(mode="json", exclude_none=True) | {"accuracy": self.accuracy.model_dump()}


def _share_unchanged(changed: int, triaged: int) -> float | None:
    return None if triaged == 0 else round((triaged - changed) / triaged, 4)


def _pairs(corrections: Iterable[Correction], get: Callable[[Correction], tuple[str, str]]) -> list[ConfusionPair]:
    counts = Counter(pair for pair in map(get, corrections) if pair[0] != pair[1])
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [ConfusionPair(predicted=p, corrected=c, count=n) for (p, c), n in ordered]


def triage_report(
    triaged_count: int,
    corrections: Iterable[Correction],
    *,
    rules: Rules | None = None,
    background: Iterable[tuple[str, str]] = (),
    settings: MinerSettings | None = None,
) -> TriageReport:
    """Accuracy, confusion pairs and rule proposals from the window's corrections.

    ``rules`` (default: the deployed rule file) lets the miner skip phrases it already has;
    ``background`` adds labelled ``(text, category)`` pairs to judge "rare elsewhere" by.
    Raises ValueError when there are more corrected complaints than triaged ones."""
    if triaged_count < 0:
        raise ValueError("triaged_count must not be negative")
    every = fold(corrections)
    folded = [c for c in every if c.changed]
    if len(folded) > triaged_count:
        raise ValueError(f"{len(folded)} corrected complaints but only {triaged_count} triaged")
    return TriageReport(
        triaged=triaged_count,
        corrected=len(folded),
        accuracy=Accuracy(
            category=_share_unchanged(sum(c.category_changed for c in folded), triaged_count),
            severity=_share_unchanged(sum(c.severity_changed for c in folded), triaged_count),
            team=_share_unchanged(sum(c.team_changed for c in folded), triaged_count),
        ),
        confusion=Confusion(
            category=_pairs(folded, lambda c: (c.predicted_category, c.corrected_category)),
            severity=_pairs(folded, lambda c: (c.predicted_severity, c.corrected_severity)),
        ),
        proposals=mine_proposals(every, background=background, rules=rules, settings=settings),
    )
