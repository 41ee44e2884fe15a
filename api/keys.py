"""API keys: random secrets shown once, stored as SHA-256 digests, each carrying a tenant and a role.

A key reads ``skg_<id>_<secret>``: the id finds the record, the secret (32 random bytes) is compared by digest in
constant time. A fast digest is the right tool here: the secret is random, not a password, so there is nothing for a
slow hash to protect against. Keys live in a small SQLite file next to the data (one per deployment).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from graph.base import check_tenant
from graph.errors import NotFoundError, SalesCopilotError
from graph.files import restrict_permissions

Role = Literal["rep", "trainer", "admin", "service", "store", "safety"]
ROLES: tuple[Role, ...] = get_args(Role)
PREFIX = "skg_"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    rep_id TEXT
)
"""
_ADD_REP = "ALTER TABLE api_keys ADD COLUMN rep_id TEXT"
"""Key stores made before territories: the column is added; their rep keys stay unbound (they see no customer)."""


class InvalidKeyError(SalesCopilotError):
    """No key, a malformed key, an unknown key or a revoked key."""

    code = "invalid_api_key"


class KeyRequestError(SalesCopilotError):
    """A key that cannot be made as asked (unknown role, a rep key without its rep, a rep for another role)."""

    code = "invalid_key_request"


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
"""Seconds a verified key is trusted without reading the key store again (revocation elsewhere: within this)."""
CACHE_SIZE = 10_000


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _row(row: sqlite3.Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        tenant=row["tenant"],
        role=row["role"],
        name=row["name"],
        created_at=dt.datetime.fromisoformat(row["created_at"]),
        revoked_at=dt.datetime.fromisoformat(row["revoked_at"]) if row["revoked_at"] else None,
        rep_id=row["rep_id"],
    )


class KeyStore:
    """The API keys of a deployment, in a SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)
        columns = {r["name"] for r in self._conn.execute("PRAGMA table_info(api_keys)").fetchall()}
        if "rep_id" not in columns:
            self._conn.execute(_ADD_REP)
        for file in path.parent.glob(path.name + "*"):  # the database and its -wal/-shm files: owner only
            restrict_permissions(file)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[ApiKey, float]] = {}

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
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        with self._lock:
            self._conn.execute(
                "INSERT INTO api_keys (id, tenant, role, name, digest, created_at, rep_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key_id, tenant, role, name, _digest(secret), now.isoformat(), rep_id),
            )
        return ApiKey(key_id, tenant, role, name, now, rep_id=rep_id), f"{PREFIX}{key_id}_{secret}"

    def verify(self, token: str | None) -> ApiKey:
        """The live key ``token`` names, or ``InvalidKeyError``.

        A verified key is remembered for ``CACHE_S`` seconds, so the check on every request (every keystroke of a
        quote screen) costs a hash and a dict lookup, not a database read; a revocation by another process takes
        effect within that time, one by this process at once.
        """
        if not token or not token.startswith(PREFIX) or token.count("_") < 2:
            raise InvalidKeyError("missing or malformed API key (send it in the X-API-Key header)")
        cache_key = _digest(token)
        hit = self._cache.get(cache_key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        key_id, secret = token[len(PREFIX) :].split("_", 1)
        with self._lock:
            row = self._conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None or not hmac.compare_digest(row["digest"], _digest(secret)):
            raise InvalidKeyError("unknown API key")
        if row["revoked_at"]:
            raise InvalidKeyError("this API key was revoked")
        key = _row(row)
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[cache_key] = (key, time.monotonic() + CACHE_S)
        return key

    def list(self, tenant: str | None = None) -> list[ApiKey]:
        """Keys of one tenant (or all), newest first."""
        query, args = "SELECT * FROM api_keys", tuple[str, ...]()
        if tenant is not None:
            query, args = query + " WHERE tenant = ?", (tenant,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY created_at DESC, id", args).fetchall()
        return [_row(r) for r in rows]

    def revoke(self, key_id: str, *, tenant: str | None = None) -> ApiKey:
        """Revoke a key at once (of ``tenant`` only, when given: another tenant's key is 'not found')."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat()
        with self._lock:
            row = self._conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None or (tenant is not None and row["tenant"] != tenant):
                raise NotFoundError(f"no API key {key_id}", details={"id": key_id})
            self._conn.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", (now, key_id))
            self._cache.clear()  # effective at once in this process
            row = self._conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return _row(row)

    def close(self) -> None:
        """Close the database file."""
        self._conn.close()
