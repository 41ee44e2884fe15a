"""Errors of the pricing guard."""

from __future__ import annotations

from graph.errors import SalesCopilotError


class PricingError(SalesCopilotError):
    """Root of pricing-guard failures."""

    code = "pricing_error"


class UnknownProductError(PricingError):
    """A quote line names a SKU the tenant does not have."""

    code = "unknown_product"
