"""The contract suite runs against every GraphStore backend.

The embedded backend always runs. The Neo4j leg runs when NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD are set
(optionally NEO4J_DATABASE); otherwise it is skipped with the reason below.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graph.base import CypherGraphStore

NEO4J_SKIP = (
    "Neo4j leg skipped: set NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD (and optionally NEO4J_DATABASE) "
    "to run the contract suite against a Neo4j 5 server"
)


def _open(backend: str, tmp_path: Path) -> CypherGraphStore:
    if backend == "embedded":
        from graph.embedded import EmbeddedGraphStore

        return EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=512)
    uri, user, password = (os.environ.get(k) for k in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD"))
    if not (uri and user and password):
        pytest.skip(NEO4J_SKIP)
    from graph.neo4j_store import Neo4jGraphStore

    return Neo4jGraphStore(uri, user, password, database=os.environ.get("NEO4J_DATABASE", "neo4j"))


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CypherGraphStore]:
    s = _open(request.param, tmp_path)
    request.node.created_tenants = []
    yield s
    for t in request.node.created_tenants:
        s.delete_tenant(t)
    s.close()


@pytest.fixture
def tenant_factory(request: pytest.FixtureRequest, store: CypherGraphStore) -> Callable[[str], str]:
    """Fresh tenant ids, unique per test, deleted afterwards (the Neo4j database is shared between tests)."""

    def make(prefix: str = "t") -> str:
        t = f"{prefix}-{uuid.uuid4().hex[:10]}"
        request.node.created_tenants.append(t)
        return t

    return make
