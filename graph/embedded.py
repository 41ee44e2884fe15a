"""Embedded backend (the default): LadybugDB, an embedded Cypher graph database in a folder on disk.

Node tables use the tenant-qualified ``uid`` as primary key, so every lookup by key is an index lookup and keys of two
tenants never collide. Writes go through Arrow tables: ``COPY … FROM`` for new rows (the bulk path, hundreds of
thousands of rows per second) and ``LOAD FROM … SET`` for changed rows, inside one transaction.
"""

from __future__ import annotations

import fcntl
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import ladybug
import pyarrow as pa
import pyarrow.compute as pc

from graph.base import CypherGraphStore, Row, Run, T, check_tenant
from graph.cypher import API_KEY, API_KEY_FIELDS, CHANGE_HEAD, DELETE_TENANT_API_KEYS, edge_pattern, rel
from graph.errors import BackendUnavailableError, ConflictError, GraphError, SchemaVersionError
from graph.files import fsync, remove, restrict_permissions
from graph.frames import DST, SRC, UID
from graph.model import (
    EDGE_TYPES,
    KEY_SEPARATOR,
    NODE_TYPES,
    REL_TYPES,
    Change,
    CompetitorObservation,
    CompetitorPhoto,
    Edge,
    FormularyDecision,
    Node,
    PriceEvent,
    Promotion,
    SafetyReport,
    ScriptRequest,
    SkuCorrection,
    Task,
    edge_types_of,
    node_uid,
)
from graph.ports import ChangeDraft, WriteResult

SCHEMA_VERSION = 9
DB_FILE = "graph.lbdb"

CHANGE_HEAD_DDL = f"CREATE NODE TABLE IF NOT EXISTS {CHANGE_HEAD}(tenant STRING PRIMARY KEY, seq INT64)"
"""The per-tenant last change sequence number (outside the domain model)."""

API_KEY_DDL = (
    f"CREATE NODE TABLE IF NOT EXISTS {API_KEY}("
    + ", ".join(f"{f} STRING" + (" PRIMARY KEY" if f == "id" else "") for f in API_KEY_FIELDS)
    + ")"
)
"""The deployment's API keys (schema version 9; before it they were in a SQLite file of the API)."""

META_DDL = "CREATE NODE TABLE IF NOT EXISTS _Meta(key STRING PRIMARY KEY, value STRING)"
GET_VERSION = "MATCH (m:_Meta {key: 'schema_version'}) RETURN m.value AS v"
SET_VERSION = "MERGE (m:_Meta {key: 'schema_version'}) SET m.value = $v"
SHOW_TABLES = "CALL show_tables() RETURN name"


def _column_defs(props: dict[str, Any]) -> str:
    return ", ".join(f"{name} {t.value}" for name, t in props.items())


def node_table_ddl(model: type[Node]) -> str:
    """DDL of one node table: the tenant-qualified ``uid`` as primary key, then the model's properties."""
    columns = _column_defs(model.property_types())
    return f"CREATE NODE TABLE IF NOT EXISTS {model.label}(uid STRING PRIMARY KEY, {columns})"


def rel_table_ddl(rel_type: str) -> str:
    """DDL of one relationship table: every (source, target) label pair of the type, then its stored properties."""
    models = edge_types_of(rel_type)
    props = models[0].stored_properties()
    if any(m.stored_properties() != props for m in models):
        raise TypeError(f"edge models of {rel_type} must store the same properties")
    pairs = ", ".join(f"FROM {m.source.node.label} TO {m.target.node.label}" for m in models)
    # No uid column: an edge's identity is its endpoints or its identity properties (order id + line), and
    # long strings in relationship tables halve COPY throughput.
    return f"CREATE REL TABLE IF NOT EXISTS {rel(rel_type)}({pairs}, {_column_defs(props)})"


def schema_ddl() -> list[str]:
    """DDL of the current schema: one node table per label, one relationship table per type."""
    ddl = [node_table_ddl(m) for m in NODE_TYPES]
    ddl.append(CHANGE_HEAD_DDL)
    ddl.append(API_KEY_DDL)
    ddl.extend(rel_table_ddl(rel_type) for rel_type in REL_TYPES)
    return ddl


