"""The ingest pipeline: read → detect type → validate → build graph parts → check references → load.

Everything is validated before anything is written: a rejected file (or, with several files, any rejected file)
leaves the store exactly as it was. Loads go through ``GraphStore.bulk_load``, which is idempotent, so re-running an
ingest changes nothing.
"""

from __future__ import annotations

import csv
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.errors import SalesCopilotError
from graph.model import EDGE_TYPES, NODE_TYPES, Edge, Mentions, Node, Product, Purchased
from graph.ports import ChangeDraft, GraphStore, WriteResult
from graph.units import UnitRule
from ingest.builders import Model, Part, build_parts
from ingest.csv_out import csv_cell
from ingest.errors import FormatError, IngestError, RowError, UnknownFileTypeError, ValidationFailed
from ingest.formats import FILE_TYPES, FILE_TYPES_BY_NAME, FileType, alias_table, header_key
from ingest.readers import RawTable, read_table
from ingest.validation import Validated, column_label, rule_for, validate
from resolution.customers import DedupeReport, dedupe_customers
from resolution.product_resolver import ProductResolver

Progress = Callable[[str, int, int], None]
"""Called with a step description, work done and work total."""

log = logging.getLogger(__name__)

LOAD_ORDER: tuple[Model, ...] = (*NODE_TYPES, *EDGE_TYPES)
SUPPORTED = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson", ".pdf"}


@dataclass
class FileReport:
    """What happened to one input file."""

    file: str
    file_type: str
    rows_read: int
    rows_loaded: int = 0
    rows_skipped: int = 0
    merged: int = 0
    seconds: float = 0.0
    ignored_columns: list[str] = field(default_factory=list)
    rejects_file: str | None = None
    encoding: str | None = None
    mentions_linked: int = 0
    unconvertible_units: int = 0
    """Order lines loaded whose unit cannot be converted to the product's selling unit (left out of price bands)."""
    unit_examples: list[str] = field(default_factory=list)
    """A few of them, as 'row N: SKU in 件' for the person who fixes the product file."""


@dataclass
class IngestReport:
    """The files ingested and the writes per graph type."""

    files: list[FileReport] = field(default_factory=list)
    writes: dict[str, WriteResult] = field(default_factory=dict)
    seconds: float = 0.0
    duplicates: DedupeReport | None = None
    loaded: dict[str, pa.Table] = field(default_factory=dict)
    """The tables written, by graph type (model name): what a service's indexes take in after the ingest."""


def detect_file_type(raw: RawTable) -> FileType:
    """The file type whose columns best match the header; every required column must be there.

    A type that fits with fewer than half of the header's columns is not taken when another type, lacking a required
    column, explains more of them (a customers file whose id column is misnamed is not an indications file because
    it has a ``name`` column). Raises ``UnknownFileTypeError`` naming the closest type and the required columns its
    header lacks (a typo in a header is the usual cause), or the types a header fits equally well.
    """
    headers = {header_key(h) for h in raw.frame.columns}
    scored: list[tuple[int, FileType]] = []
    closest: list[tuple[int, int, FileType, list[str]]] = []
    for ft in FILE_TYPES:
        table = alias_table(ft)
        matched = {table[h] for h in headers if h in table}
        required = [c for c in ft.columns if rule_for(c).required]
        missing = [column_label(c) for c in required if c.name not in matched]
        if not missing:
            scored.append((len(matched), ft))
        elif matched:
            closest.append((len(matched) - len(missing), len(matched), ft, missing))
    header = "、".join(map(str, raw.frame.columns))
    if not scored:
        if not closest:
            raise UnknownFileTypeError(
                f"{raw.file}: 无法从表头判断文件类型：没有一列是认识的列名（表头：{header}）",
                details={"file": raw.file, "headers": list(map(str, raw.frame.columns))},
            )
        _, _, ft, missing = max(closest, key=lambda c: (c[0], c[1]))
        raise UnknownFileTypeError(
            f"{raw.file}: 看起来像{ft.title.split(' ')[0]}文件（{ft.name}），但缺少必填列 {'、'.join(missing)}"
            f"（表头：{header}）",
            details={"file": raw.file, "closest": ft.name, "missing": missing},
        )
    scored.sort(key=lambda s: -s[0])
    best_matched = scored[0][0]
    likelier = [c for c in closest if c[1] > best_matched]
    if best_matched * 2 < len(headers) and likelier:
        # the type chosen would ignore most of the header while another type explains more of it: the file is that
        # other type with a required column missing or misnamed, not a file of the type that happens to fit
        _, _, ft, missing = max(likelier, key=lambda c: (c[1], c[0]))
        raise UnknownFileTypeError(
            f"{raw.file}: 看起来像{ft.title.split(' ')[0]}文件（{ft.name}），但缺少必填列 {'、'.join(missing)}"
            f"（表头：{header}；只按 {scored[0][1].name} 读会忽略大部分列）",
            details={"file": raw.file, "closest": ft.name, "missing": missing, "fits": scored[0][1].name},
        )
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        names = [s[1].name for s in scored if s[0] == scored[0][0]]
        stem = Path(raw.file).stem.lower()
        by_name = [n for n in names if n in stem or n.rstrip("s") in stem]
        if len(by_name) == 1:
            return FILE_TYPES_BY_NAME[by_name[0]]
        raise UnknownFileTypeError(
            f"{raw.file}: 表头同样符合几种文件类型（{'、'.join(names)}），无法判断是哪一种",
            details={"file": raw.file, "candidates": names},
        )
    return scored[0][1]


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Files to ingest: the given files, and the supported files inside given directories (sorted)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(c for c in p.rglob("*") if c.is_file() and c.suffix.lower() in SUPPORTED)
        elif p.exists():
            out.append(p)
        else:
            raise FormatError(f"{p}: no such file or directory")
    return out


