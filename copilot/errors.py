"""Errors of the copilot layer."""

from __future__ import annotations

from graph.errors import SalesCopilotError


class CopilotError(SalesCopilotError):
    """Root of copilot failures."""

    code = "copilot_error"
