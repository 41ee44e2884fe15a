"""Typo tolerance for the whole query: a wrong character typed through a pinyin input method is put right.

Almost every typo in a rep's Chinese is a homophone chosen from the input method's list: 价隔 for 价格, 效过 for 效果,
断活 for 断货, 帐期 for 账期, 鸡肉疼 for 肌肉疼, 一保 for 医保. Such a word shares its pinyin with the intended one and
usually only one character with it, so character n-grams see little in common (效过/效果 share one of two
characters) while pinyin sees the same word. The evaluation measured both (`eval/eval_answers.py`, typo queries of
the development split); pinyin correction is what ships.

`PinyinCorrector` replaces a window of the query (2–4 Han characters) by a vocabulary word with the same toneless
pinyin that differs from it in at most half of its characters, when the window is not a word of the vocabulary
itself. The vocabulary is the domain's: words of the tenant's script titles, the glossary, indication and product
names. A two-character window that is a common Chinese word (耐心) is not turned into a two-character brand (耐信).
Readings of polyphonic characters are all tried for the vocabulary (便宜 is pian yi, 便易 is bian yi).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin, pinyin

HAN = re.compile(r"[\u4e00-\u9fff]+")
MAX_WINDOW = 4
COMMON_WORD_FREQ = 500
"""A window whose jieba dictionary frequency reaches this is a real word, not a typo (鸡肉 169 is still corrected)."""
RIVAL_WORD_FREQ = 100
"""A window at least this common that is also ``RIVAL_WORD_RATIO`` × commoner than the word it sounds like is that
common word typed on purpose, not a typo of the rarer one: 口感 (131) is not 口干 (3); 鸡肉 (169) is still 肌肉
(1,729)."""
RIVAL_WORD_RATIO = 10
PRODUCT_HOMOPHONE_FREQ = 50
"""A two-character window this common (耐心 823) is not read as a two-character brand (耐信); 可为 (3) is (可威)."""


@lru_cache(maxsize=65_536)
def _char_readings(ch: str) -> tuple[str, ...]:
    return tuple(pinyin(ch, heteronym=True, style=Style.NORMAL)[0][:3])


def readings(word: str) -> list[str]:
    """Every toneless pinyin spelling of ``word`` over its characters' readings (at most 3 per character)."""
    return [" ".join(c) for c in itertools.product(*(_char_readings(ch) for ch in word))]


@lru_cache(maxsize=65_536)
def spelling(text: str) -> str:
    """The toneless pinyin of ``text`` as an input method reads it (context-aware for polyphonic characters)."""
    return " ".join(lazy_pinyin(text))


def _each(chars: str) -> Any:
    """Pypinyin's ``errors`` hook: a run of non-Han characters becomes one item per character (offsets stay)."""
    return list(chars)


def _sounds(text: str) -> list[str]:
    """One toneless pinyin syllable per character of ``text`` (read in context; a non-Han character is itself)."""
    found = list(lazy_pinyin(text, errors=_each))
    return found if len(found) == len(text) else [spelling(ch) for ch in text]


@dataclass(frozen=True)
class Fix:
    """One correction: what was typed, what it was read as, and where."""

    typed: str
    word: str
    start: int


class PinyinCorrector:
    """Corrects homophone typos against a vocabulary of domain words; words can be added and removed as entries change.

    ``common_word`` tells whether a window is an everyday word (then a two-character brand is not read into it).
    """

    def __init__(
        self,
        words: Iterable[str] = (),
        *,
        products: Iterable[str] = (),
        common_word: Callable[[str], int] | None = None,
    ) -> None:
        self._count: Counter[str] = Counter()
        self._products: set[str] = set()
        self._by_sound: dict[str, set[str]] = {}
        self._freq = common_word or (lambda _w: 0)
        self.add(words)
        self.add_products(products)

    def add_products(self, names: Iterable[str]) -> None:
        """Product names (names, generic names, brands): a typo of one is read as the product."""
        for p in names:
            if HAN.fullmatch(p) and len(p) >= 2 and p not in self._products:
                self._products.add(p)
                self._index(p)

    def _index(self, word: str) -> None:
        for r in readings(word):
            self._by_sound.setdefault(r, set()).add(word)

    def add(self, words: Iterable[str]) -> None:
        """Count words into the vocabulary (an entry's title words when it is published)."""
        for w in words:
            if len(w) >= 2 and HAN.fullmatch(w) and len(w) <= MAX_WINDOW:
                if not self._count[w]:
                    self._index(w)
                self._count[w] += 1

    def remove(self, words: Iterable[str]) -> None:
        """Count words out again (an entry retired or edited); a word at zero no longer corrects anything."""
        for w in words:
            if self._count[w] > 0:
                self._count[w] -= 1

    def _meant_as_typed(self, window_freq: int, word: str) -> bool:
        """A common window far commoner than the (non-product) word it sounds like was typed on purpose."""
        return (
            word not in self._products
            and window_freq >= RIVAL_WORD_FREQ
            and window_freq > RIVAL_WORD_RATIO * self._freq(word)
        )

    def known(self, word: str) -> bool:
        """Whether ``word`` is in the vocabulary (domain words and product names)."""
        return self._count[word] > 0 or word in self._products

    def correct(self, text: str) -> tuple[str, tuple[Fix, ...]]:
        """``text`` with homophone typos replaced, and the fixes made (left to right, longest window first)."""
        out = list(text)
        fixes: list[Fix] = []
        covered = self._covered(text)
        sounds = _sounds(text)
        i = 0
        while i < len(text):
            fix = self._fix_at(text, i, covered, sounds)
            if fix is None:
                i += 1
                continue
            out[i : i + len(fix.typed)] = list(fix.word)
            fixes.append(fix)
            i += len(fix.typed)
        return "".join(out), tuple(fixes)

    def _covered(self, text: str) -> list[bool]:
        """Characters inside a vocabulary word found in the text (those are right as typed)."""
        cov = [False] * len(text)
        for i in range(len(text)):
            for n in range(min(MAX_WINDOW + 2, len(text) - i), 1, -1):
                if self.known(text[i : i + n]):
                    cov[i : i + n] = [True] * n
                    break
        return cov

    def _fix_at(self, text: str, i: int, covered: list[bool], sounds: list[str]) -> Fix | None:
        for n in range(min(MAX_WINDOW, len(text) - i), 1, -1):
            window = text[i : i + n]
            if not HAN.fullmatch(window) or all(covered[i : i + n]) or (n == 2 and any(covered[i : i + n])):
                continue
            freq = self._freq(window)
            if freq >= COMMON_WORD_FREQ:
                continue
            candidates = [
                w
                for w in self._by_sound.get(" ".join(sounds[i : i + n]), ())
                if len(w) == n
                and self.known(w)
                and 1 <= sum(a != b for a, b in zip(w, window, strict=True)) <= max(1, n // 2)
                and not (w in self._products and n == 2 and freq >= PRODUCT_HOMOPHONE_FREQ)
                and not self._meant_as_typed(freq, w)
            ]
            if candidates:
                best = max(candidates, key=lambda w: (w in self._products, self._count[w], w))
                return Fix(window, best, i)
        return None


def char_ngrams(text: str, n: int = 2) -> list[str]:
    """Character n-grams of the Han runs of ``text`` (and its ASCII words whole): the measured alternative."""
    out: list[str] = []
    for run in re.findall(r"[\u4e00-\u9fff]+|[a-z0-9]+", text.lower()):
        out += [run] if run.isascii() or len(run) < n else [run[i : i + n] for i in range(len(run) - n + 1)]
    return out
