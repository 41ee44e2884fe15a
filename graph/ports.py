"""The ``GraphStore`` port: the domain operations the rest of the product needs from the graph.

It is deliberately not a generic query runner: callers ask for a price history or a customer's context, and each
backend answers with the same typed results. Every operation takes the tenant it is scoped to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import pyarrow as pa

from graph.model import (
    AuditEvent,
    Change,
    CompetitorObservation,
    CompetitorPhoto,
    CompetitorProduct,
    Contract,
    Customer,
    CustomerType,
    Deal,
    Doctor,
    Edge,
    Entry,
    EntryKind,
    EntryStatus,
    EntryVersion,
    FormularyEdition,
    Indication,
    Interaction,
    Node,
    Prescribes,
    PriceEvent,
    Product,
    Promotion,
    Purchased,
    Quotes,
    Rep,
)

N = TypeVar("N", bound=Node)
E = TypeVar("E", bound=Edge)
T = TypeVar("T")


@dataclass(frozen=True)
class WriteResult:
    """What one write did: rows received (after de-duplication by key), created, and matched existing records."""

    type_name: str
    received: int
    created: int
    updated: int
    deleted: int = 0

    @property
    def unchanged(self) -> int:
        """Rows that matched an existing record with identical values."""
        return self.received - self.created - self.updated


@dataclass(frozen=True)
class ChangeDraft:
    """A change-log record to append with a write: what kind of write, by whom, which records, and its parameters."""

    kind: str
    actor: str = "system"
    ids: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


MAX_CHANGE_IDS = 1_000
"""At most this many record keys are listed in one change record (the details keep the counts)."""

WRITTEN = "written"
"""Key of a batch change's details listing what it wrote, for followers of the log to update their indexes.

``details["written"]`` maps a node type's name to the keys of the records loaded (``"Entry": ["E1", …]``) and an
edge type's endpoint field to the endpoint keys (``"Purchased.sku": ["SKU1", …]``, ``"ListedIn.deleted": [...]``
for deleted edges' sources); ``details["cut"]`` names the lists cut at ``MAX_CHANGE_IDS`` (a follower then re-reads
that part whole).
"""


@dataclass(frozen=True)
class EntryLinks:
    """What one entry is linked to: products and indications it is ABOUT, customers it is a CASE_OF (sorted)."""

    skus: tuple[str, ...] = ()
    indications: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and how many records match in all (``total``), counted by the database."""

    items: list[T]
    total: int


@dataclass(frozen=True)
class Catalogue:
    """A tenant's catalogue: products, indications and competitor products (each ordered by key).

    What the text tools are built from (jieba's dictionary, product detection in queries and summaries, name masks)
    and what the price index and the formulary matcher read: small tables that those builds need whole.
    """

    products: tuple[Product, ...] = ()
    indications: tuple[Indication, ...] = ()
    competitors: tuple[CompetitorProduct, ...] = ()


@dataclass(frozen=True)
class CaseQuery:
    """Which published case studies may match a deal: those sharing any of the given facts with it.

    A case is a candidate when it is ABOUT one of ``skus``; or ABOUT one of ``indications``, or about a product that
    TREATS one; or a CASE_OF a customer with the same ``customer_type``, ``tier`` or ``region``; or its id is among
    ``entry_ids`` (e.g. the text search's hits). ``every``: all published case studies.
    """

    skus: tuple[str, ...] = ()
    indications: tuple[str, ...] = ()
    customer_type: str | None = None
    tier: str | None = None
    region: str | None = None
    entry_ids: tuple[str, ...] = ()
    every: bool = False


@dataclass(frozen=True)
class CaseRecord:
    """A published case study with its links and the customer it is a case of (``None``: none, or not found)."""

    entry: Entry
    links: EntryLinks
    customer: Customer | None = None


@dataclass(frozen=True)
class PriceHistoryFilter:
    """Which order lines of a SKU to return; ``None`` means no filter on that attribute."""

    customer_type: CustomerType | None = None
    tier: str | None = None
    region: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int | None = None


@dataclass(frozen=True)
class PricePoint:
    """One order line of a SKU with the attributes of the customer that bought it."""

    customer_id: str
    customer_name: str
    customer_type: str
    tier: str | None
    region: str | None
    city: str | None
    order_id: str
    line: int
    at: dt.date
    qty: float
    unit_price: float
    unit: str | None = None


PRICE_HISTORY_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("customer_name", pa.string()),
        ("customer_type", pa.string()),
        ("tier", pa.string()),
        ("region", pa.string()),
        ("city", pa.string()),
        ("order_id", pa.string()),
        ("line", pa.int64()),
        ("at", pa.date32()),
        ("qty", pa.float64()),
        ("unit_price", pa.float64()),
        ("unit", pa.string()),
    ]
)


