"""The bulk path into an empty Neo4j database: embedded store → ``neo4j-admin`` import files → import → Neo4j store.

It needs a Neo4j 5 server that the test may stop, refill and start again, and whose database is EMPTY (nothing but
the schema version record): set NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD and NEO4J_BULK_HOME (that server's
installation; NEO4J_BULK_NEO4J / NEO4J_BULK_ADMIN name its launchers when they are not in its bin/). Never point it
at a server others use. Without those, or with data in the database, the test is skipped and says why. It leaves
the database empty again (the demo tenants it loaded are deleted).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from demo.load import DEMO_TENANTS, load_demo
from graph.embedded import EmbeddedGraphStore
from graph.errors import ConflictError
from graph.model import EDGE_TYPES, NODE_TYPES, Edge, Node, Product
from graph.neo4j_store import Neo4jGraphStore
from graph.ports import ChangeDraft

AS_OF = dt.date(2025, 2, 15)
SKIP = (
    "Neo4j bulk-load test skipped: set NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD and NEO4J_BULK_HOME (a Neo4j 5 server "
    "of its own that the test may stop and refill; its database must be empty)"
)

MODELS: tuple[type[Node] | type[Edge], ...] = (*NODE_TYPES, *EDGE_TYPES)
pytestmark = [pytest.mark.neo4j, pytest.mark.slow, pytest.mark.timeout(1800)]  # demo load, import, two restarts


def _sorted(table: pa.Table, model: type[Node] | type[Edge]) -> list[dict[str, object]]:
    if issubclass(model, Node):
        keys = [model.key_field]
    else:
        keys = [*model.endpoint_fields(), *model.identity]
    # As the application reads them (through the model: a missing list is an empty list).
    return [model.model_validate(r).model_dump() for r in table.sort_by([(k, "ascending") for k in keys]).to_pylist()]


@pytest.fixture
def server() -> Iterator[dict[str, object]]:
    env = {k: os.environ.get(k) for k in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_BULK_HOME")}
    if not all(env.values()):
        pytest.skip(SKIP)
    home = Path(str(env["NEO4J_BULK_HOME"]))

    def connect() -> Neo4jGraphStore:
        return Neo4jGraphStore(str(env["NEO4J_URI"]), str(env["NEO4J_USER"]), str(env["NEO4J_PASSWORD"]))

    first = connect()
    held = first.stored_node_count(limit=1)
    first.close()
    if held:
        pytest.skip(f"{SKIP}: the database at {env['NEO4J_URI']} holds data")
    yield {
        "connect": connect,
        "home": home,
        "neo4j": Path(os.environ.get("NEO4J_BULK_NEO4J") or home / "bin" / "neo4j"),
        "neo4j_admin": Path(os.environ.get("NEO4J_BULK_ADMIN") or home / "bin" / "neo4j-admin"),
    }
    with connect() as store:  # leave the database empty again
        for tenant in DEMO_TENANTS:
            store.delete_tenant(tenant)
        store._atomic(lambda run: run("MATCH (h:_ChangeHead) WHERE h.tenant IN $t DELETE h", {"t": list(DEMO_TENANTS)}))


def test_embedded_demo_round_trips_through_the_importer(tmp_path: Path, server: dict[str, object]) -> None:
    from graph.neo4j_bulk import bulk_load, write_import_files

    with EmbeddedGraphStore(tmp_path / "graph") as embedded:
        load_demo(embedded, as_of=AS_OF)
        files = write_import_files(embedded, tmp_path / "import")
        expected_counts = embedded.counts()
        heads = {t: embedded.change_head(t) for t in DEMO_TENANTS}
        tables = {
            (t, m): _sorted(embedded.node_table(t, m) if issubclass(m, Node) else embedded.edge_table(t, m), m)
            for t in DEMO_TENANTS
            for m in MODELS
        }
        tenant = DEMO_TENANTS[0]
        products = embedded.node_table(tenant, Product).column("sku").to_pylist()
        sku = max(products, key=lambda s: embedded.price_history(tenant, s).table.num_rows)
        history = embedded.price_history(tenant, sku).table
    assert files.rows == expected_counts and all(heads.values())

    report = bulk_load(tmp_path / "import", **server)  # type: ignore[arg-type]
    assert report.counts == expected_counts

    with server["connect"]() as neo:  # type: ignore[operator]
        assert neo.counts() == expected_counts
        assert {t: neo.change_head(t) for t in DEMO_TENANTS} == heads
        for (t, m), rows in tables.items():  # every node and edge with every value, as the embedded store holds it
            got = _sorted(neo.node_table(t, m) if issubclass(m, Node) else neo.edge_table(t, m), m)
            assert got == rows, f"{t} {m.__name__}"
        assert history.num_rows > 10 and neo.price_history(tenant, sku).table.equals(history)
        change = neo.append_change(tenant, ChangeDraft("test"))
        assert change.seq == heads[tenant] + 1  # the feed goes on where the embedded store's stopped

    with pytest.raises(ConflictError, match="not empty"):  # a database holding data is never replaced
        bulk_load(tmp_path / "import", **server)  # type: ignore[arg-type]
