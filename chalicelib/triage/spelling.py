"""Typo tolerance for English words: "recieved", "shiped", "counterfit" read as the rule file's
"received", "shipped", "counterfeit".

The vocabulary is the English words of the rule file itself, so only a word that could make a
keyword match is ever corrected. A word is left alone when it is a vocabulary word (or one with
an -s/-ed/-ing ending, or a ``word*`` stem), a real English word (``english_words.txt``, read
only when a text has an unknown word), shorter than ``[spelling] min_length``, listed in
``never_correct``, or when the correction is not unique. A correction keeps the first two
letters ("tracked" never becomes "cracked", "turned" never "burned") and is one edit: a missing
letter, a doubled letter, two neighbours swapped, or one letter replaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from chalicelib.triage.text import SUFFIXES

WORDS_PATH = Path(__file__).with_name("english_words.txt")
_WORD_RE = re.compile(r"[a-z]+")
_STAR_RE = re.compile(r"([a-z]+)\*")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_swap_or_replace(a: str, b: str) -> bool:
    """Same length; one letter replaced or two neighbours swapped."""
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


@dataclass(frozen=True)
class Correction:
    typed: str
    read_as: str


@cache
def english_words(path: Path = WORDS_PATH) -> dict[str, int]:
    """Real English words and how common they are: never "corrected" ("party" is not a typo of
    "parts"), and a typo nearer a more common word is left alone ("realy" is not "reply")."""
    words: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                count, *seen = line.split()
                words.update(dict.fromkeys(seen, int(count)))
    return words


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# how likely each kind of typo is, relative to a missing letter ("shiped")
_EDIT_WEIGHT = {"missing": 1.0, "swapped": 1.0, "replaced": 0.5, "extra": 0.3}


def _edit_kind(typed: str, meant: str) -> str:
    if len(meant) == len(typed) + 1:
        return "missing"
    if len(meant) + 1 == len(typed):
        return "extra"
    diff = [i for i in range(len(typed)) if typed[i] != meant[i]]
    return "swapped" if len(diff) == 2 else "replaced"


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
        | {a + c + b for a, b in splits for c in _LETTERS}
    )


def _takes(word: str, suffix: str) -> bool:
    """Whether ``word`` + ``suffix`` is a plausible inflection ("arrive"+"d", not "shipped"+"d")."""
    if suffix == "d":
        return word.endswith("e")
    if suffix in ("s", "es", "ed", "ing"):
        return not word.endswith(("s", "ed", "ing"))
    return True


class Speller:
    def __init__(self, phrases: Iterable[str], min_length: int, never_correct: Iterable[str] = ()) -> None:
        words: set[str] = set()
        stems: set[str] = set()
        for phrase in phrases:
            words.update(_WORD_RE.findall(phrase))
            stems.update(_STAR_RE.findall(phrase))
        self.min_length = min_length
        self.words = frozenset(words | stems)
        self.stems = frozenset(stems)
        self.never = frozenset(never_correct)

    @cached_property
    def _by_delete(self) -> dict[str, set[str]]:
        """Vocabulary words by each of their one-letter deletions (built at the first unknown word)."""
        index: dict[str, set[str]] = {}
        for word in self.words:
            if len(word) >= self.min_length:
                for variant in _deletes(word):
                    index.setdefault(variant, set()).add(word)
        return index

    def known(self, word: str) -> bool:
        if word in self.words or word in self.never or word in english_words():
            return True
        return any(word[:i] in self.stems for i in range(3, len(word) + 1))

    def _vocabulary_neighbours(self, word: str) -> set[str]:
        found: set[str] = set(self._by_delete.get(word, ()))  # a letter missing in what was typed
        for variant in _deletes(word):
            if variant in self.words and len(variant) >= self.min_length:  # a letter typed twice
                i = next(i for i in range(len(word)) if word[:i] + word[i + 1 :] == variant)
                if (i > 0 and word[i - 1] == word[i]) or (i + 1 < len(word) and word[i + 1] == word[i]):
                    found.add(variant)
            for candidate in self._by_delete.get(variant, ()):  # replaced or swapped
                if len(candidate) == len(word) and _one_swap_or_replace(word, candidate):
                    found.add(candidate)
        return {c for c in found if c[:2] == word[:2]}

    def _best(self, word: str) -> str | None:
        """The likeliest word ``word`` was meant to be: the vocabulary words and the real English
        words one edit away (same first two letters), by how common each is and how likely its
        edit is (a missing or swapped letter is the commonest typo)."""
        real = english_words()
        candidates = self._vocabulary_neighbours(word)
        if not candidates:
            return None
        rivals = {w for w in _edits1(word) if w in real and w[:2] == word[:2]}
        floor = min(real.values())

        def likelihood(candidate: str) -> float:
            return real.get(candidate, floor) * _EDIT_WEIGHT[_edit_kind(word, candidate)]

        best = max(sorted(candidates | rivals), key=likelihood)
        return best if best in candidates else None

    def correct(self, word: str) -> str | None:
        """The vocabulary word ``word`` was meant to be, or None."""
        if len(word) < self.min_length or self.known(word):
            return None
        for suffix in ("", *SUFFIXES):
            if suffix and not word.endswith(suffix):
                continue
            base = word[: -len(suffix)] if suffix else word
            best = self._best(base) if len(base) >= self.min_length - 1 else None
            if best is not None and _takes(best, suffix):
                return best + suffix
        return None

    def fix(self, text: str) -> tuple[str, list[Correction]]:
        """``text`` (normalised) with its misspelt words replaced, and what was replaced."""
        corrections: list[Correction] = []

        def replace(match: re.Match[str]) -> str:
            word = match.group()
            right = self.correct(word)
            if right is None:
                return word
            corrections.append(Correction(word, right))
            return right

        fixed = _WORD_RE.sub(replace, text)
        return fixed, corrections

