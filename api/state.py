"""What the running service holds: the graph store, the embedder, the API keys and the tenants' services.

Opened once in the app's lifespan. Per tenant, `api.services.TenantServices` holds the retrieval and price indexes
(built on first use, and at start for tenants that have data) and makes every write, keeping them in step: a
published entry is searchable, an ingested order line is in the price bands, when the write returns.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from api.keys import KeyStore
from api.services import Services, TenantServices, services_for
from api.settings import Settings
from graph.ports import GraphStore
from retrieval.embedders import Embedder

WRITE_SLOTS = 2
"""Write routes running at once: one writes, one prepares (a store takes one writer at a time)."""


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
    services: Services = field(init=False)
    """The tenants' indexes and the writes that keep them in step (`api.services`)."""

    def __post_init__(self) -> None:
        self.services = services_for(self.settings, self.store, self.embedder)

    def tenant(self, tenant: str) -> TenantServices:
        """A tenant's services: its indexes (built on first use) and its writes."""
        return self.services.tenant(tenant)

    def loaded_tenants(self) -> list[str]:
        """Tenants whose indexes are in memory."""
        return self.services.loaded()

    def close(self) -> None:
        """Save the retrieval indexes and close the store and the key file."""
        self.services.save()
        self.store.close()
        self.keys.close()
