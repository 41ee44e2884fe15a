"""Errors of drug-name resolution."""

from __future__ import annotations

from graph.errors import SalesCopilotError


class ResolutionError(SalesCopilotError):
    """Root of resolution failures."""

    code = "resolution_error"


class UnknownRowError(ResolutionError):
    """A formulary row named by a person (section, number, name, form) is not a row of the edition."""

    code = "unknown_row"
