"""The rule file ``rules.toml``: its schema (pydantic, so a typo is a clear error naming the key),
how a proposed snippet is merged into it, and the compiled :class:`Rules` the classifier applies.

Loading compiles no regular expression: phrases are parsed into :class:`~.text.Phrase` objects
and indexed (see ``text.py``), which keeps the rule file's share of a Lambda cold start small
(``python -m bench.triage_speed``).
"""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from chalicelib.models import Team
from chalicelib.triage.model import Model, load_model
from chalicelib.triage.spelling import Speller
from chalicelib.triage.text import Phrase, PhraseSet, normalize_phrase

if TYPE_CHECKING:
    from chalicelib.triage.schema import NegationSpec, RuleFile, SeveritySpec, TogetherSpec

RULES_PATH = Path(__file__).with_name("rules.toml")

# labels of the phrases that are not categories
IGNORE = "__ignore__"
SAFETY = "safety"
SAFETY_SENSITIVE_OR_UNKNOWN = "safety_if_sensitive_or_unknown_kind"
SAFETY_SENSITIVE = "safety_if_sensitive_kind"
FIRST = "first"
SECOND = "second"
SAFETY_DENIED = "safety_denied"  # "没人受伤", "不漏电": a safety word said to be absent
PUBLIC_THREAT = "public_threat"
STRONGLY_NEGATIVE = "strongly_negative"
STRENGTHS = ("strong", "normal", "weak")
_REACH: dict[str, int | None] = {"sentence": 0, "neighbours": 1, "text": None}  # [[severity.together]] scope


class RuleFileError(ValueError):
    """The rule file (or a proposed snippet) is not valid; the message names the key."""


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


def parse_rule_file(data: Mapping[str, Any]) -> RuleFile:
    """Validate parsed TOML against the schema; :class:`RuleFileError` names what is wrong."""
    from chalicelib.triage.schema import RuleFile  # only when rules are loaded: not at import

    try:
        return RuleFile.model_validate(data)
    except ValidationError as error:
        raise RuleFileError(f"invalid triage rules: {_describe(error)}") from None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as error:
        raise RuleFileError(f"{path}: not valid TOML: {error}") from None


def merge(data: Mapping[str, Any], snippet: Mapping[str, Any]) -> dict[str, Any]:
    """The rule data with ``snippet`` (a proposal, in the rule file's own syntax) applied: its
    phrase lists are added to the existing lists (each phrase once), tables merge key by key,
    other values replace. The result is not validated here; build it with :func:`build_rules`."""
    merged = copy.deepcopy(dict(data))
    for key, value in snippet.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = merge(current, value)
        elif isinstance(value, list) and isinstance(current, list):
            merged[key] = current + [item for item in value if item not in current]
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# -- compiled rules ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Negation:
    cues: PhraseSet
    not_negation: PhraseSet
    breaks: PhraseSet
    after_cues: PhraseSet
    guesses: PhraseSet
    window_chars: int
    window_words: int
    after_window_chars: int
    after_window_words: int


@dataclass(frozen=True)
class Takeover:
    category: str
    sources: frozenset[str]
    when: PhraseSet
    unless: PhraseSet
    only: frozenset[str]  # keywords as written in the rule file; empty: all
    also: PhraseSet | None = None  # if given, one of these must be in the text too
    safety_words: bool = False  # a safety hit's weight for the safety category moves as well


@dataclass(frozen=True)
class Together:
    name: str
    phrases: PhraseSet  # labelled FIRST, SECOND or IGNORE
    kinds: frozenset[str]
    reach: int | None  # how many parts of a sentence apart the two may be (None: anywhere in the text)
    product_fault: bool = True  # a hit also counts for the safety category (rules.toml [matching])


