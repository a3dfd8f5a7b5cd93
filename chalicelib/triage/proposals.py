"""Proposals: candidate rules mined from what staff corrected, for ops to accept or not.

A proposal is a set of phrases that recur in complaints staff moved to one category (or raised
to P1) and are rare in complaints of any other category, with its support (how many corrected
complaints hold it) and their ids. :func:`render_snippet` prints proposals in the rule file's
own syntax; the same text is what the replay check (``make triage-check``) takes.

Phrases are Chinese character n-grams (2–8 characters of one run of Han characters) and
English words and word pairs of one clause; a common English word on its own ("every",
"night") and a two-character Chinese phrase that is not frequent and exclusive are no keyword. No segmenter: rule phrases match inside the text,
so an n-gram is already a valid phrase, and a segmenter's dictionary (jieba: ~20 MB, ~1 s to
load) would cost the report function's cold start and still split slang and new product
names badly. Of n-grams found in exactly the same complaints only the longest are kept.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import cast

from pydantic import BaseModel, ConfigDict

from chalicelib.models import Category, Severity
from chalicelib.triage.classifier import triage
from chalicelib.triage.corrections import Correction, fold
from chalicelib.triage.rules import SAFETY, STRENGTHS, Rules, load_rules, without_model
from chalicelib.triage.spelling import english_words
from chalicelib.triage.text import PUNCT, normalize

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD_RE = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")
_CLAUSE_RE = re.compile("[" + re.escape("".join(sorted(PUNCT))) + "]")
# English function words: never a proposal, nor part of a word pair (except the negations).
_STOPWORD_TEXT = """a an the and or but if so to of in on at by for from with about as into over after before
    is are was were be been being am do does did done have has had having i me my we our you your
    he him his she her it its they them their this that these those there here what which who
    when where why how all any some no not can will would could should may might must just very
    too also than then only up out off again still even really get got one s t"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
NEGATIONS = frozenset({"no", "not", "never"})  # kept in word pairs: "not refunded" is a complaint
MIN_HAN, MAX_HAN = 2, 8


class Proposal(BaseModel):
    """Phrases to add under ``rule`` (a key of the rule file), and the evidence for them."""

    model_config = ConfigDict(frozen=True)

    category: Category | None = None  # a category proposal (categories.<name>.<strength>)
    severity: Severity | None = None  # or a severity proposal (P1: severity.safety.always)
    rule: str  # where the phrases go, e.g. "categories.after_sales.strong"
    phrases: list[str]
    support: int  # corrected complaints that hold every phrase
    complaints: list[str]  # their ids (at most ``MinerSettings.max_examples``)
    elsewhere: int  # complaints of any other label that hold one of the phrases


@dataclass(frozen=True)
class MinerSettings:
    min_support: int = 2  # corrected complaints a phrase must recur in
    min_precision: float = 0.8  # share of the phrase's labelled complaints that carry the label
    max_phrases: int = 3  # phrases shown per proposal
    max_proposals: int = 20
    max_examples: int = 10  # complaint ids shown per proposal
    common_word_count: int = 20_000  # an English word this common ("every", "night") is no keyword
    short_han_min_support: int = 3  # a two-character Chinese phrase needs this support, none elsewhere


@dataclass(frozen=True)
class _Doc:
    id: str
    grams: frozenset[str]
    label: str  # the category (or severity) staff confirmed or set
    target: bool  # corrected to ``label``: what the rules missed


def phrase_candidates(text: str) -> frozenset[str]:
    """The phrases a text could teach: Han n-grams, English words and adjacent word pairs."""
    text = normalize(text)
    grams: set[str] = set()
    for run in _HAN_RE.findall(text):
        for n in range(MIN_HAN, min(MAX_HAN, len(run)) + 1):
            grams.update(run[i : i + n] for i in range(len(run) - n + 1))
    for clause in _CLAUSE_RE.split(text):
        words = _WORD_RE.findall(clause)
        grams.update(w for w in words if w not in STOPWORDS and len(w) >= 3)
        grams.update(f"{a} {b}" for a, b in pairwise(words) if not {a, b} & (STOPWORDS - NEGATIONS))
    return frozenset(grams)


