"""Builds the graph store the settings ask for (composition root helper)."""

from __future__ import annotations

from api.settings import Settings
from graph.base import CypherGraphStore
from graph.errors import BackendUnavailableError


def open_store(settings: Settings) -> CypherGraphStore:
    """Open the configured backend: embedded LadybugDB under ``data_dir/graph``, or Neo4j."""
    if settings.backend == "neo4j":
        from graph.neo4j_store import Neo4jGraphStore

        if not (settings.neo4j_uri and settings.neo4j_user and settings.neo4j_password):
            raise BackendUnavailableError("backend 'neo4j' needs SKG_NEO4J_URI, SKG_NEO4J_USER and SKG_NEO4J_PASSWORD")
        return Neo4jGraphStore(
            settings.neo4j_uri,
            settings.neo4j_user,
            settings.neo4j_password.get_secret_value(),
            database=settings.neo4j_database,
        )
    from graph.embedded import EmbeddedGraphStore

    return EmbeddedGraphStore(settings.graph_dir, buffer_pool_mb=settings.buffer_pool_mb)
