"""Rules of the code's shape that a reader of one file cannot see: checked over the source of every package.

The import arrows between packages are checked by import-linter (``lint-imports``, the contracts in
``pyproject.toml``), run by ``scripts/test.sh``; these are the rules it cannot express.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGES = ("api", "copilot", "demo", "eval", "graph", "ingest", "pricing_guard", "resolution", "retrieval")
EXPORT_IMPORT = {"graph/transfer.py"}
"""The one module that may stream whole tables: export and import of a tenant's graph."""


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _uses_in(source: str, where: str, names: set[str]) -> list[str]:
    """``where:line name`` of every attribute access to one of ``names`` (calls and references alike)."""
    tree = ast.parse(source, filename=where)
    return [f"{where}:{n.lineno} {n.attr}" for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in names]


def _uses(path: Path, names: set[str]) -> list[str]:
    return _uses_in(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix(), names)


def test_sources_are_found() -> None:
    assert len(_sources()) > 100


def test_whole_table_streams_only_in_export_and_import() -> None:
    """``iter_nodes`` / ``iter_edges`` read a whole table: outside export/import, ask the store a narrower question."""
    found = [
        use
        for path in _sources()
        if path.relative_to(ROOT).as_posix() not in EXPORT_IMPORT
        for use in _uses(path, {"iter_nodes", "iter_edges"})
    ]
    assert found == [], "whole-table reads outside graph/transfer.py:\n" + "\n".join(found)


def test_entries_are_written_only_by_curation() -> None:
    """``copilot/curation.py`` is the one domain writer of entries (the store's versioned save); graph implements it."""
    found = [
        use
        for path in _sources()
        if not path.relative_to(ROOT).as_posix().startswith("graph/")
        and path.relative_to(ROOT).as_posix() != "copilot/curation.py"
        for use in _uses(path, {"save_entry"})
    ]
    assert found == [], "entry writes outside copilot/curation.py:\n" + "\n".join(found)


@pytest.mark.parametrize("snippet", ["store.iter_nodes(t, Customer)", "pages = s.iter_edges", "f(s.iter_nodes)"])
def test_the_scan_sees_a_whole_table_read(snippet: str) -> None:
    assert _uses_in(snippet + "\n", "probe.py", {"iter_nodes", "iter_edges"})
