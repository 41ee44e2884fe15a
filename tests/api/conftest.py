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
from graph.model import Owns, Rep

TENANTS = ("hz-pharma", "sh-pharma")
TODAY = dt.date.today()
HOME_CUSTOMER = {"hz-pharma": "C-HZ-00001", "sh-pharma": "C-SH-00001"}
"""The customer most tests use: the tenant's ``rep`` key belongs to the rep who owns it (its territory)."""


@dataclass
class Deployment:
    """A running app, its state, and a key per (tenant, role).

    The ``rep`` key belongs to the rep owning ``HOME_CUSTOMER``; ``rep-other`` to a rep who does not own it.
    """

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
    settings = Settings(data_dir=data_dir, buffer_pool_mb=1024, embedder="use")
    store = EmbeddedGraphStore(settings.graph_dir, buffer_pool_mb=1024)
    load_demo(store, as_of=TODAY)
    owners: dict[str, tuple[str, str]] = {}
    for t in TENANTS:
        (home,) = store.edges_of(t, Owns, targets=[HOME_CUSTOMER[t]])
        other = min(r.id for r in store.list_nodes(t, Rep, limit=1000) if r.id != home.rep_id)
        owners[t] = (home.rep_id, other)
    store.close()
    state = open_state(settings)
    keys: dict[tuple[str, str], str] = {
        (t, r): state.keys.create(t, r, f"test {r}", rep_id=owners[t][0] if r == "rep" else None)[1]
        for t in TENANTS
        for r in ROLES
    }
    for t in TENANTS:
        keys[(t, "rep-other")] = state.keys.create(t, "rep", "test rep-other", rep_id=owners[t][1])[1]
    for t in TENANTS:  # a second trainer: publishing needs four eyes
        keys[(t, "reviewer")] = state.keys.create(t, "trainer", "test reviewer")[1]
    app = create_app(settings, state=state)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Deployment(client, state, keys, data_dir)
    state.close()
