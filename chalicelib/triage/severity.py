"""Severity: P1 for a personal-safety risk or a very large order, P2 for a large order, a second
open complaint on the order, a threat to go public or strongly negative wording, else P3;
customer tiers listed in ``[tiers]`` raise it one level (never above P1).

Safety is found three ways: a safety keyword (some only for food, medicine, cosmetics or when the
text names such a product), two phrases in one clause (``[[severity.together]]``: a body part
and a harm word, "手上起了红点"; a near miss and a hazard, "差点咽下去" …), or, for the kinds
ops list in ``quality_complaint_kinds`` (none now), any quality complaint about them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from chalicelib.models import Severity
from chalicelib.triage.negation import clause_before, live_hits
from chalicelib.triage.rules import (
    FIRST,
    IGNORE,
    PUBLIC_THREAT,
    SAFETY,
    SAFETY_DENIED,
    SAFETY_SENSITIVE,
    SAFETY_SENSITIVE_OR_UNKNOWN,
    SECOND,
    STRONGLY_NEGATIVE,
    Rules,
    Together,
)
from chalicelib.triage.text import PUNCT, Hit, clause_end, clause_start, resolve_overlaps

_SAFETY_LABELS = frozenset({SAFETY, SAFETY_SENSITIVE, SAFETY_SENSITIVE_OR_UNKNOWN})

SEVERITY_ORDER: tuple[Severity, ...] = ("P1", "P2", "P3")

_SCOPE = {0: "in one sentence", 1: "in neighbouring sentences", None: "in the text"}  # a together rule's reach
NEXT_TO = 5  # characters between a safety word and a look-alike word that sits right by it

Finding = tuple[Severity, str]  # a severity rule that fired, with its reason


@dataclass(frozen=True)
class TextSignals:
    """What the text showed, as far as severity is concerned."""

    safety: list[tuple[Hit, str]]  # safety hits with their reasons
    hits: list[Hit]  # live severity-keyword hits (threats, strong wording …)
    notes: list[str]  # negated keywords, for the reasons
    product_fault: bool = True  # whether the safety hits are evidence against the product itself
    denied: tuple[str, ...] = ()  # safety words the text negates or denies ("没有过敏", "不漏电"), as read


def _nearest(hits: Sequence[Hit], span: tuple[int, int]) -> int | None:
    """How many characters lie between ``span`` and the nearest of ``hits`` (0: touching), or None."""
    start, end = span
    return min((max(hit.start - end, start - hit.end, 0) for hit in hits), default=None)


def _sensitive_context(text: str, hit: Hit, kind: str | None, rules: Rules, unknown_ok: bool) -> str | None:
    """Why a food/medicine/cosmetics safety word applies here, or None if it does not."""
    start = clause_start(text, hit.start)
    clause, at = text[start : clause_end(text, hit.end)], (hit.start - start, hit.end - start)
    context, near = (
        _nearest(rules.not_safety_context.hits(clause), at),
        _nearest(rules.sensitive_nouns.hits(clause), at),
    )
    if context is not None and (near is None or (context <= NEXT_TO and context < near)):
        return None  # a look-alike word right by it wins over a noun further off: "药店的优惠券过期了"
    if kind in rules.sensitive_kinds:
        return f"product kind {kind}"
    noun = rules.sensitive_nouns.first(text)
    if noun:
        return f"mentions '{noun.group(text)}'"
    if unknown_ok and kind in (None, "other") and not rules.not_safety_context.first(text):
        return "product kind unknown"
    return None


def _safety_hits(text: str, hits: Sequence[Hit], kind: str | None, rules: Rules) -> list[tuple[Hit, str]]:
    found: list[tuple[Hit, str]] = []
    for hit in hits:
        label = hit.phrase.label
        if label == SAFETY:
            found.append((hit, f"safety keyword '{hit.phrase.text}' → P1"))
        elif label in (SAFETY_SENSITIVE_OR_UNKNOWN, SAFETY_SENSITIVE):
            why = _sensitive_context(text, hit, kind, rules, unknown_ok=label == SAFETY_SENSITIVE_OR_UNKNOWN)
            if why:
                found.append((hit, f"safety keyword '{hit.phrase.text}' ({why}) → P1"))
    return found


def _clause_index(text: str, position: int) -> int:
    return sum(1 for char in text[:position] if char in PUNCT)


def _together_hit(text: str, rule: Together, rules: Rules, denials: Sequence[Hit]) -> tuple[Hit, str] | None:
    """A ``first`` and a ``second`` phrase close enough (``rule.reach`` parts of a sentence apart:
    "手上起了红点" in one, "轮胎才跑三百公里，侧面就鼓了个包" in neighbours) → (hit, reason); a
    phrase inside a ``[severity.safety] denials`` phrase ("No one was hurt") does not count."""
    found = resolve_overlaps(rule.phrases.hits(text), IGNORE)
    denied = {cell for denial in denials for cell in range(denial.start, denial.end)}
    hits = [
        hit
        for hit in live_hits(text, found, rules.negation, [], IGNORE)
        if not hit.cells & denied and not _denied_right_before(text, hit, rules, [])
    ]
    firsts = [(first, _clause_index(text, first.start)) for first in hits if first.phrase.label == FIRST]
    for hit in hits:
        if hit.phrase.label != SECOND:
            continue
        clause = _clause_index(text, hit.start)
        for first, first_clause in firsts:
            if rule.reach is None or abs(first_clause - clause) <= rule.reach:
                return hit, f"'{first.phrase.text}' + '{hit.phrase.text}' {_SCOPE[rule.reach]} ({rule.name}) → P1"
    return None


def _denied_right_before(text: str, hit: Hit, rules: Rules, notes: list[str]) -> bool:
    """True for a safety word (or a together rule's harm) right after a ``denied_right_after`` word
    ("不鼓包", "无毒"), noted."""
    if (hit.phrase.label not in _SAFETY_LABELS and hit.phrase.label != SECOND) or not hit.phrase.negatable:
        return False
    before = clause_before(text, hit.start, rules.negation)
    cue = next((cue for cue in rules.safety_denied_right_after if before.endswith(cue)), None)
    if cue:
        notes.append(f"safety keyword '{hit.phrase.text}' ignored: denied by '{cue}' right before it")
    return cue is not None


def _meant(text: str, hit: Hit, rules: Rules, notes: list[str]) -> bool:
    """False for a threat the customer says they do not mean ("我不想闹到消协去"), noted."""
    if hit.phrase.label != PUBLIC_THREAT:
        return True
    before = clause_before(text, hit.start, rules.negation)
    cue = rules.threat_not_meant.first(before)
    if cue is None:
        return True
    notes.append(f"public-threat keyword '{hit.phrase.text}' ignored: not meant ('{cue.group(before)}')")
    return False


def read_signals(text: str, kind: str | None, rules: Rules) -> TextSignals:
    """The safety and P2 evidence in normalised ``text``."""
    notes: list[str] = []
    found = resolve_overlaps(rules.severity_phrases.hits(text), IGNORE)
    live = [
        hit
        for hit in live_hits(text, found, rules.negation, notes, IGNORE)
        if not _denied_right_before(text, hit, rules, notes)
    ]
    hits = [hit for hit in live if _meant(text, hit, rules, notes)]
    denials = [hit for hit in found if hit.phrase.label == SAFETY_DENIED]
    denied = tuple(
        hit.group(text)
        for hit in found
        if hit in denials or (hit.phrase.label in _SAFETY_LABELS and hit not in live)
    )
    safety = _safety_hits(text, hits, kind, rules)
    product_fault = True
    if not safety:
        for rule in rules.together:
            if rule.kinds and kind not in rule.kinds:
                continue
            found_together = _together_hit(text, rule, rules, denials)
            if found_together:
                safety.append(found_together)
                product_fault = rule.product_fault
                break
    return TextSignals(safety, hits, notes, product_fault, denied)


def _amount_rule(amount: Decimal | None, rules: Rules) -> Finding | None:
    if amount is None:
        return None
    if amount >= rules.p1_amount:
        return "P1", f"order amount {amount:.2f} ≥ {rules.p1_amount} → P1"
    if amount >= rules.p2_amount:
        return "P2", f"order amount {amount:.2f} ≥ {rules.p2_amount} → P2"
    return None


def _p2_text_rules(text: str, hits: Sequence[Hit], rules: Rules) -> list[Finding]:
    found: list[Finding] = []
    for hit in hits:
        if hit.phrase.label == PUBLIC_THREAT:
            found.append(("P2", f"public-threat keyword '{hit.phrase.text}' → P2"))
        elif hit.phrase.label == STRONGLY_NEGATIVE:
            found.append(("P2", f"strongly negative wording '{hit.phrase.text}' → P2"))
    if rules.exclamation_run > 0 and "!" * rules.exclamation_run in text:
        found.append(("P2", f"{rules.exclamation_run}+ exclamation marks (strongly negative) → P2"))
    return found


def _raise_for_tier(severity: Severity, tier: str, rules: Rules) -> tuple[Severity, str | None]:
    if tier not in rules.raise_tiers:
        return severity, None
    if severity == "P1":
        return severity, f"tier {tier} → already P1, not raised further"
    raised = SEVERITY_ORDER[SEVERITY_ORDER.index(severity) - 1]
    return raised, f"tier {tier} → severity raised {severity}→{raised}"


def _consumable_rule(category: str, recognised: bool, kind: str | None, rules: Rules) -> Finding | None:
    """A quality (or unrecognisable) complaint about food/medicine is treated as a safety risk."""
    if kind not in rules.quality_complaint_kinds:
        return None
    if category == rules.safety_category:
        return "P1", f"{category} complaint about {kind} (consumed product) → P1"
    if not recognised:
        return "P1", f"unrecognised complaint about {kind} (consumed product), P1 to be safe"
    return None


@dataclass(frozen=True)
class Facts:
    """The facts besides the text that decide severity."""

    category: str
    recognised: bool  # whether the text matched any category keyword
    kind: str | None
    amount: Decimal | None
    tier: str
    other_open_on_order: bool


def grade(text: str, signals: TextSignals, facts: Facts, rules: Rules) -> tuple[Severity, list[str]]:
    """The severity and the reasons for it."""
    found: list[Finding] = [("P1", why) for _, why in signals.safety]
    consumable = _consumable_rule(facts.category, facts.recognised, facts.kind, rules)
    if consumable and not signals.safety:
        found.append(consumable)
    amount = _amount_rule(facts.amount, rules)
    if amount:
        found.append(amount)
    if facts.other_open_on_order:
        found.append(("P2", "second open complaint on the same order → P2"))
    found += _p2_text_rules(text, signals.hits, rules)
    severity: Severity = min((sev for sev, _ in found), key=SEVERITY_ORDER.index, default="P3")
    reasons = [why for _, why in found] or ["no severity rule matched → P3"]
    severity, tier_reason = _raise_for_tier(severity, facts.tier, rules)
    return severity, [*reasons, *([tier_reason] if tier_reason else [])]
