"""What the running service holds: the graph store, the embedder, the API keys and the tenants' services.

Opened once in the app's lifespan. Per tenant, `api.services.TenantServices` holds the retrieval and price indexes
(built on first use, and at start for tenants that have data) and makes every write, keeping them in step: a
published entry is searchable, an ingested order line is in the price bands, when the write returns.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from api import STARTED
from api.keys import KeyStore
from api.services import Services, TenantServices, services_for
from api.settings import Settings
from graph.ports import GraphStore
from ingest.posters.ocr import OcrEngine, RapidOcrEngine
from ingest.posters.photo_store import PhotoStore
from retrieval.embedders import Embedder

if TYPE_CHECKING:  # langchain_core's chat models import ~3 s of modules; a service without a model never needs them
    from langchain_core.language_models import BaseChatModel


def process_age_s() -> float:
    """Seconds since this interpreter first imported the service (``api.STARTED``), for the start-up stages."""
    return max(time.time() - STARTED, 0.0)


@dataclass
class StartupClock:
    """Where a service's start-up went: seconds per stage, for ``/v1/ready`` (``startup``) and the ready benchmark.

    Stages: ``imports`` (the service's first import to the app's start: the modules, uvicorn), ``store`` (open the
    graph store), ``keys``, ``embedder`` (make it; USE reads its weights later), ``model`` (the first embedding: the
    weights and tokenizer load), ``detectors`` (the adverse-reaction reader's typo pass), per tenant ``prices`` /
    ``competitors`` / ``retrieval`` (each from its snapshot plus the log since it, or built; retrieval includes the
    answers' reader of the index) with where it came from, ``catch_up`` (the change log read once after the
    indexes), and ``ready`` (the service's first import to ready). Each has its CPU seconds beside it (``*_cpu``:
    the thread's for a stage, the process's so far for ``imports`` and ``ready``).
    """

    stages: dict[str, float] = field(default_factory=dict)
    tenants: dict[str, dict[str, float | str]] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def stage(self, name: str, tenant: str | None = None) -> Iterator[None]:
        """Time the block as stage ``name`` (of ``tenant`` when given); seconds add up when a stage repeats."""
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started, tenant)
            self.add(f"{name}_cpu", time.thread_time() - cpu, tenant)

    def add(self, name: str, seconds: float, tenant: str | None = None) -> None:
        """Add ``seconds`` to stage ``name`` (of ``tenant`` when given).

        A stage timed with ``stage`` has its wall seconds under ``name`` and the CPU seconds of the thread that ran it
        under ``name_cpu``: on a shared machine the CPU figure is the one that does not depend on the load.
        """
        with self._guard:
            into: dict[str, float | str] | dict[str, float]
            into = self.tenants.setdefault(tenant, {}) if tenant is not None else self.stages
            before = into.get(name, 0.0)
            into[name] = round((before if isinstance(before, float) else 0.0) + seconds, 3)

    def note(self, tenant: str, name: str, text: str) -> None:
        """Record a fact of a tenant's start (e.g. ``prices_from``: snapshot or built)."""
        with self._guard:
            self.tenants.setdefault(tenant, {})[name] = text

    def mark(self, name: str) -> None:
        """Record the seconds since the service's first import as stage ``name`` (``imports``, ``ready``)."""
        age = process_age_s()
        with self._guard:
            self.stages[name] = round(age, 3)
            self.stages[f"{name}_cpu"] = round(time.process_time(), 3)  # the process's CPU seconds so far

    def snapshot(self) -> dict[str, object]:
        """A copy for the readiness answer."""
        with self._guard:
            return {**self.stages, "tenants": {t: dict(v) for t, v in self.tenants.items()}}


WRITE_SLOTS = 2
"""Write routes running at once by default (``SKG_WRITE_SLOTS``): one writes, one prepares (a store takes one writer
at a time)."""


@dataclass
class ServiceState:
    """Everything a request needs, shared by all requests of the process."""

    settings: Settings
    store: GraphStore
    embedder: Embedder
    keys: KeyStore
    chat_model: BaseChatModel | None = None
    """The optional LangChain chat model that rewrites retrieved facts (None: extractive text only)."""
    write_gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(WRITE_SLOTS))
    """Write routes run at most ``WRITE_SLOTS`` at a time (see ``api.auth.write_slot``)."""
    ocr: OcrEngine | None = None
    """The OCR engine for competitor photos (RapidOCR made on first use when None; tests hand in a scripted one)."""
    services: Services = field(init=False)
    """The tenants' indexes and the writes that keep them in step (`api.services`)."""
    _ocr_guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    started: threading.Event = field(default_factory=threading.Event, init=False)
    """Set when start-up has built the tenants' indexes and read the change log once (readiness)."""
    startup: StartupClock = field(default_factory=StartupClock)
    """Seconds per start-up stage (``/v1/ready``'s ``startup``)."""

    def __post_init__(self) -> None:
        self.services = services_for(self.settings, self.store, self.embedder)

    def tenant(self, tenant: str) -> TenantServices:
        """A tenant's services: its indexes (built on first use) and its writes."""
        return self.services.tenant(tenant)

    def ocr_engine(self) -> OcrEngine:
        """The OCR engine, made on first use (loading the models takes a second; most requests never need them)."""
        with self._ocr_guard:
            if self.ocr is None:
                self.ocr = RapidOcrEngine()
            return self.ocr

    def photo_store(self) -> PhotoStore:
        """The competitor photo files, with the size limit and retention the settings give."""
        return PhotoStore(
            self.settings.photo_dir,
            max_bytes=self.settings.photo_max_mb << 20,
            retention_days=self.settings.photo_retention_days,
        )

    def loaded_tenants(self) -> list[str]:
        """Tenants whose indexes are in memory."""
        return self.services.loaded()

    def feed(self) -> dict[str, tuple[int, bool]]:
        """Per tenant in memory: the last change-log record applied, and whether it is caught up with the log.

        An index is current when built (it reads the store, or a snapshot plus the log since it); a tenant falls
        behind when the follower's last read of the log left records unread (a burst of writes elsewhere).
        """
        return {s.tenant: (s.feed_seq, not s.feed_behind) for s in self.services.all()}

    def close(self) -> None:
        """Save the retrieval indexes, write the keys' uses, and close the store."""
        self.services.save()
        self.keys.close()
        self.store.close()
