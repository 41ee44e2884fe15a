"""What both backends share: validation of write batches and every read, over two engine primitives.

A backend implements ``_query`` / ``_stream`` (run one parameterized statement) and the write paths; the domain
reads are written here once, in Cypher both engines accept (`graph.cypher`).
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from itertools import islice
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import TypeAdapter

from graph import cypher
from graph.errors import ConflictError, InvalidRowError, NotFoundError, UnknownReferenceError, VersionConflictError
from graph.frames import DST, SRC, arrow_schema, edge_frame, models_to_table, node_frame
from graph.model import (
    EDGE_TYPES,
    NODE_TYPES,
    REL_TYPES,
    AboutIndication,
    AboutProduct,
    AuditEvent,
    Change,
    CompetitorObservation,
    CompetitorPhoto,
    CompetitorProduct,
    Contract,
    Customer,
    Deal,
    Doctor,
    Edge,
    Entry,
    EntryKind,
    EntryStatus,
    EntryVersion,
    FormularyEdition,
    GraphModel,
    Indication,
    Interaction,
    Node,
    Prescribes,
    Previous,
    PriceEvent,
    Product,
    Promotion,
    PropType,
    Purchased,
    Quotes,
    Rep,
    TenantId,
    node_uid,
)
from graph.ports import (
    CUSTOMER_INTERACTIONS_SCHEMA,
    MAX_CHANGE_IDS,
    PRICE_HISTORY_SCHEMA,
    PURCHASE_LINES_SCHEMA,
    WRITTEN,
    CaseQuery,
    CaseRecord,
    Catalogue,
    ChangeDraft,
    CustomerContext,
    DealRecord,
    DoctorRecord,
    EntryLinks,
    InteractionRecord,
    KeyRecord,
    Page,
    PriceHistory,
    PriceHistoryFilter,
    WriteResult,
)

N = TypeVar("N", bound=Node)
E = TypeVar("E", bound=Edge)
T = TypeVar("T")
Row = dict[str, Any]
Run = Callable[[str, Row], list[Row]]
"""Runs one statement inside the current transaction and returns its rows."""

_TENANT: TypeAdapter[str] = TypeAdapter(TenantId)

ENTRY_CONTENT = ("kind", "title", "body", "tags", "status", "author", "stale_reason", "source")
"""Fields of an entry that a load compares with the stored entry to decide whether it changed."""
ENTRY_KEPT_ON_LOAD = ("revision", "impact_severity", "impact_sentence", "impact_edition", "impact_skus")
"""Fields of a stored entry that a file never carries (a pending revision, a formulary note): a load keeps them."""
APPEND_ONLY: tuple[type[Node], ...] = (EntryVersion, AuditEvent, Change)
"""History records: written once, never overwritten by a load."""


def check_tenant(tenant: str) -> str:
    """Return ``tenant`` when it is a valid tenant id, else raise ``InvalidRowError``."""
    try:
        return str(_TENANT.validate_python(tenant))
    except ValueError as e:
        raise InvalidRowError(f"invalid tenant id {tenant!r}", details={"tenant": tenant}) from e


def _written(
    loads: Sequence[tuple[type[Node] | type[Edge], pa.Table]],
    deletes: Sequence[tuple[type[Edge], pa.Table]],
    results: dict[str, WriteResult],
) -> dict[str, Any]:
    """What a batch wrote, by type: node keys, edge endpoint keys (`graph.ports.WRITTEN`), lists cut past the cap.

    Only types with a created, updated or deleted record are listed; their keys are those of the rows loaded.
    """
    written: dict[str, list[str]] = {}
    cut: list[str] = []

    def note(name: str, column: pa.ChunkedArray | pa.Array) -> None:
        # distinct values first: a bulk load (now logged too) names a customer once per order line, ~1M at a time
        keys = sorted({str(v) for v in pc.unique(column).to_pylist() if v is not None} | set(written.get(name, ())))
        if len(keys) > MAX_CHANGE_IDS:
            cut.append(name)
            keys = keys[:MAX_CHANGE_IDS]
        written[name] = keys

    for model, table in loads:
        r = results.get(model.__name__)
        if r is None or not (r.created or r.updated or r.deleted):
            continue
        if issubclass(model, Node):
            if model in APPEND_ONLY:
                written.setdefault(model.__name__, [])
            else:
                note(model.__name__, table.column(model.key_field))
        else:
            for name in model.endpoint_fields():
                note(f"{model.__name__}.{name}", table.column(name))
    for edge_model, table in deletes:
        r = results.get(f"{edge_model.__name__}.deleted")
        if r is not None and r.deleted:
            for name in edge_model.endpoint_fields():
                note(f"{edge_model.__name__}.deleted.{name}", table.column(name))
    return {WRITTEN: written, **({"cut": sorted(set(cut))} if cut else {})}


def _single_model(rows: Sequence[GraphModel]) -> type[GraphModel]:
    if not rows:
        raise InvalidRowError("empty batch")
    return type(rows[0])


class CypherGraphStore(ABC):
    """Template for a ``GraphStore`` over a Cypher engine; subclasses add the engine and its write paths."""

    backend: str = "cypher"

    # ------------------------------------------------------------------ engine primitives

    @abstractmethod
    def _query(self, statement: str, params: Row) -> list[Row]:
        """Run a read statement and return all rows as dicts of native Python values."""

    @abstractmethod
    def _stream(self, statement: str, params: Row) -> Iterator[Row]:
        """Run a read statement and yield rows one by one."""

    def _query_arrow(self, statement: str, params: Row, schema: pa.Schema) -> pa.Table:
        """Run a read statement and return its rows as an Arrow table of ``schema`` (columns named as in it)."""
        return pa.Table.from_pylist(self._query(statement, params), schema=schema)

    @abstractmethod
    def _write_nodes(self, tenant: str, model: type[Node], frame: pa.Table, *, atomic: bool) -> WriteResult:
        """Write a prepared node frame (``uid`` + fields)."""

    @abstractmethod
    def _write_edges(self, tenant: str, model: type[Edge], frame: pa.Table, *, atomic: bool) -> WriteResult:
        """Write a prepared edge frame (``from``/``to``/``uid`` + stored properties)."""

    @abstractmethod
    def _atomic(self, work: Callable[[Run], T]) -> T:
        """Run ``work`` in one write transaction, serialised against other writes of the same records."""

    _LOCK_CLAUSE = ""
    """Cypher that takes the write lock on ``n`` before it is read for an update (empty: the engine serialises)."""
    _UNLOCK_CLAUSE = ""
    """Cypher that releases what ``_LOCK_CLAUSE`` set."""
    _EDGE_UID = True
    """Whether relationships store their ``uid`` property."""

    @abstractmethod
    def delete_tenant(self, tenant: str) -> int:
        """Delete every node and edge of ``tenant``."""

    @abstractmethod
    def close(self) -> None:
        """Release the engine."""

    # ------------------------------------------------------------------ writes

    def upsert_nodes(self, tenant: str, rows: Sequence[Node]) -> WriteResult:
        """Create or update nodes of one type, all or nothing, with a change record when anything changed."""
        model = _single_model(rows)
        if not issubclass(model, Node):
            raise InvalidRowError(f"{model.__name__} is not a node type")
        return self._logged_load(check_tenant(tenant), model, models_to_table(model, rows), atomic=True)

    def upsert_edges(self, tenant: str, rows: Sequence[Edge]) -> WriteResult:
        """Create or update edges of one type, all or nothing (endpoints must exist), logged like ``upsert_nodes``."""
        model = _single_model(rows)
        if not issubclass(model, Edge):
            raise InvalidRowError(f"{model.__name__} is not an edge type")
        return self._logged_load(check_tenant(tenant), model, models_to_table(model, rows), atomic=True)

    def bulk_load(self, tenant: str, model: type[Node] | type[Edge], table: pa.Table) -> WriteResult:
        """Load a large columnar batch idempotently through the backend's fast path, logged like ``upsert_nodes``."""
        return self._logged_load(check_tenant(tenant), model, table, atomic=False)

    def _logged_load(
        self, tenant: str, model: type[Node] | type[Edge], table: pa.Table, *, atomic: bool
    ) -> WriteResult:
        """Load one type and append a change record naming what it wrote (``WRITTEN``) when anything changed.

        Every write reaches the change log, so whatever follows it (the service's indexes, the task lists' read
        model) sees it: an ``upsert`` in the write's own transaction; a ``bulk_load`` (which may commit in several
        transactions on Neo4j) right after its last one — a reader that read the head before the load sees the head
        move once the load is complete. Loading change records themselves (an import of the log) logs nothing.
        """
        if model is Change:
            return self._load(tenant, model, table, atomic=atomic)
        draft = ChangeDraft("upsert" if atomic else "bulk_load", details={"type": model.__name__})

        def written(result: WriteResult) -> dict[str, Any]:
            return _written([(model, table)], (), {model.__name__: result})

        if atomic:

            def work(run: Run) -> WriteResult:
                result = self._load(tenant, model, table, atomic=True)
                if result.created or result.updated:
                    self._append_change(run, tenant, draft, written(result))
                return result

            return self._atomic(work)
        result = self._load(tenant, model, table, atomic=False)
        if result.created or result.updated:
            self._atomic(lambda run: self._append_change(run, tenant, draft, written(result)))
        return result

    def load_batch(
        self,
        tenant: str,
        loads: Sequence[tuple[type[Node] | type[Edge], pa.Table]],
        *,
        change: ChangeDraft,
        deletes: Sequence[tuple[type[Edge], pa.Table]] = (),
    ) -> dict[str, WriteResult]:
        """Delete the given edges, load several graph types and one change record in a single transaction."""
        tenant = check_tenant(tenant)
        order = {m: i for i, m in enumerate((*NODE_TYPES, *EDGE_TYPES))}
        for model, _ in [*loads, *deletes]:
            if model not in order:
                raise InvalidRowError(f"{getattr(model, '__name__', model)!r} is not a type of the graph model")
        for edge_type, _ in deletes:
            if not issubclass(edge_type, Edge) or edge_type.identity:
                raise InvalidRowError(f"{edge_type.__name__}: only edges identified by their endpoints can be deleted")
        ordered = sorted(loads, key=lambda load: order[load[0]])

        def work(run: Run) -> dict[str, WriteResult]:
            results: dict[str, WriteResult] = {}
            for edge_model, doomed in deletes:
                src_field, dst_field = edge_model.endpoint_fields()
                rows = [
                    {"src": node_uid(tenant, str(s)), "dst": node_uid(tenant, str(d))}
                    for s, d in zip(
                        doomed.column(src_field).to_pylist(), doomed.column(dst_field).to_pylist(), strict=True
                    )
                ]
                n = (
                    sum(int(r["n"]) for r in run(cypher.delete_edges(edge_model), {"rows": rows, "tenant": tenant}))
                    if rows
                    else 0
                )
                results[f"{edge_model.__name__}.deleted"] = WriteResult(edge_model.rel_type, len(rows), 0, 0, n)
            for model, table in ordered:
                if model is Entry:
                    result = self._load_entries(run, tenant, table, change)
                elif model in APPEND_ONLY:
                    assert issubclass(model, Node)
                    result = self._load_append_only(run, tenant, model, table)
                else:
                    result = self._load(tenant, model, table, atomic=True)
                name = model.__name__
                if name in results:
                    prev = results[name]
                    result = WriteResult(
                        prev.type_name,
                        prev.received + result.received,
                        prev.created + result.created,
                        prev.updated + result.updated,
                    )
                results[name] = result
            if any(
                r.created or r.updated or r.deleted for r in results.values()
            ):  # a load that changed nothing is no change
                self._append_change(run, tenant, change, _written(ordered, deletes, results))
            return results

        return self._atomic(work)

    def _load_entries(self, run: Run, tenant: str, table: pa.Table, change: ChangeDraft) -> WriteResult:
        """New entries through the bulk path; stored ones that differ through the versioned save (never overwritten)."""
        frame = node_frame(Entry, table, tenant)
        rows = frame.to_pylist()
        found = run(cypher.nodes_by_uids(Entry), {"uids": [r["uid"] for r in rows], "tenant": tenant})
        stored = {r.pop("uid"): Entry.model_validate(r) for r in found}
        new = [r["uid"] not in stored for r in rows]
        created = 0
        if any(new):
            created = self._load(tenant, Entry, frame.filter(pa.array(new)).drop_columns(["uid"]), atomic=True).created
        updated = 0
        for row, is_new in zip(rows, new, strict=True):
            if is_new:
                continue
            current = stored[row["uid"]]
            incoming = Entry.model_validate({k: v for k, v in row.items() if k != "uid"})
            incoming = incoming.model_copy(update={f: getattr(current, f) for f in ENTRY_KEPT_ON_LOAD})
            diff = {
                f: {"from": getattr(current, f), "to": getattr(incoming, f)}
                for f in ENTRY_CONTENT
                if getattr(current, f) != getattr(incoming, f)
            }
            if not diff:
                continue
            audit = AuditEvent(
                tenant=tenant,
                id=f"AUD-{change.kind}-{current.id}-v{current.version + 1}",
                at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
                actor=change.actor,
                action=change.kind,
                target_label="Entry",
                target_key=current.id,
                details=json.dumps({"changes": diff}, ensure_ascii=False, default=str),
            )
            self._save_entry_tx(run, tenant, incoming, current.version, audit, None, None, log_change=False)
            updated += 1
        return WriteResult(Entry.label, len(rows), created, updated)

    def _load_append_only(self, run: Run, tenant: str, model: type[Node], table: pa.Table) -> WriteResult:
        """Write history records that are new; an existing one with other values is a conflict, never overwritten."""
        frame = node_frame(model, table, tenant)
        rows = frame.to_pylist()
        found = run(cypher.nodes_by_uids(model), {"uids": [r["uid"] for r in rows], "tenant": tenant})
        stored = {r.pop("uid"): model.model_validate(r) for r in found}
        for row in rows:
            before = stored.get(row["uid"])
            if before is not None and before != model.model_validate({k: v for k, v in row.items() if k != "uid"}):
                raise ConflictError(
                    f"{model.label} {row[model.key_field]!r} already exists with other values; history records are "
                    "never overwritten",
                    details={"label": model.label, "key": row[model.key_field]},
                )
        new = frame.filter(pa.array([r["uid"] not in stored for r in rows]))
        created = self._load(tenant, model, new.drop_columns(["uid"]), atomic=True).created if new.num_rows else 0
        return WriteResult(model.label, len(rows), created, 0)

    def append_change(self, tenant: str, change: ChangeDraft) -> Change:
        """Append one change record in its own transaction."""
        tenant = check_tenant(tenant)
        return self._atomic(lambda run: self._append_change(run, tenant, change))

    def _append_change(
        self, run: Run, tenant: str, change: ChangeDraft, written: dict[str, Any] | None = None
    ) -> Change:
        """Take the tenant's next sequence number (serialised by the head record's write lock) and write the record.

        ``written``: what a batch wrote (see `graph.ports.WRITTEN`), merged into the details for followers.
        """
        seq = int(run(cypher.NEXT_CHANGE_SEQ, {"tenant": tenant})[0]["seq"])
        record = Change(
            tenant=tenant,
            id=f"{seq:012d}",
            seq=seq,
            kind=change.kind,
            at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
            actor=change.actor,
            ids=list(change.ids[:MAX_CHANGE_IDS]),
            details=json.dumps(
                {
                    **change.details,
                    **({"ids_total": len(change.ids)} if len(change.ids) > MAX_CHANGE_IDS else {}),
                    **(written or {}),
                },
                ensure_ascii=False,
                default=str,
                sort_keys=True,
            ),
        )
        run(cypher.create_node(Change), _params(Change, record))
        return record

    def changes(self, tenant: str, *, after: int = 0, limit: int = 1_000) -> list[Change]:
        """Change records with ``seq > after``, oldest first.

        A follower asks this every second, so it costs key lookups, not a scan of the whole log: the head record
        says whether anything is new (nothing: one lookup), and a record's key is its zero-padded ``seq``, so the
        next ``limit`` records are looked up by key. The head and the record it counts are written in one
        transaction, so every number up to the head is either there or never will be (a gap only where a backup
        without those records was imported); when a gap shows, the records are read by ``seq`` instead.
        """
        tenant = check_tenant(tenant)
        head = self.change_head(tenant)
        if limit <= 0 or head <= after:
            return []
        wanted = range(after + 1, min(head, after + limit) + 1)
        found = sorted(self.nodes_by_keys(tenant, Change, [f"{seq:012d}" for seq in wanted]), key=lambda c: c.seq)
        if len(found) == len(wanted):
            return found
        rows = self._query(cypher.CHANGES_AFTER, {"tenant": tenant, "after": after, "limit": limit})
        return [Change.model_validate(r) for r in rows]

    def change_head(self, tenant: str) -> int:
        """The last change sequence number of the tenant (0: none)."""
        rows = self._query(cypher.CHANGE_HEAD_SEQ, {"tenant": check_tenant(tenant)})
        return int(rows[0]["seq"]) if rows and rows[0]["seq"] is not None else 0

    def _load(self, tenant: str, model: type[Node] | type[Edge], table: pa.Table, *, atomic: bool) -> WriteResult:
        if model is Change and table.num_rows:
            frame = node_frame(Change, table, tenant)
            top = int(pc.max(frame.column("seq")).as_py())

            def write(run: Run) -> WriteResult:
                result = self._write_nodes(tenant, Change, frame, atomic=True)
                run(cypher.RAISE_CHANGE_SEQ, {"tenant": tenant, "seq": top})
                return result

            return self._atomic(write)
        if model in NODE_TYPES:
            assert issubclass(model, Node)
            return self._write_nodes(tenant, model, node_frame(model, table, tenant), atomic=atomic)
        if model in EDGE_TYPES:
            assert issubclass(model, Edge)
            frame = edge_frame(model, table, tenant)
            self._check_references(model, frame)
            return self._write_edges(tenant, model, frame, atomic=atomic)
        raise InvalidRowError(f"{getattr(model, '__name__', model)!r} is not a type of the graph model")

    def existing_keys(self, tenant: str, model: type[Node], keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` exist as nodes of ``model`` in ``tenant``."""
        prefix = node_uid(check_tenant(tenant), "")
        uids = [node_uid(tenant, k) for k in dict.fromkeys(keys)]
        found: set[str] = set()
        for chunk in _chunks(uids, 50_000):
            rows = self._query(cypher.existing_node_uids(model), {"uids": chunk})
            found.update(r["uid"][len(prefix) :] for r in rows)
        return found

    def _check_references(self, model: type[Edge], frame: pa.Table) -> None:
        """Reject the batch when an edge points at a node missing from the tenant."""
        src_field, dst_field = model.endpoint_fields()
        for col, field, node in ((SRC, src_field, model.source.node), (DST, dst_field, model.target.node)):
            uids = frame.column(col).unique().to_pylist()
            found: set[str] = set()
            for chunk in _chunks(uids, 50_000):
                found.update(r["uid"] for r in self._query(cypher.existing_node_uids(node), {"uids": chunk}))
            missing = [u for u in uids if u not in found]
            if missing:
                keys = frame.column(field).to_pylist()
                uid_col = frame.column(col).to_pylist()
                missing_set = set(missing)
                row = next(i for i, u in enumerate(uid_col) if u in missing_set) + 1
                raise UnknownReferenceError(
                    f"{model.__name__}: row {row}: column '{field}' refers to unknown {node.label} "
                    f"'{keys[row - 1]}' ({len(missing)} unknown key(s) in the batch)",
                    details={"row": row, "column": field, "unknown": [u.split("\x1f", 1)[1] for u in missing[:20]]},
                )

    # ------------------------------------------------------------------ reads

    def get_node(self, tenant: str, model: type[N], key: str) -> N | None:
        """The node with natural ``key`` in ``tenant``, or ``None``."""
        rows = self._query(cypher.get_node(model), {"tenant": check_tenant(tenant), "uid": node_uid(tenant, key)})
        return model.model_validate(rows[0]) if rows else None

    def nodes_by_keys(self, tenant: str, model: type[N], keys: Sequence[str]) -> list[N]:
        """The nodes with these keys that exist in the tenant (one index lookup per key, in chunks)."""
        tenant = check_tenant(tenant)
        out: list[N] = []
        for chunk in _chunks([node_uid(tenant, k) for k in dict.fromkeys(keys)], 50_000):
            for r in self._query(cypher.nodes_by_uids(model), {"uids": chunk, "tenant": tenant}):
                r.pop("uid")
                out.append(model.model_validate(r))
        return out

    def list_nodes(self, tenant: str, model: type[N], *, limit: int = 100, offset: int = 0) -> list[N]:
        """One page of nodes ordered by key."""
        params = {"tenant": check_tenant(tenant), "skip": max(offset, 0), "limit": max(limit, 0)}
        if offset > 0 and not self._before_end(cypher.count_tenant_nodes(model), {"tenant": params["tenant"]}, offset):
            return []
        return [model.model_validate(r) for r in self._query(cypher.list_nodes(model), params)]

    def _before_end(self, count: str, params: Row, offset: int) -> bool:
        """Whether ``offset`` is inside the rows ``count`` counts: a page is read only then.

        LadybugDB 0.x crashed the process (segmentation fault) on ``ORDER BY … SKIP n`` with ``n`` far past the last
        row (seen with 3 rows and SKIP 100,000; found by the API fuzz test paging the script-request queue), so no
        query is sent with a SKIP at or past the end.
        """
        return int(self._query(count, params)[0]["n"]) > offset

    def search_nodes(
        self,
        tenant: str,
        model: type[N],
        *,
        text: str | None = None,
        fields: Sequence[str] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> Page[N]:
        """One page of nodes with ``text`` in one of ``fields`` (any case), ordered by key, and the matching count."""
        tenant = check_tenant(tenant)
        strings = {name for name, t in model.property_types().items() if t is PropType.STRING}
        unknown = sorted(set(fields) - strings)
        if unknown:
            raise InvalidRowError(f"{model.label} has no text field {', '.join(unknown)}", details={"fields": unknown})
        if text is not None and not fields:
            raise InvalidRowError("a text search names the fields to search")
        page, count = cypher.search_nodes(model, tuple(fields) if text is not None else ())
        params: Row = {"tenant": tenant, "text": (text or "").lower()}
        if text is None:
            params.pop("text")
        total = int(self._query(count, params)[0]["n"])
        rows = self._query(page, {**params, "skip": max(offset, 0), "limit": max(limit, 0)}) if total > offset else []
        return Page([model.model_validate(r) for r in rows], total)

    def search_entries(
        self,
        tenant: str,
        *,
        sku: str | None = None,
        status: EntryStatus | None = None,
        kind: EntryKind | None = None,
        text: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Entry]:
        """A page of entries (about ``sku``, of ``status``, ``kind``, with ``text`` in title or body) and the count."""
        statement, params = self._entries_match(tenant, sku=sku, indication=None, status=status, kind=kind)
        if text is not None:
            statement += cypher.ENTRIES_TEXT
            params["text"] = text.lower()
        total = int(self._query(statement + cypher.ENTRIES_COUNT, params)[0]["n"])
        if total <= offset:  # no SKIP at or past the end (see `_before_end`)
            return Page([], total)
        rows = self._query(statement + cypher.ENTRIES_PAGE, {**params, "skip": max(offset, 0), "limit": max(limit, 0)})
        return Page([Entry.model_validate(r) for r in rows], total)

    def edges_of(
        self,
        tenant: str,
        model: type[E],
        *,
        sources: Sequence[str] | None = None,
        targets: Sequence[str] | None = None,
    ) -> list[E]:
        """Edges leaving the ``sources`` (and entering the ``targets``), or entering the ``targets``: index lookups."""
        tenant = check_tenant(tenant)
        if model not in EDGE_TYPES:
            raise InvalidRowError(f"{getattr(model, '__name__', model)!r} is not an edge type of the graph model")
        if sources is None and targets is None:
            raise InvalidRowError("edges_of needs the keys of their sources or of their targets")
        rows: list[Row] = []
        if sources is not None:
            params: Row = {"tenant": tenant}
            if targets is not None:
                params["dst"] = [node_uid(tenant, k) for k in dict.fromkeys(targets)]
            statement = cypher.edges_from(model, targets is not None)
            for chunk in _chunks([node_uid(tenant, k) for k in dict.fromkeys(sources)], 10_000):
                rows += self._query(statement, {**params, "uids": chunk})
        else:
            assert targets is not None
            for chunk in _chunks([node_uid(tenant, k) for k in dict.fromkeys(targets)], 10_000):
                rows += self._query(cypher.edges_to(model), {"tenant": tenant, "uids": chunk})
        order = [*model.endpoint_fields(), *model.identity]
        rows.sort(key=lambda r: tuple(str(r[f]) for f in order))
        return [model.model_validate({"tenant": tenant, **r}) for r in rows]

    def catalogue(self, tenant: str) -> Catalogue:
        """Products, indications and competitor products of the tenant, each ordered by key."""
        return Catalogue(
            tuple(self._tenant_nodes(tenant, Product)),
            tuple(self._tenant_nodes(tenant, Indication)),
            tuple(self._tenant_nodes(tenant, CompetitorProduct)),
        )

    def customers(self, tenant: str, *, with_city: bool = False) -> list[Customer]:
        """Every customer of the tenant (or those with a city), ordered by id."""
        return self._tenant_nodes(tenant, Customer, cypher.CUSTOMERS_WITH_CITY if with_city else "")

    def formulary_editions(self, tenant: str) -> list[FormularyEdition]:
        """Formulary editions, oldest first (undated ones first, then by id)."""
        editions = self._tenant_nodes(tenant, FormularyEdition)
        return sorted(editions, key=lambda e: (e.effective_date or dt.date.min, e.id))

    def promotions(self, tenant: str) -> list[Promotion]:
        """The promotion calendar, by start date then id."""
        return sorted(self._tenant_nodes(tenant, Promotion), key=lambda p: (p.start_date, p.id))

    def price_events(self, tenant: str, *, sku: str | None = None) -> list[PriceEvent]:
        """Filed price events (of ``sku``, or all), oldest first."""
        where, params = (cypher.PRICE_EVENTS_OF_SKU, {"sku": sku}) if sku is not None else ("", {})
        return sorted(self._tenant_nodes(tenant, PriceEvent, where, params), key=lambda e: (e.effective_date, e.id))

    def _tenant_nodes(
        self, tenant: str, model: type[N], where: str = "", params: dict[str, Any] | None = None
    ) -> list[N]:
        rows = self._query(cypher.tenant_nodes(model, where), {"tenant": check_tenant(tenant), **(params or {})})
        return [model.model_validate(r) for r in rows]

    def case_candidates(self, tenant: str, query: CaseQuery) -> list[CaseRecord]:
        """Published case studies sharing a product, an indication or a customer attribute, found from those facts."""
        tenant = check_tenant(tenant)
        ids: set[str] = set(query.entry_ids)
        if query.every:
            ids.update(e.id for e in self.entries(tenant, kind="case_study", status="published"))
        for statement, keys in (
            (cypher.CASES_BY_PRODUCT, query.skus),
            (cypher.CASES_BY_INDICATION, query.indications),
            (cypher.CASES_BY_TREATED_INDICATION, query.indications),
        ):
            if keys and not query.every:
                uids = [node_uid(tenant, k) for k in dict.fromkeys(keys)]
                ids.update(r["id"] for r in self._query(statement, {"tenant": tenant, "uids": uids}))
        attrs: Row = {
            name: value
            for name, value in (("type", query.customer_type), ("tier", query.tier), ("region", query.region))
            if value is not None
        }
        if attrs and not query.every:
            names = {"type": "customer_type", "tier": "tier", "region": "region"}
            condition = " OR ".join(cypher.CASES_CUSTOMER_ATTRS[names[a]] for a in attrs)
            statement = cypher.CASES_BY_CUSTOMER + condition + cypher.CASES_BY_CUSTOMER_RETURN
            ids.update(r["id"] for r in self._query(statement, {"tenant": tenant, **attrs}))
        entries = [
            e
            for e in self.nodes_by_keys(tenant, Entry, sorted(ids))
            if e.kind == "case_study" and e.status == "published"
        ]
        links = self.entry_links(tenant, [e.id for e in entries])
        customers = {
            c.id: c
            for c in self.nodes_by_keys(tenant, Customer, sorted({c for ln in links.values() for c in ln.customers}))
        }
        out = []
        for e in sorted(entries, key=lambda e: e.id):
            ln = links.get(e.id, EntryLinks())
            # a case is of one customer; several CASE_OF links (not made by this product) keep the last by id
            customer = next((customers[c] for c in reversed(ln.customers) if c in customers), None)
            out.append(CaseRecord(e, ln, customer))
        return out

    def interactions(self, tenant: str, *, since: dt.datetime | None = None) -> list[InteractionRecord]:
        """Interactions (at or after ``since``) with the rep who had each and the SKUs it mentions, ordered by id."""
        tenant = check_tenant(tenant)
        params: Row = {"tenant": tenant}
        where = ""
        if since is not None:
            where, params["since"] = cypher.INTERACTIONS_SINCE, since
        found = [Interaction.model_validate(r) for r in self._query(cypher.tenant_nodes(Interaction, where), params)]
        links: dict[str, dict[str, list[str]]] = {i.id: {"reps": [], "skus": [], "customers": []} for i in found}
        for chunk in _chunks([i.uid for i in found], 10_000):
            for name, statement in cypher.INTERACTION_LINKS.items():
                for r in self._query(statement, {"uids": chunk, "tenant": tenant}):
                    links[r["id"]][name].append(r["key"])
        return [
            InteractionRecord(
                i,
                min(links[i.id]["reps"], default=None),
                tuple(sorted(set(links[i.id]["skus"]))),
                min(links[i.id]["customers"], default=None),
            )
            for i in found
        ]

    def entries_naming(self, tenant: str, names: Sequence[str]) -> list[Entry]:
        """Entries whose title or body contains one of ``names``, ordered by id."""
        wanted = sorted({n for n in names if n})
        if not wanted:
            return []
        rows = self._query(cypher.ENTRIES_NAMING, {"tenant": check_tenant(tenant), "names": wanted})
        return [Entry.model_validate(r) for r in rows]

    def iter_nodes(self, tenant: str, model: type[N], *, batch_size: int = 10_000) -> Iterator[list[N]]:
        """All nodes of a type, in batches."""
        rows = self._stream(cypher.all_nodes(model), {"tenant": check_tenant(tenant)})
        for batch in _chunks_iter(rows, batch_size):
            yield [model.model_validate(r) for r in batch]

    def iter_edges(self, tenant: str, model: type[E], *, batch_size: int = 10_000) -> Iterator[list[E]]:
        """All edges of a type, in batches."""
        rows = self._stream(cypher.all_edges(model), {"tenant": check_tenant(tenant)})
        for batch in _chunks_iter(rows, batch_size):
            yield [model.model_validate({"tenant": tenant, **r}) for r in batch]

    def node_table(self, tenant: str, model: type[Node]) -> pa.Table:
        """Every node of a type in the tenant as one Arrow table of the model's fields, in no order (bulk export)."""
        statement = f"MATCH (n:{model.label}) WHERE n.tenant = $tenant RETURN {cypher.node_projection('n', model)}"
        return self._query_arrow(statement, {"tenant": check_tenant(tenant)}, arrow_schema(model))

    def edge_table(self, tenant: str, model: type[Edge]) -> pa.Table:
        """Every edge of a type in the tenant as one Arrow table of the model's fields, in no order (bulk export)."""
        statement = (
            f"MATCH {cypher.edge_pattern(model)} WHERE r.tenant = $tenant RETURN {cypher.edge_projection(model)}"
        )
        return self._query_arrow(statement, {"tenant": check_tenant(tenant)}, arrow_schema(model))

    def price_history(self, tenant: str, sku: str, filters: PriceHistoryFilter | None = None) -> PriceHistory:
        """Order lines of a SKU from customers matching the filters, oldest first."""
        statement, params = price_history_match(tenant, sku, filters)
        table = self._query_arrow(statement + cypher.PRICE_HISTORY_RETURN, params, PRICE_HISTORY_SCHEMA)
        # Sorting the few thousand matching lines in Arrow is faster than ORDER BY in either engine.
        table = table.sort_by([("at", "ascending"), ("order_id", "ascending"), ("line", "ascending")])
        if filters is not None and filters.limit is not None:
            table = table.slice(0, max(filters.limit, 0))
        return PriceHistory(table)

    def purchase_lines(self, tenant: str, customer_ids: Sequence[str], *, since: dt.date, until: dt.date) -> pa.Table:
        """Order lines of the customers in ``[since, until]``, by customer, date and SKU (one read per 10k ids)."""
        tenant = check_tenant(tenant)
        parts = [
            self._query_arrow(
                cypher.PURCHASE_LINES,
                {"uids": [node_uid(tenant, c) for c in chunk], "tenant": tenant, "since": since, "until": until},
                PURCHASE_LINES_SCHEMA,
            )
            for chunk in _chunks(list(dict.fromkeys(customer_ids)), 10_000)
        ]
        table = pa.concat_tables(parts) if parts else PURCHASE_LINES_SCHEMA.empty_table()
        return table.sort_by([("customer_id", "ascending"), ("at", "ascending"), ("sku", "ascending")])

    def customer_interactions(self, tenant: str, customer_ids: Sequence[str], *, until: dt.datetime) -> pa.Table:
        """Interactions of the customers up to ``until``: by customer, latest first, then by id."""
        tenant = check_tenant(tenant)
        parts = [
            self._query_arrow(
                cypher.CUSTOMER_INTERACTIONS_MANY,
                {"uids": [node_uid(tenant, c) for c in chunk], "tenant": tenant, "until": until},
                CUSTOMER_INTERACTIONS_SCHEMA,
            )
            for chunk in _chunks(list(dict.fromkeys(customer_ids)), 10_000)
        ]
        table = pa.concat_tables(parts) if parts else CUSTOMER_INTERACTIONS_SCHEMA.empty_table()
        return table.sort_by([("customer_id", "ascending"), ("at", "descending"), ("id", "ascending")])

    def customer_context(
        self, tenant: str, customer_id: str, *, since: dt.date | None = None, limit: int = 200
    ) -> CustomerContext:
        """The customer's neighbourhood for a briefing pack."""
        p: Row = {"tenant": check_tenant(tenant), "uid": node_uid(tenant, customer_id)}
        rows = self._query(cypher.CUSTOMER, p)
        if not rows:
            raise NotFoundError(f"customer '{customer_id}' not found", details={"customer_id": customer_id})
        customer = Customer.model_validate(rows[0])
        reps = tuple(Rep.model_validate(r) for r in self._query(cypher.CUSTOMER_REPS, p))
        interactions = self._interactions(self._query(cypher.CUSTOMER_INTERACTIONS, {**p, "limit": limit}))
        doctors = self._doctors(tenant, self._query(cypher.CUSTOMER_DOCTORS, p))
        statement = cypher.CUSTOMER_PURCHASES
        pp: Row = {**p, "limit": limit}
        if since is not None:
            statement += cypher.CUSTOMER_PURCHASES_SINCE
            pp["since"] = since
        purchases = tuple(
            Purchased.model_validate({"tenant": tenant, **r})
            for r in self._query(statement + cypher.CUSTOMER_PURCHASES_RETURN, pp)
        )
        contracts = tuple(Contract.model_validate(r) for r in self._query(cypher.CUSTOMER_CONTRACTS, p))
        deals = self._deals(tenant, self._query(cypher.CUSTOMER_DEALS, p))
        cases = tuple(Entry.model_validate(r) for r in self._query(cypher.CUSTOMER_CASES, p))
        return CustomerContext(customer, reps, interactions, doctors, purchases, contracts, deals, cases)

    @staticmethod
    def _interactions(rows: list[Row]) -> tuple[InteractionRecord, ...]:
        grouped: dict[str, tuple[Interaction, str | None, list[str]]] = {}
        for r in rows:
            rec = grouped.get(r["id"])
            if rec is None:
                fields = {k: r[k] for k in Interaction.model_fields}
                rec = grouped[r["id"]] = (Interaction.model_validate(fields), r["rep_id"], [])
            if r["mentioned_sku"] is not None and r["mentioned_sku"] not in rec[2]:
                rec[2].append(r["mentioned_sku"])
        return tuple(InteractionRecord(i, rep, tuple(sorted(skus))) for i, rep, skus in grouped.values())

    @staticmethod
    def _doctors(tenant: str, rows: list[Row]) -> tuple[DoctorRecord, ...]:
        grouped: dict[str, tuple[Doctor, list[Prescribes]]] = {}
        for r in rows:
            if r["id"] not in grouped:
                grouped[r["id"]] = (Doctor.model_validate({k: r[k] for k in Doctor.model_fields}), [])
            if r["sku"] is not None:
                grouped[r["id"]][1].append(
                    Prescribes(
                        tenant=tenant,
                        doctor_id=r["id"],
                        sku=r["sku"],
                        share=r["share"],
                        count=r["count"],
                        last_at=r["last_at"],
                    )
                )
        return tuple(DoctorRecord(d, tuple(ps)) for d, ps in grouped.values())

    @staticmethod
    def _deals(tenant: str, rows: list[Row]) -> tuple[DealRecord, ...]:
        grouped: dict[str, tuple[Deal, list[Quotes]]] = {}
        for r in rows:
            if r["id"] not in grouped:
                grouped[r["id"]] = (Deal.model_validate({k: r[k] for k in Deal.model_fields}), [])
            if r["sku"] is not None:
                grouped[r["id"]][1].append(
                    Quotes(tenant=tenant, deal_id=r["id"], sku=r["sku"], unit_price=r["unit_price"], qty=r["qty"])
                )
        return tuple(DealRecord(d, tuple(q)) for d, q in grouped.values())

    def entries(
        self,
        tenant: str,
        *,
        sku: str | None = None,
        indication: str | None = None,
        status: EntryStatus | None = None,
        kind: EntryKind | None = None,
    ) -> list[Entry]:
        """Knowledge entries filtered by product or indication, status and kind."""
        statement, params = self._entries_match(tenant, sku=sku, indication=indication, status=status, kind=kind)
        return [Entry.model_validate(r) for r in self._query(statement + cypher.ENTRIES_RETURN, params)]

    def entries_about(
        self, tenant: str, skus: Sequence[str], *, status: EntryStatus, kinds: Sequence[EntryKind]
    ) -> list[tuple[str, Entry]]:
        """(SKU, entry) of the entries about each of ``skus`` of that status and those kinds, by SKU then id."""
        wanted = sorted(set(skus))
        if not wanted or not kinds:
            return []
        params: Row = {"tenant": check_tenant(tenant), "target_uids": [node_uid(tenant, s) for s in wanted],
                       "status": status, "kinds": sorted(set(kinds))}  # fmt: skip
        rows = self._query(cypher.ENTRIES_ABOUT_PRODUCTS, params)
        return [(r.pop("about_sku"), Entry.model_validate(r)) for r in rows]

    def reading(self) -> AbstractContextManager[None]:
        """Reads of the block in one transaction where the backend gains by it (the embedded store does not)."""
        return nullcontext()

    @staticmethod
    def _entries_match(
        tenant: str,
        *,
        sku: str | None,
        indication: str | None,
        status: EntryStatus | None,
        kind: EntryKind | None,
    ) -> tuple[str, Row]:
        """The ``MATCH … WHERE`` of an entry listing and its parameters."""
        params: Row = {"tenant": check_tenant(tenant)}
        if sku is not None and indication is not None:
            raise InvalidRowError("filter entries by product or by indication, not both")
        if sku is not None:
            statement, params["target_uid"] = cypher.ENTRIES_BY_PRODUCT, node_uid(tenant, sku)
        elif indication is not None:
            statement, params["target_uid"] = cypher.ENTRIES_BY_INDICATION, node_uid(tenant, indication)
        else:
            statement = cypher.ENTRIES_ALL
        for name, value in (("status", status), ("kind", kind)):
            if value is not None:
                statement += cypher.ENTRIES_FILTERS[name]
                params[name] = value
        return statement, params

    # ------------------------------------------------------------------ curation

    def save_entry(
        self,
        tenant: str,
        entry: Entry,
        *,
        expected_version: int | None,
        audit: AuditEvent,
        skus: Sequence[str] | None = None,
        indications: Sequence[str] | None = None,
    ) -> Entry:
        """Create (``expected_version=None``) or update an entry if it is still at ``expected_version``, atomically.

        An update keeps the stored version as an ``EntryVersion`` linked by ``PREVIOUS``, writes the entry with the
        next version number, replaces its ABOUT links when ``skus`` / ``indications`` are given, and records
        ``audit`` — all in one transaction, or nothing. A stale ``expected_version`` raises ``VersionConflictError``
        carrying the stored entry, so no edit is ever silently lost.
        """
        tenant = check_tenant(tenant)
        for row in (entry, audit):
            if row.tenant != tenant:
                raise InvalidRowError(f"{type(row).__name__} belongs to tenant {row.tenant!r}, not {tenant!r}")
        for model, keys in ((Product, skus), (Indication, indications)):
            missing = sorted(set(keys or ()) - self.existing_keys(tenant, model, list(keys or ())))
            if missing:
                raise UnknownReferenceError(
                    f"unknown {model.label.lower()} {', '.join(missing)}", details={"missing": missing}
                )
        return self._atomic(
            lambda run: self._save_entry_tx(run, tenant, entry, expected_version, audit, skus, indications)
        )

    def _save_entry_tx(
        self,
        run: Run,
        tenant: str,
        entry: Entry,
        expected_version: int | None,
        audit: AuditEvent,
        skus: Sequence[str] | None,
        indications: Sequence[str] | None,
        *,
        log_change: bool = True,
    ) -> Entry:
        """The versioned save inside the caller's transaction (see ``save_entry``)."""
        uid = entry.uid
        rows = run(cypher.lock_entry(self._LOCK_CLAUSE), {"uid": uid, "tenant": tenant})
        current = Entry.model_validate(rows[0]) if rows else None
        if expected_version is None:
            if current is not None:
                raise ConflictError(f"entry {entry.id} already exists", details={"id": entry.id})
            stored = entry.model_copy(update={"version": 1})
            run(cypher.create_node(Entry), _params(Entry, stored))
        else:
            if current is None:
                raise NotFoundError(f"no entry {entry.id}", details={"id": entry.id})
            if current.version != expected_version:  # raising rolls the transaction (and its lock) back
                raise VersionConflictError(
                    f"entry {entry.id} is at version {current.version}, not {expected_version}",
                    current=current,
                    details={"id": entry.id, "expected": expected_version, "current": current.version},
                )
            snapshot = EntryVersion(
                tenant=tenant,
                id=f"{current.id}@{current.version}",
                entry_id=current.id,
                **current.model_dump(include=set(EntryVersion.model_fields) - {"tenant", "id", "entry_id"}),
            )
            clash = run(cypher.get_node(EntryVersion), {"uid": snapshot.uid, "tenant": tenant})
            if clash and EntryVersion.model_validate(clash[0]) != snapshot:
                # A snapshot with this number exists already, with other text: an older release overwrote the
                # entry outside the versioned save. Both are history; keep the new one under a distinct id.
                snapshot = snapshot.model_copy(update={"id": f"{snapshot.id}/{audit.id}"})
                clash = []
            if not clash:
                run(cypher.create_node(EntryVersion), _params(EntryVersion, snapshot))
                self._create_edge(run, Previous(tenant=tenant, entry_id=current.id, version_id=snapshot.id))
            stored = entry.model_copy(update={"version": current.version + 1})
            run(cypher.update_entry(self._UNLOCK_CLAUSE), _params(Entry, stored))
        for model, keys, make in (
            (Product, skus, lambda k: AboutProduct(tenant=tenant, entry_id=entry.id, sku=k)),
            (Indication, indications, lambda k: AboutIndication(tenant=tenant, entry_id=entry.id, indication=k)),
        ):
            if keys is not None:
                run(cypher.delete_entry_about(model), {"uid": uid, "tenant": tenant})
                for key in sorted(set(keys)):
                    self._create_edge(run, make(key))
        run(cypher.create_node(AuditEvent), _params(AuditEvent, audit))
        if log_change:
            self._append_change(
                run,
                tenant,
                ChangeDraft("entry_saved", actor=audit.actor, ids=(entry.id,), details={"action": audit.action}),
            )
        return stored

    def _create_edge(self, run: Run, edge: Edge) -> None:
        params = _params(type(edge), edge, with_uid=self._EDGE_UID)
        for name in edge.endpoint_fields():
            params.pop(name)
        params["from"] = node_uid(edge.tenant, edge.source_key)
        params["to"] = node_uid(edge.tenant, edge.target_key)
        run(cypher.create_edge(type(edge), self._EDGE_UID), params)

    def competitor_observations(
        self,
        tenant: str,
        *,
        sku: str | None = None,
        photo_id: str | None = None,
        since: dt.date | None = None,
        resolution: str | None = None,
        limit: int = 1_000,
        offset: int = 0,
    ) -> list[CompetitorObservation]:
        """Competitor price observations of the tenant, newest first, filtered (one indexed query)."""
        params: Row = {
            "tenant": check_tenant(tenant),
            "sku": sku or "",
            "photo_id": photo_id or "",
            "since": since or dt.date(1900, 1, 1),
            "resolution": resolution or "",
            "limit": max(limit, 0),
            "offset": max(offset, 0),
        }
        if offset > 0:
            count = cypher.COMPETITOR_OBSERVATIONS_MATCH + " RETURN count(o) AS n"
            if not self._before_end(count, {k: v for k, v in params.items() if k not in ("limit", "offset")}, offset):
                return []
        return [CompetitorObservation.model_validate(r) for r in self._query(cypher.COMPETITOR_OBSERVATIONS, params)]

    def competitor_photos(self, tenant: str, *, limit: int = 50, offset: int = 0) -> tuple[list[CompetitorPhoto], int]:
        """One page of the tenant's competitor photos, newest upload first, and how many there are in all."""
        tenant = check_tenant(tenant)
        page = {"tenant": tenant, "limit": max(limit, 0), "offset": max(offset, 0)}
        total = int(self._query(cypher.COUNT_COMPETITOR_PHOTOS, {"tenant": tenant})[0]["n"])
        rows = self._query(cypher.COMPETITOR_PHOTOS, page) if total > offset else []  # see `_before_end`
        return [CompetitorPhoto.model_validate(r) for r in rows], total

    def entry_links(self, tenant: str, entry_ids: Sequence[str]) -> dict[str, EntryLinks]:
        """Products, indications and case customers of the given entries, found from each entry (no scan)."""
        tenant = check_tenant(tenant)
        ids = list(dict.fromkeys(entry_ids))
        found: dict[str, dict[str, list[str]]] = {}
        for chunk in _chunks([node_uid(tenant, i) for i in ids], 10_000):
            prefix = len(node_uid(tenant, ""))
            for r in self._query(cypher.existing_node_uids(Entry), {"uids": chunk}):
                found[r["uid"][prefix:]] = {name: [] for name in cypher.ENTRY_LINKS}
            for name, statement in cypher.ENTRY_LINKS.items():
                for r in self._query(statement, {"uids": chunk, "tenant": tenant}):
                    found[r["id"]][name].append(r["key"])
        return {
            i: EntryLinks(**{name: tuple(sorted(keys)) for name, keys in found[i].items()}) for i in ids if i in found
        }

    def entry_versions(self, tenant: str, entry_id: str) -> list[EntryVersion]:
        """Earlier versions of an entry, oldest first (the current one is the entry itself)."""
        rows = self._query(cypher.ENTRY_VERSIONS, {"tenant": check_tenant(tenant), "entry_id": entry_id})
        return [EntryVersion.model_validate(r) for r in rows]

    def audit_trail(self, tenant: str, label: str, key: str) -> list[AuditEvent]:
        """Audit records of one node (e.g. ``Entry`` and its id), oldest first."""
        rows = self._query(cypher.AUDIT_TRAIL, {"tenant": check_tenant(tenant), "label": label, "key": key})
        return [AuditEvent.model_validate(r) for r in rows]

    def counts(self, tenant: str | None = None) -> dict[str, dict[str, int]]:
        """Nodes per label and relationships per type, per tenant (types with no rows are omitted)."""
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for model in NODE_TYPES:
            for r in self._query(cypher.count_nodes(model), {}):
                out[r["tenant"]][model.label] = int(r["n"])
        for rel_type in REL_TYPES:
            for r in self._query(cypher.count_edges(rel_type), {}):
                out[r["tenant"]][rel_type] = int(r["n"])
        if tenant is not None:
            return {tenant: dict(sorted(out.get(tenant, {}).items()))}
        return {t: dict(sorted(c.items())) for t, c in sorted(out.items())}

    def tenants(self) -> list[str]:
        """Tenants that own at least one node."""
        return sorted(self.counts())

    # ------------------------------------------------------------------ API keys

    def create_key(self, record: KeyRecord) -> None:
        """Store a new key record (``ConflictError`` when its id exists)."""
        check_tenant(record.tenant)
        self._atomic(lambda run: run(cypher.CREATE_API_KEY, _key_params(record)))

    def import_keys(self, records: Sequence[KeyRecord]) -> int:
        """Store the records whose id is not stored yet, in one transaction; stored ones are left as they are.

        Run twice (two workers importing the same old key file at once) it stores each record once: the second
        finds them stored, or fails on the id's uniqueness and stores nothing.
        """
        for r in records:
            check_tenant(r.tenant)

        def work(run: Run) -> int:
            ids = [r.id for r in records]
            stored = {row["id"] for row in run(cypher.API_KEYS_BY_IDS, {"ids": ids})} if ids else set()
            new = [r for r in records if r.id not in stored]
            for r in new:
                run(cypher.CREATE_API_KEY, _key_params(r))
            return len(new)

        return self._atomic(work)

    def keys_by_ids(self, ids: Sequence[str]) -> list[KeyRecord]:
        """The stored records among ``ids`` (unknown ids are left out)."""
        if not ids:
            return []
        return [_key_record(r) for r in self._query(cypher.API_KEYS_BY_IDS, {"ids": list(ids)})]

    def list_keys(self, tenant: str | None = None) -> list[KeyRecord]:
        """Key records of one tenant (or all), newest first (then by id)."""
        if tenant is None:
            return [_key_record(r) for r in self._query(cypher.API_KEYS_ALL, {})]
        rows = self._query(cypher.API_KEYS_OF_TENANT, {"tenant": check_tenant(tenant)})
        return [_key_record(r) for r in rows]

    def revoke_key(self, key_id: str, at: dt.datetime) -> KeyRecord | None:
        """Mark a key revoked at ``at`` (an earlier revocation stays); None when there is no such key."""
        rows = self._atomic(lambda run: run(cypher.REVOKE_API_KEY, {"id": key_id, "at": _key_time(at)}))
        return _key_record(rows[0]) if rows else None

    def touch_keys(self, used: dict[str, dt.datetime]) -> int:
        """Move each key's ``last_used_at`` forward to the given time (never back), in one transaction."""
        if not used:
            return 0

        def work(run: Run) -> int:
            return sum(len(run(cypher.TOUCH_API_KEY, {"id": k, "at": _key_time(at)})) for k, at in sorted(used.items()))

        return self._atomic(work)

    def __enter__(self) -> CypherGraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _key_time(at: dt.datetime | None) -> str | None:
    """Key times are stored as ISO text to the second (naive UTC): ordered as text, the same on every backend."""
    return at.replace(microsecond=0).isoformat() if at is not None else None


def _key_params(record: KeyRecord) -> Row:
    return {
        "id": record.id,
        "tenant": record.tenant,
        "role": record.role,
        "name": record.name,
        "digest": record.digest,
        "created_at": _key_time(record.created_at),
        "revoked_at": _key_time(record.revoked_at),
        "rep_id": record.rep_id,
        "last_used_at": _key_time(record.last_used_at),
    }


def _key_record(row: Row) -> KeyRecord:
    def when(value: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if value else None

    return KeyRecord(
        id=row["id"],
        tenant=row["tenant"],
        role=row["role"],
        name=row["name"],
        digest=row["digest"],
        created_at=dt.datetime.fromisoformat(row["created_at"]),
        revoked_at=when(row["revoked_at"]),
        rep_id=row["rep_id"],
        last_used_at=when(row["last_used_at"]),
    )


def _params(model: type[GraphModel], row: GraphModel, *, with_uid: bool = True) -> Row:
    """Statement parameters of one row, converted exactly as the bulk path converts them."""
    params: Row = models_to_table(model, [row]).to_pylist()[0]
    if with_uid:
        params["uid"] = row.uid  # type: ignore[attr-defined]
    return params


def price_history_match(tenant: str, sku: str, filters: PriceHistoryFilter | None) -> tuple[str, Row]:
    """The MATCH of a SKU's order lines with the filters that are set, and its parameters (both backends' reads)."""
    f = filters or PriceHistoryFilter()
    params: Row = {"tenant": check_tenant(tenant), "sku_uid": node_uid(tenant, sku)}
    statement = cypher.PRICE_HISTORY_MATCH
    for name, fragment in cypher.PRICE_HISTORY_FILTERS.items():
        value = getattr(f, name)
        if value is not None:
            statement += fragment
            params[name] = value
    return statement, params


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def _chunks_iter(items: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while batch := list(islice(items, size)):
        yield batch
