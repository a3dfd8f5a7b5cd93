"""Text normalisation and the rule file's phrase syntax, matched without regular expressions.

A phrase (see the header of ``rules.toml``) is one or more literal parts joined by ``...``
(up to :data:`GAP_CHARS` other characters of the same clause in between); English words match
whole words, the last one also with its -s/-es/-ed/-d/-ing forms, or with any ending when the
phrase ends in ``*``. Phrases are found with ``str.find`` from a two-character index, so
loading the rule file compiles nothing and a complaint only looks at the phrases whose first
characters it contains.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

# Characters that end a clause. Text is NFKC-normalised first, so full-width ，！？ are ASCII.
PUNCT = frozenset(',.!?;:。、\n\r\t()[]{}<>【】「」『』“”"~|/')
GAP_CHARS = 8  # what "..." in a phrase stands for: up to this many characters of one clause
SUFFIXES = ("s", "es", "ed", "d", "ing")  # endings the last English word of a phrase may take
_STAR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'-")  # what "word*" may continue with

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
_SPACES_RE = re.compile(r"[^\S\n\r\t]+")
# phone-typed Chinese puts a space where a comma would be: "家里快没米了 都等了六天了"
_CJK_SPACE_RE = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")
_FIRST_WORD_RE = re.compile(r"[a-z0-9]+")
_WORDS_RE = re.compile(r"[a-z0-9]+")
WORD_KEY = "\x00"  # marks index keys that are the start of an English word


def _spell_out_not(match: re.Match[str]) -> str:
    word = match.group(1)
    if word in _SPECIAL_NOT:
        return _SPECIAL_NOT[word]
    return word.rstrip("t").rstrip("'").removesuffix("n") + " not"


# Traditional → simplified, one character at a time (built from zhconv's tables by
# ``python -m local.triage_tables``): "門衛說沒" is matched as "门卫说没".
TRADITIONAL_TABLE_PATH = Path(__file__).with_name("traditional.json")


@lru_cache(maxsize=1)
def _to_simplified() -> dict[int, str]:
    """The table, read on the first text normalised (~6 ms), not when the package is imported:
    a handler that imports triage only for ``team_for`` never pays for it."""
    return str.maketrans(json.loads(TRADITIONAL_TABLE_PATH.read_text(encoding="utf-8")))


def normalize(text: str) -> str:
    """NFKC (full-width → half-width, … → ...), lower case, traditional characters as
    simplified ones, straight quotes, one space between words, "n't" → " not"; a space between
    two Chinese characters ends a clause, as a comma would."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_to_simplified())
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _CJK_SPACE_RE.sub(",", _SPACES_RE.sub(" ", text))
    return _NOT_RE.sub(_spell_out_not, text)


@lru_cache(maxsize=16384)
def normalize_phrase(raw: str) -> str:
    """:func:`normalize` for rule-file phrases (memoised: the rule file repeats many)."""
    return normalize(raw)


def is_word_char(char: str) -> bool:
    """An English letter or a digit (after lower-casing): what whole-word matching looks at."""
    return char.isascii() and char.isalnum()


def clause_start(text: str, position: int) -> int:
    """Where the clause holding ``position`` starts (just after the punctuation before it)."""
    for index in range(position - 1, -1, -1):
        if text[index] in PUNCT:
            return index + 1
    return 0


def clause_end(text: str, position: int) -> int:
    """Where the clause holding ``position`` ends (the next punctuation, or the text's end)."""
    for index in range(position, len(text)):
        if text[index] in PUNCT:
            return index
    return len(text)


