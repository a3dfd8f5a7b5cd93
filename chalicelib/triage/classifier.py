"""The entry point the lifecycle's Triage step calls: :func:`triage` (a :class:`TriageInput` in,
a :class:`TriageResult` with its reasons out)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from chalicelib.models import CATEGORIES, Severity, Team
from chalicelib.triage.category import classify
from chalicelib.triage.rules import Rules, load_rules
from chalicelib.triage.severity import Facts, grade, read_signals
from chalicelib.triage.text import normalize


class TriageInput(BaseModel):
    """What triage looks at: the complaint text and the facts that decide severity."""

    model_config = ConfigDict(frozen=True)

    text: str
    category: str | None = None  # customer-chosen category, if any (trusted when valid)
    order_amount: Decimal | None = None  # in CNY
    product_kind: str | None = None  # food, medicine, cosmetics, electronics, apparel, home, other
    tier: str = "standard"  # standard | gold | vip
    other_open_on_order: bool = False  # a second open complaint on the same order -> P2


class TriageResult(BaseModel):
    """The triage decision and the human-readable rules that led to it."""

    model_config = ConfigDict(frozen=True)

    category: str
    category_source: Literal["customer", "classified"]
    severity: Severity
    team: Team
    reasons: list[str]


def team_for(category: str, rules: Rules | None = None) -> Team:
    """The team that owns ``category`` (lifecycle.md, "Categories and teams")."""
    return (rules or load_rules()).team_for(category)


def _customer_category(category: str | None) -> str | None:
    if category is None:
        return None
    name = category.strip().lower()
    return name if name in CATEGORIES else None


def triage(inp: TriageInput, rules: Rules | None = None) -> TriageResult:
    """Classify (unless the customer chose a valid category), grade severity, pick the team.

    ``rules`` defaults to the deployed rule file; the replay check passes a proposed one."""
    rules = rules or load_rules()
    text, spelling = rules.speller.fix(normalize(inp.text))
    kind = inp.product_kind.strip().lower() if inp.product_kind else None
    signals = read_signals(text, kind, rules)
    chosen = _customer_category(inp.category)
    if chosen:
        source: Literal["customer", "classified"] = "customer"
        category, recognised = chosen, True
        category_reasons = [f"customer-chosen category '{chosen}' kept"]
    else:
        classified = classify(text, kind, [hit for hit, _ in signals.safety], rules)
        source = "classified"
        category, recognised = classified.category, classified.recognised
        category_reasons = classified.reasons
        if inp.category:
            category_reasons.insert(0, f"customer category '{inp.category}' is not known → classified from text")
    facts = Facts(category, recognised, kind, inp.order_amount, inp.tier.strip().lower(), inp.other_open_on_order)
    severity, severity_reasons = grade(text, signals, facts, rules)
    return TriageResult(
        category=category,
        category_source=source,
        severity=severity,
        team=rules.team_for(category),
        reasons=[
            *(f"read '{c.typed}' as '{c.read_as}'" for c in spelling),
            *category_reasons,
            *severity_reasons,
            *signals.notes,
        ],
    )