MIGRATIONS: dict[int, list[str]] = {
    2: ["ALTER TABLE PURCHASED ADD unit STRING"],
    3: ["ALTER TABLE Product ADD case_size INT64", node_table_ddl(Change), CHANGE_HEAD_DDL],
    4: [
        *(
            f"ALTER TABLE LISTED_IN ADD {c} STRING"
            for c in ("section", "nrdl_name", "dosage_form", "match_reason", "decided_by")
        ),
        node_table_ddl(FormularyDecision),
        rel_table_ddl("STATUS_IN"),
    ],
    5: [node_table_ddl(Promotion), node_table_ddl(PriceEvent)],
    6: [
        "ALTER TABLE Entry ADD category STRING",
        "ALTER TABLE Entry ADD customer_types STRING[]",
        node_table_ddl(ScriptRequest),
        node_table_ddl(CompetitorPhoto),
        node_table_ddl(CompetitorObservation),
        node_table_ddl(SkuCorrection),
    ],
    7: [
        "ALTER TABLE Entry ADD impact_severity STRING",
        "ALTER TABLE Entry ADD impact_sentence STRING",
        "ALTER TABLE Entry ADD impact_edition STRING",
        "ALTER TABLE Entry ADD impact_skus STRING[]",
        "ALTER TABLE Entry ADD revision STRING",
        "ALTER TABLE EntryVersion ADD revision STRING",
        node_table_ddl(SafetyReport),
    ],
    8: [node_table_ddl(Task)],
    9: [API_KEY_DDL],
}
"""Statements that upgrade a store from version ``v - 1`` to ``v``; version 1 is the initial schema."""


