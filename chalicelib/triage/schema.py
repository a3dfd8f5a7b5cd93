"""The schema of ``rules.toml`` (pydantic: unknown keys are rejected, they are typos). Imported
only when the rules are loaded, so that importing the classifier stays cheap at cold start."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.models import CATEGORIES, TEAMS, Team
from chalicelib.triage.rules import STRENGTHS
from chalicelib.triage.text import normalize_phrase


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
    guesses: Phrases = []  # "我以为…": what follows in the clause is a first guess taken back
    window_chars: int = Field(ge=0)
    window_words: int = Field(ge=0)
    after_window_chars: int | None = Field(default=None, ge=0)
    after_window_words: int | None = Field(default=None, ge=0)


class IgnoreSpec(_Section):
    phrases: Phrases = []


class TakeoverSpec(_Section):
    sources: list[str] = Field(alias="from")  # categories whose keywords count for this one ...
    when: Phrases  # ... when one of these phrases is in the text ...
    also: Phrases = []  # ... and, if given, one of these too ...
    unless: Phrases = []  # ... and none of these
    only: Phrases = []  # if given: only these keywords of the "from" categories count
    safety_words: bool = False  # the safety words' weight (evidence for product_quality) moves too

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
    denials: Phrases = []  # like ignore, and they say the risk is absent ("没人受伤", "不漏电")
    # a safety word right after one of these is denied ("不鼓包", "无毒"); a category keyword is not
    # ("不发热" is a heater that does not heat)
    denied_right_after: list[str] = []


class TogetherSpec(_Section):
    """P1 when a phrase of ``first`` and one of ``second`` are in the same part of a sentence."""

    name: str
    first: Phrases
    second: Phrases
    ignore: Phrases = []
    kinds: list[str] = []  # only for these product kinds (empty: any)
    # the same part of a sentence; that part or the one either side of it ("轮胎才跑三百公里，侧面
    # 就鼓了个包"); or anywhere in the text
    scope: Literal["sentence", "neighbours", "text"] = "sentence"
    # whether a hit is also evidence that the product itself is at fault ([matching] safety_category)
    product_fault: bool = True


class KeywordsSpec(_Section):
    keywords: Phrases = []


class PublicThreatSpec(KeywordsSpec):
    # earlier in the same part of the sentence, these cancel a threat: "我不想闹到消协去"
    not_meant: Phrases = []


class StronglyNegativeSpec(KeywordsSpec):
    exclamation_run: int = Field(default=0, ge=0)
    negatable: bool = False  # "没见过这么烂的售后" is still strongly negative


class SeveritySpec(_Section):
    p1_amount: Decimal
    p2_amount: Decimal
    safety: SafetySpec
    together: list[TogetherSpec] = []
    public_threat: PublicThreatSpec = PublicThreatSpec()
    strongly_negative: StronglyNegativeSpec = StronglyNegativeSpec()


class TiersSpec(_Section):
    raise_one_level: list[str] = []


class SpellingSpec(_Section):
    min_length: int = Field(default=5, ge=3)
    never_correct: list[str] = []


class ModelSpec(_Section):
    """The learned second opinion (chalicelib/triage/model.py) and when it may speak."""

    enabled: bool = False
    table: str = "model.json"  # beside the rule file
    decide_below_score: float = Field(default=3.0, ge=0)
    min_probability: float = Field(default=0.6, ge=0, le=1)
    safety_probability: float = Field(default=0.5, gt=0, le=1)
    safety_yields_to_denial: bool = False  # no safety review when the text negates a safety word
    overrule_probability: float = Field(default=1.0, gt=0, le=1)  # 1.0: a strong match is never overruled


class RuleFile(_Section):
    """Everything ``rules.toml`` may contain (unknown keys are rejected: they are typos)."""

    matching: Matching
    negation: NegationSpec
    ignore: IgnoreSpec = IgnoreSpec()
    categories: dict[str, CategorySpec]
    severity: SeveritySpec
    tiers: TiersSpec = TiersSpec()
    spelling: SpellingSpec = SpellingSpec()
    model: ModelSpec = ModelSpec()

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