@dataclass(frozen=True)
class Rules:
    """The rule file compiled for the classifier (see ``rules.toml`` for what each part means)."""

    source: RuleFile
    tie_order: tuple[str, ...]
    supersedes: tuple[tuple[str, str], ...]
    strong_weight: float
    teams: dict[str, Team]
    kinds: dict[str, frozenset[str]]
    category_phrases: PhraseSet
    kind_bonus: float
    safety_category: str
    safety_weight: float
    negation: Negation
    fallback_by_kind: dict[str, str]
    takeovers: tuple[Takeover, ...]
    speller: Speller
    severity_phrases: PhraseSet
    together: tuple[Together, ...]
    sensitive_kinds: frozenset[str]
    quality_complaint_kinds: frozenset[str]
    sensitive_nouns: PhraseSet
    not_safety_context: PhraseSet
    safety_denied_right_after: tuple[str, ...]  # "不" in "不鼓包": the safety word is denied
    threat_not_meant: PhraseSet  # "我不想闹到消协去": a threat the customer says they do not mean
    p1_amount: Decimal
    p2_amount: Decimal
    exclamation_run: int
    raise_tiers: frozenset[str]
    model: Model | None = None  # the learned second opinion, when [model] enabled
    model_decides_below: float = 0.0
    model_min_probability: float = 1.0
    model_safety_probability: float = 1.0
    model_safety_yields_to_denial: bool = False  # ... unless the text negates a safety word
    model_overrule_probability: float = 1.0  # even a strong keyword match yields to the model this sure

    def team_for(self, category: str) -> Team:
        if category not in self.teams:
            raise ValueError(f"unknown complaint category: {category!r}")
        return self.teams[category]


def _phrases(raws: Iterable[str], label: str, weight: float = 0.0, negatable: bool = True) -> list[Phrase]:
    return [Phrase.parse(raw, label, weight, negatable) for raw in raws]


def _set(raws: Iterable[str], label: str = "") -> PhraseSet:
    return PhraseSet(_phrases(raws, label))


def _category_phrases(spec: RuleFile) -> list[Phrase]:
    phrases: list[Phrase] = []
    weights = {s: getattr(spec.matching, f"{s}_weight") for s in STRENGTHS}
    for name, category in spec.categories.items():
        seen: set[str] = set()  # a phrase listed twice in one category counts once, strongest first
        for strength in STRENGTHS:
            fresh = [raw for raw in getattr(category, strength) if normalize_phrase(raw) not in seen]
            seen.update(normalize_phrase(raw) for raw in fresh)
            phrases += _phrases(fresh, name, weights[strength], category.negatable)
    return phrases + _phrases(spec.ignore.phrases, IGNORE, negatable=False)


def _severity_phrases(severity: SeveritySpec) -> list[Phrase]:
    safety = severity.safety
    return [
        *_phrases(safety.always, SAFETY),
        *_phrases(safety.if_sensitive_or_unknown_kind, SAFETY_SENSITIVE_OR_UNKNOWN),
        *_phrases(safety.if_sensitive_kind, SAFETY_SENSITIVE),
        *_phrases(safety.ignore, IGNORE, negatable=False),
        *_phrases(safety.denials, SAFETY_DENIED, negatable=False),
        *_phrases(severity.public_threat.keywords, PUBLIC_THREAT),
        *_phrases(
            severity.strongly_negative.keywords, STRONGLY_NEGATIVE, negatable=severity.strongly_negative.negatable
        ),
    ]


def _together(spec: TogetherSpec) -> Together:
    phrases = [
        *_phrases(spec.first, FIRST, negatable=False),
        *_phrases(spec.second, SECOND),
        *_phrases(spec.ignore, IGNORE, negatable=False),
    ]
    return Together(spec.name, PhraseSet(phrases), frozenset(spec.kinds), _REACH[spec.scope], spec.product_fault)


def _takeovers(spec: RuleFile) -> tuple[Takeover, ...]:
    return tuple(
        Takeover(
            name,
            frozenset(t.sources),
            _set(t.when),
            _set(t.unless),
            frozenset(t.only),
            also=_set(t.also) if t.also else None,
            safety_words=t.safety_words,
        )
        for name, c in spec.categories.items()
        for t in c.takeover
    )


