"""The rule file ``rules.toml``: its schema (pydantic, so a typo is a clear error naming the key),
how a proposed snippet is merged into it, and the compiled :class:`Rules` the classifier applies.

Loading compiles no regular expression: phrases are parsed into :class:`~.text.Phrase` objects
and indexed (see ``text.py``), which keeps the rule file's share of a Lambda cold start small
(``python -m bench.triage_speed``).
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chalicelib.models import CATEGORIES, TEAMS, Team
from chalicelib.triage.spelling import Speller
from chalicelib.triage.text import Phrase, PhraseSet, normalize_phrase

RULES_PATH = Path(__file__).with_name("rules.toml")

# labels of the phrases that are not categories
IGNORE = "__ignore__"
SAFETY = "safety"
SAFETY_SENSITIVE_OR_UNKNOWN = "safety_if_sensitive_or_unknown_kind"
SAFETY_SENSITIVE = "safety_if_sensitive_kind"
FIRST = "first"
SECOND = "second"
PUBLIC_THREAT = "public_threat"
STRONGLY_NEGATIVE = "strongly_negative"
STRENGTHS = ("strong", "normal", "weak")


class RuleFileError(ValueError):
    """The rule file (or a proposed snippet) is not valid; the message names the key."""


# -- the schema of rules.toml -----------------------------------------------------------------
class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Phrases = list[str]


class Matching(_Section):
    strong_weight: float
    normal_weight: float
    weak_weight: float
    kind_bonus: float
    tie_order: list[str]
    supersedes: list[list[str]] = []
    safety_category: str
    safety_weight: float
    when_nothing_matches: dict[str, str] = {}  # product kind -> category, when no keyword matched

    @field_validator("when_nothing_matches")
    @classmethod
    def _kinds_to_categories(cls, value: dict[str, str]) -> dict[str, str]:
        for kind, category in value.items():
            if category not in CATEGORIES:
                raise ValueError(f"{kind}: {category!r} is not a category")
        return value

    @field_validator("tie_order")
    @classmethod
    def _every_category_once(cls, value: list[str]) -> list[str]:
        if sorted(value) != sorted(CATEGORIES):
            raise ValueError("must list each category once")
        return value

    @field_validator("supersedes")
    @classmethod
    def _pairs_of_categories(cls, value: list[list[str]]) -> list[list[str]]:
        for pair in value:
            if len(pair) != 2 or not set(pair) <= set(CATEGORIES):
                raise ValueError(f"{pair!r} must be two category names")
        return value

    @field_validator("safety_category")
    @classmethod
    def _a_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError("must be a category")
        return value


class NegationSpec(_Section):
    cues: Phrases
    not_negation: Phrases = []
    breaks: Phrases = []
    after_cues: Phrases = []
    window_chars: int = Field(ge=0)
    window_words: int = Field(ge=0)
    after_window_chars: int | None = Field(default=None, ge=0)
    after_window_words: int | None = Field(default=None, ge=0)


class IgnoreSpec(_Section):
    phrases: Phrases = []


class TakeoverSpec(_Section):
    sources: list[str] = Field(alias="from")  # categories whose keywords count for this one ...
    when: Phrases  # ... when one of these phrases is in the text ...
    unless: Phrases = []  # ... and none of these
    only: Phrases = []  # if given: only these keywords of the "from" categories count

    @field_validator("sources")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in CATEGORIES]
        if unknown:
            raise ValueError(f"not categories: {unknown}")
        return value


class CategorySpec(_Section):
    team: Team
    kinds: list[str] = []
    negatable: bool = True
    strong: Phrases = []
    normal: Phrases = []
    weak: Phrases = []
    takeover: list[TakeoverSpec] = []

    @field_validator("team", mode="before")
    @classmethod
    def _a_team(cls, value: object) -> object:
        if value not in TEAMS:
            raise ValueError(f"team must be one of {TEAMS}")
        return value


class SafetySpec(_Section):
    always: Phrases
    if_sensitive_or_unknown_kind: Phrases = []
    if_sensitive_kind: Phrases = []
    sensitive_kinds: list[str]
    quality_complaint_kinds: list[str] = []
    sensitive_nouns: Phrases = []
    not_safety_context: Phrases = []
    ignore: Phrases = []


class TogetherSpec(_Section):
    """P1 when a phrase of ``first`` and one of ``second`` are in the same part of a sentence."""

    name: str
    first: Phrases
    second: Phrases
    ignore: Phrases = []
    kinds: list[str] = []  # only for these product kinds (empty: any)
    scope: Literal["sentence", "text"] = "sentence"  # the same part of a sentence, or anywhere


class KeywordsSpec(_Section):
    keywords: Phrases = []


class StronglyNegativeSpec(KeywordsSpec):
    exclamation_run: int = Field(default=0, ge=0)


class SeveritySpec(_Section):
    p1_amount: Decimal
    p2_amount: Decimal
    safety: SafetySpec
    together: list[TogetherSpec] = []
    public_threat: KeywordsSpec = KeywordsSpec()
    strongly_negative: StronglyNegativeSpec = StronglyNegativeSpec()


class TiersSpec(_Section):
    raise_one_level: list[str] = []


class SpellingSpec(_Section):
    min_length: int = Field(default=5, ge=3)
    never_correct: list[str] = []


class RuleFile(_Section):
    """Everything ``rules.toml`` may contain (unknown keys are rejected: they are typos)."""

    matching: Matching
    negation: NegationSpec
    ignore: IgnoreSpec = IgnoreSpec()
    categories: dict[str, CategorySpec]
    severity: SeveritySpec
    tiers: TiersSpec = TiersSpec()
    spelling: SpellingSpec = SpellingSpec()

    @field_validator("categories", mode="before")
    @classmethod
    def _exactly_the_categories(cls, value: object) -> object:
        if isinstance(value, Mapping) and set(value) != set(CATEGORIES):
            unknown = sorted(set(value) - set(CATEGORIES))
            missing = sorted(set(CATEGORIES) - set(value))
            raise ValueError(
                f"triage rules must define exactly the categories {CATEGORIES}"
                f" (unknown: {unknown or 'none'}, missing: {missing or 'none'})"
            )
        return value

    @model_validator(mode="after")
    def _phrases_not_empty(self) -> RuleFile:
        for name, spec in self.categories.items():
            for strength in STRENGTHS:
                for raw in getattr(spec, strength):
                    if not normalize_phrase(raw).strip().rstrip("*").replace("...", "").strip():
                        raise ValueError(f"categories.{name}.{strength}: empty phrase {raw!r}")
        return self


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


def parse_rule_file(data: Mapping[str, Any]) -> RuleFile:
    """Validate parsed TOML against the schema; :class:`RuleFileError` names what is wrong."""
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


@dataclass(frozen=True)
class Together:
    name: str
    phrases: PhraseSet  # labelled FIRST, SECOND or IGNORE
    kinds: frozenset[str]
    whole_text: bool


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
    p1_amount: Decimal
    p2_amount: Decimal
    exclamation_run: int
    raise_tiers: frozenset[str]

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
        *_phrases(severity.public_threat.keywords, PUBLIC_THREAT),
        *_phrases(severity.strongly_negative.keywords, STRONGLY_NEGATIVE),
    ]


def _together(spec: TogetherSpec) -> Together:
    phrases = [
        *_phrases(spec.first, FIRST, negatable=False),
        *_phrases(spec.second, SECOND),
        *_phrases(spec.ignore, IGNORE, negatable=False),
    ]
    return Together(spec.name, PhraseSet(phrases), frozenset(spec.kinds), spec.scope == "text")


def _takeovers(spec: RuleFile) -> tuple[Takeover, ...]:
    return tuple(
        Takeover(name, frozenset(t.sources), _set(t.when), _set(t.unless), frozenset(t.only))
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
        window_chars=spec.window_chars,
        window_words=spec.window_words,
        after_window_chars=spec.window_chars if spec.after_window_chars is None else spec.after_window_chars,
        after_window_words=spec.window_words if spec.after_window_words is None else spec.after_window_words,
    )


def build_rules(data: Mapping[str, Any]) -> Rules:
    """Validate and compile parsed rule data (``tomllib`` output, possibly :func:`merge`-d)."""
    spec = parse_rule_file(data)
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
        p1_amount=severity.p1_amount,
        p2_amount=severity.p2_amount,
        exclamation_run=severity.strongly_negative.exclamation_run,
        raise_tiers=frozenset(spec.tiers.raise_one_level),
    )


def load_rule_data(path: Path = RULES_PATH) -> dict[str, Any]:
    """The rule file as parsed TOML (to :func:`merge` a snippet into before building)."""
    return read_toml(path)


@cache
def load_rules(path: Path = RULES_PATH) -> Rules:
    """Parse, validate and compile the rule file once per process."""
    return build_rules(read_toml(path))
