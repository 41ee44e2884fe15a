"""A tenant's services: where reads find the in-memory indexes, and the one way writes keep them in step.

`Services` is the factory the API and the CLI share (one per process over one store): per tenant a `TenantServices`
with two indexes of their own lifetimes — the retrieval index over entries (built once, persisted next to the
graph, kept current by every write) and the price index (built for a date, rebuilt when the date moves, appended to
as order lines arrive).

Every write a service makes goes through a method here, which calls the domain function and then ``apply`` with
what the write changed (`Written`): that is the write-through, so no route or command re-indexes anything itself.
``apply`` is also the plug-in point of a change feed: a follower of the tenant's change log (writes of other
processes) turns each record into a `Written` and applies it the same way.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import gc
import json
import logging
import os
import pickle
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pyarrow as pa

from api.settings import Settings
from copilot import curation, safety, script_requests, tasks
from copilot.adverse_events import AdverseFinding
from copilot.competitor_prices import WINDOW_DAYS as COMPETITOR_WINDOW_DAYS
from copilot.competitor_prices import CompetitorPriceBook
from copilot.curation import Action, BulkResult, EntryEdit
from copilot.faq import CatalogueNames, DraftReport, FaqProposal, write_drafts
from copilot.formulary_impact import ImpactReport, formulary_impact
from copilot.objections import ObjectionAnswerer
from graph.errors import NotFoundError
from graph.model import (
    CaseOf,
    Change,
    CompetitorObservation,
    Entry,
    EntryKind,
    Product,
    SafetyReport,
    SafetyStatus,
    ScriptRequest,
    TaskState,
    Treats,
)
from graph.ports import WRITTEN, GraphStore, PriceHistory, PriceHistoryFilter
from ingest.formulary import ProductFormularyState, confirm_row, mark_not_listed
from ingest.posters.ocr import OcrEngine
from ingest.posters.photo_store import PhotoStore
from pricing_guard.index import PriceIndex
from resolution.mentions import QueryProductMatcher
from retrieval.embedders import Embedder, make_embedder
from retrieval.hybrid import EntryDoc, KnowledgeIndex, catalogue_words, entry_docs, open_index, product_names

if TYPE_CHECKING:  # imported where used: pandas, pypdf and Pillow are not needed to answer (a serving start)
    from ingest.competitor_prices import RecordedPhoto
    from ingest.pipeline import IngestReport

log = logging.getLogger(__name__)


class StageClock(Protocol):
    """What times a start-up's stages (``api.state.StartupClock``)."""

    def stage(self, name: str, tenant: str | None = None) -> AbstractContextManager[None]:
        """Time a block as stage ``name`` of ``tenant``."""
        ...

    def note(self, tenant: str, name: str, text: str) -> None:
        """Record a fact of a tenant's start."""
        ...


PRICE_FACTS = frozenset({"Customer", "Product", "FormularyEdition", "ListedIn", "Promotion", "PriceEvent"})
"""Graph types the price index reads besides order lines: a write of one of them rebuilds it."""
CATALOGUE = frozenset({"Product", "Indication", "Treats"})
"""Graph types behind retrieval's product words and the product detector of queries."""
ENTRY_LINKS = {"AboutProduct": "entry_id", "AboutIndication": "entry_id", "CaseOf": "entry_id"}
"""Edge types that change what an entry is about, with the column naming the entry."""
RELOAD_KINDS = frozenset({"demo_loaded", "import"})
"""Change kinds that replace a tenant's data wholesale: a follower reads every index again."""
FEED_BATCH = 500
"""Change records a follower reads per query."""


