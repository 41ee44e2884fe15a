"""API keys: random secrets shown once, stored as SHA-256 digests, each carrying a tenant and a role.

A key reads ``skg_<id>_<secret>``: the id finds the record, the secret (32 random bytes) is compared by digest in
constant time. A fast digest is the right tool here: the secret is random, not a password, so there is nothing for a
slow hash to protect against.

The records live in the graph store (``GraphStore.create_key`` …, schema version 9), so every worker on one Neo4j
database sees the same keys. Before, they lived in a SQLite file of the data dir (``keys.sqlite``), which only
processes on one disk shared; that file is imported once on the first start (``import_legacy_file``) and renamed.

Each process verifies keys from its own cache: a request costs a hash and a dict lookup, not a database query (the
quote screen checks a price on every keystroke). A background thread re-reads the cached keys every ``REFRESH_S``
seconds, and an entry older than ``CACHE_S`` is never trusted, so a key revoked through any worker or the CLI is
refused by every worker within ``CACHE_S`` seconds (by the worker that revoked it at once). Uses are noted in memory
and written as ``last_used_at`` every ``USE_FLUSH_S`` seconds and at shutdown: at most one write per key per flush,
none per request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args

from graph.base import check_tenant
from graph.errors import GraphError, NotFoundError, SalesCopilotError
from graph.ports import GraphStore, KeyRecord

Role = Literal["rep", "trainer", "admin", "service", "store", "safety"]
ROLES: tuple[Role, ...] = get_args(Role)
PREFIX = "skg_"
MIGRATED_SUFFIX = ".migrated"
"""The old key file, once imported, is renamed with this suffix and never read again."""

log = logging.getLogger(__name__)


class InvalidKeyError(SalesCopilotError):
    """No key, a malformed key, an unknown key or a revoked key."""

    code = "invalid_api_key"


class KeyRequestError(SalesCopilotError):
    """A key that cannot be made as asked (unknown role, a rep key without its rep, a rep for another role)."""

    code = "invalid_key_request"


class KeyFileError(SalesCopilotError):
    """The old SQLite key file exists but cannot be read (it is left in place)."""

    code = "key_file_unreadable"


@dataclass(frozen=True)
class ApiKey:
    """A key's record (never the secret)."""

    id: str
    tenant: str
    role: Role
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    rep_id: str | None = None
    """The rep a ``rep`` key is bound to: it reads that rep's customers only (its territory)."""


CACHE_S = 5.0
"""Seconds a verified key is trusted without reading the key store again: a revocation elsewhere is effective in
every worker within this."""
REFRESH_S = 2.0
"""How often the background thread re-reads the keys in the cache (so a key in use never waits for a read)."""
IDLE_S = 60.0
"""A cached key unused this long is dropped at the next refresh instead of re-read (its next use reads it again)."""
USE_FLUSH_S = 60.0
"""How often the keys' last use is written (and at shutdown): at most one write per key per interval."""
CACHE_SIZE = 10_000


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _api_key(record: KeyRecord) -> ApiKey:
    return ApiKey(
        id=record.id,
        tenant=record.tenant,
        role=cast(Role, record.role),  # written by ``KeyStore.create`` from ROLES
        name=record.name,
        created_at=record.created_at,
        revoked_at=record.revoked_at,
        rep_id=record.rep_id,
    )


@dataclass(slots=True)
class _Cached:
    """A verified key in the cache (times on the cache's clock); a hit only compares and sets a slot."""

    key: ApiKey
    expires: float
    """Trusted until then: ``cache_s`` after the record was read from the store."""
    used: float
    """The last verified use (written to the store by ``flush_use``)."""