PURCHASE_LINES_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("sku", pa.string()),
        ("at", pa.date32()),
        ("qty", pa.float64()),
        ("unit_price", pa.float64()),
    ]
)
"""Columns of ``GraphStore.purchase_lines``: who bought what, when, how many, at what price."""


CUSTOMER_INTERACTIONS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("id", pa.string()),
        ("at", pa.timestamp("us")),
        ("channel", pa.string()),
        ("summary", pa.string()),
        ("next_step", pa.string()),
    ]
)
"""Columns of ``GraphStore.customer_interactions``: the customer and the interaction's own fields."""


@dataclass(frozen=True)
class PriceHistory:
    """Order lines of one SKU, oldest first, held column-wise.

    Columnar because its consumers compute over columns (quantiles of ``unit_price``) and because building one Python
    object per line would cost more than the query itself at tens of thousands of lines; iterate for ``PricePoint``
    rows when a row view is handier.
    """

    table: pa.Table

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def __iter__(self) -> Iterator[PricePoint]:
        for row in self.table.to_pylist():
            yield PricePoint(**row)

    def __getitem__(self, i: int) -> PricePoint:
        return PricePoint(**self.table.slice(i if i >= 0 else len(self) + i, 1).to_pylist()[0])

    def column(self, name: str) -> list[Any]:
        """One column as a Python list (e.g. ``unit_price``)."""
        return list(self.table.column(name).to_pylist())


@dataclass(frozen=True)
class InteractionRecord:
    """An interaction with the rep who had it and the SKUs it mentions."""

    interaction: Interaction
    rep_id: str | None
    mentioned_skus: tuple[str, ...]
    customer_id: str | None = None


@dataclass(frozen=True)
class DoctorRecord:
    """A doctor working at the customer, with prescription preferences."""

    doctor: Doctor
    prescriptions: tuple[Prescribes, ...]


@dataclass(frozen=True)
class DealRecord:
    """A deal for the customer with its quote lines."""

    deal: Deal
    quotes: tuple[Quotes, ...]


@dataclass(frozen=True)
class CustomerContext:
    """A customer's neighbourhood, everything a visit briefing is assembled from."""

    customer: Customer
    reps: tuple[Rep, ...] = ()
    interactions: tuple[InteractionRecord, ...] = ()
    doctors: tuple[DoctorRecord, ...] = ()
    purchases: tuple[Purchased, ...] = ()
    contracts: tuple[Contract, ...] = ()
    deals: tuple[DealRecord, ...] = ()
    cases: tuple[Entry, ...] = ()


@dataclass(frozen=True)
class KeyRecord:
    """A stored API key (outside the tenant graph): its digest, never the key itself.

    Times are naive UTC to the second. The role is kept as text: what roles exist is the API's business.
    """

    id: str
    tenant: str
    role: str
    name: str
    digest: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    rep_id: str | None = None
    last_used_at: dt.datetime | None = None
    """The latest use written so far (uses are recorded in batches: up to a minute behind)."""


