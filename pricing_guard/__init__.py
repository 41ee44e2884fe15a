"""pricing_guard package."""
