"""BM25 keyword index over jieba tokens, with the catalogue's names as single tokens.

`bm25s` cannot add or remove one document, and re-indexing 10k entries takes about half a second, so the index has
two segments: the main bm25s index, and a small delta of entries changed since it was built, scored with the same
BM25 formula over live statistics. Removed or replaced entries are masked out of the main segment during the search
(bm25s' ``weight_mask``); the delta is merged into a new main index once it passes ``merge_at`` entries.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import bm25s
import jieba
import numpy as np

STOPWORDS = frozenset(
    "的 了 和 是 就 都 而 及 与 着 或 一个 没有 我们 你们 他们 她们 它们 这个 那个 这些 那些 这样 那样 之 所以 因为 "
    "但是 如果 然后 还是 可以 不 也 很 在 有 我 你 他 她 它 吗 呢 吧 啊 呀 哦 嗯 么 啥 咋 怎么 怎么办 什么 为什么 "
    "这 那 要 会 能 说 让 给 对 把 被 从 到 向 于 上 下 中 里 时 后 前 等 个 们 还 又 再 才 只 已 已经 "
    "the a an of to and or is are be for on in at with this that it".split()
)
"""Function words that carry no topic (and chat fillers reps type: 咋, 啥, 怎么办)."""

_PUNCT = re.compile(r"^[\W_]+$")
jieba.setLogLevel(logging.WARNING)
# bm25s sets its own logger to DEBUG when imported, which bypasses the level the service configured ("Building
# index from tokens" on every index build): let it follow the root logger like every other library
logging.getLogger("bm25s").setLevel(logging.NOTSET)


_BASE_LOCK = threading.Lock()


@functools.cache
def _base_dictionary() -> tuple[dict[str, int], int]:
    """The default dictionary of jieba (word → frequency, and their total), read once per process.

    Reading it (jieba's marshal cache, about 350k words) took 1–4 s per tokenizer on a busy machine, and every
    tenant's index made one at start-up; each tokenizer now starts from a copy of this one (tens of ms) and adds its
    own words to the copy.
    """
    with _BASE_LOCK:
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        return tokenizer.FREQ, tokenizer.total


@functools.cache
def plain_tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer over the default dictionary alone, one per process, for readers adding no words of theirs.

    It holds the process's dictionary itself, not a copy, so nothing may add words to it. The adverse-reaction
    reader used jieba's global tokenizer, whose ``initialize`` read the whole dictionary a second time (0.8 s CPU
    on a quiet machine) on the first objection answer after a start: under load that first answer, and every
    answer waiting behind it in the worker, took seconds (the change-feed benchmark's slow first publish).
    """
    freq, total = _base_dictionary()
    with _BASE_LOCK:
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ, tokenizer.total = freq, total
        tokenizer.initialized = True
        return tokenizer


class ChineseTokenizer:
    """jieba with a private dictionary: product names, generic names, brands and indications stay one token."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        freq, total = _base_dictionary()
        self._jieba = jieba.Tokenizer()
        with self._jieba.lock:  # what ``initialize`` sets, from the process's copy of the dictionary
            self._jieba.FREQ, self._jieba.total = dict(freq), total
            self._jieba.initialized = True
        self._lock = threading.Lock()
        self.add_words(user_words)

    def add_words(self, words: Iterable[str]) -> None:
        """Make each word a single token (e.g. 阿托伐他汀钙片)."""
        for w in words:
            w = w.strip()
            if len(w) >= 2:
                self._jieba.add_word(w, freq=2_000_000)

    def frequency(self, word: str) -> int:
        """The word's frequency in jieba's dictionary (0 when absent): how common an everyday word it is."""
        return int(self._jieba.FREQ.get(word, 0) or 0)

    def tokens(self, text: str) -> list[str]:
        """Lower-cased search tokens without punctuation and stop words."""
        with self._lock:
            pieces = self._jieba.lcut_for_search(text)
        out = []
        for p in pieces:
            t = p.strip().lower()
            if t and t not in STOPWORDS and not _PUNCT.match(t):
                out.append(t)
        return out


class KeywordIndex:
    """BM25 over token lists keyed by string ids, with incremental upsert/remove."""

    def __init__(self, tokenizer: ChineseTokenizer, *, k1: float = 1.5, b: float = 0.75, merge_at: int = 512):
        self.tokenizer = tokenizer
        self.k1, self.b, self.merge_at = k1, b, merge_at
        self._docs: dict[str, list[str]] = {}
        self._df: Counter[str] = Counter()
        self._total_len = 0
        self._main_ids: list[str] = []
        self._main: bm25s.BM25 | None = None
        self._main_live = np.zeros(0, dtype=np.float32)
        self._delta: set[str] = set()

    def __len__(self) -> int:
        return len(self._docs)

    def _count(self, tokens: list[str], sign: int) -> None:
        for t in set(tokens):
            self._df[t] += sign
        self._total_len += sign * len(tokens)

    def upsert(self, items: Sequence[tuple[str, str]]) -> None:
        """Add or replace documents given as ``(id, text)``."""
        for key, text in items:
            tokens = self.tokenizer.tokens(text)
            if key in self._docs:
                self._count(self._docs[key], -1)
            self._docs[key] = tokens
            self._count(tokens, +1)
            self._delta.add(key)
        self._mask_main([k for k, _ in items])
        if len(self._delta) > self.merge_at:
            self.rebuild()

    def remove(self, ids: Collection[str]) -> None:
        """Remove documents (unknown ids are ignored)."""
        for key in ids:
            tokens = self._docs.pop(key, None)
            if tokens is not None:
                self._count(tokens, -1)
            self._delta.discard(key)
        self._mask_main(ids)

    def _mask_main(self, ids: Iterable[str]) -> None:
        if self._main is None:
            return
        pos = {k: i for i, k in enumerate(self._main_ids)}
        for key in ids:
            if key in pos:
                self._main_live[pos[key]] = 0.0

    def rebuild(self) -> None:
        """Index every live document in a new main segment; the delta becomes empty."""
        self._main_ids = list(self._docs)
        self._delta = set()
        if not self._main_ids:
            self._main, self._main_live = None, np.zeros(0, dtype=np.float32)
            return
        main = bm25s.BM25(k1=self.k1, b=self.b)
        main.index([self._docs[k] or [""] for k in self._main_ids], show_progress=False)
        self._main = main
        self._main_live = np.ones(len(self._main_ids), dtype=np.float32)

    def idf(self, tokens: Iterable[str]) -> dict[str, float]:
        """BM25 idf of each token over the live documents; a token no document has gets the largest value."""
        n = max(len(self._docs), 1)
        return {t: math.log(1 + (n - self._df[t] + 0.5) / (self._df[t] + 0.5)) for t in tokens}

    def _delta_scores(self, query: list[str], candidates: Iterable[str]) -> list[tuple[str, float]]:
        n = max(len(self._docs), 1)
        avgdl = max(self._total_len / n, 1e-9)
        idf = {t: math.log(1 + (n - self._df[t] + 0.5) / (self._df[t] + 0.5)) for t in set(query)}
        out = []
        for key in candidates:
            tokens = self._docs[key]
            tf = Counter(tokens)
            norm = self.k1 * (1 - self.b + self.b * len(tokens) / avgdl)
            s = sum(idf[t] * tf[t] * (self.k1 + 1) / (tf[t] + norm) for t in idf if tf[t])
            if s > 0:
                out.append((key, s))
        return out

    def search(self, query: str, k: int, *, allowed: Collection[str] | None = None) -> list[tuple[str, float]]:
        """Best ``k`` ids by BM25 score (> 0), restricted to ``allowed`` when given (applied during the search)."""
        tokens = self.tokenizer.tokens(query)
        if not tokens or not self._docs or k <= 0:
            return []
        hits: list[tuple[str, float]] = []
        if self._main is not None:
            mask = self._main_live
            if allowed is not None:
                allowed_set = allowed if isinstance(allowed, set | frozenset) else set(allowed)
                mask = mask * np.fromiter((k_ in allowed_set for k_ in self._main_ids), np.float32, len(self._main_ids))
            if mask.any():
                n = min(k, int(np.count_nonzero(mask)))
                docs, scores = self._main.retrieve([tokens], k=n, show_progress=False, weight_mask=mask)
                hits += [(self._main_ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
        delta = self._delta if allowed is None else [d for d in self._delta if d in allowed]
        hits += self._delta_scores(tokens, delta)
        hits.sort(key=lambda h: -h[1])
        return hits[:k]

    def save(self, directory: Path) -> None:
        """Write the token lists (the bm25s segment is rebuilt from them on load)."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "keywords.json").write_text(json.dumps(self._docs, ensure_ascii=False), encoding="utf-8")

    def load_tokens(self, directory: Path) -> bool:
        """Read token lists written by ``save`` and rebuild; ``False`` when there is nothing to read."""
        path = directory / "keywords.json"
        if not path.exists():
            return False
        self._docs = {k: list(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
        self._df, self._total_len = Counter(), 0
        for tokens in self._docs.values():
            self._count(tokens, +1)
        self.rebuild()
        return True
