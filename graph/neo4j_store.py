"""Neo4j 5 backend: the official ``neo4j`` driver over Bolt, as a company runs the graph at scale.

Uniqueness constraints on ``uid`` and on (tenant, natural key) for every label, range indexes on lookup properties,
batched ``UNWIND $rows`` writes inside managed transactions (retried by the driver on transient errors). Only Cypher
and schema commands of Neo4j 5 Community are used.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa
from neo4j import (
    READ_ACCESS,
    Driver,
    GraphDatabase,
    ManagedTransaction,
    NotificationDisabledClassification,
    Transaction,
)
from neo4j.exceptions import AuthError, ConstraintError, Neo4jError, ServiceUnavailable

from graph.base import CypherGraphStore, Row, Run, T, check_tenant, price_history_match
from graph.cypher import API_KEY, CHANGE_HEAD, DELETE_TENANT_API_KEYS, edge_pattern, rel
from graph.errors import BackendUnavailableError, ConflictError, GraphError, SchemaVersionError
from graph.frames import DST, SRC, UID
from graph.model import NODE_TYPES, REL_TYPES, Edge, Node
from graph.ports import PRICE_HISTORY_SCHEMA, PriceHistory, PriceHistoryFilter, WriteResult

SCHEMA_VERSION = 9
# v2 added PURCHASED.unit, v3 Product.case_size and the Change log, v4 the formulary row fields on LISTED_IN, the
# STATUS_IN edge and FormularyDecision nodes, v5 the Promotion and PriceEvent labels, v6 the ScriptRequest,
# CompetitorPhoto, CompetitorObservation and SkuCorrection labels, v7 the SafetyReport label (the drug-safety queue),
# v8 the Task label (the states reps gave their tasks), v9 the _ApiKey label (the API keys, before in a SQLite file
# of the API; the API imports that file once): properties and labels whose constraints and indexes
# schema_statements() declares (run again on every open); nothing else to migrate in Neo4j.
MIGRATIONS: dict[int, list[str]] = {2: [], 3: [], 4: [], 5: [], 6: [], 7: [], 8: [], 9: []}
"""Statements that upgrade a database from version ``v - 1`` to ``v``; version 1 is the initial schema."""

LOOKUP_INDEXES: dict[str, tuple[str, ...]] = {
    "Customer": ("type", "tier", "region", "city"),
    "Entry": ("status", "kind"),
    "Interaction": ("at",),
    "Change": ("seq",),
    "PriceEvent": ("sku",),
    "CompetitorObservation": ("sku", "photo_id", "observed_on", "resolution"),
    "CompetitorPhoto": ("uploaded_at",),
    "SafetyReport": ("status",),
    "Task": ("customer_id",),
}
REL_LOOKUP_INDEXES: dict[str, tuple[str, ...]] = {"PURCHASED": ("at",)}

META_LABEL = "_SkgMeta"
"""The label of the database's own records (the schema version)."""
_HISTORY_CUSTOMER = ("customer_id", "customer_name", "customer_type", "tier", "region", "city")
_HISTORY_LINE = ("order_id", "line", "at", "qty", "unit_price", "unit")
PRICE_HISTORY_GROUPED = (
    " WITH c, collect(r.order_id) AS order_id, collect(r.line) AS line, collect(toString(r.at)) AS at,"
    " collect(r.qty) AS qty, collect(r.unit_price) AS unit_price, collect([r.unit]) AS unit"
    " RETURN c.id AS customer_id, c.name AS customer_name, c.type AS customer_type, c.tier AS tier,"
    " c.region AS region, c.city AS city, order_id, line, at, qty, unit_price, unit"
)
"""The return of ``cypher.PRICE_HISTORY_MATCH`` grouped by customer: one record per customer, the lines' columns as
lists (``collect`` keeps the order of the lines, so the lists line up). ``collect`` skips nulls: the one optional field,
``unit``, is collected wrapped in a one-element list."""

