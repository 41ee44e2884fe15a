"""FAISS vector index over entry ids: exact inner product while small, HNSW past a measured size.

Updates are incremental: an entry's vector is replaced or removed by id at once. The exact index removes vectors
for real; the HNSW graph cannot, so removed ids are tombstoned (never returned) and the graph is rebuilt when a fifth
of it is dead. Filters are applied during the search (a FAISS ID selector); a filter that leaves few candidates is
answered by exact search over just those vectors, which an HNSW graph walk would answer poorly.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path

import faiss
import numpy as np

EXACT_FILTER_LIMIT = 4096
"""Below this many allowed vectors a filtered search is exact over just those vectors."""


class VectorIndex:
    """Inner-product index of L2-normalised vectors keyed by string ids."""

    def __init__(self, dimension: int, *, approx_threshold: int = 50_000, hnsw_m: int = 32, ef_search: int = 96):
        self.dimension = dimension
        self.approx_threshold = approx_threshold
        self.hnsw_m = hnsw_m
        self.ef_search = ef_search
        self._ids: dict[str, int] = {}
        self._rev: dict[int, str] = {}
        self._dead: set[int] = set()
        self._next = 0
        self._index = self._new(approximate=False)

    @property
    def approximate(self) -> bool:
        """Whether the index is an HNSW graph (else exact)."""
        return self._approx

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def _new(self, *, approximate: bool) -> faiss.Index:
        self._approx = approximate
        if approximate:
            inner = faiss.IndexHNSWFlat(self.dimension, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
            inner.hnsw.efSearch = self.ef_search
        else:
            inner = faiss.IndexFlatIP(self.dimension)
        return faiss.IndexIDMap2(inner)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add or replace the vectors of ``ids``."""
        if not ids:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dimension)
        self.remove([i for i in ids if i in self._ids])
        internal = np.arange(self._next, self._next + len(ids), dtype=np.int64)
        self._next += len(ids)
        for key, n in zip(ids, internal.tolist(), strict=True):
            self._ids[key] = n
            self._rev[n] = key
        self._index.add_with_ids(vectors, internal)
        if not self._approx and len(self._ids) >= self.approx_threshold:
            self._rebuild(approximate=True)

    def remove(self, ids: Collection[str]) -> None:
        """Remove ``ids`` (unknown ids are ignored)."""
        internal = [self._ids.pop(i) for i in ids if i in self._ids]
        if not internal:
            return
        for n in internal:
            self._rev.pop(n, None)
        if self._approx:
            self._dead.update(internal)
            if len(self._dead) > 0.2 * max(self._index.ntotal, 1):
                self._rebuild(approximate=len(self._ids) >= self.approx_threshold)
        else:
            self._index.remove_ids(np.asarray(internal, dtype=np.int64))

    def _vectors(self, internal: Sequence[int]) -> np.ndarray:
        if not internal:
            return np.zeros((0, self.dimension), dtype=np.float32)
        found = self._index.reconstruct_batch(np.asarray(internal, dtype=np.int64))
        return np.ascontiguousarray(found, dtype=np.float32).reshape(len(internal), self.dimension)

    def vectors_of(self, keys: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``keys`` (one row each, in order); a key that is not here raises ``KeyError``."""
        return self._vectors([self._ids[k] for k in keys])

    def _rebuild(self, *, approximate: bool) -> None:
        keys = list(self._ids)
        vectors = self._vectors([self._ids[k] for k in keys])
        self._ids, self._rev, self._dead, self._next = {}, {}, set(), 0
        self._index = self._new(approximate=approximate)
        self.upsert(keys, vectors) if keys else None

    def search(self, vector: np.ndarray, k: int, *, allowed: Collection[str] | None = None) -> list[tuple[str, float]]:
        """Best ``k`` ids by inner product, restricted to ``allowed`` when given (applied during the search)."""
        if not self._ids or k <= 0:
            return []
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dimension)
        if allowed is not None:
            internal = [self._ids[a] for a in allowed if a in self._ids]
            if not internal:
                return []
            if len(internal) <= EXACT_FILTER_LIMIT:
                vecs = self._vectors(internal)
                scores = vecs @ query[0]
                order = np.argsort(-scores)[:k]
                return [(self._rev[internal[i]], float(scores[i])) for i in order]
            selector = faiss.IDSelectorBatch(np.asarray(internal, dtype=np.int64))
        elif self._dead:
            live = np.asarray(list(self._rev), dtype=np.int64)
            selector = faiss.IDSelectorBatch(live)
        else:
            selector = None
        if self._approx:
            params: faiss.SearchParameters = faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.ef_search, k))
        else:
            params = faiss.SearchParameters(sel=selector)
        scores, found = self._index.search(query, min(k, len(self._ids)), params=params)
        return [(self._rev[int(n)], float(s)) for n, s in zip(found[0], scores[0], strict=True) if n >= 0]

    def save(self, directory: Path) -> None:
        """Write the index and its id map to ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(directory / "vectors.faiss"))
        meta = {"dimension": self.dimension, "ids": self._ids, "dead": sorted(self._dead), "next": self._next,
                "approximate": self._approx, "approx_threshold": self.approx_threshold}  # fmt: skip
        (directory / "vectors.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> VectorIndex:
        """Read an index written by ``save``."""
        meta = json.loads((directory / "vectors.json").read_text(encoding="utf-8"))
        index = cls(int(meta["dimension"]), approx_threshold=int(meta["approx_threshold"]))
        index._index = faiss.read_index(str(directory / "vectors.faiss"))
        index._approx = bool(meta["approximate"])
        index._ids = {str(k): int(v) for k, v in meta["ids"].items()}
        index._rev = {v: k for k, v in index._ids.items()}
        index._dead = set(meta["dead"])
        index._next = int(meta["next"])
        return index