class EmbeddedGraphStore(CypherGraphStore):
    """``GraphStore`` on LadybugDB in ``data_dir`` (created when missing)."""

    backend = "embedded"
    _db_fd: int | None = None
    """A descriptor of the database file held while it is open (see ``_copy_db_file``)."""

    def __init__(self, data_dir: str | Path, *, buffer_pool_mb: int = 1024, read_only: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self._buffer_pool_mb = buffer_pool_mb
        self._read_only = read_only
        if not read_only:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            restrict_permissions(self.data_dir)
            # the recovery below replaces files: never under another process's store
            self._db_fd = _not_in_use(self.data_dir)
            self.recovered_load = recover_interrupted_load(self.data_dir)
            # ``recovered_load``: opening undid a load a crash had interrupted (the store is as before that load)
        elif (self.data_dir / UNDO_FILE).exists():
            raise BackendUnavailableError(
                f"{self.data_dir} holds a load that was interrupted; open it once read-write to undo it"
            )
        else:
            self.recovered_load = False
        try:
            self._open()
        except BackendUnavailableError:
            self._close_db_fd()
            raise
        self._lock = threading.RLock()
        self._guard_depth = 0
        self._dirty = 0
        self._last_write = 0.0
        self._closed = False
        self._stop = threading.Event()
        self._idle_thread: threading.Thread | None = None
        self._tx_depth = 0
        """Open transactions of this connection (guarded by ``_lock``); nested blocks join the outer one."""
        if not read_only:
            self._migrate()

    def _open(self) -> None:
        try:
            self._db = ladybug.Database(
                str(self.data_dir / DB_FILE),
                buffer_pool_size=self._buffer_pool_mb * 1024 * 1024,
                read_only=self._read_only,
            )
            self._conn = ladybug.Connection(self._db)
            self._frames_run = False
        except (RuntimeError, OSError) as e:
            raise BackendUnavailableError(f"cannot open embedded graph at {self.data_dir}: {e}") from e
        if not self._read_only:
            for path in self.data_dir.iterdir():
                restrict_permissions(path)
            self._hold_db_fd()

    def _hold_db_fd(self) -> None:
        """Hold a descriptor of the current database file (a restore puts a new file in place: then of that one).

        Never closed while the database is open: closing any descriptor of the file drops the process's lock on it.
        """
        path = self.data_dir / DB_FILE
        old = self._db_fd
        if old is not None and os.fstat(old).st_ino == path.stat().st_ino:
            return
        self._db_fd = os.open(path, os.O_RDONLY)
        if old is not None:
            os.close(old)  # a replaced file's: the lock is on the new one

    def _close_db_fd(self) -> None:
        if self._db_fd is not None:
            os.close(self._db_fd)
            self._db_fd = None

    def _release_frames(self) -> None:
        """Give the buffer pool back what this connection's Arrow-frame statements took: open a fresh connection.

        LadybugDB 0.22 keeps buffer-pool pages for every statement that scans an Arrow parameter (``COPY … FROM
        $frame``: about 3 MB each, ``LOAD FROM $frame``: about 0.5 MB) until its connection closes; neither
        ``COMMIT`` nor ``CHECKPOINT`` frees them. A long-running service that writes through frames (every upsert,
        photo and load) filled the default 1 GB pool after about 28 uploaded photos, and then every write failed
        with "the buffer pool is full". A connection costs about 0.1 ms to open, so one is opened after each
        transaction that ran a frame (called with the lock held and no transaction open).
        """
        if not self._frames_run or self._tx_depth or self._closed:
            return
        self._conn.close()
        self._conn = ladybug.Connection(self._db)
        self._frames_run = False

    def _copy_db_file(self, target: Path) -> None:
        """Copy the database file through the descriptor held since it was opened, never a new one.

        The database's lock on its file is a POSIX record lock, which the process loses when it closes *any*
        descriptor of that file: ``shutil.copyfile`` (open, read, close) dropped it, so after one bulk load another
        process (a CLI, a second service) could open the store beside this one and both wrote to it.
        """
        assert self._db_fd is not None
        size = os.fstat(self._db_fd).st_size
        with target.open("wb") as out:
            offset = 0
            while offset < size:
                sent = os.sendfile(out.fileno(), self._db_fd, offset, size - offset)
                if sent == 0:
                    break
                offset += sent

    # ------------------------------------------------------------------ engine primitives

    def _run(self, statement: str, params: Row | None = None) -> Any:
        if params and any(isinstance(v, pa.Table) for v in params.values()):
            self._frames_run = True
        try:
            return self._conn.execute(statement, params or {})
        except RuntimeError as e:
            if "duplicated primary key" in str(e):
                key = str(e).split("primary key value", 1)[-1].split(",", 1)[0].strip()
                raise ConflictError(
                    f"a record with key {key.replace(KEY_SEPARATOR, ' / ')!r} exists already; nothing was written",
                    details={"key": key.split(KEY_SEPARATOR)[-1]},
                ) from e
            raise GraphError(f"embedded graph query failed: {e}") from e

    def _query(self, statement: str, params: Row) -> list[Row]:
        with self._lock:
            result = self._run(statement, params)
            names = result.get_column_names()
            return [dict(zip(names, row, strict=True)) for row in result.get_all()]

    def _stream(self, statement: str, params: Row) -> Iterator[Row]:
        yield from self._query(statement, params)

    def _arrow(self, statement: str, params: Row) -> pa.Table:
        with self._lock:
            table: pa.Table = self._run(statement, params).get_as_arrow()
            return table

    def _query_arrow(self, statement: str, params: Row, schema: pa.Schema) -> pa.Table:
        return self._arrow(statement, params).select(schema.names).cast(schema)

    # ------------------------------------------------------------------ schema

    def schema_version(self) -> int:
        """Schema version recorded in the store."""
        rows = self._query(GET_VERSION, {})
        return int(rows[0]["v"]) if rows else 0

    def _migrate(self) -> None:
        with self._lock:
            tables = {r["name"] for r in self._query(SHOW_TABLES, {})}
            self._run(META_DDL)
            version = self.schema_version() if "_Meta" in tables else 0
            if version > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"graph at {self.data_dir} has schema version {version}; this code knows up to {SCHEMA_VERSION}"
                )
            if version == SCHEMA_VERSION:
                return
            self._run("BEGIN TRANSACTION")
            try:
                if version == 0:
                    for statement in schema_ddl():
                        self._run(statement)
                else:
                    for v in range(version + 1, SCHEMA_VERSION + 1):
                        for statement in MIGRATIONS.get(v, []):
                            self._run(statement)
                self._run(SET_VERSION, {"v": str(SCHEMA_VERSION)})
                self._run("COMMIT")
            except Exception:
                try:
                    self._run("ROLLBACK")
                except GraphError as e:  # a failed statement has already rolled the transaction back
                    if "No active transaction" not in str(e):
                        raise
                raise

    # ------------------------------------------------------------------ writes

    def _transaction(self) -> _Transaction:
        return _Transaction(self)

    _EDGE_UID = False

    def _atomic(self, work: Callable[[Run], T]) -> T:
        # One connection behind one lock: holding the lock for the transaction serialises it against every write.
        with self._lock:
            with self._transaction():
                result = work(self._query)
            if not self._tx_depth:
                self._wrote()
            return result

    def _wrote(self) -> None:
        """Count a committed write; checkpoint when many have piled up, else soon after the writes pause.

        LadybugDB keeps committed updates in memory and in its WAL until a checkpoint folds them into the database
        file, and every read of a table gets slower the more of them it must look through: 500 edits of three
        entries made each statement 3–5× slower until a checkpoint. Folding them in when writes pause (or every
        ``CHECKPOINT_EVERY`` writes during a storm) keeps an edit's cost flat, whatever the history length.
        """
        self._dirty += 1
        self._last_write = time.monotonic()
        if self._dirty >= CHECKPOINT_EVERY:
            self.checkpoint()
        elif self._idle_thread is None and not self._read_only:
            self._idle_thread = threading.Thread(target=self._checkpoint_when_idle, name="lbdb-checkpoint", daemon=True)
            self._idle_thread.start()

    def checkpoint(self) -> None:
        """Fold committed writes into the database file (no-op when there are none)."""
        with self._lock:
            if self._dirty and not self._closed:
                self._run("CHECKPOINT")
                self._dirty = 0

    def _checkpoint_when_idle(self) -> None:
        while not self._stop.wait(CHECKPOINT_IDLE_S / 2):
            if self._dirty and time.monotonic() - self._last_write >= CHECKPOINT_IDLE_S:
                try:
                    self.checkpoint()
                except GraphError:
                    pass  # the next write or the close checkpoints again

    def load_batch(
        self,
        tenant: str,
        loads: Sequence[tuple[type[Node] | type[Edge], pa.Table]],
        *,
        change: ChangeDraft,
        deletes: Sequence[tuple[type[Edge], pa.Table]] = (),
    ) -> dict[str, WriteResult]:
        """Load several types in one transaction, guarded by an undo image so that a crash can never split it.

        LadybugDB writes the WAL records of a transaction's ordinary statements before the pages its ``COPY``
        statements fill; a process killed during ``COMMIT`` was seen to keep the former and lose the latter (a change
        record without its rows). So a load first checkpoints and keeps a copy of the database file; the copy is
        dropped once the load is committed and checkpointed. A load that fails restores it at once, and a store
        opened after a crash restores it before anything reads the store.
        """
        return self._guarded(
            lambda: super(EmbeddedGraphStore, self).load_batch(tenant, loads, change=change, deletes=deletes)
        )

    def bulk_load(self, tenant: str, model: type[Node] | type[Edge], table: pa.Table) -> WriteResult:
        """Load a large batch of one type through ``COPY``, guarded like ``load_batch``."""
        return self._guarded(lambda: super(EmbeddedGraphStore, self).bulk_load(tenant, model, table))

    def upsert_nodes(self, tenant: str, rows: Sequence[Node]) -> WriteResult:
        """Create or update nodes of one type, all or nothing (guarded like ``load_batch``)."""
        return self._guarded(lambda: super(EmbeddedGraphStore, self).upsert_nodes(tenant, rows))

    def upsert_edges(self, tenant: str, rows: Sequence[Edge]) -> WriteResult:
        """Create or update edges of one type, all or nothing (guarded like ``load_batch``)."""
        return self._guarded(lambda: super(EmbeddedGraphStore, self).upsert_edges(tenant, rows))

    def _guarded(self, write: Callable[[], T]) -> T:
        """Run a write that may ``COPY`` between an undo image and a checkpoint (see ``load_batch``)."""
        with self._lock:
            if self._guard_depth:
                return write()
            self._take_undo_image()
            self._guard_depth += 1
            try:
                result = write()
                self._run("CHECKPOINT")
                self._dirty = 0
            except BaseException:
                self._restore_undo_image()
                raise
            finally:
                self._guard_depth -= 1
            remove(self.data_dir / UNDO_FILE)
            return result

    def _take_undo_image(self) -> None:
        self._run("CHECKPOINT")  # the database file alone now holds every committed write
        self._dirty = 0
        tmp, undo = self.data_dir / (UNDO_FILE + ".tmp"), self.data_dir / UNDO_FILE
        self._copy_db_file(tmp)
        fsync(tmp)
        os.replace(tmp, undo)  # the image counts only once it is complete
        restrict_permissions(undo)
        fsync(self.data_dir)

    def _restore_undo_image(self) -> None:
        """Put the database back as it was before the load (close, restore the file, reopen)."""
        try:
            self._conn.close()
            self._db.close()
        except RuntimeError:
            pass
        recover_interrupted_load(self.data_dir)
        self._open()

    def _write_nodes(self, tenant: str, model: type[Node], frame: pa.Table, *, atomic: bool) -> WriteResult:  # noqa: ARG002
        # Always one transaction: COPY is fast enough that the bulk path needs no chunking.
        props = list(model.property_types())
        lookup = f"UNWIND $uids AS u MATCH (n:{model.label} {{uid: u}}) RETURN n.uid AS uid, " + ", ".join(
            f"n.{p} AS {p}" for p in props
        )
        with self._lock:
            old: dict[str, Row] = {}
            uids = frame.column(UID).unique().to_pylist()
            for i in range(0, len(uids), KEYED_CHUNK):  # the batch's keys only, by primary-key lookups
                old.update((r[UID], r) for r in self._arrow(lookup, {"uids": uids[i : i + KEYED_CHUNK]}).to_pylist())
            is_new = [u not in old for u in frame.column(UID).to_pylist()]
            rows = frame.to_pylist()
            changed = [not n and rows[i] != old[rows[i][UID]] for i, n in enumerate(is_new)]
            new_rows = frame.filter(pa.array(is_new))
            upd_rows = frame.filter(pa.array(changed))
            steps: list[tuple[str, pa.Table]] = []
            if upd_rows.num_rows:
                sets = ", ".join(f"n.{p} = v_{p}" for p in props if p != "tenant")
                steps.append(
                    (f"LOAD FROM $frame MATCH (n:{model.label} {{uid: v_uid}}) SET {sets}", _prefixed(upd_rows))
                )
            if new_rows.num_rows:
                steps.append((f"COPY {model.label} FROM $frame", new_rows))
            self._apply(steps)
        return WriteResult(model.label, frame.num_rows, new_rows.num_rows, upd_rows.num_rows)

    def _write_edges(self, tenant: str, model: type[Edge], frame: pa.Table, *, atomic: bool) -> WriteResult:  # noqa: ARG002
        props = list(model.stored_properties())
        src, dst = model.source.node.label, model.target.node.label
        src_field, dst_field = model.endpoint_fields()
        # Identity of an edge: its identity properties (order id + line), else its endpoints. Existing edges are
        # matched on natural keys, not on built uid strings, to keep a re-load of millions of lines light.
        keys = list(model.identity) or [src_field, dst_field]
        with self._lock:
            existing = self._existing_edges(tenant, model, frame)
            data = frame.select([SRC, DST, src_field, dst_field, *props])
            compare = [p for p in props if p != "tenant" and p not in model.identity]
            if existing.num_rows:
                existing = existing.cast(
                    pa.schema(
                        [("ex_src", pa.string()), ("ex_dst", pa.string())]
                        + [(f"ex_{p}", data.schema.field(p).type) for p in props if p != "tenant"]
                    )
                )
                right = [f"ex_{k}" for k in model.identity] or ["ex_src", "ex_dst"]
                existing = existing.append_column("_found", pa.array([True] * existing.num_rows))
                joined = data.join(existing, keys, right_keys=right, join_type="left outer", coalesce_keys=True)
            else:
                joined = data.append_column("_found", pa.nulls(data.num_rows, pa.bool_()))
                joined = joined.append_column("ex_src", pa.nulls(data.num_rows, pa.string()))
                joined = joined.append_column("ex_dst", pa.nulls(data.num_rows, pa.string()))
            is_new = pc.is_null(joined.column("_found"))
            if model.identity:  # an order line re-sent with another customer or SKU moves
                moved = pc.fill_null(
                    pc.or_(
                        pc.not_equal(joined.column(src_field), joined.column("ex_src")),
                        pc.not_equal(joined.column(dst_field), joined.column("ex_dst")),
                    ),
                    False,
                )
            else:
                moved = pa.array([False] * joined.num_rows)
            differs = pa.array([False] * joined.num_rows)
            for p in compare:
                if existing.num_rows:
                    differs = pc.or_(differs, _differs(joined.column(p), joined.column(f"ex_{p}")))
            changed = pc.and_(pc.and_(pc.invert(is_new), pc.invert(moved)), differs)
            changed = pc.fill_null(changed, False)
            ident = list(model.identity)
            to_create = joined.filter(pc.or_(is_new, moved)).select([SRC, DST, *props])
            n_moved = int(pc.sum(moved).as_py() or 0)
            to_delete = pa.table({})
            if n_moved:
                gone = joined.filter(moved)
                to_delete = pa.table(
                    {
                        "ex_from": pc.binary_join_element_wise(node_uid(tenant, ""), gone.column("ex_src"), ""),
                        "ex_to": pc.binary_join_element_wise(node_uid(tenant, ""), gone.column("ex_dst"), ""),
                        **{f: gone.column(f) for f in ident},
                    }
                )
            to_update = joined.filter(changed).select([SRC, DST, *props])
            pattern = f"(a:{src} {{uid: v_from}})-[r:{rel(model.rel_type)}]->(b:{dst} {{uid: v_to}})"
            where = (" WHERE " + " AND ".join(f"r.{f} = v_{f}" for f in ident)) if ident else ""
            steps = []
            if n_moved:
                frame_del = to_delete.rename_columns(["v_from", "v_to", *(f"v_{f}" for f in ident)])
                steps.append((f"LOAD FROM $frame MATCH {pattern}{where} DELETE r", frame_del))
            if to_update.num_rows:
                sets = ", ".join(f"r.{p} = v_{p}" for p in props)
                steps.append((f"LOAD FROM $frame MATCH {pattern}{where} SET {sets}", _prefixed(to_update)))
            if to_create.num_rows:
                steps.append((f"COPY {rel(model.rel_type)} FROM $frame (from='{src}', to='{dst}')", to_create))
            self._apply(steps)
        return WriteResult(
            model.rel_type,
            frame.num_rows,
            to_create.num_rows - n_moved,
            to_update.num_rows + n_moved,
        )

    def _existing_edges(self, tenant: str, model: type[Edge], frame: pa.Table) -> pa.Table:
        """The stored edges a batch may match (``ex_src``, ``ex_dst``, ``ex_<property>``): found from the batch's keys.

        Edges identified by their endpoints are found from their source nodes (a primary-key lookup, then the
        adjacency list); edges with identity properties (order id + line), which may have moved to other endpoints,
        from their first identity value (relationship properties have no index here: one pass over that column,
        returning only the matches). A batch with more keys than ``KEYED_LOOKUP_MAX`` (a bulk load, which touches
        most of the table) reads the tenant's edges of the type whole: cheaper than that many lookups.
        """
        returns = (
            f" RETURN a.{model.source.node.key_field} AS ex_src, b.{model.target.node.key_field} AS ex_dst"
            + "".join(f", r.{p} AS ex_{p}" for p in model.stored_properties() if p != "tenant")
        )
        scan = f"MATCH {edge_pattern(model)} WHERE r.tenant = $tenant"
        if model.identity:
            first = model.identity[0]
            keys = frame.column(first).unique().to_pylist()
            keyed = f"UNWIND $keys AS k MATCH {edge_pattern(model)} WHERE r.tenant = $tenant AND r.{first} = k"
        else:
            keys = frame.column(SRC).unique().to_pylist()
            keyed = f"MATCH {edge_pattern(model)} WHERE r.tenant = $tenant AND a.uid IN $keys"
        if len(keys) > KEYED_LOOKUP_MAX:
            return self._arrow(scan + returns, {"tenant": tenant})
        return self._arrow(keyed + returns, {"tenant": tenant, "keys": keys})

    def _apply(self, steps: list[tuple[str, pa.Table]]) -> None:
        """Run write statements, each over its Arrow frame, atomically.

        One statement is atomic on its own and runs in an auto-commit transaction, which lets ``COPY`` skip the
        write-ahead log (about twice as fast for a large load); several run inside one explicit transaction.
        """
        if len(steps) == 1 and not self._tx_depth:
            statement, frame = steps[0]
            self._run(statement, {"frame": frame})
            self._release_frames()
            return
        with self._transaction():
            for statement, frame in steps:
                self._run(statement, {"frame": frame})

    def delete_tenant(self, tenant: str) -> int:
        """Delete every node of ``tenant`` with its relationships, in one transaction."""
        check_tenant(tenant)
        deleted = 0
        with self._lock, self._transaction():
            for model in NODE_TYPES:
                rows = self._query(
                    f"MATCH (n:{model.label}) WHERE n.tenant = $tenant RETURN count(*) AS n", {"tenant": tenant}
                )
                deleted += int(rows[0]["n"])
                self._run(f"MATCH (n:{model.label}) WHERE n.tenant = $tenant DETACH DELETE n", {"tenant": tenant})
            self._run(DELETE_TENANT_API_KEYS, {"tenant": tenant})
        return deleted

    def close(self) -> None:
        """Close the connection and the database files."""
        self._stop.set()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._conn.close()
            self._db.close()
            self._close_db_fd()
        if self._idle_thread is not None and self._idle_thread is not threading.current_thread():
            self._idle_thread.join(timeout=5)


