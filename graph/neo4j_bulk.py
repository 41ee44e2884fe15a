"""Initial load of an EMPTY Neo4j database with ``neo4j-admin database import full``, from any store's data.

Loading millions of order lines through Bolt transactions runs at a few thousand lines a second; the offline
importer writes the store files directly, at hundreds of thousands a second. Two steps:

1. ``write_import_files`` reads every node and edge of a store as Arrow tables and writes the importer's CSV
   files — the labels, relationship types, ``uid`` / ``tenant`` properties and value types the Neo4j store itself
   writes — plus the schema version record and each tenant's change-feed head, a manifest with the row counts and
   the exact ``neo4j-admin`` command (``import-command.sh``).
2. ``bulk_load`` checks through Bolt that the database holds nothing (users' data is sacred: the importer replaces a
   database), stops the server (Neo4j Community cannot stop one database), runs the importer, starts the server,
   opens the database as a ``Neo4jGraphStore`` (constraints, indexes, schema version: what every start checks),
   waits for the indexes to come online and compares the counts with the manifest.

API keys are not carried (as in the JSON Lines export): create new keys on the new deployment.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from neo4j.exceptions import DriverError, Neo4jError

from graph.cypher import CHANGE_HEAD, rel
from graph.errors import BackendUnavailableError, ConflictError, GraphError, InvalidRowError
from graph.frames import DST, SRC, UID, edge_frame, node_frame
from graph.model import EDGE_TYPES, NODE_TYPES, Edge, Node
from graph.neo4j_store import META_LABEL, SCHEMA_VERSION, Neo4jGraphStore
from graph.ports import GraphStore

MANIFEST = "manifest.json"
COMMAND_FILE = "import-command.sh"
FORMAT = "neo4j-admin-import"
ARRAY_DELIMITER = "\x1e"
"""Between the elements of a list property (the ASCII record separator: no text a user types holds it)."""

Progress = Callable[[str, int], None]
"""Called with a type name and the number of rows just written."""

_TYPES = {
    pa.string(): "",
    pa.float64(): ":double",
    pa.int64(): ":long",
    pa.bool_(): ":boolean",
    pa.date32(): ":date",
}


def import_header(name: str, kind: pa.DataType) -> str:
    """The importer's header for a column: ``name:type`` (text has no suffix; lists are string arrays)."""
    if pa.types.is_timestamp(kind):
        return f"{name}:localdatetime"
    if pa.types.is_list(kind):
        return f"{name}:string[]"
    return name + _TYPES[kind]


