"""Complaint triage: category, owning team and severity (P1/P2/P3) from a complaint's text.

Pure domain code (stdlib + pydantic). All keywords, weights, negation cues and thresholds live in
``triage_rules.toml`` next to this module, so that non-programmers can read and extend them; this
module only applies them:

* category — weighted keyword hits per category (Chinese substrings, whole English words), hits
  preceded by a negation cue in the same clause ("杯子没有碎") or followed by "没问题"/"is fine"
  are skipped, the product kind breaks ties, nothing matched → ``other``;
* severity — P1 for a safety keyword (some only for food/medicine/cosmetics), a body part and a
  harm word in one sentence ("手上起了红点"), a quality complaint about food or medicine, or an
  amount ≥ the P1 threshold; P2 for an amount ≥ the P2 threshold, a second open complaint on the
  order, a threat to go public or strongly negative wording; else P3. gold/vip raise one level,
  never above P1.

Every decision is explained in ``TriageResult.reasons``.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib.models import CATEGORIES, TEAMS, Severity, Team

RULES_PATH = Path(__file__).with_name("triage_rules.toml")

FALLBACK_CATEGORY = "other"

SEVERITY_ORDER: tuple[Severity, ...] = ("P1", "P2", "P3")


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


# -- text matching ----------------------------------------------------------------------------
# Characters that end a clause. Text is NFKC-normalised first, so full-width ，！？ are ASCII.
_PUNCT = ',.!?;:。、\n\r\t()[]{}<>【】「」『』“”"~|/'
_PUNCT_CLASS = re.escape(_PUNCT)
_PUNCT_RE = re.compile(f"[{_PUNCT_CLASS}]")
_WORD_CHARS = "a-z0-9"
_GAP = f"[^{_PUNCT_CLASS}]{{0,8}}?"  # what "..." in a phrase stands for
_UNIT_RE = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")  # an English word, or any other single char
_IGNORE = "__ignore__"
_SAFETY = "safety"
_SAFETY_SENSITIVE_OR_UNKNOWN = "safety_if_sensitive_or_unknown_kind"
_SAFETY_SENSITIVE = "safety_if_sensitive_kind"
_BODY = "body"
_HARM = "harm"


_SPECIAL_NOT = {
    "won't": "will not",
    "wont": "will not",
    "can't": "can not",
    "cant": "can not",
    "cannot": "can not",
    "shan't": "shall not",
    "ain't": "is not",
}
_NOT_RE = re.compile(
    r"(?<![a-z])(won't|wont|can't|cant|cannot|shan't|ain't|"
    r"(?:do|does|did|is|was|are|were|has|have|had|could|would|should|must|need)n'?t)(?![a-z])"
)


def _spell_out_not(match: re.Match[str]) -> str:
    word = match.group(1)
    if word in _SPECIAL_NOT:
        return _SPECIAL_NOT[word]
    return word.rstrip("t").rstrip("'").removesuffix("n") + " not"


def normalize(text: str) -> str:
    """NFKC (full-width → half-width, … → ...), lower case, straight quotes, "n't" → " not"."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return _NOT_RE.sub(_spell_out_not, text)


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _literal(part: str) -> str:
    return r"\s+".join(re.escape(word) for word in part.split())


def _probe(raw: str) -> str:
    """A plain substring every match of the phrase contains (a cheap pre-check before the regex)."""
    return normalize(raw).strip().rstrip("*").split("...")[0].split()[0]


def compile_phrase(raw: str) -> re.Pattern[str]:
    """Compile one rule-file phrase (see the header of triage_rules.toml for the syntax)."""
    phrase = normalize(raw).strip()
    star = phrase.endswith("*")
    core = phrase.rstrip("*").strip()
    parts = [part.strip() for part in core.split("...") if part.strip()]
    if not parts:
        raise ValueError(f"empty phrase in triage rules: {raw!r}")
    groups = [f"({_literal(part)})" for part in parts]
    if star:
        groups[-1] = f"({_literal(parts[-1])}[{_WORD_CHARS}'-]*)"
    elif core[-1].isascii() and core[-1].isalpha():
        groups[-1] = f"({_literal(parts[-1])}(?:s|es|ed|d|ing)?)"
    left = f"(?<![{_WORD_CHARS}])" if _is_word_char(core[0]) else ""
    right = f"(?![{_WORD_CHARS}])" if _is_word_char(core[-1]) and not star else ""
    return re.compile(left + _GAP.join(groups) + right)