@dataclass
class _Planned:
    validated: Validated
    parts: list[Part]
    report: FileReport


def _plan(path: Path, file_type: str | None) -> _Planned:
    t0 = time.perf_counter()
    if path.suffix.lower() == ".pdf":
        from ingest.pdf import read_pdf

        raw: RawTable = read_pdf(path)
        ft = FILE_TYPES_BY_NAME["entries"]
    else:
        raw = read_table(path)
        ft = FILE_TYPES_BY_NAME[file_type] if file_type else detect_file_type(raw)
    v = validate(raw, ft)
    parts = build_parts(v) if not any(e.row is None for e in v.errors) else []
    report = FileReport(str(path), ft.name, len(raw.frame), ignored_columns=v.ignored_columns, encoding=raw.encoding)
    report.seconds = time.perf_counter() - t0
    return _Planned(v, parts, report)


def _check_references(store: GraphStore, tenant: str, plans: list[_Planned]) -> None:
    """Flag edges whose endpoint is neither in this ingest nor in the store."""
    produced: dict[Model, set[str]] = defaultdict(set)
    for plan in plans:
        for part in plan.parts:
            if issubclass(part.model, Node):
                produced[part.model].update(part.frame[part.model.key_field].astype(str))
    for plan in plans:
        for part in plan.parts:
            if issubclass(part.model, Edge):
                targets = [(e.field, e.node) for e in (part.model.source, part.model.target)]
            else:
                targets = [(f, n) for f, n in part.model.references.items() if f in part.frame.columns]
            for field_name, node in targets:
                keys = part.frame[field_name].astype("str")
                known = produced[node]
                distinct = keys.unique()
                unknown = [k for k in distinct if k not in known]
                if not unknown:
                    continue
                known = known | store.existing_keys(tenant, node, unknown)
                missing = (~keys.isin(known)).to_numpy()
                for i in np.flatnonzero(missing):
                    plan.validated.error(
                        int(part.source[i]),
                        part.columns[field_name],
                        "unknown_reference",
                        label=node.label,
                        key=keys[i],
                    )


UNIT_EXAMPLES = 10


def _check_units(store: GraphStore, tenant: str, plans: list[_Planned]) -> None:
    """Count, per file, the order lines whose unit the product cannot convert (件 without a case size, …).

    They are valid order lines and are loaded, but a price comparison needs them in the selling unit: the report
    names them so that someone adds the case size (or pack size) to the product file.
    """
    lines = [(plan, part) for plan in plans for part in plan.parts if part.model is Purchased]
    if not lines:
        return
    rules: dict[str, UnitRule] = {}
    for plan in plans:
        for part in plan.parts:
            if part.model is Product:
                for row in part.frame.to_dict("records"):
                    rules[str(row["sku"])] = UnitRule(
                        _clean(row.get("unit")), _int_or_none(row.get("pack_size")), _int_or_none(row.get("case_size"))
                    )
    wanted = {
        str(sku)
        for _, part in lines
        if "unit" in part.frame.columns
        for sku in part.frame.loc[part.frame["unit"].notna(), "sku"].unique()
    }
    for p in store.nodes_by_keys(tenant, Product, sorted(wanted - set(rules))):
        rules[p.sku] = UnitRule(p.unit, p.pack_size, p.case_size)
    for plan, part in lines:
        if "unit" not in part.frame.columns:
            continue
        pairs = part.frame[["sku", "unit"]].astype("string")
        bad = {
            (sku, unit)
            for sku, unit in pairs.dropna().drop_duplicates().itertuples(index=False)
            if rules.get(str(sku), UnitRule()).factor(str(unit)) is None
        }
        if not bad:
            continue
        mask = np.array([(s_, u) in bad for s_, u in pairs.itertuples(index=False)], dtype=bool)
        plan.report.unconvertible_units += int(mask.sum())
        for i in np.flatnonzero(mask)[: UNIT_EXAMPLES - len(plan.report.unit_examples)]:
            source_row = plan.validated.source_row(int(part.source[i]))
            sku, unit = pairs.iloc[int(i)]
            plan.report.unit_examples.append(f"第 {source_row} 行：{sku} 的单位 '{unit}'")