def _speller(spec: RuleFile, sets: Iterable[PhraseSet]) -> Speller:
    """The speller's vocabulary: the English words of every phrase (``word*`` stems included)."""
    phrases = [" ".join(p.parts) + ("*" if p.star else "") for s in sets for p in s.phrases]
    return Speller(phrases, spec.spelling.min_length, [normalize_phrase(w) for w in spec.spelling.never_correct])


def _negation(spec: NegationSpec) -> Negation:
    return Negation(
        cues=_set(spec.cues),
        not_negation=_set(spec.not_negation),
        breaks=_set(spec.breaks),
        after_cues=_set(spec.after_cues),
        guesses=_set(spec.guesses),
        window_chars=spec.window_chars,
        window_words=spec.window_words,
        after_window_chars=spec.window_chars if spec.after_window_chars is None else spec.after_window_chars,
        after_window_words=spec.window_words if spec.after_window_words is None else spec.after_window_words,
    )


def build_rules(data: Mapping[str, Any], directory: Path = RULES_PATH.parent) -> Rules:
    """Validate and compile parsed rule data (``tomllib`` output, possibly :func:`merge`-d);
    ``[model] table`` is read from ``directory``."""
    spec = parse_rule_file(data)
    learned = spec.model
    try:
        model = load_model(directory / learned.table, list(spec.categories)) if learned.enabled else None
    except ValueError as error:
        raise RuleFileError(f"model.table: {error}") from None
    matching, severity = spec.matching, spec.severity
    category_phrases = PhraseSet(_category_phrases(spec))
    severity_phrases = PhraseSet(_severity_phrases(severity))
    together = tuple(_together(t) for t in severity.together)
    return Rules(
        source=spec,
        tie_order=tuple(matching.tie_order),
        supersedes=tuple((winner, loser) for winner, loser in matching.supersedes),
        strong_weight=matching.strong_weight,
        teams={name: category.team for name, category in spec.categories.items()},
        kinds={name: frozenset(category.kinds) for name, category in spec.categories.items()},
        category_phrases=category_phrases,
        kind_bonus=matching.kind_bonus,
        safety_category=matching.safety_category,
        safety_weight=matching.safety_weight,
        negation=_negation(spec.negation),
        fallback_by_kind=dict(matching.when_nothing_matches),
        takeovers=_takeovers(spec),
        speller=_speller(spec, [category_phrases, severity_phrases, *(t.phrases for t in together)]),
        severity_phrases=severity_phrases,
        together=together,
        sensitive_kinds=frozenset(severity.safety.sensitive_kinds),
        quality_complaint_kinds=frozenset(severity.safety.quality_complaint_kinds),
        sensitive_nouns=_set(severity.safety.sensitive_nouns),
        not_safety_context=_set(severity.safety.not_safety_context),
        safety_denied_right_after=tuple(severity.safety.denied_right_after),
        threat_not_meant=_set(severity.public_threat.not_meant),
        p1_amount=severity.p1_amount,
        p2_amount=severity.p2_amount,
        exclamation_run=severity.strongly_negative.exclamation_run,
        raise_tiers=frozenset(spec.tiers.raise_one_level),
        model=model,
        model_decides_below=learned.decide_below_score,
        model_min_probability=learned.min_probability,
        model_safety_probability=learned.safety_probability,
        model_safety_yields_to_denial=learned.safety_yields_to_denial,
        model_overrule_probability=learned.overrule_probability,
    )


def without_model(rules: Rules) -> Rules:
    """``rules`` with the learned second opinion switched off: the rule file alone, which is what
    the learning loop (proposals, the replay check) judges and extends."""
    return rules if rules.model is None else dataclasses.replace(rules, model=None)


def load_rule_data(path: Path = RULES_PATH) -> dict[str, Any]:
    """The rule file as parsed TOML (to :func:`merge` a snippet into before building)."""
    return read_toml(path)


@cache
def load_rules(path: Path = RULES_PATH) -> Rules:
    """Parse, validate and compile the rule file once per process."""
    return build_rules(read_toml(path), path.parent)
