"""Negation: "杯子没有碎" is not damage, "the box was fine" is not a complaint about the box.

A hit is cancelled by a negation cue shortly before it in the same clause (the clause also ends
at a "break" word such as 但是/but), or by an "after" cue shortly after it ("质量没问题").
Words that look like a negation but are not ("没多久", "no one") are blanked out first. Every
word list and window size is in the ``[negation]`` section of ``rules.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from chalicelib.triage.rules import Negation
from chalicelib.triage.text import PUNCT, Hit, is_word_char

_UNIT_RE = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")  # an English word, or any other single char
_PUNCT_SPLIT_RE = re.compile("[" + re.escape("".join(sorted(PUNCT))) + "]")


def _window(segment: str, max_chars: int, max_words: int, from_end: bool) -> str:
    """The part of ``segment`` nearest the keyword: ≤ max_chars CJK chars and ≤ max_words words."""
    units = list(_UNIT_RE.finditer(segment))
    if from_end:
        units.reverse()
    chars = words = 0
    taken: list[re.Match[str]] = []
    for unit in units:
        is_word = is_word_char(unit.group()[0])
        chars, words = chars + (not is_word), words + is_word
        if chars > max_chars or words > max_words:
            break
        taken.append(unit)
    if not taken:
        return ""
    first, last = (taken[-1], taken[0]) if from_end else (taken[0], taken[-1])
    return segment[first.start() : last.end()]


def clause_before(text: str, start: int, neg: Negation) -> str:
    """The part of the sentence before ``start``, from the last punctuation or break word, with
    look-alike negations ("没多久") blanked out."""
    segment = _PUNCT_SPLIT_RE.split(text[:start])[-1]
    segment = neg.not_negation.mask(segment)
    cut = max((hit.end for hit in neg.breaks.hits(segment)), default=0)
    return segment[cut:]


def _before_window(text: str, start: int, neg: Negation) -> str:
    return _window(clause_before(text, start, neg), neg.window_chars, neg.window_words, from_end=True)


def _after_window(text: str, end: int, neg: Negation) -> str:
    segment = _PUNCT_SPLIT_RE.split(text[end:])[0]
    cut = min((hit.start for hit in neg.breaks.hits(segment)), default=len(segment))
    return _window(segment[:cut], neg.after_window_chars, neg.after_window_words, from_end=False)


def negated_by(text: str, hit: Hit, neg: Negation) -> str | None:
    """The negation word that cancels ``hit`` ("没有" in "杯子没有碎"), or None."""
    if not hit.phrase.negatable:
        return None
    window = _before_window(text, hit.start, neg)
    before = neg.cues.first(window)
    if before:
        return before.group(window)
    window = _after_window(text, hit.end, neg)
    after = neg.after_cues.first(window)
    return after.group(window) if after else None


def _kept(hits: list[Hit], cancel: Callable[[Hit], str | None], why: str, reasons: list[str]) -> list[Hit]:
    """``hits`` without those ``cancel`` names a cue for, each noted in ``reasons`` (``why`` formats the cue)."""
    kept: list[Hit] = []
    for hit in hits:
        cue = cancel(hit)
        if cue:
            reasons.append(f"keyword '{hit.phrase.text}' ignored: {why.format(cue)}")
            continue
        kept.append(hit)
    return kept


def live_hits(text: str, hits: list[Hit], neg: Negation, reasons: list[str], ignore_label: str) -> list[Hit]:
    """``hits`` without ignore-phrases and negated hits (the latter noted in ``reasons``)."""
    unignored = [hit for hit in hits if hit.phrase.label != ignore_label]
    return _kept(unignored, lambda hit: negated_by(text, hit, neg), "negated by '{}'", reasons)


def guess_before(text: str, start: int, neg: Negation) -> str | None:
    """The ``guesses`` word earlier in the clause before ``start`` ("我以为" in "我以为是路上摔坏的"), or None."""
    cue = neg.guesses.first(clause_before(text, start, neg))
    return cue.phrase.text if cue else None


def guessed_by(text: str, hit: Hit, neg: Negation) -> str | None:
    """The word that makes ``hit`` a first guess the customer takes back, or None (a phrase compiled
    as not negatable is never one)."""
    return guess_before(text, hit.start, neg) if hit.phrase.negatable else None


def without_guesses(text: str, hits: list[Hit], neg: Negation, reasons: list[str]) -> list[Hit]:
    """``hits`` without the keywords of a first guess taken back (noted in ``reasons``)."""
    return _kept(hits, lambda hit: guessed_by(text, hit, neg), "a first guess ('{}')", reasons)