KEYED_CHUNK = 50_000
"""Keys per lookup statement when a write looks up the stored records of its batch."""
KEYED_LOOKUP_MAX = 2_000
"""Distinct keys up to which a batch of edges is looked up by its keys; above, the edge table is read whole."""

CHECKPOINT_EVERY = 100
"""Committed writes after which a checkpoint runs at once, even while writes go on."""
CHECKPOINT_IDLE_S = 1.0
"""Seconds without a write after which pending writes are checkpointed in the background."""

UNDO_FILE = DB_FILE + ".undo"
"""The database file as it was before the load in progress; present only while a load runs (or was interrupted)."""


def _not_in_use(data_dir: Path) -> int | None:
    """Raise when another process has the database open (its lock on the file), before anything here touches it.

    Opening used to undo an "interrupted" load first and check the lock only then: a second process (a CLI beside a
    running service) put the undo image of a load still running in the service over the live database file.
    The test takes the same POSIX record lock the database takes. Returns the descriptor, kept open with the store
    (closing it would drop the lock of a store this process already has open); None when there is no file yet.
    """
    path = data_dir / DB_FILE
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        holder = _lock_holder(fd)
        os.close(fd)  # this process holds no lock on the file: nothing is dropped
        who = f"PID {holder}" if holder else "another process"
        raise BackendUnavailableError(
            f"cannot open embedded graph at {data_dir}: Could not set lock on file {path} (Lock is held by {who})"
        ) from e
    return fd


