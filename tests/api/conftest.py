"""One demo deployment for the API tests: the embedded store with demo data, keys of every role in two tenants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app, open_state
from api.keys import ROLES
from api.settings import Settings
from api.state import ServiceState
from demo.load import load_demo
from graph.embedded import EmbeddedGraphStore

TENANTS = ("hz-pharma", "sh-pharma")
TODAY = dt.date.today()


@dataclass
class Deployment:
    """A running app, its state, and a key per (tenant, role)."""

    client: TestClient
    state: ServiceState
    keys: dict[tuple[str, str], str]
    data_dir: Path

    def headers(self, role: str, tenant: str = "hz-pharma") -> dict[str, str]:
        """The key of ``role`` in ``tenant``; ``reviewer`` is a second trainer (the four eyes)."""
        return {"X-API-Key": self.keys[(tenant, role)]}


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    data_dir = tmp_path_factory.mktemp("api-data")
    settings = Settings(data_dir=data_dir, buffer_pool_mb=512, embedder="use")
    store = EmbeddedGraphStore(settings.graph_dir, buffer_pool_mb=512)
    load_demo(store, as_of=TODAY)
    store.close()
    state = open_state(settings)
    keys: dict[tuple[str, str], str] = {(t, r): state.keys.create(t, r, f"test {r}")[1] for t in TENANTS for r in ROLES}
    for t in TENANTS:  # a second trainer: publishing needs four eyes
        keys[(t, "reviewer")] = state.keys.create(t, "trainer", "test reviewer")[1]
    app = create_app(settings, state=state)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Deployment(client, state, keys, data_dir)
    state.close()