@dataclass(frozen=True)
class Phrase:
    text: str  # as written in the rule file, for the reasons
    label: str  # category name, or a severity rule group
    weight: float
    negatable: bool
    pattern: re.Pattern[str]
    probe: str  # a substring of every match; phrases whose probe is absent are skipped


@dataclass(frozen=True)
class Hit:
    phrase: Phrase
    start: int
    end: int
    cells: frozenset[int]  # character positions taken by the phrase's literal parts


def _hits_of(phrase: Phrase, text: str) -> Iterable[Hit]:
    if phrase.probe not in text:
        return
    for match in phrase.pattern.finditer(text):
        cells: set[int] = set()
        for group in range(1, (match.re.groups or 0) + 1):
            cells.update(range(*match.span(group)))
        yield Hit(phrase, match.start(), match.end(), frozenset(cells))


def _compatible(hit: Hit, other: Hit) -> bool:
    if hit.cells.isdisjoint(other.cells):
        return True
    # the same words listed under several labels count for each — unless one is an ignore-phrase
    return hit.cells == other.cells and _IGNORE not in (hit.phrase.label, other.phrase.label)


def find_hits(text: str, phrases: Sequence[Phrase]) -> list[Hit]:
    """All phrase occurrences; where they overlap the longer one wins (ignore-phrases win ties)."""
    candidates = [hit for phrase in phrases for hit in _hits_of(phrase, text)]
    candidates.sort(key=lambda hit: (-len(hit.cells), hit.phrase.label != _IGNORE, hit.start))
    kept: list[Hit] = []
    for hit in candidates:
        if all(_compatible(hit, other) for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda hit: hit.start)


def _first_match(patterns: Sequence[re.Pattern[str]], text: str) -> re.Match[str] | None:
    matches = [m for m in (p.search(text) for p in patterns) if m]
    return min(matches, key=lambda m: m.start()) if matches else None


# -- negation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Negation:
    cues: tuple[re.Pattern[str], ...]
    not_negation: tuple[re.Pattern[str], ...]
    breaks: tuple[re.Pattern[str], ...]
    after_cues: tuple[re.Pattern[str], ...]
    window_chars: int
    window_words: int
    after_window_chars: int
    after_window_words: int


def _window(segment: str, max_chars: int, max_words: int, from_end: bool) -> str:
    """The part of ``segment`` nearest the keyword: ≤ max_chars CJK chars and ≤ max_words words."""
    units = list(_UNIT_RE.finditer(segment))
    if from_end:
        units.reverse()
    chars = words = 0
    taken: list[re.Match[str]] = []
    for unit in units:
        is_word = _is_word_char(unit.group()[0])
        chars, words = chars + (not is_word), words + is_word
        if chars > max_chars or words > max_words:
            break
        taken.append(unit)
    if not taken:
        return ""
    first, last = (taken[-1], taken[0]) if from_end else (taken[0], taken[-1])
    return segment[first.start() : last.end()]


def _mask(text: str, patterns: Sequence[re.Pattern[str]]) -> str:
    for pattern in patterns:
        text = pattern.sub("#", text)
    return text


def _before_window(text: str, start: int, neg: Negation) -> str:
    segment = _PUNCT_RE.split(text[:start])[-1]
    segment = _mask(segment, neg.not_negation)
    cut = max((m.end() for p in neg.breaks for m in p.finditer(segment)), default=0)
    return _window(segment[cut:], neg.window_chars, neg.window_words, from_end=True)


def _after_window(text: str, end: int, neg: Negation) -> str:
    segment = _PUNCT_RE.split(text[end:])[0]
    cut = min((m.start() for p in neg.breaks for m in p.finditer(segment)), default=len(segment))
    return _window(segment[:cut], neg.after_window_chars, neg.after_window_words, from_end=False)