def _already_there(gram: str, label: str, rules: Rules, safety: bool) -> bool:
    """Whether the current rules already give ``gram`` (all of it) to ``label``."""
    phrases = rules.severity_phrases if safety else rules.category_phrases
    wanted = SAFETY if safety else label
    return any(
        hit.phrase.label == wanted and hit.start == 0 and hit.end == len(gram) for hit in phrases.hits(gram)
    )


def _maximal(candidates: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Of phrases found in exactly the same complaints keep the longest (the others are inside
    it); drop a phrase when a shorter one inside it was found in more complaints (it says more)."""
    by_ids: dict[frozenset[str], list[str]] = {}
    for gram, ids in candidates.items():
        by_ids.setdefault(ids, []).append(gram)
    longest = {
        gram: ids for ids, grams in by_ids.items() for gram in grams
        if not any(other != gram and gram in other for other in grams)
    }
    return {
        gram: ids for gram, ids in longest.items()
        if not any(other != gram and other in gram and ids < more for other, more in longest.items())
    }


def _mine(docs: Sequence[_Doc], label: str, settings: MinerSettings, skip: set[str]) -> list[tuple[str, frozenset[str], int]]:
    """(phrase, target complaint ids, complaints elsewhere) for one label."""
    support: dict[str, set[str]] = {}
    for doc in docs:
        if doc.target and doc.label == label:
            for gram in doc.grams:
                support.setdefault(gram, set()).add(doc.id)
    frequent = {g: frozenset(ids) for g, ids in support.items() if len(ids) >= settings.min_support and g not in skip}
    same: Counter[str] = Counter()
    elsewhere: Counter[str] = Counter()
    for doc in docs:
        for gram in doc.grams & frequent.keys():
            (same if doc.label == label else elsewhere)[gram] += 1
    precise = {
        gram: ids for gram, ids in frequent.items()
        if same[gram] / (same[gram] + elsewhere[gram]) >= settings.min_precision
        and _specific(gram, len(ids), elsewhere[gram], settings)
    }
    return [(gram, ids, elsewhere[gram]) for gram, ids in _maximal(precise).items()]


def _specific(gram: str, support: int, elsewhere: int, settings: MinerSettings) -> bool:
    """Whether ``gram`` says enough to be a keyword: not a common English word (or a pair of them),
    not a two-character Chinese phrase unless it is frequent here and absent elsewhere."""
    if gram.isascii():  # a word, or a pair of words of which one at least is not common
        common = english_words()
        return any(common.get(word, 0) <= settings.common_word_count for word in gram.split())
    if len(gram) == MIN_HAN and _HAN_RE.fullmatch(gram):
        return support >= settings.short_han_min_support and elsewhere == 0
    return True


def _group(
    found: Sequence[tuple[str, frozenset[str], int]], settings: MinerSettings
) -> list[tuple[list[str], frozenset[str], int]]:
    """Phrases found in the same complaints form one proposal (best phrases first)."""
    groups: dict[frozenset[str], list[tuple[str, int]]] = {}
    for gram, ids, elsewhere in found:
        groups.setdefault(ids, []).append((gram, elsewhere))
    result = []
    for ids, grams in groups.items():
        grams.sort(key=lambda item: (item[1], -len(item[0]), item[0]))
        best = grams[: settings.max_phrases]
        result.append(([gram for gram, _ in best], ids, max(elsewhere for _, elsewhere in best)))
    return result


def _strength(support: int, elsewhere: int) -> str:
    return STRENGTHS[0] if elsewhere == 0 and support >= 3 else STRENGTHS[1]


def mine_proposals(
    corrections: Iterable[Correction],
    background: Iterable[tuple[str, str]] = (),
    rules: Rules | None = None,
    settings: MinerSettings | None = None,
) -> list[Proposal]:
    """Candidate rules from ``corrections`` (any order; a complaint corrected twice counts once).

    Phrases are mined from the corrected complaints the rules still get wrong (each is triaged
    again with ``rules``): what staff set is their label, every other labelled complaint is
    "elsewhere". ``background`` adds labelled ``(text, category)`` pairs (such as the labelled examples) to
    judge "rare elsewhere" by; phrases the rules already give to the category are skipped.
    Category proposals come first (by support), then P1 safety proposals."""
    rules = without_model(rules or load_rules())  # phrases for what the rule file itself misses
    settings = settings or MinerSettings()
    folded = fold(corrections)
    now = {c.complaint_id: triage(c.to_input(), rules) for c in folded}  # what the rules say today
    grams = {c.complaint_id: phrase_candidates(c.text) for c in folded}
    extra = [(f"example-{i}", phrase_candidates(text), category) for i, (text, category) in enumerate(background)]
    proposals: list[Proposal] = []

    category_docs = [
        _Doc(c.complaint_id, grams[c.complaint_id], c.corrected_category,
             now[c.complaint_id].category != c.corrected_category)
        for c in folded
    ] + [_Doc(i, g, label, False) for i, g, label in extra]
    for category in sorted({d.label for d in category_docs if d.target}):
        labelled = {gram for d in category_docs if d.target and d.label == category for gram in d.grams}
        skip = {gram for gram in labelled if _already_there(gram, category, rules, safety=False)}
        for phrases, ids, elsewhere in _group(_mine(category_docs, category, settings, skip), settings):
            strength = _strength(len(ids), elsewhere)
            proposals.append(Proposal(
                category=cast(Category, category), rule=f"categories.{category}.{strength}", phrases=phrases,
                support=len(ids), complaints=sorted(ids)[: settings.max_examples], elsewhere=elsewhere,
            ))

    def missed_p1(c: Correction) -> bool:  # P1 for staff, not for the rules, and not for its amount or tier
        below_amount = c.order_amount is None or c.order_amount < rules.p1_amount
        raised = c.tier.strip().lower() in rules.raise_tiers
        return c.corrected_severity == "P1" and now[c.complaint_id].severity != "P1" and below_amount and not raised

    p1_docs = [_Doc(c.complaint_id, grams[c.complaint_id], "P1" if c.corrected_severity == "P1" else "lower",
                    missed_p1(c)) for c in folded]
    if any(d.target for d in p1_docs):
        labelled = {gram for d in p1_docs if d.target for gram in d.grams}
        skip = {gram for gram in labelled if _already_there(gram, "P1", rules, safety=True)}
        for phrases, ids, elsewhere in _group(_mine(p1_docs, "P1", settings, skip), settings):
            proposals.append(Proposal(
                severity="P1", rule="severity.safety.always", phrases=phrases, support=len(ids),
                complaints=sorted(ids)[: settings.max_examples], elsewhere=elsewhere,
            ))

    proposals.sort(key=lambda p: (p.severity is not None, -p.support, p.elsewhere, -len(p.phrases[0]), p.rule))
    return proposals[: settings.max_proposals]


def render_snippet(proposals: Sequence[Proposal]) -> str:
    """The proposals in the rule file's own syntax: a TOML snippet that ``make triage-check``
    replays and whose lines ops can copy into ``rules.toml``."""
    by_rule: dict[str, list[Proposal]] = {}
    for proposal in proposals:
        by_rule.setdefault(proposal.rule, []).append(proposal)
    tables: dict[str, list[str]] = {}
    for rule, group in by_rule.items():
        table, key = rule.rsplit(".", 1)
        lines = [f"{key} = ["]
        for proposal in group:
            ids = ", ".join(proposal.complaints)
            more = "" if proposal.support <= len(proposal.complaints) else ", …"
            lines.append(f"    # {proposal.support} corrected complaints ({ids}{more}); {proposal.elsewhere} elsewhere")
            lines += [f"    {json.dumps(phrase, ensure_ascii=False)}," for phrase in proposal.phrases]
        lines.append("]")
        tables.setdefault(table, []).extend(lines)
    if not tables:
        return "# no proposals: no phrase recurs in the corrected complaints often enough\n"
    out = ["# Proposed triage rules, mined from staff corrections. Check what they change with",
           "#   make triage-check ARGS=\"--proposal <this file>\"",
           "# and copy the phrases you accept into chalicelib/triage/rules.toml.", ""]
    for table, lines in tables.items():
        out += [f"[{table}]", *lines, ""]
    return "\n".join(out)
