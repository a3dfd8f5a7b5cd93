"""The learned second opinion: a linear model over character n-grams and words, scored in plain
Python (a dict lookup and a sum per feature; no numpy in the Lambda).

Its weight table (``model.json`` beside the rule file) is trained offline from the labelled
examples and the recorded corrections (``make triage-train``, ``local/triage_train.py``). It
holds, per feature, integer weights (×``scale``) for the categories and for a safety head
("a personal-safety or legal risk a reviewer should see first"). How the rules and the model
are combined is set in ``rules.toml`` (``[model]``); docs/triage.md explains it.

Features of the normalised text: Chinese 1–3-grams of characters within a run of Han
characters, English (and pinyin) words and adjacent word pairs, and the product kind.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
MAX_HAN_GRAM = 3
SAFETY_HEAD = "__safety__"
FORMAT_VERSION = 1


class ModelTableError(ValueError):
    """The weight table is missing or malformed; the message names the file and what is wrong."""


def features(text: str, kind: str | None) -> set[str]:
    """The features of normalised ``text`` (see the module docstring); the same for training."""
    found: set[str] = set()
    for run in _HAN_RUN.findall(text):
        for n in range(1, MAX_HAN_GRAM + 1):
            found.update(run[i : i + n] for i in range(len(run) - n + 1))
    words = _WORD.findall(text)
    found.update(words)
    found.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    found.add(f"kind={kind or 'none'}")
    return found


def _telling(feature: str) -> bool:
    """Whether a feature is worth showing a person as evidence (not one character, "the", a kind)."""
    if feature.startswith("kind="):
        return False
    return len(feature) >= 2 if _HAN_RUN.fullmatch(feature) else (" " in feature or len(feature) >= 4)


@dataclass(frozen=True)
class Opinion:
    """What the model says about one complaint."""

    category: str
    probability: float  # of ``category``, softmax over the categories
    safety: float  # probability that the complaint is a safety/legal risk (P1)
    features: frozenset[str]  # what the model saw (for :meth:`Model.evidence`)


@dataclass(frozen=True)
class Model:
    """A compiled weight table: ``weights[feature]`` maps a head's index to its integer weight."""

    categories: tuple[str, ...]
    bias: tuple[float, ...]  # per category, then the safety head
    weights: Mapping[str, Mapping[int, int]]
    scale: float
    trained_on: int  # how many labelled complaints the table was trained on

    @property
    def safety_index(self) -> int:
        return len(self.categories)

    def opinion(self, text: str, kind: str | None) -> Opinion:
        totals = list(self.bias)
        found = features(text, kind)
        for feature in found:
            row = self.weights.get(feature)
            if row is not None:
                for head, weight in row.items():
                    totals[head] += weight
        scale = self.scale
        scores = [b + (t - b) / scale for b, t in zip(self.bias, totals, strict=True)]
        categories = scores[: self.safety_index]
        best = max(range(len(categories)), key=categories.__getitem__)
        top = categories[best]
        return Opinion(
            category=self.categories[best],
            probability=1.0 / sum(math.exp(s - top) for s in categories),
            safety=1.0 / (1.0 + math.exp(-scores[self.safety_index])),
            features=frozenset(found),
        )

    def evidence(self, opinion: Opinion, most: int = 3) -> tuple[str, ...]:
        """The telling features that pushed hardest towards the opinion's category (for reasons)."""
        head = self.categories.index(opinion.category)
        pushes = sorted(
            ((row[head], f) for f in opinion.features if (row := self.weights.get(f)) and row.get(head, 0) > 0 and _telling(f)),
            reverse=True,
        )
        return tuple(f for _, f in pushes[:most])


class _Table(BaseModel):
    """The weight table's file format (see ``local/triage_train.py``)."""

    model_config = ConfigDict(extra="forbid")

    version: int
    categories: list[str]
    bias: list[float]
    scale: float = Field(gt=0)
    trained_on: int = Field(ge=0)
    weights: dict[str, Any]  # checked and converted by _weights (thousands of rows: pydantic per row is slow)


def _weights(raw: Mapping[str, Any], heads: int, where: str) -> dict[str, dict[int, int]]:
    try:
        weights = {feature: {int(head): int(w) for head, w in row.items()} for feature, row in raw.items()}
    except (AttributeError, TypeError, ValueError):
        raise ModelTableError(f"{where}: weights: every feature needs a table of head → integer weight") from None
    if any(not 0 <= head < heads for row in weights.values() for head in row):
        raise ModelTableError(f"{where}: a weight names a head outside 0..{heads - 1}")
    return weights


def model_from_table(data: Mapping[str, object], categories: Sequence[str], where: str) -> Model:
    """Compile a parsed table, checking it covers exactly ``categories`` (the rule file's)."""
    try:
        table = _Table.model_validate(data)
    except ValidationError as error:
        item = error.errors()[0]
        raise ModelTableError(f"{where}: {'.'.join(map(str, item['loc']))}: {item['msg']}") from None
    if table.version != FORMAT_VERSION:
        raise ModelTableError(f"{where}: version {table.version}, expected {FORMAT_VERSION}")
    if sorted(table.categories) != sorted(categories):
        raise ModelTableError(f"{where}: categories {table.categories} are not the rule file's {sorted(categories)}")
    heads = len(table.categories) + 1
    if len(table.bias) != heads:
        raise ModelTableError(f"{where}: bias needs {heads} values, has {len(table.bias)}")
    weights = _weights(table.weights, heads, where)
    return Model(tuple(table.categories), tuple(table.bias), weights, table.scale, table.trained_on)


def load_model(path: Path, categories: Sequence[str]) -> Model:
    """Read and compile the weight table at ``path``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelTableError(f"{path.name}: no such weight table (run make triage-train)") from None
    except json.JSONDecodeError as error:
        raise ModelTableError(f"{path.name}: not JSON ({error.msg})") from None
    if not isinstance(data, Mapping):
        raise ModelTableError(f"{path.name}: not a table")
    return model_from_table(data, categories, path.name)
