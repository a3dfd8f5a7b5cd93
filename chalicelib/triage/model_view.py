"""What the learned model reads: the text the rules read, with the keywords the rules found
negated blanked out ("鞋子不是假货，但是开胶了" → "鞋子不是  ，但是开胶了"), so that a negated "fake" is
no evidence of a fake for the model either; so are the category keywords of a first guess the
customer takes back ("我以为是假货，…"). Training reads the same view (local/triage_train.py)."""

from __future__ import annotations

from chalicelib.triage.negation import guessed_by, negated_by
from chalicelib.triage.rules import IGNORE, Rules
from chalicelib.triage.text import resolve_overlaps


def model_view(text: str, rules: Rules) -> str:
    """Normalised ``text`` with every negated category or severity keyword, and every category
    keyword of a first guess, replaced by spaces (as the rules read them: a phrase compiled as not
    negatable is never blanked)."""
    neg = rules.negation
    spans = [
        (hit.start, hit.end)
        for phrases, guesses_count in ((rules.category_phrases, True), (rules.severity_phrases, False))
        for hit in resolve_overlaps(phrases.hits(text), IGNORE)
        if hit.phrase.label != IGNORE and (negated_by(text, hit, neg) or (guesses_count and guessed_by(text, hit, neg)))
    ]
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)
