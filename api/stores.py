"""Builds the graph store the settings ask for (composition root helper)."""

from __future__ import annotations

import re

from api.keys import KeyStore, import_legacy_file
from api.settings import Settings
from graph.errors import BackendUnavailableError
from graph.ports import GraphStore


def open_store(settings: Settings) -> GraphStore:
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

    try:
        return EmbeddedGraphStore(settings.graph_dir, buffer_pool_mb=settings.buffer_pool_mb)
    except BackendUnavailableError as e:
        if not _LOCKED.search(e.message):
            raise
        raise _in_use(settings, e) from e


_LOCKED = re.compile(r"could not set lock|lock is held by", re.IGNORECASE)
"""LadybugDB's words when another process holds the database file's lock."""


class StoreInUseError(BackendUnavailableError):
    """The embedded store is open in another process (its lock is held): usually a running ``salescopilot serve``.

    The command line catches it to send the command to that service instead (``api.local_admin``).
    """

    def __init__(self, message: str, *, pid: int | None, details: dict[str, object]) -> None:
        super().__init__(message, details=details)
        self.pid = pid


def _in_use(settings: Settings, error: BackendUnavailableError) -> StoreInUseError:
    """The lock error said in words: who holds the store, and what to do (the database's text stays in details)."""
    found = re.search(r"held by PID (\d+)", error.message)
    pid = int(found.group(1)) if found else None
    return StoreInUseError(
        f"the graph store in {settings.data_dir} is open in another process{f' (PID {pid})' if pid else ''}, usually "
        "a running `salescopilot serve`: the embedded store can be open in one process at a time. Stop the server "
        "and run the command again, or do the work through the running server (the web console or the /v1 API).",
        pid=pid,
        details={"path": str(settings.graph_dir), "pid": pid, "cause": error.message},
    )


def open_keys(settings: Settings, store: GraphStore) -> KeyStore:
    """The API keys in ``store``, after importing the old SQLite key file once (``settings.keys_path``)."""
    import_legacy_file(store, settings.keys_path)
    return KeyStore(store)
