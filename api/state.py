"""What the running service holds: the graph store, the embedder, the API keys and the tenants' services.

Opened once in the app's lifespan. Per tenant, `api.services.TenantServices` holds the retrieval and price indexes
(built on first use, and at start for tenants that have data) and makes every write, keeping them in step: a
published entry is searchable, an ingested order line is in the price bands, when the write returns.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from api.keys import KeyStore
from api.services import Services, TenantServices, services_for
from api.settings import Settings
from graph.ports import GraphStore
from ingest.posters.ocr import OcrEngine, RapidOcrEngine
from ingest.posters.photo_store import PhotoStore
from retrieval.embedders import Embedder

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