class KeyStore:
    """The API keys of a deployment, in the graph store, verified from a per-process cache.

    ``clock`` (monotonic seconds) and ``utcnow`` are the cache's and the use records' clocks; tests pass their own.
    ``start()`` runs the refresher thread (the API does; a CLI command needs none); ``close()`` stops it and writes
    the uses not yet written. The graph store is the caller's to close (after this).
    """

    def __init__(
        self,
        store: GraphStore,
        *,
        cache_s: float = CACHE_S,
        refresh_s: float = REFRESH_S,
        use_flush_s: float = USE_FLUSH_S,
        clock: Callable[[], float] = time.monotonic,
        utcnow: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.store = store
        self.cache_s = cache_s
        self.refresh_s = refresh_s
        self.use_flush_s = use_flush_s
        self._clock = clock
        self._utcnow = utcnow
        self._cache: dict[str, _Cached] = {}
        """By the digest of the whole key text: a hit needs no split and no second digest."""
        self._dropped_use: dict[str, float] = {}
        """Key id → the last use of cache entries dropped before their use was written."""
        self._written_use: dict[str, float] = {}
        """Key id → the last use already written to the store."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._flushed = clock()
        self.reads = 0
        """Key records read from the store by ``verify`` (cache misses); for tests and benchmarks."""

    # ------------------------------------------------------------------ the key operations

    def create(self, tenant: str, role: str, name: str, rep_id: str | None = None) -> tuple[ApiKey, str]:
        """A new key; returns its record and the full key text, which is shown once and never stored.

        A ``rep`` key names the rep it belongs to (``rep_id``): it reads only that rep's customers. Other roles
        see the tenant and take no rep.
        """
        if role not in ROLES:
            raise KeyRequestError(f"unknown role {role!r}; one of {', '.join(ROLES)}", details={"role": role})
        rep_id = rep_id.strip() if rep_id else None
        if role == "rep" and not rep_id:
            raise KeyRequestError(
                "a rep key is bound to a rep: give the rep's id (代表编码), it reads only that rep's customers",
                details={"field": "rep_id"},
            )
        if role != "rep" and rep_id:
            raise KeyRequestError(
                f"only rep keys are bound to a rep; a {role} key sees the whole tenant", details={"field": "rep_id"}
            )
        check_tenant(tenant)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        record = KeyRecord(key_id, tenant, role, name, _digest(secret), self._utcnow(), rep_id=rep_id)
        self.store.create_key(record)
        return _api_key(record), f"{PREFIX}{key_id}_{secret}"

    def verify(self, token: str | None) -> ApiKey:
        """The live key ``token`` names, or ``InvalidKeyError``.

        From the cache when its entry was read less than ``cache_s`` seconds ago (the refresher keeps keys in use
        younger than that); else one read of the key's record. The use is noted in memory (``flush_use`` writes it).
        """
        if not token:
            raise InvalidKeyError("missing or malformed API key (send it in the X-API-Key header)")
        cache_key = _digest(token)
        now = self._clock()
        hit = self._cache.get(cache_key)
        if hit is not None and now < hit.expires:  # a cached token was well-formed when it was read
            hit.used = now
            return hit.key
        if not token.startswith(PREFIX) or token.count("_") < 2:
            raise InvalidKeyError("missing or malformed API key (send it in the X-API-Key header)")
        key_id, secret = token[len(PREFIX) :].split("_", 1)
        self.reads += 1
        found = self.store.keys_by_ids([key_id])
        if not found or not hmac.compare_digest(found[0].digest, _digest(secret)):
            self._cache.pop(cache_key, None)
            raise InvalidKeyError("unknown API key")
        if found[0].revoked_at is not None:
            self._cache.pop(cache_key, None)
            raise InvalidKeyError("this API key was revoked")
        key = _api_key(found[0])
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                for cached in list(self._cache):  # emptied when full; keys in use are read again on next use
                    self._uncache(cached)
            self._cache[cache_key] = _Cached(key, now + self.cache_s, now)
        return key

    def list(self, tenant: str | None = None) -> list[ApiKey]:
        """Keys of one tenant (or all), newest first."""
        return [_api_key(r) for r in self.store.list_keys(tenant)]

    def last_used(self, tenant: str | None = None) -> dict[str, dt.datetime | None]:
        """Key id → its last use as written to the store (up to ``use_flush_s`` seconds behind)."""
        return {r.id: r.last_used_at for r in self.store.list_keys(tenant)}

    def revoke(self, key_id: str, *, tenant: str | None = None) -> ApiKey:
        """Revoke a key at once (of ``tenant`` only, when given: another tenant's key is 'not found')."""
        found = self.store.keys_by_ids([key_id])
        if not found or (tenant is not None and found[0].tenant != tenant):
            raise NotFoundError(f"no API key {key_id}", details={"id": key_id})
        record = self.store.revoke_key(key_id, self._utcnow())
        if record is None:
            raise NotFoundError(f"no API key {key_id}", details={"id": key_id})
        self._drop(key_id)  # effective at once in this process; the other workers within cache_s
        return _api_key(record)

    # ------------------------------------------------------------------ the cache and the use records

    def _uncache(self, token: str) -> None:
        """Drop a cache entry, keeping its last use for ``flush_use`` (the caller holds the lock)."""
        entry = self._cache.pop(token, None)
        if entry is not None and entry.used > self._dropped_use.get(entry.key.id, float("-inf")):
            self._dropped_use[entry.key.id] = entry.used

    def _drop(self, key_id: str) -> None:
        with self._lock:
            for token in [t for t, e in self._cache.items() if e.key.id == key_id]:
                self._uncache(token)

    def reread(self) -> None:
        """Re-read the cached keys used in the last ``IDLE_S`` seconds; drop revoked, deleted and idle ones.

        A re-read entry is trusted for ``cache_s`` from the start of the read, so a revocation committed before it
        is seen, and one committed after it is seen by the next round (every ``refresh_s``) or by the request that
        finds the entry expired.
        """
        now = self._clock()
        with self._lock:
            entries = list(self._cache.items())
        ids = {e.key.id for _, e in entries if now - e.used < IDLE_S}
        records = {r.id: r for r in self.store.keys_by_ids(sorted(ids))}
        with self._lock:
            for token, entry in entries:
                if self._cache.get(token) is not entry:
                    continue  # dropped or replaced meanwhile
                record = records.get(entry.key.id)
                if record is None or record.revoked_at is not None:
                    self._uncache(token)
                else:
                    entry.key = _api_key(record)  # a role or rep changed elsewhere comes along
                    entry.expires = now + self.cache_s

    def _uses(self) -> dict[str, float]:
        """Key id → its last use known to this process (cached entries and dropped ones)."""
        with self._lock:
            uses = dict(self._dropped_use)
            for entry in self._cache.values():
                if entry.used > uses.get(entry.key.id, float("-inf")):
                    uses[entry.key.id] = entry.used
        return uses

    def flush_use(self) -> int:
        """Write the keys' uses since the last flush (one write for all of them); returns the keys written."""
        now_clock, now_wall = self._clock(), self._utcnow()
        pending = {k: t for k, t in self._uses().items() if t > self._written_use.get(k, float("-inf"))}
        if not pending:
            return 0
        used = {k: now_wall - dt.timedelta(seconds=now_clock - t) for k, t in pending.items()}
        self.store.touch_keys(used)
        self._written_use.update(pending)
        with self._lock:
            for k, t in list(self._dropped_use.items()):
                if t <= self._written_use.get(k, float("-inf")):
                    del self._dropped_use[k]
        return len(pending)

    def start(self) -> None:
        """Run the refresher (every ``refresh_s``) and the use writer (every ``use_flush_s``) in a daemon thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._follow, name="api-keys", daemon=True)
            self._thread.start()

    def tick(self) -> None:
        """One round of the refresher: re-read the cached keys; write the uses when ``use_flush_s`` has passed."""
        self.reread()
        if self._clock() - self._flushed >= self.use_flush_s:
            self._flushed = self._clock()
            self.flush_use()

    def _follow(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                self.tick()
            except GraphError as e:  # the store is away: cached keys age out; the next read says why
                log.warning("API key refresh failed: %s", e.message)

    def close(self) -> None:
        """Stop the refresher and write the uses not written yet (before the graph store closes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.flush_use()
        except GraphError as e:
            log.warning("API key uses not written at shutdown: %s", e.message)


def import_legacy_file(store: GraphStore, path: Path) -> int | None:
    """Import the API keys of an old SQLite key file into the graph store, once; returns how many were new.

    None when there is no such file (the usual case after the first start). The keys keep working: the same ids,
    digests, tenants, roles, reps and revocations. The file is then renamed ``<name>.migrated`` (with its -wal/-shm
    files, if any) and never read again, so a second start imports nothing; two workers starting at once import each
    key once (``import_keys`` stores missing ids only). A file that cannot be read is left in place with an error.
    """
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL's rows into the file before it is renamed
            columns = {r["name"] for r in conn.execute("PRAGMA table_info(api_keys)").fetchall()}
            rep = "rep_id" if "rep_id" in columns else "NULL AS rep_id"  # files made before territories
            rows = conn.execute(
                f"SELECT id, tenant, role, name, digest, created_at, revoked_at, {rep} FROM api_keys"  # noqa: S608
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as e:
        raise KeyFileError(f"cannot read the old API key file {path}: {e}", details={"path": str(path)}) from e
    records = [
        KeyRecord(
            id=r["id"],
            tenant=r["tenant"],
            role=r["role"],
            name=r["name"],
            digest=r["digest"],
            created_at=dt.datetime.fromisoformat(r["created_at"]),
            revoked_at=dt.datetime.fromisoformat(r["revoked_at"]) if r["revoked_at"] else None,
            rep_id=r["rep_id"],
        )
        for r in rows
    ]
    added = store.import_keys(records)
    for suffix in ("-wal", "-shm", ""):  # the main file last: while it is there, a crash here imports again
        part = path.with_name(path.name + suffix)
        try:
            part.rename(path.with_name(path.name + MIGRATED_SUFFIX + suffix))
        except FileNotFoundError:
            pass  # none, or another worker renamed it first
        except OSError as e:  # a read-only folder: the keys are imported; the next start finds them stored
            log.warning("imported the API keys of %s but could not rename it: %s", path, e)
    log.info("imported %d of %d API keys from %s (renamed %s%s)", added, len(records), path, path.name, MIGRATED_SUFFIX)
    return added
