"""Errors of the graph layer, and the project-wide error root.

`graph/` is the bottom of the import graph, so the root every domain package derives from lives here.
"""

from __future__ import annotations

from typing import Any


class SalesCopilotError(Exception):
    """Root of every domain error: carries a stable machine-readable ``code`` and optional ``details``."""

    code: str = "error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class GraphError(SalesCopilotError):
    """Any failure of the graph store."""

    code = "graph_error"


class InvalidRowError(GraphError):
    """A row of a batch is invalid (wrong tenant, bad key, dangling reference); the batch was not written."""

    code = "invalid_row"


class UnknownReferenceError(InvalidRowError):
    """An edge points at a node that does not exist in the caller's tenant."""

    code = "unknown_reference"


class NotFoundError(GraphError):
    """The requested node does not exist in the caller's tenant."""

    code = "not_found"


class BackendUnavailableError(GraphError):
    """The backing database cannot be opened or reached."""

    code = "backend_unavailable"


class SchemaVersionError(GraphError):
    """The store was written by a newer schema version than this code knows."""

    code = "schema_version"


class ConflictError(GraphError):
    """The write conflicts with the current state (the key already exists, or the record changed meanwhile)."""

    code = "conflict"


class VersionConflictError(ConflictError):
    """The entry was changed by someone else since the version the caller edited; ``current`` is the stored one."""

    code = "version_conflict"

    def __init__(self, message: str, *, current: Any, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        self.current = current
