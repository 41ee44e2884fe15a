"""Export and import of a whole store as JSON Lines, one file per node or edge type.

A backup format and the way to move data between the embedded and the Neo4j backend. Import validates every file
completely before it writes anything, so a bad file leaves the store as it was.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from pydantic import ValidationError

from graph.errors import InvalidRowError
from graph.frames import models_to_table
from graph.model import EDGE_TYPES, NODE_TYPES, Edge, GraphModel, Node
from graph.ports import ChangeDraft, GraphStore

Progress = Callable[[str, int], None]
"""Called with a type name and the number of rows just handled."""

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def _files(directory: Path) -> list[tuple[type[Node] | type[Edge], Path]]:
    nodes: list[tuple[type[Node] | type[Edge], Path]] = [
        (m, directory / "nodes" / f"{m.label}.jsonl") for m in NODE_TYPES
    ]
    edges: list[tuple[type[Node] | type[Edge], Path]] = [
        (m, directory / "edges" / f"{m.__name__}.jsonl") for m in EDGE_TYPES
    ]
    return nodes + edges


@dataclass
class TransferReport:
    """Rows written or read per type and tenant."""

    rows: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, tenant: str, type_name: str, n: int) -> None:
        """Count ``n`` more rows of ``type_name`` for ``tenant``."""
        self.rows[tenant][type_name] = self.rows[tenant].get(type_name, 0) + n


def export_jsonl(
    store: GraphStore, directory: Path, *, tenants: list[str] | None = None, progress: Progress | None = None
) -> TransferReport:
    """Write every node and edge of the given tenants (default: all) to ``directory``."""
    report = TransferReport()
    selected = tenants if tenants is not None else store.tenants()
    for sub in ("nodes", "edges"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for model, path in _files(directory):
        with path.open("w", encoding="utf-8") as out:
            for tenant in selected:
                pages: Iterator[list[Node]] | Iterator[list[Edge]]
                if issubclass(model, Node):
                    pages = store.iter_nodes(tenant, model)
                else:
                    pages = store.iter_edges(tenant, model)
                for page in pages:
                    for row in page:
                        out.write(row.model_dump_json() + "\n")
                    report.add(tenant, model.__name__, len(page))
                    if progress:
                        progress(model.__name__, len(page))
    manifest = {"format_version": FORMAT_VERSION, "backend": getattr(store, "backend", "?"), "rows": report.rows}
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return report


def _read(model: type[GraphModel], path: Path) -> Iterator[GraphModel]:
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield model.model_validate_json(line)
            except ValidationError as e:
                err = e.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                raise InvalidRowError(
                    f"{path}: line {lineno}: field '{where}': {err['msg']} ({e.error_count()} error(s) on the line)",
                    details={"file": str(path), "line": lineno, "field": where},
                ) from e


def import_jsonl(
    store: GraphStore, directory: Path, *, batch_size: int = 50_000, progress: Progress | None = None
) -> TransferReport:
    """Load a directory written by ``export_jsonl``; idempotent, validates all files before writing.

    Each tenant is one transaction; what the store holds that differs from the backup is never overwritten silently
    (entries take the backup's text as a new version, history records must agree).
    """
    files = [(m, p) for m, p in _files(directory) if p.exists()]
    if not files:
        raise InvalidRowError(f"{directory}: no nodes/*.jsonl or edges/*.jsonl files", details={"file": str(directory)})
    for model, path in files:  # first pass: validate everything
        for _ in _read(model, path):
            pass
    report = TransferReport()
    tables: dict[str, dict[type[Node] | type[Edge], list[pa.Table]]] = defaultdict(lambda: defaultdict(list))
    for model, path in files:
        by_tenant: dict[str, list[GraphModel]] = defaultdict(list)
        for row in _read(model, path):
            by_tenant[row.tenant].append(row)
            if len(by_tenant[row.tenant]) >= batch_size:
                rows = by_tenant.pop(row.tenant)
                tables[row.tenant][model].append(models_to_table(model, rows))
        for tenant, rows in by_tenant.items():
            tables[tenant][model].append(models_to_table(model, rows))
    for tenant, per_model in tables.items():
        # One transaction per tenant: a failed or interrupted import leaves that tenant as it was. Curated entries
        # that differ from the backup go through the versioned save; history records are never overwritten.
        loads = [(model, pa.concat_tables(parts)) for model, parts in per_model.items()]
        store.load_batch(tenant, loads, change=ChangeDraft("import", actor="import", ids=(directory.name,)))
        for model, table in loads:
            report.add(tenant, model.__name__, table.num_rows)
            if progress:
                progress(model.__name__, table.num_rows)
    return report
