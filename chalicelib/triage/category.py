"""Category from the text: weighted keyword hits per category, the product kind breaking ties.

Negated hits are skipped, a safety hit is evidence against the product itself, a category with
a strong keyword may take precedence over another (``matching.supersedes``), and nothing
matched means ``other``. Every step is explained in the returned reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.triage.negation import guess_before, live_hits, without_guesses
from chalicelib.triage.rules import IGNORE, Rules, Takeover
from chalicelib.triage.text import Hit, resolve_overlaps

FALLBACK_CATEGORY = "other"


@dataclass(frozen=True)
class Classified:
    category: str
    reasons: list[str]
    recognised: bool  # whether any category keyword matched
    score: float = 0.0  # the winner's keyword score (weak when small)
    tied: bool = False  # another category had the same keyword score


def _pick(scores: dict[str, float], tie_order: Sequence[str]) -> str:
    return max(tie_order, key=lambda name: (scores.get(name, 0.0), -tie_order.index(name)))


def _superseding(best: str, strong: set[str], rules: Rules) -> str | None:
    """A category that, having a strong keyword, takes precedence over ``best`` (see supersedes)."""
    return next((winner for winner, loser in rules.supersedes if loser == best and winner in strong), None)


def _take_over(
    text: str, hits: Sequence[Hit], owners: list[str], ignored: Sequence[Hit], safety: bool, rules: Rules, notes: list[str]
) -> str:
    """Let a category claim other categories' keywords in its context (``takeover`` in the rules);
    a context phrase inside an ``[ignore]`` phrase ("not asking for a refund") sets no context.
    Returns the category the safety hits count for (``safety_words`` moves them too)."""
    safety_owner = rules.safety_category
    for takeover in rules.takeovers:
        movable = [
            i for i, hit in enumerate(hits)
            if owners[i] in takeover.sources and (not takeover.only or hit.phrase.text in takeover.only)
        ]
        moves_safety = safety and takeover.safety_words and safety_owner in takeover.sources
        context = _context(text, takeover, ignored, rules) if movable or moves_safety else None
        if context is None:
            continue
        for source in sorted({owners[i] for i in movable}):
            notes.append(f"{source} keywords count for {takeover.category}: '{context}' in the text")
        for i in movable:
            owners[i] = takeover.category
        if moves_safety:
            notes.append(f"safety words count for {takeover.category}: '{context}' in the text")
            safety_owner = takeover.category
    return safety_owner


def _context(text: str, takeover: Takeover, ignored: Sequence[Hit], rules: Rules) -> str | None:
    """The phrase that puts ``text`` in the takeover's context ("退货"), or None; a phrase inside an
    ignore-phrase or in a first guess taken back ("我以为是快递摔的") sets none."""

    def sets_context(h: Hit) -> bool:
        inside_ignored = any(i.start <= h.start and h.end <= i.end for i in ignored)
        return not inside_ignored and guess_before(text, h.start, rules.negation) is None

    hit = next((h for h in takeover.when.hits(text) if sets_context(h)), None)
    if hit is None or takeover.unless.first(text) is not None:
        return None
    if takeover.also is None:
        return hit.phrase.text
    also = takeover.also.first(text)
    return None if also is None else f"{hit.phrase.text}' + '{also.phrase.text}"


def classify(text: str, kind: str | None, safety: Sequence[Hit], rules: Rules) -> Classified:
    """The category of normalised ``text`` (``safety``: the live safety hits found in it)."""
    notes: list[str] = []
    found = resolve_overlaps(rules.category_phrases.hits(text), IGNORE)
    hits = without_guesses(text, live_hits(text, found, rules.negation, notes, IGNORE), rules.negation, notes)
    owners = [hit.phrase.label for hit in hits]  # the category each keyword counts for
    ignored = [hit for hit in found if hit.phrase.label == IGNORE]
    safety_owner = _take_over(text, hits, owners, ignored, bool(safety), rules, notes)
    scores: dict[str, float] = {}
    for hit, owner in zip(hits, owners, strict=True):
        scores[owner] = scores.get(owner, 0.0) + hit.phrase.weight
    if safety:
        scores[safety_owner] = scores.get(safety_owner, 0.0) + rules.safety_weight
    if not scores:
        if kind in rules.fallback_by_kind:
            fallback = rules.fallback_by_kind[kind]
            return Classified(fallback, [*notes, f"no category keyword matched; product kind '{kind}' → {fallback}"], False)
        return Classified(FALLBACK_CATEGORY, [*notes, f"no category keyword matched → {FALLBACK_CATEGORY}"], False)
    raw_best = _pick(scores, rules.tie_order)
    boosted = {n: s + (rules.kind_bonus if kind in rules.kinds[n] else 0.0) for n, s in scores.items()}
    best = _pick(boosted, rules.tie_order)
    tie_note = f"product kind '{kind}' broke a tie with {raw_best} → {best}" if best != raw_best else None
    strong = {owner for hit, owner in zip(hits, owners, strict=True) if hit.phrase.weight >= rules.strong_weight}
    winner = _superseding(best, strong, rules)
    if winner:
        tie_note = f"a strong {winner} keyword takes precedence over {best}"
        best = winner
    reasons = [f"keyword '{hit.phrase.text}' → {best}" for hit, owner in zip(hits, owners, strict=True) if owner == best]
    if safety and best == safety_owner:
        reasons.append(f"safety keyword '{safety[0].phrase.text}' → {best}")
    # a tie a supersedes rule settled is no tie: the rule file has decided it, not the tie order
    tied = not winner and sum(1 for s in scores.values() if s == scores[raw_best]) > 1
    return Classified(best, [*notes, *reasons, *([tie_note] if tie_note else [])], True, scores.get(best, 0.0), tied)
