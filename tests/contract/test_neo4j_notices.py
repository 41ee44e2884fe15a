"""Neo4j's "property key does not exist" notices stay out of the service's log (a warning per query otherwise)."""

from __future__ import annotations

import logging

import pytest

from graph.base import CypherGraphStore


@pytest.mark.neo4j
def test_a_missing_property_logs_no_driver_warning(store: CypherGraphStore, caplog: pytest.LogCaptureFixture) -> None:
    """An optional field no row has yet is normal (a new field, a bulk-loaded type without it): no warning for it."""
    if store.backend != "neo4j":
        pytest.skip("Neo4j's driver notices only")
    caplog.set_level(logging.INFO, logger="neo4j")
    driver = store._driver  # type: ignore[attr-defined]
    with driver.session() as session:
        session.run("MATCH (n:Entry) WHERE n.tenant = 'nobody' RETURN n.skg_never_written_property AS x").consume()
    assert not [r for r in caplog.records if "does not exist" in r.getMessage()]
