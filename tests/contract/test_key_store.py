"""API key records on every backend: create, read by id, list per tenant, revoke, record use, import once."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest

from graph.base import CypherGraphStore
from graph.errors import ConflictError
from graph.ports import KeyRecord

TenantFactory = Callable[..., str]
AT = dt.datetime(2026, 12, 1, 9, 0, 0)


def _key(tenant: str, role: str = "rep", *, minutes: int = 0, rep_id: str | None = "R-1") -> KeyRecord:
    return KeyRecord(
        id=uuid.uuid4().hex[:12], tenant=tenant, role=role, name=f"{role} 张三", digest=uuid.uuid4().hex * 2,
        created_at=AT + dt.timedelta(minutes=minutes), rep_id=rep_id,
    )  # fmt: skip


def test_keys_are_stored_read_by_id_and_listed_per_tenant(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    t, other = tenant_factory(), tenant_factory()
    older, newer = _key(t), _key(t, "admin", minutes=5, rep_id=None)
    theirs = _key(other, "trainer", rep_id=None)
    for k in (older, newer, theirs):
        store.create_key(k)
    assert store.keys_by_ids([older.id, "no-such-key"]) == [older]
    assert store.keys_by_ids([]) == []
    assert store.list_keys(t) == [newer, older]  # newest first
    assert store.list_keys(other) == [theirs]
    everyone = store.list_keys()
    assert {older, newer, theirs} <= set(everyone)
    with pytest.raises(ConflictError):
        store.create_key(older)  # an id is one key
    assert store.list_keys(t) == [newer, older]


def test_a_revocation_keeps_its_first_time(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    key = _key(t)
    store.create_key(key)
    first = AT + dt.timedelta(days=1)
    revoked = store.revoke_key(key.id, first)
    assert revoked is not None and revoked.revoked_at == first and revoked.digest == key.digest
    again = store.revoke_key(key.id, first + dt.timedelta(hours=1))
    assert again is not None and again.revoked_at == first
    assert store.keys_by_ids([key.id])[0].revoked_at == first
    assert store.revoke_key("no-such-key", first) is None


def test_use_moves_last_used_forward_only(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    a, b = _key(t), _key(t)
    store.create_key(a)
    store.create_key(b)
    late, early = AT + dt.timedelta(hours=2), AT + dt.timedelta(hours=1)
    assert store.touch_keys({a.id: late, b.id: early, "no-such-key": late}) == 2
    assert store.touch_keys({a.id: early}) == 0  # another worker's older use does not move it back
    got = {k.id: k.last_used_at for k in store.keys_by_ids([a.id, b.id])}
    assert got == {a.id: late, b.id: early}
    assert store.touch_keys({}) == 0


def test_an_import_stores_missing_keys_only(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    """An old key file imported twice (two workers starting at once) stores each key once and keeps changes."""
    t = tenant_factory()
    kept, new = _key(t), _key(t, "admin", rep_id=None)
    store.create_key(kept)
    store.revoke_key(kept.id, AT + dt.timedelta(days=2))
    assert store.import_keys([kept, new]) == 1
    assert store.import_keys([kept, new]) == 0
    got = {k.id: k for k in store.list_keys(t)}
    assert got[new.id] == new
    assert got[kept.id].revoked_at == AT + dt.timedelta(days=2)  # the import did not bring a revoked key back


def test_deleting_a_tenant_deletes_its_keys(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t, other = tenant_factory(), tenant_factory()
    mine, theirs = _key(t), _key(other)
    store.create_key(mine)
    store.create_key(theirs)
    store.delete_tenant(t)
    assert store.keys_by_ids([mine.id, theirs.id]) == [theirs]
