"""The entry point the lifecycle's Triage step calls: :func:`triage` (a :class:`TriageInput` in,
a :class:`TriageResult` with its reasons out)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from chalicelib.models import CATEGORIES, Severity, Team
from chalicelib.triage.category import Classified, classify
from chalicelib.triage.model import Opinion
from chalicelib.triage.model_view import model_view
from chalicelib.triage.rules import Rules, load_rules
from chalicelib.triage.severity import SEVERITY_ORDER, Facts, grade, read_signals
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


def _model_decides(classified: Classified, opinion: Opinion | None, rules: Rules) -> tuple[str, str] | None:
    """The model's category and its reason, when the rules matched weakly (nothing, a low score
    or a tie) and the model is sure enough, or matched strongly and the model is all but certain
    otherwise; else None (the rules' category stands)."""
    if opinion is None or rules.model is None or opinion.category == classified.category:
        return None
    if opinion.probability < rules.model_min_probability:
        return None
    if not classified.recognised:
        why = "no category keyword matched"
    elif classified.tied:
        why = f"keyword scores tied at {classified.score:g}"
    elif classified.score < rules.model_decides_below:
        why = f"weak keyword match ({classified.score:g} < {rules.model_decides_below:g})"
    elif opinion.probability >= rules.model_overrule_probability:
        why = f"keywords → {classified.category} ({classified.score:g}), overruled"
    else:
        return None
    evidence = ", ".join(f"'{f}'" for f in rules.model.evidence(opinion))
    return opinion.category, f"{why}; learned model → {opinion.category} ({opinion.probability:.0%}; {evidence})"


def triage(inp: TriageInput, rules: Rules | None = None) -> TriageResult:
    """Classify (unless the customer chose a valid category), grade severity, pick the team.

    ``rules`` defaults to the deployed rule file; the replay check passes a proposed one."""
    rules = rules or load_rules()
    text, spelling = rules.speller.fix(normalize(inp.text))
    kind = inp.product_kind.strip().lower() if inp.product_kind else None
    signals = read_signals(text, kind, rules)
    chosen = _customer_category(inp.category)
    opinion = rules.model.opinion(model_view(text, rules), kind) if rules.model else None
    rules_category: str | None = None  # what the rules said, when the model overruled them
    if chosen:
        source: Literal["customer", "classified"] = "customer"
        category, recognised = chosen, True
        category_reasons = [f"customer-chosen category '{chosen}' kept"]
    else:
        faults = [hit for hit, _ in signals.safety] if signals.product_fault else []
        classified = classify(text, kind, faults, rules)
        source = "classified"
        category, recognised = classified.category, classified.recognised
        category_reasons = classified.reasons
        overruled = _model_decides(classified, opinion, rules)
        if overruled:
            rules_category, category = category, overruled[0]
            category_reasons.append(overruled[1])
        if inp.category:
            category_reasons.insert(0, f"customer category '{inp.category}' is not known → classified from text")
    tier = inp.tier.strip().lower()
    facts = Facts(category, recognised, kind, inp.order_amount, tier, inp.other_open_on_order)
    severity, severity_reasons = grade(text, signals, facts, rules)
    if rules_category is not None:  # the model never makes a complaint less urgent than the rules would
        ruled = Facts(rules_category, recognised, kind, inp.order_amount, tier, inp.other_open_on_order)
        rules_severity, rules_reasons = grade(text, signals, ruled, rules)
        if SEVERITY_ORDER.index(rules_severity) < SEVERITY_ORDER.index(severity):
            severity, severity_reasons = rules_severity, rules_reasons
    if opinion and severity != "P1" and opinion.safety >= rules.model_safety_probability:
        if rules.model_safety_yields_to_denial and signals.denied:
            ruled_out = "', '".join(signals.denied)
            severity_reasons.append(
                f"learned model: safety risk ({opinion.safety:.0%}) not raised: the text negates '{ruled_out}'"
            )
        else:
            severity_reasons.append(f"learned model: safety risk ({opinion.safety:.0%}) → P1 for review")
            severity = "P1"
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
