"""Errors of the pricing guard."""

from __future__ import annotations

from graph.errors import SalesCopilotError


class PricingError(SalesCopilotError):
    """Root of pricing-guard failures."""

    code = "pricing_error"
