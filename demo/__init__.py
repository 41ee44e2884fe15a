"""Deterministic demo dataset of a pharma distribution group (two tenants, Chinese content), ready for ingest."""

from demo.generator import DemoDataset, build_demo

__all__ = ["DemoDataset", "build_demo"]