def _plain(model: str, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column as the importer reads it: lists joined by ``ARRAY_DELIMITER``, timestamps in ISO 8601."""
    if pa.types.is_timestamp(column.type):
        # Arrow prints the fraction of a microsecond timestamp with %S; Neo4j wants the 'T'.
        return pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
    if pa.types.is_list(column.type):
        values = pc.list_flatten(column)
        bad = pc.or_(pc.equal(pc.utf8_length(values), 0), pc.match_substring(values, ARRAY_DELIMITER))
        if len(values) and pc.any(bad).as_py():
            raise InvalidRowError(
                f"{model}: field '{name}' holds an empty list element or the character U+001E, which the Neo4j "
                "importer cannot carry; load this store with `salescopilot export` / `import` instead",
                details={"type": model, "field": name},
            )
        joined = pc.binary_join(column, ARRAY_DELIMITER)
        # An empty list is written as no value: the store reads a missing list as empty.
        return pc.if_else(pc.equal(pc.list_value_length(column), 0), pa.scalar(None, pa.string()), joined)
    return column


def _spans_lines(table: pa.Table) -> bool:
    """Whether a text value of ``table`` holds a line break (CR or LF), i.e. a CSV record spans lines."""
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            if pc.any(pc.match_substring_regex(column, r"[\r\n]")).as_py():
                return True
    return False


@dataclass
class ImportFiles:
    """What ``write_import_files`` wrote: the importer's arguments and the rows per tenant and type."""

    directory: Path
    nodes: list[tuple[str, str]] = field(default_factory=list)
    """(label, file name) pairs, one ``--nodes`` argument each."""
    relationships: list[tuple[str, str]] = field(default_factory=list)
    """(relationship type, file name) pairs, one ``--relationships`` argument each."""
    multiline: list[str] = field(default_factory=list)
    """The files with a line break inside a value: only these are read the importer's slow, serial way."""
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    """Nodes per label and relationships per type, per tenant (as ``GraphStore.counts``)."""
    change_heads: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall seconds per stage, over all files: ``read`` (the store's Arrow tables), ``convert`` (the importer's
    columns: uids, lists, timestamps) and ``write`` (the CSV writer); for the benchmark's break-down."""

    def add(self, tenant: str, name: str, n: int) -> None:
        """Count ``n`` more rows of ``name`` for ``tenant``."""
        if n:
            per = self.rows.setdefault(tenant, {})
            per[name] = per.get(name, 0) + n

    def timed(self, stage: str, since: float) -> float:
        """Add the wall seconds from ``since`` to ``stage``; the clock now (the next stage's start)."""
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - since
        return now


def import_arguments(
    files_dir: Path,
    nodes: Sequence[tuple[str, str]],
    relationships: Sequence[tuple[str, str]],
    database: str,
    multiline: Sequence[str] | None = None,
) -> list[str]:
    """The arguments of ``neo4j-admin`` for these files (strict: a bad row or a duplicate fails the import).

    ``multiline``: the files with a line break inside a value. The importer splits a file into chunks parsed in
    parallel only when no value spans lines, so only these files are read serially (``--multiline-fields-format=v2``,
    Neo4j 5.26+); ``None`` (folders written before the list was kept): every file is, as with
    ``--multiline-fields=true``.
    """
    args = ["database", "import", "full"]
    args += [f"--nodes={label}={files_dir / name}" for label, name in nodes]
    args += [f"--relationships={typ}={files_dir / name}" for typ, name in relationships]
    if multiline is None:
        args.append("--multiline-fields=true")
    elif multiline:
        paths = ",".join(str(files_dir / name) for name in multiline)
        args += ["--multiline-fields-format=v2", f"--multiline-fields={paths}"]
    args += [
        f"--array-delimiter={ARRAY_DELIMITER}",
        "--bad-tolerance=0",
        "--skip-bad-relationships=false",
        "--skip-duplicate-nodes=false",
        "--overwrite-destination=true",
        f"--report-file={files_dir / 'import.report'}",
        database,
    ]
    return args


def write_import_files(
    store: GraphStore, directory: Path, *, tenants: list[str] | None = None, progress: Progress | None = None
) -> ImportFiles:
    """Write the importer's CSV files of the given tenants (default: all), a manifest and the command.

    ``directory`` must be empty or absent (nothing there is overwritten). Each type of each tenant is one file;
    node ids are the store's ``uid`` values in one id space per label.
    """
    if directory.exists() and any(directory.iterdir()):
        raise ConflictError(f"{directory} is not empty: the import files go into a new or empty folder")
    directory.mkdir(parents=True, exist_ok=True)
    out = ImportFiles(directory)
    selected = tenants if tenants is not None else store.tenants()
    for tenant in selected:
        for model in NODE_TYPES:
            n = _write_nodes(store, tenant, model, directory, out)
            out.add(tenant, model.label, n)
            if progress and n:
                progress(model.label, n)
        for edge in EDGE_TYPES:
            n = _write_edges(store, tenant, edge, directory, out)
            out.add(tenant, edge.rel_type, n)
            if progress and n:
                progress(edge.__name__, n)
        out.change_heads[tenant] = store.change_head(tenant)
    heads = pa.table(
        {
            "tenant:ID(_ChangeHead)": pa.array(list(out.change_heads), pa.string()),
            "seq:long": pa.array(list(out.change_heads.values()), pa.int64()),
        }
    )
    pacsv.write_csv(heads, directory / "_ChangeHead.csv")
    out.nodes.append((CHANGE_HEAD, "_ChangeHead.csv"))
    meta = pa.table(
        {"key:ID(_SkgMeta)": pa.array(["schema_version"]), "value": pa.array([str(SCHEMA_VERSION)], pa.string())}
    )
    pacsv.write_csv(meta, directory / "_SkgMeta.csv")
    out.nodes.append((META_LABEL, "_SkgMeta.csv"))
    manifest = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "backend": getattr(store, "backend", "?"),
        "nodes": out.nodes,
        "relationships": out.relationships,
        "multiline": out.multiline,
        "rows": out.rows,
        "change_heads": out.change_heads,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    args = import_arguments(Path("."), out.nodes, out.relationships, "neo4j", out.multiline)
    # The array delimiter is a control character: written as $'\x1e' so the line can be pasted into bash.
    line = " ".join(shlex.quote(a) for a in args).replace(shlex.quote(f"--array-delimiter={ARRAY_DELIMITER}"), "")
    (directory / COMMAND_FILE).write_text(
        "#!/usr/bin/env bash\n"
        "# Run from this folder, with the Neo4j server stopped and its database EMPTY (this replaces it);\n"
        "# `salescopilot --backend neo4j bulk-load` checks that and does every step. Database name: the last word.\n"
        f"neo4j-admin {line} --array-delimiter=$'\\x1e'\n",
        encoding="utf-8",
    )
    return out


def _write_nodes(store: GraphStore, tenant: str, model: type[Node], directory: Path, out: ImportFiles) -> int:
    t0 = time.perf_counter()
    table = store.node_table(tenant, model)
    t0 = out.timed("read", t0)
    if not table.num_rows:
        return 0
    frame = node_frame(model, table, tenant)
    names = [
        f"{UID}:ID({model.label})" if n == UID else import_header(n, frame.schema.field(n).type)
        for n in frame.column_names
    ]
    data = pa.table([_plain(model.label, n, frame.column(n)) for n in frame.column_names], names=names)
    name = f"{model.label}.{tenant}.csv"
    if _spans_lines(data):
        out.multiline.append(name)
    t0 = out.timed("convert", t0)
    pacsv.write_csv(data, directory / name)
    out.timed("write", t0)
    out.nodes.append((model.label, name))
    return int(frame.num_rows)


def _write_edges(store: GraphStore, tenant: str, model: type[Edge], directory: Path, out: ImportFiles) -> int:
    t0 = time.perf_counter()
    table = store.edge_table(tenant, model)
    t0 = out.timed("read", t0)
    if not table.num_rows:
        return 0
    frame = edge_frame(model, table, tenant)
    props = list(model.stored_properties())
    columns = [frame.column(SRC), frame.column(DST), frame.column(UID)]
    columns += [_plain(model.__name__, p, frame.column(p)) for p in props]
    names = [f":START_ID({model.source.node.label})", f":END_ID({model.target.node.label})", UID]
    names += [import_header(p, frame.schema.field(p).type) for p in props]
    data = pa.table(columns, names=names)
    name = f"{model.__name__}.{tenant}.csv"
    if _spans_lines(data):
        out.multiline.append(name)
    t0 = out.timed("convert", t0)
    pacsv.write_csv(data, directory / name)
    out.timed("write", t0)
    out.relationships.append((rel(model.rel_type).strip("`"), name))
    return int(frame.num_rows)


# ---------------------------------------------------------------------------------------------- the load itself


@dataclass
class BulkLoadReport:
    """Seconds per step and the counts found after the load (per tenant, as ``GraphStore.counts``).

    Steps: ``stop``, ``import`` (the importer, its JVM start included), ``start`` (until the server answers),
    ``schema`` (constraints built and checked, indexes created), ``indexes`` (until every index is online) and
    ``count check``.
    """

    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    importer_output: str = ""

    @property
    def importer_time(self) -> str | None:
        """The importer's own time as it reports it (``IMPORT DONE in 1m 2s 345ms``), without the JVM start."""
        found = re.search(r"IMPORT DONE in ([^.\n]+)", self.importer_output)
        return found.group(1).strip() if found else None


Connect = Callable[[], Neo4jGraphStore]
"""Opens the Neo4j store (its constructor checks the schema: constraints, indexes, version)."""


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of an import folder, checked against this code's schema version."""
    path = directory / MANIFEST
    if not path.is_file():
        raise InvalidRowError(f"{path}: no manifest; write the folder with `salescopilot export --neo4j-import`")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise InvalidRowError(f"{path}: not a neo4j-admin import folder (format {manifest.get('format')!r})")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise InvalidRowError(
            f"{path}: written at schema version {manifest.get('schema_version')}, this code writes version "
            f"{SCHEMA_VERSION}: write the files again with this version"
        )
    return manifest


def run_launcher(cmd: list[str], home: Path, what: str) -> str:
    """Run a Neo4j launcher for the server in ``home`` (``NEO4J_HOME`` set through ``env``); its output."""
    done = subprocess.run(["env", f"NEO4J_HOME={home}", *cmd], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackendUnavailableError(
            f"{what} failed (exit {done.returncode}): {(done.stdout + done.stderr)[-2000:]}",
            details={"command": " ".join(cmd)},
        )
    return done.stdout + done.stderr


def bulk_load(
    directory: Path,
    *,
    connect: Connect,
    home: Path,
    neo4j: Path,
    neo4j_admin: Path,
    database: str = "neo4j",
    start_timeout_s: float = 300.0,
    index_timeout_s: int = 3_600,
) -> BulkLoadReport:
    """Load an import folder into the EMPTY database of the Neo4j server installed in ``home``.

    Refuses (``ConflictError``, nothing changed) when the database holds any node but the schema version record.
    ``neo4j`` / ``neo4j-admin``: the launchers of that installation. The server is stopped for the import and
    started again; the other databases of the server are not touched.
    """
    manifest = read_manifest(directory)
    report = BulkLoadReport()
    store = connect()
    try:
        held = store.stored_node_count(limit=1)
    finally:
        store.close()
    if held:
        raise ConflictError(
            f"the Neo4j database '{database}' is not empty: a bulk load replaces the whole database, so it goes into "
            "an empty database only. Add data to a database in use with `salescopilot import` instead.",
            details={"database": database},
        )
    t0 = time.perf_counter()
    run_launcher([str(neo4j), "stop"], home, "stopping Neo4j")
    report.seconds["stop"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    args = import_arguments(
        directory.resolve(),
        [tuple(n) for n in manifest["nodes"]],
        [tuple(r) for r in manifest["relationships"]],
        database,
        manifest.get("multiline"),
    )
    try:
        report.importer_output = run_launcher([str(neo4j_admin), *args], home, "neo4j-admin database import")
    finally:
        report.seconds["import"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        run_launcher([str(neo4j), "start"], home, "starting Neo4j")
    store = _wait_for(connect, start_timeout_s)
    started = time.perf_counter() - t0
    report.seconds["start"] = round(started - store.schema_seconds, 1)
    report.seconds["schema"] = round(store.schema_seconds, 1)
    try:
        t0 = time.perf_counter()
        store.await_indexes(index_timeout_s)
        report.seconds["indexes"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        report.counts = store.counts()
        heads = {t: store.change_head(t) for t in manifest["change_heads"]}
        report.seconds["count check"] = round(time.perf_counter() - t0, 1)
    finally:
        store.close()
    expected = {t: dict(sorted(c.items())) for t, c in sorted(manifest["rows"].items())}
    if report.counts != expected or heads != manifest["change_heads"]:
        raise ConflictError(
            f"after the import the database holds {report.counts} (change heads {heads}); the files hold {expected} "
            f"(change heads {manifest['change_heads']})",
            details={"database": database},
        )
    return report


def _wait_for(connect: Connect, timeout_s: float) -> Neo4jGraphStore:
    """Open the store once the server answers (a fresh start takes tens of seconds)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return connect()
        except (BackendUnavailableError, GraphError, Neo4jError, DriverError):
            if time.monotonic() > deadline:
                raise
            time.sleep(2)