@runtime_checkable
class GraphStore(Protocol):
    """Domain operations on the sales knowledge graph; implemented by the embedded and the Neo4j backends."""

    @property
    def backend(self) -> str:
        """Short backend name (``embedded`` or ``neo4j``)."""
        ...

    def close(self) -> None:
        """Release the database (files, connections)."""
        ...

    def upsert_nodes(self, tenant: str, rows: Sequence[Node]) -> WriteResult:
        """Create or update nodes of one type by natural key, atomically: all rows or none."""
        ...

    def upsert_edges(self, tenant: str, rows: Sequence[Edge]) -> WriteResult:
        """Create or update edges of one type, atomically; every endpoint must exist in ``tenant``."""
        ...

    def bulk_load(self, tenant: str, model: type[Node] | type[Edge], table: pa.Table) -> WriteResult:
        """Load a large columnar batch (columns named as the model's fields) idempotently, through the fast path."""
        ...

    def load_batch(
        self,
        tenant: str,
        loads: Sequence[tuple[type[Node] | type[Edge], pa.Table]],
        *,
        change: ChangeDraft,
        deletes: Sequence[tuple[type[Edge], pa.Table]] = (),
    ) -> dict[str, WriteResult]:
        """Load several graph types in one transaction with one change-log record: all of it is stored, or nothing.

        ``deletes`` names edges to remove first, in the same transaction (columns: the edge's two endpoint fields;
        edge types identified by their endpoints only); their results are keyed ``<EdgeType>.deleted``. Nodes are
        written before edges. An entry that already exists and differs goes through the versioned save
        (previous version kept, audit record written); history records (entry versions, audit, changes) are
        append-only, so one that exists with other values raises ``ConflictError``.
        """
        ...

    def append_change(self, tenant: str, change: ChangeDraft) -> Change:
        """Append one record to the tenant's change log (its own transaction) and return it with its sequence."""
        ...

    def changes(self, tenant: str, *, after: int = 0, limit: int = 1_000) -> list[Change]:
        """Change-log records of the tenant with ``seq > after``, oldest first."""
        ...

    def change_head(self, tenant: str) -> int:
        """The sequence number of the tenant's last change (0: none yet): where a follower starts reading."""
        ...

    def get_node(self, tenant: str, model: type[N], key: str) -> N | None:
        """Return the node with natural ``key`` in ``tenant``, or ``None``."""
        ...

    def nodes_by_keys(self, tenant: str, model: type[N], keys: Sequence[str]) -> list[N]:
        """The nodes of ``model`` with these natural keys that exist in ``tenant`` (any order; unknown keys omitted)."""
        ...

    def list_nodes(self, tenant: str, model: type[N], *, limit: int = 100, offset: int = 0) -> list[N]:
        """Return one page of nodes of a type, ordered by key."""
        ...

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
        """One page of nodes ordered by key, those with ``text`` in one of ``fields`` (any case), and their total.

        ``fields`` must be string properties of ``model``; no ``text``: every node of the type.
        """
        ...

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
        """One page of entries ordered by id, and how many match in all.

        Filters: about ``sku``, of ``status`` and ``kind``, with ``text`` in the title or body (any case).
        """
        ...

    def edges_of(
        self,
        tenant: str,
        model: type[E],
        *,
        sources: Sequence[str] | None = None,
        targets: Sequence[str] | None = None,
    ) -> list[E]:
        """The edges of ``model`` whose source key is in ``sources`` and (or only) target key in ``targets``.

        Index lookups from the given endpoints; at least one side must be given (``InvalidRowError`` otherwise).
        Ordered as an export orders them (source, target, identity).
        """
        ...

    def catalogue(self, tenant: str) -> Catalogue:
        """The tenant's products, indications and competitor products."""
        ...

    def customers(self, tenant: str, *, with_city: bool = False) -> list[Customer]:
        """Every customer of the tenant (``with_city``: those with a city), ordered by id: an index build's input."""
        ...

    def formulary_editions(self, tenant: str) -> list[FormularyEdition]:
        """The tenant's formulary editions, oldest first (by effective date, then id; undated ones first)."""
        ...

    def promotions(self, tenant: str) -> list[Promotion]:
        """The tenant's promotion calendar, by start date then id (a calendar: tens to hundreds of rows)."""
        ...

    def price_events(self, tenant: str, *, sku: str | None = None) -> list[PriceEvent]:
        """Filed price events (of ``sku``, or all), oldest first (by effective date, then id)."""
        ...

    def case_candidates(self, tenant: str, query: CaseQuery) -> list[CaseRecord]:
        """Published case studies sharing a product, an indication or a customer attribute with a deal (by id)."""
        ...

    def interactions(self, tenant: str, *, since: dt.datetime | None = None) -> list[InteractionRecord]:
        """The tenant's interactions (at or after ``since``) with their rep and mentioned SKUs, ordered by id."""
        ...

    def entries_naming(self, tenant: str, names: Sequence[str]) -> list[Entry]:
        """Entries whose title or body contains one of ``names`` (exact characters), ordered by id."""
        ...

    def existing_keys(self, tenant: str, model: type[Node], keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` exist as nodes of ``model`` in ``tenant`` (reference checks before a load)."""
        ...

    def iter_nodes(self, tenant: str, model: type[N], *, batch_size: int = 10_000) -> Iterator[list[N]]:
        """Stream all nodes of a type in batches: for export (``graph.transfer``) only; ask a narrower question."""
        ...

    def iter_edges(self, tenant: str, model: type[E], *, batch_size: int = 10_000) -> Iterator[list[E]]:
        """Stream all edges of a type in batches: for export (``graph.transfer``) only; ask a narrower question."""
        ...

    def node_table(self, tenant: str, model: type[Node]) -> pa.Table:
        """All nodes of a type as one Arrow table of the model's fields: for bulk export (``graph.neo4j_bulk``) only."""
        ...

    def edge_table(self, tenant: str, model: type[Edge]) -> pa.Table:
        """All edges of a type as one Arrow table of the model's fields: for bulk export (``graph.neo4j_bulk``) only."""
        ...

    def price_history(self, tenant: str, sku: str, filters: PriceHistoryFilter | None = None) -> PriceHistory:
        """Order lines of ``sku``, oldest first, from customers matching the filters (``limit``: the oldest N)."""
        ...

    def customer_context(
        self, tenant: str, customer_id: str, *, since: dt.date | None = None, limit: int = 200
    ) -> CustomerContext:
        """The customer's neighbourhood for a briefing; raises ``NotFoundError`` when absent."""
        ...

    def customer_interactions(self, tenant: str, customer_ids: Sequence[str], *, until: dt.datetime) -> pa.Table:
        """The interactions WITH these customers dated up to ``until``, in one columnar read.

        Columns as ``CUSTOMER_INTERACTIONS_SCHEMA``, ordered by customer, then latest first (then by id).
        """
        ...

    def purchase_lines(self, tenant: str, customer_ids: Sequence[str], *, since: dt.date, until: dt.date) -> pa.Table:
        """Order lines of these customers dated ``since`` to ``until`` (both included), in one columnar read.

        Columns as ``PURCHASE_LINES_SCHEMA``, ordered by customer, date and SKU: what a rep's task list computes
        re-order intervals, silences and refill gaps over, for hundreds of customers at once. Unknown ids are skipped.
        """
        ...

    def entries(
        self,
        tenant: str,
        *,
        sku: str | None = None,
        indication: str | None = None,
        status: EntryStatus | None = None,
        kind: EntryKind | None = None,
    ) -> list[Entry]:
        """Knowledge entries about a product or indication, by status and kind, ordered by id."""
        ...

    def entries_about(
        self, tenant: str, skus: Sequence[str], *, status: EntryStatus, kinds: Sequence[EntryKind]
    ) -> list[tuple[str, Entry]]:
        """(SKU, entry) of the entries about each of ``skus`` of that status and those kinds, by SKU then id.

        What ``entries(sku=…, status=…, kind=…)`` returns for each SKU and kind, in one read.
        """
        ...

    def reading(self) -> AbstractContextManager[None]:
        """Reads of the calling thread inside the block share one read transaction where that saves round trips.

        A briefing makes about twenty reads; on a server each in its own transaction costs a session, a BEGIN and a
        COMMIT more. No write may run in the block.
        """
        ...

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
        """Create an entry, or update it only if still at ``expected_version`` (else ``VersionConflictError``).

        One transaction: the previous version kept as ``EntryVersion``, the new version, ABOUT links and the audit
        record. Returns the entry as stored (with its new version number).
        """
        ...

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
        """Competitor price observations of ``tenant``, newest first, filtered by SKU, photo, date and resolution."""
        ...

    def competitor_photos(self, tenant: str, *, limit: int = 50, offset: int = 0) -> tuple[list[CompetitorPhoto], int]:
        """One page of the tenant's competitor photos, newest upload first, and the total count."""
        ...

    def entry_links(self, tenant: str, entry_ids: Sequence[str]) -> dict[str, EntryLinks]:
        """For each given entry id that exists: its products, indications and case customers (index lookups only)."""
        ...

    def entry_versions(self, tenant: str, entry_id: str) -> list[EntryVersion]:
        """Earlier versions of an entry, oldest first."""
        ...

    def audit_trail(self, tenant: str, label: str, key: str) -> list[AuditEvent]:
        """Audit records of one node, oldest first."""
        ...

    def counts(self, tenant: str | None = None) -> dict[str, dict[str, int]]:
        """Number of nodes per label and edges per relationship type, per tenant."""
        ...

    def tenants(self) -> list[str]:
        """Tenants that own at least one node."""
        ...

    def delete_tenant(self, tenant: str) -> int:
        """Delete every node and edge of ``tenant`` (and its API keys); returns the number of nodes deleted."""
        ...

    # API keys: one table per deployment beside the graph, so every worker on the store sees the same keys.

    def create_key(self, record: KeyRecord) -> None:
        """Store a new key record (``ConflictError`` when its id exists)."""
        ...

    def import_keys(self, records: Sequence[KeyRecord]) -> int:
        """Store the records whose id is not stored yet (stored ones are left as they are); returns how many."""
        ...

    def keys_by_ids(self, ids: Sequence[str]) -> list[KeyRecord]:
        """The stored records among ``ids`` (unknown ids are left out)."""
        ...

    def list_keys(self, tenant: str | None = None) -> list[KeyRecord]:
        """Key records of one tenant (or all), newest first."""
        ...

    def revoke_key(self, key_id: str, at: dt.datetime) -> KeyRecord | None:
        """Mark a key revoked at ``at`` (an earlier revocation stays); None when there is no such key."""
        ...

    def touch_keys(self, used: dict[str, dt.datetime]) -> int:
        """Move each key's ``last_used_at`` forward to the given time (never back); returns the keys moved."""
        ...