def negated_by(text: str, hit: Hit, neg: Negation) -> str | None:
    """The negation word that cancels ``hit`` ("没有" in "杯子没有碎"), or None."""
    if not hit.phrase.negatable:
        return None
    before = _first_match(neg.cues, _before_window(text, hit.start, neg))
    if before:
        return before.group()
    after = _first_match(neg.after_cues, _after_window(text, hit.end, neg))
    return after.group() if after else None


# -- rules ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rules:
    tie_order: tuple[str, ...]
    supersedes: tuple[tuple[str, str], ...]
    strong_weight: float
    teams: dict[str, str]
    kinds: dict[str, frozenset[str]]
    category_phrases: tuple[Phrase, ...]
    kind_bonus: float
    safety_category: str
    safety_weight: float
    negation: Negation
    severity_phrases: tuple[Phrase, ...]
    body_harm_phrases: tuple[Phrase, ...]
    sensitive_kinds: frozenset[str]
    quality_complaint_kinds: frozenset[str]
    sensitive_nouns: tuple[re.Pattern[str], ...]
    not_safety_context: tuple[re.Pattern[str], ...]
    p1_amount: Decimal
    p2_amount: Decimal
    exclamation_run: int
    raise_tiers: frozenset[str]


def _patterns(raws: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(compile_phrase(raw) for raw in raws)


def _phrases(raws: Iterable[str], label: str, weight: float, negatable: bool) -> list[Phrase]:
    return [Phrase(raw, label, weight, negatable, compile_phrase(raw), _probe(raw)) for raw in raws]


def _category_phrases(categories: dict[str, Any], matching: dict[str, Any]) -> list[Phrase]:
    phrases: list[Phrase] = []
    for name, spec in categories.items():
        negatable = bool(spec.get("negatable", True))
        seen: set[str] = set()  # a phrase listed twice in one category counts once, strongest first
        for strength in ("strong", "normal", "weak"):
            weight = float(matching[f"{strength}_weight"])
            fresh = [raw for raw in spec.get(strength, []) if normalize(raw) not in seen]
            seen.update(normalize(raw) for raw in fresh)
            phrases += _phrases(fresh, name, weight, negatable)
    return phrases


def _severity_phrases(severity: dict[str, Any]) -> list[Phrase]:
    safety = severity["safety"]
    return [
        *_phrases(safety["always"], _SAFETY, 0, True),
        *_phrases(safety["if_sensitive_or_unknown_kind"], _SAFETY_SENSITIVE_OR_UNKNOWN, 0, True),
        *_phrases(safety["if_sensitive_kind"], _SAFETY_SENSITIVE, 0, True),
        *_phrases(safety.get("ignore", []), _IGNORE, 0, False),
        *_phrases(severity["public_threat"]["keywords"], "public_threat", 0, True),
        *_phrases(severity["strongly_negative"]["keywords"], "strongly_negative", 0, True),
    ]


def _body_harm_phrases(severity: dict[str, Any]) -> list[Phrase]:
    spec = severity.get("body_harm", {})
    return [
        *_phrases(spec.get("body", []), _BODY, 0, False),
        *_phrases(spec.get("harm", []), _HARM, 0, True),
        *_phrases(spec.get("ignore", []), _IGNORE, 0, False),
    ]


def _negation(spec: dict[str, Any]) -> Negation:
    return Negation(
        cues=_patterns(spec["cues"]),
        not_negation=_patterns(spec.get("not_negation", [])),
        breaks=_patterns(spec.get("breaks", [])),
        after_cues=_patterns(spec.get("after_cues", [])),
        window_chars=int(spec["window_chars"]),
        window_words=int(spec["window_words"]),
        after_window_chars=int(spec.get("after_window_chars", spec["window_chars"])),
        after_window_words=int(spec.get("after_window_words", spec["window_words"])),
    )


def _validate(data: dict[str, Any]) -> None:
    categories = data["categories"]
    if set(categories) != set(CATEGORIES):
        raise ValueError(f"triage rules must define exactly the categories {CATEGORIES}")
    for name, spec in categories.items():
        if spec.get("team") not in TEAMS:
            raise ValueError(f"category {name}: team must be one of {TEAMS}")
    if data["matching"]["safety_category"] not in CATEGORIES:
        raise ValueError("matching.safety_category must be a category")
    if sorted(data["matching"]["tie_order"]) != sorted(CATEGORIES):
        raise ValueError("matching.tie_order must list each category once")
    for pair in data["matching"].get("supersedes", []):
        if len(pair) != 2 or not set(pair) <= set(CATEGORIES):
            raise ValueError(f"matching.supersedes: {pair!r} must be two category names")


def build_rules(data: dict[str, Any]) -> Rules:
    """Compile the parsed rule file (``tomllib`` output) into matchers."""
    _validate(data)
    categories, matching, severity = data["categories"], data["matching"], data["severity"]
    ignore = _phrases(data.get("ignore", {}).get("phrases", []), _IGNORE, 0, False)
    safety = severity["safety"]
    return Rules(
        tie_order=tuple(matching["tie_order"]),
        supersedes=tuple((winner, loser) for winner, loser in matching.get("supersedes", [])),
        strong_weight=float(matching["strong_weight"]),
        teams={name: spec["team"] for name, spec in categories.items()},
        kinds={name: frozenset(spec.get("kinds", [])) for name, spec in categories.items()},
        category_phrases=tuple(_category_phrases(categories, matching) + ignore),
        kind_bonus=float(matching["kind_bonus"]),
        safety_category=matching["safety_category"],
        safety_weight=float(matching["safety_weight"]),
        negation=_negation(data["negation"]),
        severity_phrases=tuple(_severity_phrases(severity)),
        body_harm_phrases=tuple(_body_harm_phrases(severity)),
        sensitive_kinds=frozenset(safety["sensitive_kinds"]),
        quality_complaint_kinds=frozenset(safety.get("quality_complaint_kinds", [])),
        sensitive_nouns=_patterns(safety["sensitive_nouns"]),
        not_safety_context=_patterns(safety["not_safety_context"]),
        p1_amount=Decimal(str(severity["p1_amount"])),
        p2_amount=Decimal(str(severity["p2_amount"])),
        exclamation_run=int(severity["strongly_negative"]["exclamation_run"]),
        raise_tiers=frozenset(data["tiers"]["raise_one_level"]),
    )


@cache
def load_rules(path: Path = RULES_PATH) -> Rules:
    """Parse and compile the rule file once per process."""
    with path.open("rb") as fh:
        return build_rules(tomllib.load(fh))


# -- category ---------------------------------------------------------------------------------
def team_for(category: str) -> str:
    """The team that owns ``category`` (lifecycle.md, "Categories and teams")."""
    teams = load_rules().teams
    if category not in teams:
        raise ValueError(f"unknown complaint category: {category!r}")
    return teams[category]


def _live_hits(text: str, hits: Iterable[Hit], rules: Rules, reasons: list[str]) -> list[Hit]:
    """Drop ignore-phrases and negated hits (noting the latter in ``reasons``)."""
    live: list[Hit] = []
    for hit in hits:
        if hit.phrase.label == _IGNORE:
            continue
        cue = negated_by(text, hit, rules.negation)
        if cue:
            reasons.append(f"keyword '{hit.phrase.text}' ignored: negated by '{cue}'")
            continue
        live.append(hit)
    return live


def _pick(scores: dict[str, float], tie_order: Sequence[str]) -> str:
    return max(tie_order, key=lambda name: (scores.get(name, 0.0), -tie_order.index(name)))


def _superseding(best: str, hits: Sequence[Hit], rules: Rules) -> str | None:
    """A category that, having a strong keyword, takes precedence over ``best`` (see supersedes)."""
    strong = {hit.phrase.label for hit in hits if hit.phrase.weight >= rules.strong_weight}
    return next((winner for winner, loser in rules.supersedes if loser == best and winner in strong), None)


def _classify(text: str, kind: str | None, safety: Sequence[Hit], rules: Rules) -> tuple[str, list[str], bool]:
    notes: list[str] = []
    hits = _live_hits(text, find_hits(text, rules.category_phrases), rules, notes)
    scores: dict[str, float] = {}
    for hit in hits:
        scores[hit.phrase.label] = scores.get(hit.phrase.label, 0.0) + hit.phrase.weight
    if safety:
        name = rules.safety_category
        scores[name] = scores.get(name, 0.0) + rules.safety_weight
    if not scores:
        return FALLBACK_CATEGORY, [*notes, f"no category keyword matched → {FALLBACK_CATEGORY}"], False
    raw_best = _pick(scores, rules.tie_order)
    boosted = {n: s + (rules.kind_bonus if kind in rules.kinds[n] else 0.0) for n, s in scores.items()}
    best = _pick(boosted, rules.tie_order)
    tie_note = f"product kind '{kind}' broke a tie with {raw_best} → {best}" if best != raw_best else None
    winner = _superseding(best, hits, rules)
    if winner:
        tie_note = f"a strong {winner} keyword takes precedence over {best}"
        best = winner
    reasons = [f"keyword '{hit.phrase.text}' → {best}" for hit in hits if hit.phrase.label == best]
    if safety and best == rules.safety_category:
        reasons.append(f"safety keyword '{safety[0].phrase.text}' → {best}")
    return best, [*notes, *reasons, *([tie_note] if tie_note else [])], True


# -- severity ---------------------------------------------------------------------------------
def _clause_at(text: str, hit: Hit) -> str:
    start = max((m.end() for m in _PUNCT_RE.finditer(text, 0, hit.start)), default=0)
    end_match = _PUNCT_RE.search(text, hit.end)
    return text[start : end_match.start() if end_match else len(text)]


def _sensitive_context(text: str, hit: Hit, kind: str | None, rules: Rules, unknown_ok: bool) -> str | None:
    """Why a food/medicine/cosmetics safety word applies here, or None if it does not."""
    clause = _clause_at(text, hit)
    noun_in_clause = _first_match(rules.sensitive_nouns, clause)
    if _first_match(rules.not_safety_context, clause) and not noun_in_clause:
        return None
    if kind in rules.sensitive_kinds:
        return f"product kind {kind}"
    noun = _first_match(rules.sensitive_nouns, text)
    if noun:
        return f"mentions '{noun.group()}'"
    if unknown_ok and kind in (None, "other"):
        return "product kind unknown"
    return None


def _safety_hits(text: str, hits: Sequence[Hit], kind: str | None, rules: Rules) -> list[tuple[Hit, str]]:
    found: list[tuple[Hit, str]] = []
    for hit in hits:
        label = hit.phrase.label
        if label == _SAFETY:
            found.append((hit, f"safety keyword '{hit.phrase.text}' → P1"))
        elif label in (_SAFETY_SENSITIVE_OR_UNKNOWN, _SAFETY_SENSITIVE):
            why = _sensitive_context(text, hit, kind, rules, unknown_ok=label == _SAFETY_SENSITIVE_OR_UNKNOWN)
            if why:
                found.append((hit, f"safety keyword '{hit.phrase.text}' ({why}) → P1"))
    return found


def _clause_index(text: str, position: int) -> int:
    return len(_PUNCT_RE.findall(text, 0, position))


def _body_harm_hit(text: str, rules: Rules) -> tuple[Hit, str] | None:
    """A body part and a harm word in the same clause ("手上起了红点") → (harm hit, reason)."""
    hits = _live_hits(text, find_hits(text, rules.body_harm_phrases), rules, [])
    bodies = {_clause_index(text, hit.start): hit for hit in hits if hit.phrase.label == _BODY}
    for hit in hits:
        body = bodies.get(_clause_index(text, hit.start)) if hit.phrase.label == _HARM else None
        if body:
            return hit, f"body part '{body.phrase.text}' + harm '{hit.phrase.text}' in one sentence → P1"
    return None


def _amount_rule(amount: Decimal | None, rules: Rules) -> tuple[Severity, str] | None:
    if amount is None:
        return None
    if amount >= rules.p1_amount:
        return "P1", f"order amount {amount:.2f} ≥ {rules.p1_amount} → P1"
    if amount >= rules.p2_amount:
        return "P2", f"order amount {amount:.2f} ≥ {rules.p2_amount} → P2"
    return None


def _p2_text_rules(text: str, hits: Sequence[Hit], rules: Rules) -> list[tuple[Severity, str]]:
    found: list[tuple[Severity, str]] = []
    for hit in hits:
        if hit.phrase.label == "public_threat":
            found.append(("P2", f"public-threat keyword '{hit.phrase.text}' → P2"))
        elif hit.phrase.label == "strongly_negative":
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


def _consumable_rule(category: str, recognised: bool, kind: str | None, rules: Rules) -> tuple[Severity, str] | None:
    """A quality (or unrecognisable) complaint about food/medicine is treated as a safety risk."""
    if kind not in rules.quality_complaint_kinds:
        return None
    if category == rules.safety_category:
        return "P1", f"{category} complaint about {kind} (consumed product) → P1"
    if not recognised:
        return "P1", f"unrecognised complaint about {kind} (consumed product), P1 to be safe"
    return None


@dataclass(frozen=True)
class _Evidence:
    """What the text showed, as far as severity is concerned."""

    category: str
    recognised: bool  # whether any category keyword matched
    safety: Sequence[tuple[Hit, str]]  # safety hits with their reasons
    hits: Sequence[Hit]  # live severity-keyword hits (threats, strong wording …)


def _severity(inp: TriageInput, text: str, evidence: _Evidence) -> tuple[Severity, list[str]]:
    rules = load_rules()
    safety, hits = evidence.safety, evidence.hits
    rules_hit: list[tuple[Severity, str]] = [("P1", why) for _, why in safety]
    consumable = _consumable_rule(evidence.category, evidence.recognised, _kind(inp), rules)
    if consumable and not safety:
        rules_hit.append(consumable)
    amount = _amount_rule(inp.order_amount, rules)
    if amount:
        rules_hit.append(amount)
    if inp.other_open_on_order:
        rules_hit.append(("P2", "second open complaint on the same order → P2"))
    rules_hit += _p2_text_rules(text, hits, rules)
    severity: Severity = min((sev for sev, _ in rules_hit), key=SEVERITY_ORDER.index, default="P3")
    reasons = [why for _, why in rules_hit] or ["no severity rule matched → P3"]
    severity, tier_reason = _raise_for_tier(severity, inp.tier.strip().lower(), rules)
    return severity, [*reasons, *([tier_reason] if tier_reason else [])]


# -- entry point ------------------------------------------------------------------------------
def _customer_category(category: str | None) -> str | None:
    if category is None:
        return None
    name = category.strip().lower()
    return name if name in CATEGORIES else None


def _kind(inp: TriageInput) -> str | None:
    return inp.product_kind.strip().lower() if inp.product_kind else None


def _category(
    inp: TriageInput, text: str, safety: Sequence[Hit], rules: Rules
) -> tuple[str, Literal["customer", "classified"], list[str], bool]:
    """(category, its source, reasons, whether the text matched any category keyword)."""
    chosen = _customer_category(inp.category)
    if chosen:
        return chosen, "customer", [f"customer-chosen category '{chosen}' kept"], True
    category, reasons, recognised = _classify(text, _kind(inp), safety, rules)
    if inp.category:
        reasons.insert(0, f"customer category '{inp.category}' is not known → classified from text")
    return category, "classified", reasons, recognised


def triage(inp: TriageInput) -> TriageResult:
    """Classify (unless the customer chose a valid category), grade severity, pick the team."""
    rules = load_rules()
    text = normalize(inp.text)
    notes: list[str] = []
    severity_hits = _live_hits(text, find_hits(text, rules.severity_phrases), rules, notes)
    safety = _safety_hits(text, severity_hits, _kind(inp), rules)
    body_harm = _body_harm_hit(text, rules)
    if body_harm and not safety:
        safety.append(body_harm)
    category, source, category_reasons, recognised = _category(inp, text, [hit for hit, _ in safety], rules)
    evidence = _Evidence(category, recognised, safety, severity_hits)
    severity, severity_reasons = _severity(inp, text, evidence)
    return TriageResult(
        category=category,
        category_source=source,
        severity=severity,
        team=team_for(category),  # type: ignore[arg-type]  # validated against TEAMS on load
        reasons=[*category_reasons, *severity_reasons, *notes],
    )