GET_VERSION = f"MATCH (m:{META_LABEL} {{key: 'schema_version'}}) RETURN m.value AS v"
SET_VERSION = f"MERGE (m:{META_LABEL} {{key: 'schema_version'}}) SET m.value = $v"
OTHER_NODES = f"MATCH (n) WHERE NOT n:{META_LABEL} WITH n LIMIT $limit RETURN count(n) AS n"


def schema_statements() -> list[str]:
    """Constraints and indexes of the current schema (idempotent)."""
    out = [
        "CREATE CONSTRAINT skg_meta_key IF NOT EXISTS FOR (m:_SkgMeta) REQUIRE m.key IS UNIQUE",
        f"CREATE CONSTRAINT skg_change_head IF NOT EXISTS FOR (h:{CHANGE_HEAD}) REQUIRE h.tenant IS UNIQUE",
        f"CREATE CONSTRAINT skg_api_key_id IF NOT EXISTS FOR (k:{API_KEY}) REQUIRE k.id IS UNIQUE",
        f"CREATE INDEX skg_api_key_tenant IF NOT EXISTS FOR (k:{API_KEY}) ON (k.tenant)",
    ]
    for m in NODE_TYPES:
        name = m.label.lower()
        out.append(f"CREATE CONSTRAINT {name}_uid IF NOT EXISTS FOR (n:{m.label}) REQUIRE n.uid IS UNIQUE")
        out.append(
            f"CREATE CONSTRAINT {name}_tenant_key IF NOT EXISTS "
            f"FOR (n:{m.label}) REQUIRE (n.tenant, n.{m.key_field}) IS UNIQUE"
        )
        for prop in LOOKUP_INDEXES.get(m.label, ()):
            out.append(f"CREATE INDEX {name}_{prop} IF NOT EXISTS FOR (n:{m.label}) ON (n.tenant, n.{prop})")
    for rel_type in REL_TYPES:
        name = rel_type.lower()
        for prop in ("uid", "tenant", *REL_LOOKUP_INDEXES.get(rel_type, ())):
            out.append(f"CREATE INDEX rel_{name}_{prop} IF NOT EXISTS FOR ()-[r:{rel(rel_type)}]-() ON (r.{prop})")
    return out


def _chunk_writer(statement: str, rows: list[Row]) -> Callable[[ManagedTransaction], None]:
    """A transaction function writing one chunk (retried as a unit by the driver)."""

    def work(tx: ManagedTransaction) -> None:
        tx.run(statement, {"rows": rows}).consume()

    return work


def _native(value: Any) -> Any:
    """Neo4j temporal values to ``datetime`` objects; everything else unchanged."""
    to_native = getattr(value, "to_native", None)
    return to_native() if callable(to_native) else value


