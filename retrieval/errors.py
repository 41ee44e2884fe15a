"""Errors of the retrieval layer."""

from __future__ import annotations

from graph.errors import SalesCopilotError


class RetrievalError(SalesCopilotError):
    """Root of retrieval failures."""

    code = "retrieval_error"


class EmbedderUnavailableError(RetrievalError):
    """An embedding model cannot be loaded (missing folder or package); nothing is downloaded at run time."""

    code = "embedder_unavailable"