def _lock_holder(fd: int) -> int | None:
    """The PID holding a conflicting lock on the file (``F_GETLK``), or None when it cannot be told."""
    query = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
        kind, _, _, _, pid = struct.unpack("hhqqi", answer)
    except (OSError, struct.error):
        return None
    return int(pid) if kind != fcntl.F_UNLCK and pid > 0 else None


def recover_interrupted_load(data_dir: Path) -> bool:
    """Undo a load a crash interrupted: the database file comes back from its undo image, the WAL files go.

    Returns whether there was one. A half-written image (``.undo.tmp``) means the load had not started: it is dropped.
    """
    remove(data_dir / (UNDO_FILE + ".tmp"))
    undo = data_dir / UNDO_FILE
    if not undo.exists():
        return False
    for path in data_dir.glob(DB_FILE + ".*"):
        if path.name != UNDO_FILE:
            remove(path)
    os.replace(undo, data_dir / DB_FILE)
    fsync(data_dir)
    return True


def _prefixed(table: pa.Table) -> pa.Table:
    """Rename columns to ``v_<name>`` so they never shadow property names inside ``LOAD FROM`` statements."""
    return table.rename_columns([f"v_{c}" for c in table.column_names])


def _differs(a: pa.ChunkedArray, b: pa.ChunkedArray) -> pa.ChunkedArray:
    """Element-wise 'values differ', where two nulls are equal."""
    eq = pc.equal(a, b)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    return pc.invert(pc.or_(pc.fill_null(eq, False), both_null))


class _Transaction:
    """``BEGIN``/``COMMIT`` around a block, ``ROLLBACK`` when it raises."""

    def __init__(self, store: EmbeddedGraphStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        store = self._store
        store._lock.acquire()
        store._tx_depth += 1
        if store._tx_depth > 1:
            return  # joins the outer transaction
        try:
            store._run("BEGIN TRANSACTION")
        except BaseException:
            store._tx_depth -= 1
            store._lock.release()
            raise

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        store = self._store
        try:
            store._tx_depth -= 1
            if store._tx_depth:
                return  # the outer block commits or rolls back
            if exc_type is None:
                store._run("COMMIT")
                store._release_frames()
                return
            try:
                store._run("ROLLBACK")
            except GraphError as e:  # a failed statement has already rolled the transaction back
                if "No active transaction" not in str(e):
                    raise
            store._release_frames()
        finally:
            store._lock.release()


__all__ = ["EDGE_TYPES", "EmbeddedGraphStore", "SCHEMA_VERSION", "schema_ddl"]