class Neo4jGraphStore(CypherGraphStore):
    """``GraphStore`` on a Neo4j 5 server (Community or Enterprise, single instance or cluster)."""

    backend = "neo4j"

    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        *,
        database: str = "neo4j",
        batch_size: int = 5_000,
        load_threads: int = 2,
    ) -> None:
        self.database = database
        self.batch_size = batch_size
        self.load_threads = max(0, load_threads)
        """Transactions run at once by an initial bulk load (``bulk_load`` into a tenant with none of the type);
        0: initial loads take the general path too (look-up, then MERGE), for comparison in ``eval/bench_graph``."""
        try:
            # a property no row has yet (a new optional field, a bulk-loaded type without it) is normal here: Neo4j's
            # "property key does not exist" notices (UNRECOGNIZED) would log a warning per query; others stay on
            self._driver: Driver = GraphDatabase.driver(
                uri,
                auth=(user, password),
                notifications_disabled_classifications=[NotificationDisabledClassification.UNRECOGNIZED],
            )
            self._driver.verify_connectivity()
        except (ServiceUnavailable, AuthError, ValueError, OSError) as e:
            raise BackendUnavailableError(f"cannot connect to Neo4j at {uri}: {e}") from e
        self._local = threading.local()
        """``tx``: the managed transaction this thread is inside (a load spanning several types), if any."""
        self.schema_seconds = 0.0
        """Wall seconds the start spent on the schema (constraints built and checked, indexes created)."""
        self._migrate()

    # ------------------------------------------------------------------ engine primitives

    def _current_tx(self) -> ManagedTransaction | None:
        tx: ManagedTransaction | None = getattr(self._local, "tx", None)
        return tx

    def _reader(self) -> Transaction | None:
        tx: Transaction | None = getattr(self._local, "read_tx", None)
        return tx

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Reads of this thread inside the block run in one read transaction (one session, no BEGIN/COMMIT each).

        A briefing's twenty reads each in a transaction of its own cost a session, a BEGIN and a COMMIT more per
        read; in one they are one round trip each, and see one state of the database. Nested blocks join the outer
        one; a write transaction the thread is inside is used as it is.
        """
        if self._current_tx() is not None or self._reader() is not None:
            yield
            return
        try:
            session = self._driver.session(database=self.database, default_access_mode=READ_ACCESS)
            tx = session.begin_transaction()
        except Neo4jError as e:
            raise GraphError(f"Neo4j query failed: {e}") from e
        self._local.read_tx = tx
        try:
            yield
        finally:
            self._local.read_tx = None
            try:
                tx.close()
            finally:
                session.close()

    def _read(self, work: Callable[[ManagedTransaction], Any]) -> Any:
        reader = self._reader()
        if reader is not None:
            try:
                return work(reader)  # type: ignore[arg-type]  # a Transaction runs queries as a managed one does
            except Neo4jError as e:
                raise GraphError(f"Neo4j query failed: {e}") from e
        try:
            with self._driver.session(database=self.database) as session:
                return session.execute_read(work)
        except Neo4jError as e:
            raise GraphError(f"Neo4j query failed: {e}") from e

    def _write(self, work: Callable[[ManagedTransaction], Any]) -> Any:
        try:
            with self._driver.session(database=self.database) as session:
                return session.execute_write(work)
        except ConstraintError as e:
            raise ConflictError(f"Neo4j constraint violated: {e.message}; nothing was written") from e
        except Neo4jError as e:
            raise GraphError(f"Neo4j write failed: {e}") from e

    # Reading a node does not lock it in Neo4j; setting a property does, so an update sets a marker first (and
    # removes it in the same transaction) to read the version it checks under the lock.
    _LOCK_CLAUSE = "SET n._lock = true"
    _UNLOCK_CLAUSE = " REMOVE n._lock"

    def _atomic(self, work: Callable[[Run], T]) -> T:
        def run(statement: str, params: Row) -> list[Row]:
            tx = self._current_tx()
            assert tx is not None
            return [{k: _native(v) for k, v in rec.data().items()} for rec in tx.run(statement, params)]

        if self._current_tx() is not None:  # joins the transaction this thread is already in
            return work(run)

        def in_tx(tx: ManagedTransaction) -> T:
            self._local.tx = tx
            try:
                return work(run)
            finally:
                self._local.tx = None

        try:
            with self._driver.session(database=self.database) as session:
                return session.execute_write(in_tx)
        except ConstraintError as e:
            raise ConflictError(f"Neo4j constraint violated: {e.message}") from e
        except Neo4jError as e:
            raise GraphError(f"Neo4j write failed: {e}") from e

    def _query(self, statement: str, params: Row) -> list[Row]:
        def work(tx: ManagedTransaction) -> list[Row]:
            return [{k: _native(v) for k, v in rec.data().items()} for rec in tx.run(statement, params)]

        current = self._current_tx()
        if current is not None:  # inside a write transaction: read what it has written so far
            return work(current)
        rows: list[Row] = self._read(work)
        return rows

    def _query_arrow(self, statement: str, params: Row, schema: pa.Schema) -> pa.Table:
        """Rows straight into columns: no dict per record (a whole-SKU history is thousands of records)."""
        if self._current_tx() is not None:
            return super()._query_arrow(statement, params, schema)

        def work(tx: ManagedTransaction) -> tuple[list[str], list[list[Any]]]:
            result = tx.run(statement, params)
            return list(result.keys()), result.values()

        keys, values = self._read(work)
        position = {k: i for i, k in enumerate(keys)}
        columns = []
        for f in schema:
            i = position[f.name]
            column = [row[i] for row in values]
            if pa.types.is_temporal(f.type):
                column = [_native(v) for v in column]
            columns.append(pa.array(column, f.type))
        return pa.Table.from_arrays(columns, schema=schema)

    def price_history(self, tenant: str, sku: str, filters: PriceHistoryFilter | None = None) -> PriceHistory:
        """Order lines of a SKU, as the shared read returns them, fetched one record per customer.

        A whole-SKU history at 2M order lines is thousands of lines; one record per line costs a Bolt record and a
        Python object per value, and repeats the customer's six fields on each line. Here the server groups the lines
        by customer into lists (dates as ISO text, parsed by Arrow at once): about 10× fewer records (measured in
        ``eval/bench_neo4j_size.py``). Same rows, same order as ``CypherGraphStore.price_history``.
        """
        statement, params = price_history_match(tenant, sku, filters)
        rows = self._query(statement + PRICE_HISTORY_GROUPED, params)
        counts = [len(r["order_id"]) for r in rows]
        take = pa.array(np.repeat(np.arange(len(rows)), counts), pa.int64())
        columns: dict[str, pa.Array] = {}
        for name in _HISTORY_CUSTOMER:
            columns[name] = pa.array([r[name] for r in rows], PRICE_HISTORY_SCHEMA.field(name).type).take(take)
        for name in _HISTORY_LINE:
            flat = list(chain.from_iterable(r[name] for r in rows))
            if name == "unit":
                flat = [u[0] for u in flat]
            kind = PRICE_HISTORY_SCHEMA.field(name).type
            columns[name] = pa.array(flat, pa.string()).cast(kind) if name == "at" else pa.array(flat, kind)
        table = pa.table([columns[n] for n in PRICE_HISTORY_SCHEMA.names], schema=PRICE_HISTORY_SCHEMA)
        table = table.sort_by([("at", "ascending"), ("order_id", "ascending"), ("line", "ascending")])
        if filters is not None and filters.limit is not None:
            table = table.slice(0, max(filters.limit, 0))
        return PriceHistory(table)

    def _stream(self, statement: str, params: Row) -> Iterator[Row]:
        try:
            with self._driver.session(database=self.database) as session:
                for rec in session.run(statement, params):
                    yield {k: _native(v) for k, v in rec.data().items()}
        except Neo4jError as e:
            raise GraphError(f"Neo4j query failed: {e}") from e

    # ------------------------------------------------------------------ schema

    def schema_version(self) -> int:
        """Schema version recorded in the database."""
        rows = self._query(GET_VERSION, {})
        return int(rows[0]["v"]) if rows else 0

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(f"Neo4j schema version {version}; this code knows up to {SCHEMA_VERSION}")
        t0 = time.perf_counter()
        statements = schema_statements()
        indexes = [s for s in statements if s.startswith("CREATE INDEX")]
        # Schema commands cannot share a transaction with writes. The plain indexes go in ONE transaction: Neo4j
        # populates the indexes committed together as one background job instead of one per index (after a bulk load
        # of 2M order lines, schema + indexes were done 20–50 % sooner: eval/bench_neo4j_bulk). Each uniqueness
        # constraint runs in its own auto-commit transaction, which returns once its index is built and checked.
        with self._driver.session(database=self.database) as session:
            with session.begin_transaction() as tx:
                for statement in indexes:
                    tx.run(statement).consume()
                tx.commit()
            for statement in statements:
                if statement not in indexes:
                    session.run(statement).consume()
            for v in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS.get(v, []):
                    session.run(statement).consume()
        self._write(lambda tx: tx.run(SET_VERSION, {"v": str(SCHEMA_VERSION)}).consume())
        self.schema_seconds = time.perf_counter() - t0

    # ------------------------------------------------------------------ writes

    def _run_batches(self, statements: list[tuple[str, list[Row]]], *, atomic: bool) -> None:
        """Run ``UNWIND $rows`` statements over row chunks: one transaction in all, or one per chunk."""
        chunks = [
            (statement, rows[i : i + self.batch_size])
            for statement, rows in statements
            for i in range(0, len(rows), self.batch_size)
        ]
        current = self._current_tx()
        if current is not None:
            for statement, chunk in chunks:
                current.run(statement, {"rows": chunk}).consume()
            return
        if atomic:

            def all_chunks(tx: ManagedTransaction) -> None:
                for statement, chunk in chunks:
                    tx.run(statement, {"rows": chunk}).consume()

            self._write(all_chunks)
            return
        for statement, chunk in chunks:
            self._write(_chunk_writer(statement, chunk))

    def _write_nodes(self, tenant: str, model: type[Node], frame: pa.Table, *, atomic: bool) -> WriteResult:
        props = list(model.property_types())
        rows = frame.to_pylist()
        lookup = f"UNWIND $uids AS u MATCH (n:{model.label} {{uid: u}}) RETURN n.uid AS uid, " + ", ".join(
            f"n.{p} AS {p}" for p in props
        )
        old: dict[str, Row] = {}
        uids = [r[UID] for r in rows]
        for i in range(0, len(uids), 50_000):
            old.update((r[UID], r) for r in self._query(lookup, {"uids": uids[i : i + 50_000], "tenant": tenant}))
        new = [r for r in rows if r[UID] not in old]
        changed = [r for r in rows if r[UID] in old and r != old[r[UID]]]
        sets = ", ".join(f"n.{p} = row.{p}" for p in props)
        merge = f"UNWIND $rows AS row MERGE (n:{model.label} {{uid: row.uid}}) SET {sets}"
        self._run_batches([(merge, new + changed)], atomic=atomic)
        return WriteResult(model.label, len(rows), len(new), len(changed))

    def _has_edges(self, tenant: str, model: type[Edge]) -> bool:
        """Whether ``tenant`` has any relationship of the type (one index seek on ``tenant``)."""
        statement = f"MATCH ()-[r:{rel(model.rel_type)}]->() WHERE r.tenant = $tenant RETURN r.uid AS uid LIMIT 1"
        return bool(self._query(statement, {"tenant": tenant}))

    def _initial_edges(self, model: type[Edge], rows: list[Row]) -> None:
        """Create the relationships of an initial load: ``CREATE`` (nothing to merge with), chunks in parallel.

        Each chunk is its own transaction, retried by the driver on a transient error (a deadlock between two
        chunks that touch one node); ``load_threads`` of them run at once. Measured in ``eval/bench_graph.py``.
        """
        props = list(model.stored_properties())
        src, dst, typ = model.source.node.label, model.target.node.label, rel(model.rel_type)
        sets = ", ".join(f"r.{p} = row.{p}" for p in props)
        create = (
            f"UNWIND $rows AS row MATCH (a:{src} {{uid: row.src}}) MATCH (b:{dst} {{uid: row.dst}}) "
            f"CREATE (a)-[r:{typ} {{uid: row.uid}}]->(b) SET {sets}"
        )
        chunks = [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
        if self.load_threads == 1 or len(chunks) == 1:
            for chunk in chunks:
                self._write(_chunk_writer(create, chunk))
            return
        with ThreadPoolExecutor(self.load_threads) as pool:
            for done in pool.map(lambda chunk: self._write(_chunk_writer(create, chunk)), chunks):
                del done

    def _write_edges(self, tenant: str, model: type[Edge], frame: pa.Table, *, atomic: bool) -> WriteResult:
        props = list(model.stored_properties())
        rows = [
            {"src": r[SRC], "dst": r[DST], UID: r[UID], **{p: r[p] for p in props}}
            for r in frame.select([SRC, DST, UID, *props]).to_pylist()
        ]
        initial = self.load_threads > 0 and not atomic and self._current_tx() is None and rows
        if initial and not self._has_edges(tenant, model):
            # An initial load (the tenant has none of this type yet): no lookup, no MERGE. Two initial loads of one
            # tenant at the same moment could both create a line; a later load of the same lines finds and keeps them.
            self._initial_edges(model, rows)
            return WriteResult(model.rel_type, len(rows), len(rows), 0)
        lookup = (
            f"UNWIND $uids AS u MATCH {edge_pattern(model)} WHERE r.uid = u AND r.tenant = $tenant "
            "RETURN r.uid AS uid, a.uid AS src, b.uid AS dst, " + ", ".join(f"r.{p} AS {p}" for p in props)
        )
        old: dict[str, Row] = {}
        uids = [r[UID] for r in rows]
        for i in range(0, len(uids), 50_000):
            old.update((r[UID], r) for r in self._query(lookup, {"uids": uids[i : i + 50_000], "tenant": tenant}))
        new, moved, changed = [], [], []
        for r in rows:
            before = old.get(r[UID])
            if before is None:
                new.append(r)
            elif (before["src"], before["dst"]) != (r["src"], r["dst"]):
                moved.append(r)
            elif before != r:
                changed.append(r)
        src, dst, typ = model.source.node.label, model.target.node.label, rel(model.rel_type)
        delete = f"UNWIND $rows AS row MATCH (:{src})-[r:{typ} {{uid: row.uid}}]->(:{dst}) DELETE r"
        sets = ", ".join(f"r.{p} = row.{p}" for p in props)
        merge = (
            f"UNWIND $rows AS row MATCH (a:{src} {{uid: row.src}}) MATCH (b:{dst} {{uid: row.dst}}) "
            f"MERGE (a)-[r:{typ} {{uid: row.uid}}]->(b) SET {sets}"
        )
        self._run_batches([(delete, moved), (merge, new + moved + changed)], atomic=atomic)
        return WriteResult(model.rel_type, len(rows), len(new), len(changed) + len(moved))

    def stored_node_count(self, *, limit: int) -> int:
        """How many nodes the database holds besides its schema version record, counted up to ``limit``.

        0 means nothing a user made: what ``graph.neo4j_bulk`` requires before it replaces the database.
        """
        return int(self._query(OTHER_NODES, {"limit": max(limit, 1)})[0]["n"])

    def await_indexes(self, timeout_s: int) -> None:
        """Wait until every index is online (they populate in the background after a bulk import)."""
        with self._driver.session(database=self.database) as session:
            session.run("CALL db.awaitIndexes($t)", {"t": timeout_s}).consume()

    def delete_tenant(self, tenant: str) -> int:
        """Delete every node of ``tenant`` with its relationships, in batches of 10,000."""
        check_tenant(tenant)
        deleted = 0
        with self._driver.session(database=self.database) as session:
            for model in NODE_TYPES:
                count = f"MATCH (n:{model.label} {{tenant: $tenant}}) RETURN count(n) AS n"
                deleted += int(session.run(count, {"tenant": tenant}).single(strict=True)["n"])
                session.run(
                    f"MATCH (n:{model.label} {{tenant: $tenant}}) "
                    "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
                    {"tenant": tenant},
                ).consume()
            session.run(DELETE_TENANT_API_KEYS, {"tenant": tenant}).consume()
        return deleted

    def close(self) -> None:
        """Close the driver and its connection pool."""
        self._driver.close()