@dataclass(frozen=True)
class Phrase:
    """One phrase of the rule file, parsed."""

    text: str  # as written in the rule file, for the reasons
    label: str  # category name, or a severity rule group
    weight: float = 0.0
    negatable: bool = True
    parts: tuple[str, ...] = field(default=(), compare=False)
    star: bool = False  # last word ends in "*": any ending
    inflect: bool = False  # last word is English: also -s/-es/-ed/-d/-ing
    left_edge: bool = False  # starts with an English word: must start a word
    right_edge: bool = False  # ends with an English word (no "*"): must end a word

    @classmethod
    def parse(cls, raw: str, label: str, weight: float = 0.0, negatable: bool = True) -> Phrase:
        phrase = normalize_phrase(raw).strip()
        star = phrase.endswith("*")
        core = phrase.rstrip("*").strip()
        parts = tuple(" ".join(part.split()) for part in core.split("...") if part.strip())
        if not parts:
            raise ValueError(f"empty phrase in triage rules: {raw!r}")
        return cls(
            text=raw,
            label=label,
            weight=weight,
            negatable=negatable,
            parts=parts,
            star=star,
            inflect=not star and core[-1].isascii() and core[-1].isalpha(),
            left_edge=is_word_char(core[0]),
            right_edge=not star and is_word_char(core[-1]),
        )

    @property
    def key(self) -> str:
        """What the index files the phrase under: the first three letters of its first English
        word (it must start a word), else its first two characters."""
        if self.left_edge:
            match = _FIRST_WORD_RE.match(self.parts[0])
            assert match is not None  # left_edge: the phrase starts with a word character
            return WORD_KEY + match.group()[:3]
        return self.parts[0][:2]

    def _ends(self, text: str, end: int) -> Iterator[int]:
        """Where the last part may end when its literal ends at ``end`` (preferred first)."""
        if self.star:
            while end < len(text) and text[end] in _STAR_CHARS:
                end += 1
            yield end
            return
        if self.inflect:
            for suffix in SUFFIXES:
                if text.startswith(suffix, end):
                    yield end + len(suffix)
        yield end

    def _rest(self, text: str, index: int, position: int) -> tuple[int, list[tuple[int, int]]] | None:
        """Match parts[index:] from ``position`` (a gap allowed before each): (end, part spans)."""
        if index == len(self.parts):
            return position, []
        part = self.parts[index]
        first = index == 0
        for start in range(position, position + 1 if first else min(position + GAP_CHARS, len(text)) + 1):
            if not first and start > position and text[start - 1] in PUNCT:
                return None  # the gap may not cross the end of a clause
            if not text.startswith(part, start):
                continue
            literal_end = start + len(part)
            ends = self._ends(text, literal_end) if index == len(self.parts) - 1 else (literal_end,)
            for end in ends:
                if index == len(self.parts) - 1 and self.right_edge and end < len(text) and is_word_char(text[end]):
                    continue
                rest = self._rest(text, index + 1, end)
                if rest is not None:
                    return rest[0], [(start, end), *rest[1]]
        return None

    def finditer(self, text: str) -> Iterator[Hit]:
        """Every non-overlapping occurrence in ``text`` (normalised), left to right."""
        head = self.parts[0]
        start = text.find(head)
        while start != -1:
            if self.left_edge and start > 0 and is_word_char(text[start - 1]):
                start = text.find(head, start + 1)
                continue
            found = self._rest(text, 0, start)
            if found is None:
                start = text.find(head, start + 1)
                continue
            end, spans = found
            yield Hit(self, start, end, frozenset(i for a, b in spans for i in range(a, b)))
            start = text.find(head, max(end, start + 1))

    def search(self, text: str) -> Hit | None:
        return next(self.finditer(text), None)


@dataclass(frozen=True)
class Hit:
    """One occurrence of a phrase in a text."""

    phrase: Phrase
    start: int
    end: int
    cells: frozenset[int]  # character positions taken by the phrase's literal parts

    def group(self, text: str) -> str:
        return text[self.start : self.end]


@lru_cache(maxsize=256)
def _keys(text: str) -> frozenset[str]:
    """What the index looks up for ``text``: every character and pair of neighbouring characters,
    and the first one, two and three letters of every English word."""
    words = {WORD_KEY + word[:n] for word in _WORDS_RE.findall(text) for n in (1, 2, 3)}
    return frozenset(text[i : i + 2] for i in range(len(text))) | frozenset(text) | words


class PhraseSet:
    """Phrases indexed by their first two characters: a text only tries the phrases it could hold."""

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self.phrases: tuple[Phrase, ...] = tuple(phrases)
        self._index: dict[str, list[tuple[int, Phrase]]] = {}
        for order, phrase in enumerate(self.phrases):
            self._index.setdefault(phrase.key, []).append((order, phrase))
        self._index_keys = frozenset(self._index)

    def __len__(self) -> int:
        return len(self.phrases)

    def candidates(self, text: str) -> list[Phrase]:
        keys = _keys(text) & self._index_keys
        if not keys:
            return []
        found = [entry for key in keys for entry in self._index[key]]
        found.sort(key=itemgetter(0))
        return [phrase for _, phrase in found]

    def hits(self, text: str) -> list[Hit]:
        """Every occurrence of every phrase, in the phrases' order."""
        return [hit for phrase in self.candidates(text) for hit in phrase.finditer(text)]

    def first(self, text: str) -> Hit | None:
        """The occurrence that starts first (the earlier-listed phrase on a tie)."""
        firsts = [hit for hit in (phrase.search(text) for phrase in self.candidates(text)) if hit]
        return min(firsts, key=lambda hit: hit.start) if firsts else None

    def mask(self, text: str, mark: str = "#") -> str:
        """``text`` with every occurrence (phrase by phrase) replaced by ``mark``."""
        for phrase in self.candidates(text):
            pieces: list[str] = []
            last = 0
            for hit in phrase.finditer(text):
                pieces += [text[last : hit.start], mark]
                last = hit.end
            text = "".join(pieces) + text[last:] if pieces else text
        return text


def resolve_overlaps(candidates: Sequence[Hit], ignore_label: str) -> list[Hit]:
    """Where hits overlap the longer one wins (ignore-phrases win ties); the same words listed
    under several labels count once for each, unless one of them is an ignore-phrase."""

    def compatible(hit: Hit, other: Hit) -> bool:
        if hit.cells.isdisjoint(other.cells):
            return True
        labels = {hit.phrase.label, other.phrase.label}
        return hit.cells == other.cells and len(labels) == 2 and ignore_label not in labels

    ordered = sorted(candidates, key=lambda hit: (-len(hit.cells), hit.phrase.label != ignore_label, hit.start))
    kept: list[Hit] = []
    for hit in ordered:
        if all(compatible(hit, other) for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda hit: hit.start)