@dataclass(frozen=True)
class Written:
    """What a write changed, in the terms the indexes need (the input of the write-through).

    ``order_lines``: new order lines (columns as `Purchased`), appended to the price index. ``prices``: other facts
    the price index reads changed (customers, products, formulary, promotions, events, or order lines replaced):
    it is rebuilt. ``entries``: entries whose text, status or links changed; ``customers``: customers whose type may
    have changed (the case studies about them are re-indexed); ``catalogue``: product or indication names changed.
    """

    entries: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    order_lines: pa.Table | None = None
    prices: bool = False
    catalogue: bool = False
    order_skus: tuple[str, ...] = ()
    """SKUs whose order lines changed: each is re-read from the store (idempotent, no rebuild)."""
    competitors: bool = False
    """Competitor observations changed: the competitor price book is re-read."""
    resync: bool = False
    """Entries changed beyond what the change lists: the retrieval index syncs with the graph (re-embeds changes)."""
    reload: bool = False
    """The tenant's data was replaced wholesale (demo load, import): every index is read again."""

    @classmethod
    def of_change(cls, change: Change) -> Written:
        """What a change-log record changed, for a follower: from its kind, ids and what the batch wrote.

        A demo load or import, or a record without the list of what it wrote, reloads everything (safe, slower).
        """
        if change.kind in RELOAD_KINDS:
            return cls(reload=True)
        if change.kind == "entry_saved":
            return cls(entries=tuple(change.ids))
        try:
            details = json.loads(change.details or "{}")
        except ValueError:
            details = {}
        written = details.get(WRITTEN) if isinstance(details, dict) else None
        if not isinstance(written, dict):
            return cls(reload=True)
        cut = set(details.get("cut", ()))
        types = {name.split(".")[0] for name in written}
        entries = set(written.get("Entry", ()))
        for name, column in ENTRY_LINKS.items():
            entries.update(written.get(f"{name}.{column}", ()))
            entries.update(written.get(f"{name}.deleted.{column}", ()))
        entry_cut = "Entry" in cut or any(n.split(".")[0] in ENTRY_LINKS for n in cut)
        orders = "Purchased.sku" in written or "Purchased.deleted.sku" in written
        return cls(
            entries=tuple(sorted(entries)),
            customers=tuple(written.get("Customer", ())),
            order_skus=tuple(sorted(set(written.get("Purchased.sku", ())))),
            prices=bool(types & PRICE_FACTS) or (orders and any(n.startswith("Purchased") for n in cut)),
            catalogue=bool(types & CATALOGUE),
            competitors="CompetitorObservation" in types,
            resync=entry_cut or "Customer" in cut,
        )

    def merge(self, other: Written) -> Written:
        """One change that does what both do (a follower applies a run of records at once)."""
        tables = [t for t in (self.order_lines, other.order_lines) if t is not None]
        return Written(
            entries=tuple(sorted({*self.entries, *other.entries})),
            customers=tuple(sorted({*self.customers, *other.customers})),
            order_lines=pa.concat_tables(tables, promote_options="permissive")
            if len(tables) > 1
            else next(iter(tables), None),
            prices=self.prices or other.prices,
            catalogue=self.catalogue or other.catalogue,
            order_skus=tuple(sorted({*self.order_skus, *other.order_skus})),
            competitors=self.competitors or other.competitors,
            resync=self.resync or other.resync,
            reload=self.reload or other.reload,
        )

    @classmethod
    def of_ingest(cls, report: IngestReport) -> Written:
        """What an ingest changed, from the tables it loaded and the store's count of new and updated records."""
        changed = {name for name, w in report.writes.items() if w.created or w.updated or w.deleted}
        tables = {name: table for name, table in report.loaded.items() if name in changed}
        entries: set[str] = set()
        if "Entry" in tables:
            entries.update(str(v) for v in tables["Entry"].column("id").to_pylist())
        for name, column in ENTRY_LINKS.items():
            if name in tables:
                entries.update(str(v) for v in tables[name].column(column).to_pylist())
        orders = report.writes.get("Purchased")
        appended = orders is not None and orders.created == orders.received and not orders.deleted
        return cls(
            entries=tuple(sorted(entries)),
            customers=_ids(tables.get("Customer")),
            order_lines=tables.get("Purchased") if appended else None,
            prices=bool(changed & PRICE_FACTS) or ("Purchased" in changed and not appended),
            catalogue=bool(changed & CATALOGUE),
        )


PRICES_FILE = "prices.pickle"
"""In a tenant's index folder: the price index saved at shutdown with its log position and day."""
SNAPSHOT_FILE = "feed.json"
"""In a tenant's index folder: the last change-log record the saved index holds (``{"seq": n}``)."""


def snapshot_seq(directory: Path | None) -> int | None:
    """The change-log position of the retrieval index saved in ``directory`` (``None``: none saved, or unknown)."""
    if directory is None:
        return None
    try:
        seq = json.loads((directory / SNAPSHOT_FILE).read_text(encoding="utf-8")).get("seq")
    except (OSError, ValueError, AttributeError):
        return None
    return seq if isinstance(seq, int) else None


@contextmanager
def _dir_lock(directory: Path | None) -> Iterator[None]:
    """An exclusive lock on a tenant's index folder across processes (workers save and open it in turn)."""
    if directory is None:
        yield
        return
    directory.parent.mkdir(parents=True, exist_ok=True)
    with (directory.parent / f"{directory.name}.lock").open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


FREEZE_MIN_LINES = 100_000
"""From this many order lines a full collection over the price index costs more than a few ms (≈ 130 ms at 2M)."""


def _long_lived(index: PriceIndex) -> PriceIndex:
    """Take a just-built price index (and whatever else is alive) out of the cyclic garbage collector's scans.

    At 2M order lines the index holds tens of thousands of containers with millions of references (per-SKU lists
    of customers, orders, days and prices): a full collection, which Python starts on its own after enough
    allocations, walks all of them and stalls whatever request triggered it for 0.1–0.5 s. The index lives until
    the next build and holds no reference cycles, so it is frozen (`gc.freeze`) after one collection that clears
    the build's own garbage first; a replaced index is still freed by reference counting. What else is alive then
    (a request in flight) is frozen too: a reference cycle among those few objects is never collected. A small
    index (under `FREEZE_MIN_LINES`) is left to the collector: walking it costs little, and a process that builds
    many small indexes (tests, a tenant writing price facts) would pay a full collection per build for nothing.
    """
    if index.line_count >= FREEZE_MIN_LINES:
        gc.collect()
        gc.freeze()
    return index


