"""What the running service holds: the graph store, the embedder, the API keys and per-tenant indexes.

Opened once in the app's lifespan; per-tenant retrieval and price indexes are built on first use (and at start for
tenants that have data), and refreshed after an ingest or a curation write, so a published entry is searchable at
once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from api.keys import KeyStore
from api.settings import Settings
from copilot.competitor_prices import WINDOW_DAYS, CompetitorPriceBook
from graph.base import CypherGraphStore
from graph.model import Entry, Product
from ingest.mentions import QueryProductMatcher
from ingest.posters.ocr import OcrEngine, RapidOcrEngine
from ingest.posters.photo_store import PhotoStore
from pricing_guard.index import PriceIndex
from retrieval.embedders import Embedder
from retrieval.hybrid import KnowledgeIndex, entry_docs, open_index

WRITE_SLOTS = 2
"""Write routes running at once: one writes, one prepares (a store takes one writer at a time)."""


@dataclass
class TenantServices:
    """A tenant's in-memory indexes: hybrid retrieval over entries and the price bands."""

    index: KnowledgeIndex
    prices: PriceIndex
    built_on: dt.date
    competitors: CompetitorPriceBook = field(default_factory=CompetitorPriceBook)
    """Latest competitor prices per SKU × competitor × city (read by price checks without a query)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Held around every search and update of ``index`` (an update must not run under a search)."""


@dataclass
class ServiceState:
    """Everything a request needs, shared by all requests of the process."""

    settings: Settings
    store: CypherGraphStore
    embedder: Embedder
    keys: KeyStore
    chat_model: BaseChatModel | None = None
    """The optional LangChain chat model that rewrites retrieved facts (None: extractive text only)."""
    ocr: OcrEngine | None = None
    """The OCR engine for competitor photos (RapidOCR made on first use when None; tests hand in a scripted one)."""
    write_gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(WRITE_SLOTS))
    """Write routes run at most ``WRITE_SLOTS`` at a time (see ``api.auth.write_slot``)."""
    _services: dict[str, TenantServices] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def _lock(self, tenant: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(tenant, threading.Lock())

    def is_current(self, tenant: str) -> bool:
        """Whether the tenant's indexes are built for today (a request can use them without waiting)."""
        found = self._services.get(tenant)
        return found is not None and found.built_on == dt.date.today()

    def services(self, tenant: str) -> TenantServices:
        """The tenant's indexes, built on first use (and again on a new day, so price bands use today's window)."""
        today = dt.date.today()
        found = self._services.get(tenant)
        if found is not None and found.built_on == today:
            return found
        with self._lock(tenant):
            found = self._services.get(tenant)
            if found is None or found.built_on != today:
                found = self._build(tenant, today)
                self._services[tenant] = found
            return found

    def _build(self, tenant: str, today: dt.date) -> TenantServices:
        products = [p for page in self.store.iter_nodes(tenant, Product) for p in page]
        index = open_index(
            self.store,
            tenant,
            self.embedder,
            self.settings.index_dir(tenant),
            product_detector=QueryProductMatcher(products),
        )
        prices = PriceIndex.from_store(self.store, tenant, as_of=today)
        return TenantServices(index, prices, today, self._competitor_book(tenant, today))

    def _competitor_book(self, tenant: str, today: dt.date) -> CompetitorPriceBook:
        since = today - dt.timedelta(days=WINDOW_DAYS)
        return CompetitorPriceBook(self.store.competitor_observations(tenant, since=since, limit=100_000))

    def refresh_competitors(self, tenant: str) -> None:
        """Re-read the tenant's recent competitor prices (after a photo upload or a review decision)."""
        services = self._services.get(tenant)
        if services is not None:
            services.competitors = self._competitor_book(tenant, dt.date.today())

    def refresh(self, tenant: str) -> None:
        """Rebuild a tenant's indexes from the graph (after an ingest)."""
        with self._lock(tenant):
            self._services[tenant] = self._build(tenant, dt.date.today())

    def reindex_entries(self, tenant: str, entries: list[Entry]) -> None:
        """Put entries' current text, status and links into the tenant's retrieval index (searchable at once)."""
        services = self._services.get(tenant)
        if services is None or not entries:
            return  # built from the graph on first use, with these writes in it
        docs = entry_docs(self.store, tenant, entries)
        with services.lock:
            services.index.upsert(docs)

    def ocr_engine(self) -> OcrEngine:
        """The OCR engine, made on first use (loading the models takes a second; most requests never need them)."""
        with self._guard:
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
        return list(self._services)

    def close(self) -> None:
        """Save the retrieval indexes and close the store and the key file."""
        for tenant, services in self._services.items():
            services.index.save(self.settings.index_dir(tenant))
        self.store.close()
        self.keys.close()