def _clean(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def _int_or_none(value: object) -> int | None:
    text = _clean(value)
    return int(float(text)) if text else None


def _write_rejects(plan: _Planned, directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{Path(plan.report.file).stem}.rejects.csv"
    reasons: dict[int, list[str]] = defaultdict(list)
    for e in plan.validated.errors:
        if e.row is not None:
            reasons[e.row].append(f"{e.column}: {e.reason}" if e.column else e.reason)
    raw = plan.validated.raw
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([csv_cell(c) for c in ["source_row", "reasons", *raw.frame.columns]])
        for i in np.flatnonzero(plan.validated.bad):
            row = raw.rows[int(i)]
            values = [csv_cell(v) for v in raw.frame.iloc[int(i)].tolist()]
            writer.writerow([row, csv_cell("; ".join(reasons.get(row, ["invalid"]))), *values])
    return str(path)


def ingest_paths(
    store: GraphStore,
    tenant: str,
    paths: Sequence[Path],
    *,
    file_type: str | None = None,
    skip_invalid: bool = False,
    rejects_dir: Path | None = None,
    progress: Progress | None = None,
    actor: str = "cli",
) -> IngestReport:
    """Ingest files (or directories of files) into ``tenant``; all are validated before any is written.

    Without ``skip_invalid`` any problem rejects the whole ingest (``ValidationFailed`` for the first bad file,
    carrying its first 20 errors and the total). With it, bad rows are left out and written with their reasons to
    ``<rejects_dir>/<file>.rejects.csv``.
    """
    t0 = time.perf_counter()
    files = expand_paths(paths)
    if not files:
        raise FormatError("no supported files to ingest (CSV, XLSX, JSON, JSON Lines, PDF)")
    plans: list[_Planned] = []
    for n, path in enumerate(files):
        if progress:
            progress(f"validating {path.name}", n, len(files))
        try:
            plans.append(_plan(path, file_type))
        except (OSError, ValueError) as e:
            raise FormatError(f"{path}: cannot be read: {e}") from e
    _link_mentions(store, tenant, plans)
    _check_references(store, tenant, plans)
    _check_units(store, tenant, plans)
    for plan in plans:
        if plan.validated.error_count == 0:
            continue
        whole_file = any(e.row is None for e in plan.validated.errors)
        if not skip_invalid or whole_file:
            plan.validated.raise_if_invalid()
    report = IngestReport()
    for plan in plans:
        bad = plan.validated.bad
        if skip_invalid and bad.any():
            plan.parts = [_without(p, bad) for p in plan.parts]
            plan.report.rows_skipped = int(bad.sum())
            plan.report.rejects_file = _write_rejects(plan, rejects_dir or Path("."))
        plan.report.rows_loaded = plan.report.rows_read - plan.report.rows_skipped
        report.files.append(plan.report)
    change = ChangeDraft(
        "ingest",
        actor=actor,
        ids=tuple(Path(f.file).name for f in report.files),
        details={
            "files": [{"file": Path(f.file).name, "type": f.file_type, "rows": f.rows_loaded} for f in report.files]
        },
    )
    loads = _tables([p for plan in plans for p in plan.parts])
    report.writes = _load(store, tenant, loads, change=change, progress=progress)
    report.loaded = {model.__name__: table for model, table in loads}
    if any(plan.report.file_type == "customers" for plan in plans):
        # Only customers with a city: duplicates are found within a city (records without one are never merged, and
        # comparing them all with each other is quadratic in the whole customer base).
        report.duplicates = dedupe_customers(store.customers(tenant, with_city=True))
    report.seconds = time.perf_counter() - t0
    log.info(
        "ingest",
        extra={
            "tenant": tenant,
            "files": len(report.files),
            "rows": sum(f.rows_loaded for f in report.files),
            "skipped": sum(f.rows_skipped for f in report.files),
            "duration_ms": round(report.seconds * 1000),
        },
    )
    return report


def _link_mentions(store: GraphStore, tenant: str, plans: list[_Planned]) -> None:
    """Interactions without a products column: find the products their summaries mention (entity resolution)."""
    targets = [
        p for p in plans if p.report.file_type == "interactions" and not any(x.model is Mentions for x in p.parts)
    ]
    if not targets:
        return
    products = {p.sku: p for p in store.catalogue(tenant).products}
    for plan in plans:
        for part in plan.parts:
            if part.model is Product:
                for row in part.frame.to_dict("records"):
                    clean = {
                        k: (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v) for k, v in row.items()
                    }
                    products[str(row["sku"])] = Product.model_validate({"tenant": tenant, **clean})
    if not products:
        return
    resolver = ProductResolver(products.values())
    for plan in targets:
        frame = plan.validated.frame
        if "summary" not in frame.columns:
            continue
        rows: list[dict[str, str]] = []
        source: list[int] = []
        for i in np.flatnonzero(~plan.validated.bad):
            summary = frame["summary"].iloc[int(i)]
            if not isinstance(summary, str) or not summary:
                continue
            skus = {sku for r in resolver.find_mentions(summary) if r.decision == "match" for sku in r.skus}
            for sku in sorted(skus):
                rows.append({"interaction_id": str(frame["id"].iloc[int(i)]), "sku": sku})
                source.append(int(i))
        if rows:
            plan.parts.append(
                Part(Mentions, pd.DataFrame(rows), np.array(source), {"interaction_id": "id", "sku": "summary"})
            )
            plan.report.mentions_linked = len(rows)


def _without(part: Part, bad: np.ndarray) -> Part:
    keep = ~bad[part.source]
    return Part(part.model, part.frame[keep].reset_index(drop=True), part.source[keep], part.columns)


def load_tables(
    store: GraphStore,
    tenant: str,
    tables: dict[str, pa.Table],
    *,
    change: ChangeDraft,
    progress: Progress | None = None,
) -> dict[str, WriteResult]:
    """Load tables keyed by graph model name (columns = model fields) through the same checked, ordered load path.

    Used for data that is already in graph shape (the demo dataset, imports); every table is validated by the store
    (types, required values, tenant, references) before its type is written.
    """
    models = {m.__name__: m for m in LOAD_ORDER}
    unknown = sorted(set(tables) - set(models))
    if unknown:
        raise FormatError(f"unknown graph type(s): {', '.join(unknown)}")
    parts = [
        Part(models[name], pd.DataFrame(), np.arange(table.num_rows), {}, arrow=table) for name, table in tables.items()
    ]
    return load_parts(store, tenant, parts, change=change, progress=progress)


def load_parts(
    store: GraphStore,
    tenant: str,
    parts: Sequence[Part],
    *,
    change: ChangeDraft,
    progress: Progress | None = None,
) -> dict[str, WriteResult]:
    """Load parts in one transaction (nodes before edges) with one change-log record: all of it, or nothing."""
    return _load(store, tenant, _tables(parts), change=change, progress=progress)


def _tables(parts: Sequence[Part]) -> list[tuple[Model, pa.Table]]:
    """One table per graph type, in load order (nodes before edges)."""
    by_model: dict[Model, list[Part]] = defaultdict(list)
    for p in parts:
        by_model[p.model].append(p)
    ordered = [m for m in LOAD_ORDER if m in by_model]
    return [
        (model, pa.concat_tables([p.table() for p in by_model[model]], promote_options="permissive"))
        for model in ordered
    ]


def _load(
    store: GraphStore,
    tenant: str,
    loads: list[tuple[Model, pa.Table]],
    *,
    change: ChangeDraft,
    progress: Progress | None = None,
) -> dict[str, WriteResult]:
    if progress:
        progress(f"loading {sum(t.num_rows for _, t in loads):,} rows", 0, 1)
    try:
        results = store.load_batch(tenant, loads, change=change)
    except SalesCopilotError as e:
        raise IngestError(f"loading failed, nothing was written: {e.message}", details=e.details) from e
    if progress:
        progress("done", 1, 1)
    return results


__all__ = ["IngestReport", "FileReport", "RowError", "ValidationFailed", "detect_file_type", "ingest_paths"]