def _ids(table: pa.Table | None) -> tuple[str, ...]:
    return tuple(str(v) for v in table.column("id").to_pylist()) if table is not None else ()


class TenantServices:
    """One tenant's indexes and writes. Thread-safe: searches hold ``lock``; builds and updates take it too."""

    def __init__(
        self,
        store: GraphStore,
        tenant: str,
        embedder: Embedder | Callable[[], Embedder],
        index_dir: Path | None = None,
        *,
        today: Callable[[], dt.date] = dt.date.today,
        four_eyes: bool = True,
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.four_eyes = four_eyes
        self.embedder = embedder
        self.index_dir = index_dir
        self.today = today
        self.lock = threading.RLock()
        """Held around every search and every update of the retrieval index (an update must not run under a search)."""
        self._retrieval: KnowledgeIndex | None = None
        self._answerer: ObjectionAnswerer | None = None
        self._prices: PriceIndex | None = None
        self._competitors: CompetitorPriceBook | None = None
        self._build = threading.Lock()
        self._applying = threading.RLock()
        """Held while a change is read from the store and applied: reads of the store are then in write order."""
        self.feed_seq = store.change_head(tenant)
        """The last change-log record applied: the indexes hold every write up to it (built later: all of them)."""
        self.feed_behind = False
        """Whether the last look at the change log left records to read (``follow`` had a full batch)."""
        self._feed_spent: dict[str, float] | None = None
        """Seconds per stage of the change being applied by ``follow`` (for its log line; ``None`` outside it)."""
        self.task_cache = tasks.TaskCache()
        """What the task triggers found per territory and day, kept while the change log shows no fact they read."""
        self.opened_from: dict[str, str] = {}
        """Where each index was last opened from: ``snapshot`` (plus the log since it), or ``built`` / ``store`` (read
        from the store; retrieval re-embeds only text its embedding cache lacks)."""

    # ------------------------------------------------------------------ reads

    @property
    def retrieval(self) -> KnowledgeIndex:
        """The hybrid retrieval index over the tenant's entries (loaded or built on first use, then kept current)."""
        found = self._retrieval
        if found is None:
            with self._applying, self._build:  # lock order everywhere: _applying, then _build
                found = self._retrieval
                if found is None:
                    found = self._retrieval = self._open_retrieval()
        return found

    @property
    def answerer(self) -> ObjectionAnswerer:
        """Objection answers over the retrieval index (reads it live: a publish is answered at once).

        Made with the index; made again when the index or the catalogue is replaced (products' names and
        indications: what queries are read with).
        """
        index = self.retrieval
        found = self._answerer
        if found is None or found.index is not index:
            with self._build:
                found = self._answerer
                if found is None or found.index is not index:
                    found = self._answerer = self._make_answerer(index)
        return found

    def _make_answerer(self, index: KnowledgeIndex) -> ObjectionAnswerer:
        products = self.store.catalogue(self.tenant).products
        treats: dict[str, list[str]] = {}
        for t in self.store.edges_of(self.tenant, Treats, sources=[p.sku for p in products]) if products else []:
            treats.setdefault(t.sku, []).append(t.indication)
        # the index's product detector is this matcher over the same catalogue (made when the index was opened or
        # its catalogue changed): made again it cost 1–2 s on the first objection answer after a start
        detector = index.product_detector
        matcher = detector if isinstance(detector, QueryProductMatcher) else QueryProductMatcher(products)
        return ObjectionAnswerer(index, mentions=matcher.mentions, product_indications=treats)

    def prices(self, on: dt.date | None = None) -> PriceIndex:
        """The price index as of ``on`` (default today): the one held, or rebuilt when it was built for another day."""
        on = on or self.today()
        found = self._prices
        if found is None or found.as_of != on:
            with self._applying, self._build:  # no change is applied while the index reads the store
                found = self._prices
                if found is None or found.as_of != on:
                    saved = self._saved_prices(on)
                    self.opened_from["prices"] = "snapshot" if saved is not None else "built"
                    found = self._prices = _long_lived(
                        saved
                        or self._timed("price index built", PriceIndex.from_store, self.store, self.tenant, as_of=on)
                    )
        return found

    def price_history(self, sku: str, filters: PriceHistoryFilter | None = None) -> tuple[PriceHistory, str]:
        """The SKU's order lines with their customers, and where the answer came from (``index`` or ``store``).

        From the price index held when there is one (`PriceIndex.price_history`: the store's rows, order and values,
        without a query: a whole SKU at 2M order lines is thousands of lines, ~1 s through Neo4j), else from the
        store. The index has every write of this process and, within one poll of the change feed, of the others.
        """
        prices = self._prices
        if prices is not None:
            found = prices.price_history(sku, filters)
            if found is not None:
                return found, "index"
        return self.store.price_history(self.tenant, sku, filters), "store"

    def _saved_prices(self, on: dt.date) -> PriceIndex | None:
        """The price index saved for ``on`` brought up to date with the log since it (``None``: none usable).

        Usable when saved for the same day by this code's index class, at most one log batch behind, and the log
        since it says no price fact changed (then the SKUs whose order lines changed are re-read).
        """
        if self.index_dir is None or not (self.index_dir / PRICES_FILE).exists():
            return None
        started = time.perf_counter()
        try:
            with _dir_lock(self.index_dir), (self.index_dir / PRICES_FILE).open("rb") as f:
                seq, as_of, index = pickle.load(f)  # noqa: S301 - written by this service in its own data folder
        except Exception:  # noqa: BLE001 - an unreadable snapshot is rebuilt from the store
            log.warning("price snapshot unreadable; rebuilt", extra={"tenant": self.tenant})
            return None
        fresh = PriceIndex(self.tenant)
        if not isinstance(index, PriceIndex) or as_of != on or set(vars(index)) != set(vars(fresh)):
            return None
        changes = self.store.changes(self.tenant, after=seq, limit=FEED_BATCH)
        if len(changes) == FEED_BATCH:
            return None
        merged = Written()
        for change in changes:
            merged = merged.merge(Written.of_change(change))
        if merged.reload or merged.prices:
            return None
        for sku in merged.order_skus:
            index.replace_lines(sku, self.store.price_history(self.tenant, sku).table)
        log.info("price index opened from snapshot", extra={"tenant": self.tenant, "changes": len(changes),
                 "duration_ms": round((time.perf_counter() - started) * 1000)})  # fmt: skip
        return index

    def competitors(self) -> CompetitorPriceBook:
        """Latest competitor prices per SKU × competitor × city of the last 30 days (read by price checks, no query)."""
        found = self._competitors
        if found is None:
            since = self.today() - dt.timedelta(days=COMPETITOR_WINDOW_DAYS)
            found = self._competitors = CompetitorPriceBook(
                self.store.competitor_observations(self.tenant, since=since, limit=100_000)
            )
        return found

    def is_current(self) -> bool:
        """Whether every index is built, the price index for today (a request can use them without waiting)."""
        return (
            self._retrieval is not None
            and self._prices is not None
            and self._prices.as_of == self.today()
            and self._competitors is not None
        )

    def _embedder(self) -> Embedder:
        if not isinstance(self.embedder, Embedder):
            self.embedder = self.embedder()  # loaded when retrieval is first used (a CLI ingest never loads a model)
        return self.embedder

    def warm(self, clock: StageClock | None = None) -> None:
        """Build every index now (at start-up, so the tenant's first request is as fast as the others).

        ``clock`` times each one (``prices``, ``competitors``, ``retrieval``) and notes where the price and retrieval
        indexes came from (a snapshot plus the log since it, or the store).
        """
        with clock.stage("prices", self.tenant) if clock else nullcontext():
            self.prices()
        with clock.stage("competitors", self.tenant) if clock else nullcontext():
            self.competitors()
        with clock.stage("retrieval", self.tenant) if clock else nullcontext():
            _ = self.answerer  # the index, and the answers' reader of it (the catalogue's names and indications)
        if clock is not None:
            for name, source in self.opened_from.items():
                clock.note(self.tenant, f"{name}_from", source)

    @contextmanager
    def searching(self) -> Iterator[KnowledgeIndex]:
        """The retrieval index, held against updates while the caller searches it."""
        index = self.retrieval
        with self.lock:
            yield index

    def _open_retrieval(self) -> KnowledgeIndex:
        """Open the saved snapshot and apply the change log since it, or (no usable snapshot) sync with the graph."""
        with _dir_lock(self.index_dir):
            detector = QueryProductMatcher(self.store.catalogue(self.tenant).products)
            saved = snapshot_seq(self.index_dir)
            head = self.store.change_head(self.tenant)
            from_log = saved is not None and 0 < saved <= head and head - saved <= FEED_BATCH
            self.opened_from["retrieval"] = "snapshot" if from_log else "store"
            index: KnowledgeIndex = self._timed(
                "retrieval index opened",
                open_index,
                self.store,
                self.tenant,
                self._embedder(),
                self.index_dir,
                product_detector=detector,
                sync=not from_log,
            )
            if from_log and saved is not None:
                changes = self.store.changes(self.tenant, after=saved, limit=FEED_BATCH)
                merged = Written()
                for change in changes:
                    merged = merged.merge(Written.of_change(change))
                if merged.reload or merged.catalogue:  # the snapshot's words are old: read everything
                    index.set_catalogue(
                        catalogue_words(self.store, self.tenant), detector, product_names(self.store, self.tenant)
                    )
                    index.sync(entry_docs(self.store, self.tenant))
                else:
                    self._retrieval_changes(index, merged)
                log.info("retrieval snapshot caught up", extra={"tenant": self.tenant, "changes": len(changes)})
            return index

    def _timed(self, what: str, build: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        built = build(*args, **kwargs)
        log.info(what, extra={"tenant": self.tenant, "duration_ms": round((time.perf_counter() - started) * 1000)})
        return built

    # ------------------------------------------------------------------ the write-through

    def apply(self, written: Written) -> None:
        """Bring the indexes in step with a write.

        Each index that exists takes the change; one not built yet reads the graph when first used, with the write
        in it.
        """
        started = time.perf_counter()
        with self._applying:
            if written.reload:
                self.after_bulk_write()
                return
            if written.competitors:
                self._competitors = None
            self._apply_prices(written)
            self._apply_retrieval(written)
        log.debug(
            "indexes updated",
            extra={
                "tenant": self.tenant,
                "entries": len(written.entries),
                "prices_rebuilt": written.prices,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )

    def _apply_prices(self, written: Written) -> None:
        """Rebuild the price index when its facts changed, else re-read the SKUs whose order lines changed."""
        prices = self._prices
        if prices is None:
            return
        if written.prices:
            with self._build:
                self._prices = _long_lived(PriceIndex.from_store(self.store, self.tenant, as_of=prices.as_of))
            return
        skus = set(written.order_skus)
        if written.order_lines is not None and written.order_lines.num_rows:
            skus.update(str(s) for s in written.order_lines.column("sku").unique().to_pylist())
        for sku in sorted(skus):  # re-read, not appended: applying a change twice (writer, follower) counts once
            prices.replace_lines(sku, self.store.price_history(self.tenant, sku).table)

    def _apply_retrieval(self, written: Written) -> None:
        """Re-index the entries the change names (and the case studies of changed customers), or sync them all."""
        index = self._retrieval
        if index is not None:
            self._retrieval_changes(index, written)

    def _retrieval_changes(self, index: KnowledgeIndex, written: Written) -> None:
        """Read what the change names from the store, then update the index under the search lock.

        The reads come first, outside ``lock``: a search waits only for the in-memory update, not for the store's
        round trips (on Neo4j, several per change), and the follower does not queue for the lock before each read.
        """
        started = time.perf_counter()
        entry_ids = set(written.entries)
        if written.customers and not written.resync:
            about = self.store.edges_of(self.tenant, CaseOf, targets=list(written.customers))
            entry_ids.update(e.entry_id for e in about)
        catalogue = self.store.catalogue(self.tenant) if written.catalogue else None
        words = catalogue_words(self.store, self.tenant) if written.catalogue else []
        docs: list[EntryDoc] = []
        gone: set[str] = set()
        if written.resync:
            docs = entry_docs(self.store, self.tenant)
        elif entry_ids:
            entries = self.store.nodes_by_keys(self.tenant, Entry, sorted(entry_ids))
            docs = entry_docs(self.store, self.tenant, entries)
            gone = entry_ids - {e.id for e in entries}
        read = time.perf_counter()
        with self.lock:
            locked = time.perf_counter()
            if catalogue is not None:
                names = [w for p in catalogue.products for w in (p.name, p.generic_name, p.brand) if w]
                index.set_catalogue(words, QueryProductMatcher(catalogue.products), names)
                self._answerer = None  # read queries with the new names and indications
            if written.resync:
                index.sync(docs)
            elif docs or gone:
                index.upsert(docs)
                if gone:
                    index.remove(gone)
        spent = self._feed_spent
        if spent is not None:
            spent["docs_read_s"] = spent.get("docs_read_s", 0.0) + read - started
            spent["lock_wait_s"] = spent.get("lock_wait_s", 0.0) + locked - read
            spent["index_s"] = spent.get("index_s", 0.0) + time.perf_counter() - locked
            for name, seconds in index.last_upsert.items() if docs and not written.resync else ():
                spent[name] = spent.get(name, 0.0) + seconds

    def follow(self) -> int:
        """Apply the change-log records written since the last one applied (by any process); returns how many.

        The follower of a running service calls this every poll interval; a write of this process is applied
        again (re-reading what it names is idempotent), one of another process reaches the indexes here. A demo
        load or import seen in the log drops the indexes and builds them again at once.
        """
        started = time.perf_counter()
        with self._applying:
            locked = time.perf_counter()
            changes = self.store.changes(self.tenant, after=self.feed_seq, limit=FEED_BATCH)
            read = time.perf_counter()
            merged = Written()
            for change in changes:
                merged = merged.merge(Written.of_change(change))
            if changes:
                spent: dict[str, float] = {}
                self._feed_spent = spent
                try:
                    self.apply(merged)
                finally:
                    self._feed_spent = None
                self.feed_seq = changes[-1].seq
                self._log_applied(changes, spent, started, locked, read)
            self.feed_behind = len(changes) == FEED_BATCH
        if merged.reload:
            self.warm()
        return len(changes)

    def _log_applied(
        self, changes: list[Change], spent: dict[str, float], started: float, locked: float, read: float
    ) -> None:
        """Where one pass of the follower went (the change feed's lag, stage by stage), at INFO.

        ``behind_s``: from the newest record's time (whole seconds, the writer's clock) to its application here;
        ``wait_ms``: for the lock that orders applications; ``read_ms``: the log's read; ``apply_ms``: the indexes'
        update, with the retrieval index's parts (``docs_read``: its reads of the store; ``lock_wait``: for the search
        lock; ``index``: the update, of which ``embed`` / ``vectors`` / ``keywords`` / ``links``).
        """
        done = time.perf_counter()
        newest = max(c.at for c in changes)
        behind = dt.datetime.now(dt.UTC).replace(tzinfo=None) - newest
        log.info(
            "change feed applied",
            extra={
                "tenant": self.tenant,
                "pid": os.getpid(),  # which worker of ``serve --workers N`` (they share one log)
                "seq": f"{changes[0].seq}-{changes[-1].seq}",
                "records": len(changes),
                "behind_s": round(behind.total_seconds(), 2),
                "wait_ms": round((locked - started) * 1000, 1),
                "read_ms": round((read - locked) * 1000, 1),
                "apply_ms": round((done - read) * 1000, 1),
                **{f"{k.removesuffix('_s')}_ms": round(v * 1000, 1) for k, v in spent.items()},
            },
        )

    def _entry_written(self, entry: Entry) -> Entry:
        self.apply(Written(entries=(entry.id,)))
        return entry

    # ------------------------------------------------------------------ writes

    def create_entry(
        self,
        *,
        actor: str,
        kind: EntryKind,
        title: str,
        body: str = "",
        tags: Sequence[str] = (),
        skus: Sequence[str] = (),
        indications: Sequence[str] = (),
        source: str | None = None,
        category: str | None = None,
        customer_types: Sequence[str] = (),
    ) -> Entry:
        """A new draft entry (`copilot.curation.create_entry`), in the retrieval index at once."""
        return self._entry_written(
            curation.create_entry(
                self.store,
                self.tenant,
                actor=actor,
                kind=kind,
                title=title,
                body=body,
                tags=tags,
                skus=skus,
                indications=indications,
                source=source,
                category=category,
                customer_types=customer_types,
            )
        )

    def edit_entry(self, entry_id: str, *, actor: str, expected_version: int, edit: EntryEdit) -> Entry:
        """An edit with optimistic locking (`copilot.curation.edit_entry`), searchable with its new text at once."""
        return self._entry_written(
            curation.edit_entry(
                self.store, self.tenant, entry_id, actor=actor, expected_version=expected_version, edit=edit
            )
        )

    def transition(
        self,
        entry_id: str,
        action: Action,
        *,
        actor: str,
        expected_version: int,
        note: str | None = None,
        clear_note: bool = False,
    ) -> Entry:
        """A review step (`copilot.curation.transition`, four eyes as configured): counts for retrieval at once."""
        return self._entry_written(
            curation.transition(
                self.store, self.tenant, entry_id, action, actor=actor, expected_version=expected_version, note=note,
                four_eyes=self.four_eyes, clear_note=clear_note,
            )
        )  # fmt: skip

    def bulk_note_action(
        self, action: Literal["confirm", "withdraw"], *, actor: str, sku: str | None, edition: str | None
    ) -> BulkResult:
        """Confirm or withdraw the noted entries of one product or one change (`copilot.curation.bulk_action`)."""
        result = curation.bulk_action(
            self.store, self.tenant, action, actor=actor, sku=sku, edition=edition, four_eyes=self.four_eyes
        )
        if result.done:
            self.apply(Written(entries=tuple(e.id for e in result.done)))
        return result

    def formulary_impact(
        self, *, old: str | None, new: str | None, today: dt.date, actor: str, apply: bool
    ) -> ImpactReport:
        """What a formulary change touches (`copilot.formulary_impact`).

        With ``apply``, the notes are written; withdrawn entries leave retrieval at once.
        """
        report = formulary_impact(
            self.store, self.tenant, old=old, new=new, today=today, actor=actor, dry_run=not apply
        )
        if apply and report.impacts:
            self.apply(Written(entries=tuple(report.impacts)))
        return report

    def write_faq_drafts(
        self, proposals: Sequence[FaqProposal], *, now: dt.datetime, author: str, names: CatalogueNames | None = None
    ) -> DraftReport:
        """FAQ proposals as draft entries (`copilot.faq.write_drafts`), in the retrieval index at once."""
        result = write_drafts(self.store, self.tenant, proposals, now=now, author=author, names=names)
        self.apply(Written(entries=(*result.created, *result.updated)))
        return result

    def confirm_formulary_row(
        self, sku: str, edition_id: str, identity: str, *, actor: str, now: dt.datetime
    ) -> ProductFormularyState:
        """A reviewed formulary match (`ingest.formulary.confirm_row`): its payment standard reaches price checks."""
        state = confirm_row(self.store, self.tenant, sku, edition_id, identity, actor=actor, now=now)
        self.apply(Written(prices=True))
        return state

    def mark_not_listed(
        self, sku: str, edition_id: str, *, reason: str, note: str | None, actor: str, now: dt.datetime
    ) -> ProductFormularyState:
        """A product reviewed as not listed (`ingest.formulary.mark_not_listed`); price checks lose its standard."""
        state = mark_not_listed(
            self.store, self.tenant, sku, edition_id, reason=reason, note=note, actor=actor, now=now
        )
        self.apply(Written(prices=True))
        return state

    def request_script(
        self,
        *,
        query: str,
        requested_by: str,
        skus: Sequence[str] = (),
        category: str | None = None,
        customer_type: str | None = None,
    ) -> ScriptRequest:
        """A rep's request for a script nobody wrote yet, in the trainers' queue (`copilot.script_requests`)."""
        missing = sorted(set(skus) - self.store.existing_keys(self.tenant, Product, list(skus))) if skus else []
        if missing:
            raise NotFoundError(f"unknown SKU {', '.join(missing)}", details={"skus": missing})
        return script_requests.create_request(self.store, self.tenant, query=query, requested_by=requested_by,
                                              skus=skus, category=category, customer_type=customer_type)  # fmt: skip

    def close_script_request(
        self, request_id: str, *, status: Literal["done", "declined"], closed_by: str, entry_id: str | None,
        note: str | None,
    ) -> ScriptRequest:  # fmt: skip
        """A trainer closes a request, naming the script written or declining it (`copilot.script_requests`)."""
        return script_requests.close_request(self.store, self.tenant, request_id, status=status, closed_by=closed_by,
                                             entry_id=entry_id, note=note)  # fmt: skip

    def ingest(self, paths: Sequence[Path], **options: Any) -> IngestReport:
        """Files ingested (`ingest.pipeline.ingest_paths`, ``options`` passed on), the indexes kept in step.

        New order lines are appended to the price index, changed entries re-indexed, changed master data re-read.
        """
        from ingest.pipeline import ingest_paths

        report = ingest_paths(self.store, self.tenant, paths, **options)
        self.apply(Written.of_ingest(report))
        interactions = report.loaded.get("Interaction")
        written = report.writes.get("Interaction")
        if interactions is not None and interactions.num_rows and written and (written.created or written.updated):
            since = min(interactions.column("at").to_pylist())
            self.scan_safety(since=since, actor="ingest")  # reactions in uploaded notes reach the safety queue
        return report

    def scan_safety(self, *, since: dt.datetime | None = None, actor: str = "system") -> list[SafetyReport]:
        """Queue the suspected adverse reactions in interactions not queued yet (`copilot.safety`)."""
        return safety.scan_interactions(self.store, self.tenant, since=since, actor=actor)

    def report_safety_query(
        self, text: str, finding: AdverseFinding, *, reported_by: str, customer_id: str | None, skus: Sequence[str]
    ) -> SafetyReport:
        """Queue a reaction a rep's objection query reports (`copilot.safety`)."""
        return safety.report_query(self.store, self.tenant, text, finding, reported_by=reported_by,
                                   customer_id=customer_id, skus=skus)  # fmt: skip

    def set_safety_status(
        self, report_id: str, *, status: SafetyStatus, actor: str, note: str | None = None
    ) -> SafetyReport:
        """The drug-safety contact forwards or closes a report, audited (`copilot.safety`)."""
        return safety.set_status(self.store, self.tenant, report_id, status=status, actor=actor, note=note)

    def task_list(self, rep_id: str, *, as_of: dt.date, only: str | None = None) -> tasks.TaskList:
        """The rep's tasks as of ``as_of`` with price flags and suggested scripts (`copilot.tasks`)."""
        prices = self.prices(as_of)
        with self.searching() as index:
            return tasks.build_tasks(self.store, self.tenant, rep_id, as_of=as_of, price_index=prices,
                                     suggest=tasks.retrieval_suggester(index), only=only,
                                     cache=self.task_cache)  # fmt: skip

    def set_task_state(self, rep_id: str, task_id: str, *, state: TaskState, as_of: dt.date, actor: str,
                       snoozed_until: dt.date | None = None, dismiss_reason: str | None = None,
                       interaction_id: str | None = None,
                       interaction: tasks.NewInteraction | None = None) -> tasks.TaskItem:  # fmt: skip
        """A rep marks a task done (with the interaction that closed it), snoozed or dismissed (`copilot.tasks`)."""
        return tasks.set_state(
            self.store, self.tenant, rep_id, task_id, state=state, as_of=as_of, actor=actor,
            snoozed_until=snoozed_until, dismiss_reason=dismiss_reason, interaction_id=interaction_id,
            interaction=interaction, price_index=self.prices(as_of), cache=self.task_cache,
        )  # fmt: skip

    def record_photo(self, photos: PhotoStore, data: bytes, *, engine: OcrEngine, **options: Any) -> RecordedPhoto:
        """A competitor photo read, resolved and kept (`ingest.competitor_prices.record_photo`); the book re-read."""
        from ingest.competitor_prices import record_photo

        recorded = record_photo(self.store, photos, self.tenant, data, engine=engine, **options)
        if not recorded.duplicate:
            self._competitors = None
        return recorded

    def resolve_observation(
        self, observation_id: str, sku: str | None, *, decided_by: str
    ) -> list[CompetitorObservation]:
        """A reviewer's SKU decision kept and applied to its twins; the competitor price book re-read."""
        from ingest.competitor_prices import resolve_observation

        updated = resolve_observation(self.store, self.tenant, observation_id, sku, decided_by=decided_by)
        self._competitors = None
        return updated

    def after_bulk_write(self) -> None:
        """After a write that replaced the tenant's data wholesale (demo load, import, formulary edition).

        Both indexes re-read the graph when next used (the retrieval index syncs, re-embedding only changed text).
        """
        self._prices = None
        self._competitors = None
        self.task_cache.clear()
        with self.lock:
            self._retrieval = None

    def rebuild_retrieval(self) -> None:
        """Drop the saved retrieval index and build it again from the graph (``salescopilot search --rebuild``)."""
        with self.lock:
            self._retrieval = None
            if self.index_dir is not None and self.index_dir.exists():
                shutil.rmtree(self.index_dir)

    def save(self) -> None:
        """Persist the retrieval index next to the graph (if it was opened), with the change-log position it holds.

        Workers of one deployment share the folder: the save is locked against the others' saves and opens, and a
        snapshot newer than this process's (another worker's, further along the log) is left as it is.
        """
        if self._retrieval is not None and self.index_dir is not None:
            with self._applying, self.lock, _dir_lock(self.index_dir):
                saved = snapshot_seq(self.index_dir)
                if saved is not None and saved > self.feed_seq:
                    return
                self._retrieval.save(self.index_dir)
                (self.index_dir / SNAPSHOT_FILE).write_text(json.dumps({"seq": self.feed_seq}), encoding="utf-8")
                prices = self._prices
                if prices is not None:
                    part = self.index_dir / f"{PRICES_FILE}.part"
                    with part.open("wb") as f:
                        pickle.dump((self.feed_seq, prices.as_of, prices), f, protocol=pickle.HIGHEST_PROTOCOL)
                    part.replace(self.index_dir / PRICES_FILE)


class Services:
    """The factory of tenant services over one store, shared by the API (one per process) and the CLI (per command)."""

    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder | Callable[[], Embedder],
        *,
        index_root: Path | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        four_eyes: bool = True,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.index_root = index_root
        self.today = today
        self.four_eyes = four_eyes
        self._tenants: dict[str, TenantServices] = {}
        self._guard = threading.Lock()
        self._guard_embedder = threading.Lock()

    def tenant(self, tenant: str) -> TenantServices:
        """The tenant's services (made on first use; its indexes are built when first read)."""
        with self._guard:
            found = self._tenants.get(tenant)
            if found is None:
                index_dir = self.index_root / tenant if self.index_root is not None else None
                found = self._tenants[tenant] = TenantServices(
                    self.store, tenant, self._shared_embedder, index_dir, today=self.today, four_eyes=self.four_eyes
                )
            return found

    def _shared_embedder(self) -> Embedder:
        """One embedder for every tenant, made on first use."""
        with self._guard_embedder:
            if not isinstance(self.embedder, Embedder):
                self.embedder = self.embedder()
            return self.embedder

    def loaded(self) -> list[str]:
        """Tenants whose indexes are in memory (both built)."""
        with self._guard:
            return [t for t, s in self._tenants.items() if s.is_current()]

    def save(self) -> None:
        """Persist every opened retrieval index."""
        for services in self.all():
            services.save()

    def all(self) -> list[TenantServices]:
        """The tenant services made so far."""
        with self._guard:
            return list(self._tenants.values())

    def follow(self) -> int:
        """One pass of the change-feed follower over every tenant in memory; returns the records applied."""
        applied = 0
        for services in self.all():
            try:
                applied += services.follow()
            except Exception:  # a failed pass (store restarting) is retried at the next interval
                log.exception("change feed not applied", extra={"tenant": services.tenant})
        return applied


class Follower:
    """A thread that applies every tenant's change log to this process's indexes every ``interval_s`` seconds.

    Writes of other processes (API workers on one Neo4j database, the CLI, another service object over the same
    store) reach this process's answers within one interval plus the time to apply them.
    """

    def __init__(self, services: Services, interval_s: float) -> None:
        self.services = services
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)

    def start(self) -> Follower:
        """Start following (returns self)."""
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.services.follow()

    def stop(self) -> None:
        """Stop after the pass under way, if any."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)


def services_for(settings: Settings, store: GraphStore, embedder: Embedder | None = None) -> Services:
    """The services over ``store`` configured by ``settings``: the one factory of the API and the CLI.

    Retrieval indexes live under ``data_dir/index``; without ``embedder`` the configured one is made on first use.
    """
    return Services(
        store,
        embedder
        or (
            lambda: make_embedder(
                settings.embedder, model_dir=settings.embedder_model_dir, cache_dir=settings.index_root
            )
        ),
        index_root=settings.index_root,
        four_eyes=settings.four_eyes,
    )
