"""Rules of the code's shape that a reader of one file cannot see: checked over the source of every package.

The import arrows between packages are checked by import-linter (``lint-imports``, the contracts in
``pyproject.toml``), run by ``scripts/test.sh``; these are the rules it cannot express.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
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


def _lint_imports(tree: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the project's own contracts over a made-up tree of the same packages."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
    for name, source in tree.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    exe = Path(sys.executable).parent / "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run([str(exe), "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("tree", "says"),
    [
        ({"graph/model.py": "import api\n"}, "graph"),  # the bottom layer imports nothing of ours
        ({"copilot/x.py": "import eval.stats\n"}, "eval"),  # the product never imports eval
        ({"retrieval/x.py": "from ingest import y\n", "ingest/y.py": ""}, "ingest"),  # ingest is above retrieval
        ({"pricing_guard/x.py": "import retrieval\n"}, "pricing_guard"),  # siblings do not import each other
        ({"ingest/a.py": "from ingest import b\n", "ingest/b.py": "def f():\n    from ingest import a\n"}, "cycle"),
    ],
)
def test_import_contracts_fail_on_a_wrong_arrow_or_a_cycle(tree: dict[str, str], says: str, tmp_path: Path) -> None:
    result = _lint_imports(tree, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout and says in result.stdout


def test_import_contracts_hold_on_a_tree_with_the_arrows_of_the_design(tmp_path: Path) -> None:
    result = _lint_imports(
        {"api/x.py": "import copilot, demo, ingest\n",
         "copilot/x.py": "import pricing_guard, retrieval, graph\n", "ingest/x.py": "import resolution, retrieval\n",
         "eval/x.py": "import api\n"},
        tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_eval_is_not_part_of_the_product() -> None:
    """eval/ is not packaged, its dependencies are an extra, and the product CLI has no evaluation commands."""
    from typer.main import get_command

    from api.cli import app

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packaged = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not any(p.startswith("eval") for p in packaged)
    runtime = {d.split(">")[0].split("[")[0] for d in project["project"]["dependencies"]}
    assert runtime.isdisjoint({"matplotlib", "psutil", "httpx"})
    assert {"matplotlib>=3.8", "psutil>=5.9"} <= set(project["project"]["optional-dependencies"]["eval"])
    commands = get_command(app).commands  # type: ignore[attr-defined]
    assert "eval" not in commands and {"serve", "ingest", "price-check"} <= set(commands)


def test_python_m_eval_lists_the_evaluations() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "eval", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert all(
        name in result.stdout for name in ("retrieval", "pricing", "formulary", "formulary-impact", "cases", "all")
    )


DOMAIN_WRITES = {
    "copilot.curation": {
        "create_entry",
        "edit_entry",
        "transition",
        "mark_impact",
        "bulk_action",
        "save_generated_draft",
    },
    "copilot.faq": {"write_drafts"},
    "copilot.formulary_impact": {"formulary_impact"},
    "ingest.pipeline": {"ingest_paths"},
    "ingest.formulary": {"confirm_row", "mark_not_listed"},
}
"""Domain writes a service makes: in api/, only api/services.py calls them (and keeps the indexes in step)."""


def _domain_writes_in(source: str, where: str) -> list[str]:
    tree = ast.parse(source, filename=where)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in DOMAIN_WRITES:
            found += [f"{where}:{node.lineno} {a.name}" for a in node.names if a.name in DOMAIN_WRITES[node.module]]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = {"curation": "copilot.curation", "faq": "copilot.faq"}.get(node.value.id)
            if module and node.attr in DOMAIN_WRITES[module]:
                found.append(f"{where}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_api_writes_go_through_the_tenant_services() -> None:
    """Routes and commands write through ``api.services`` (the write-through); none re-indexes by itself."""
    found = [
        use
        for path in sorted((ROOT / "api").rglob("*.py"))
        if path.name != "services.py"
        for use in _domain_writes_in(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    ]
    assert found == [], "domain writes outside api/services.py:\n" + "\n".join(found)
    reindex = [u for p in sorted((ROOT / "api").rglob("*.py")) for u in _uses(p, {"reindex_entries", "refresh"})]
    assert reindex == []


@pytest.mark.parametrize(
    "snippet",
    [
        "from copilot.curation import transition",
        "curation.edit_entry(s, t)",
        "from ingest.pipeline import ingest_paths",
    ],
)
def test_the_scan_sees_a_domain_write(snippet: str) -> None:
    assert _domain_writes_in(snippet + "\n", "probe.py")
