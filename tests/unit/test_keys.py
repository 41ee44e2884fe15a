"""API keys in the graph store: the old key file imported once, revocation across services, uses written in batches.

Two ``KeyStore`` objects on one store stand for two workers (each has its own cache). The cache's clock is handed
in, so "within the cache time" is a clock reading, not a wait.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.keys import CACHE_S, IDLE_S, MIGRATED_SUFFIX, InvalidKeyError, KeyStore, import_legacy_file
from api.settings import Settings
from api.stores import open_keys
from graph.embedded import EmbeddedGraphStore
from graph.errors import NotFoundError

NOW = dt.datetime(2026, 12, 7, 9, 0, 0)


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedGraphStore]:
    s = EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256)
    yield s
    s.close()


def _keys(store: EmbeddedGraphStore, clock: Clock) -> KeyStore:
    return KeyStore(store, clock=clock, utcnow=lambda: NOW)


# ---------------------------------------------------------------------------------------------- the old key file

OLD_SCHEMA = """CREATE TABLE api_keys (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, role TEXT NOT NULL,
    name TEXT NOT NULL, digest TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT{rep})"""


def _old_file(path: Path, *, with_rep: bool = True) -> dict[str, str]:
    """A key file as the SQLite key store wrote it (WAL mode); returns role → key text."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(OLD_SCHEMA.format(rep=", rep_id TEXT" if with_rep else ""))
    texts: dict[str, str] = {}
    rows = [("aaaaaaaaaaaa", "rep", "R-1", None), ("bbbbbbbbbbbb", "admin", None, None),
            ("cccccccccccc", "trainer", None, "2026-11-30T08:00:00")]  # fmt: skip
    for key_id, role, rep, revoked in rows:
        secret = f"secret-of-{role}"
        digest = hashlib.sha256(secret.encode()).hexdigest()
        columns, values = "id, tenant, role, name, digest, created_at, revoked_at", [
            key_id, "hz-pharma", role, f"{role} 张三", digest, "2026-11-01T08:00:00", revoked,
        ]  # fmt: skip
        if with_rep:
            columns, values = columns + ", rep_id", [*values, rep]
        conn.execute(f"INSERT INTO api_keys ({columns}) VALUES ({', '.join('?' * len(values))})", values)  # noqa: S608
        texts[role] = f"skg_{key_id}_{secret}"
    conn.close()
    return texts


def test_the_old_key_file_is_imported_once_and_its_keys_keep_working(tmp_path: Path, store: EmbeddedGraphStore) -> None:
    path = tmp_path / "keys.sqlite"
    texts = _old_file(path)
    settings = Settings(data_dir=tmp_path)
    assert settings.keys_path == path
    keys = open_keys(settings, store)
    rep = keys.verify(texts["rep"])
    assert (rep.id, rep.tenant, rep.role, rep.rep_id, rep.name) == (
        "aaaaaaaaaaaa",
        "hz-pharma",
        "rep",
        "R-1",
        "rep 张三",
    )
    assert rep.created_at == dt.datetime(2026, 11, 1, 8, 0)
    assert keys.verify(texts["admin"]).role == "admin"
    with pytest.raises(InvalidKeyError, match="revoked"):
        keys.verify(texts["trainer"])  # a revoked key stays revoked
    with pytest.raises(InvalidKeyError, match="unknown"):
        keys.verify("skg_aaaaaaaaaaaa_wrong-secret")
    assert not path.exists() and (tmp_path / f"keys.sqlite{MIGRATED_SUFFIX}").is_file()
    assert not (tmp_path / "keys.sqlite-wal").exists()

    keys.revoke("bbbbbbbbbbbb")  # changed after the import …
    again = open_keys(settings, store)  # … a second start imports nothing and reads no file
    assert import_legacy_file(store, path) is None
    with pytest.raises(InvalidKeyError, match="revoked"):
        again.verify(texts["admin"])
    assert sorted(k.id for k in again.list("hz-pharma")) == ["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"]
    migrated = sqlite3.connect(tmp_path / f"keys.sqlite{MIGRATED_SUFFIX}")  # the renamed file holds every row
    assert migrated.execute("SELECT count(*) FROM api_keys").fetchone() == (3,)
    migrated.close()


def test_a_key_file_from_before_territories_is_imported_with_unbound_rep_keys(
    tmp_path: Path, store: EmbeddedGraphStore
) -> None:
    texts = _old_file(tmp_path / "keys.sqlite", with_rep=False)
    assert import_legacy_file(store, tmp_path / "keys.sqlite") == 3
    assert _keys(store, Clock()).verify(texts["rep"]).rep_id is None


def test_two_workers_importing_the_same_file_store_each_key_once(tmp_path: Path, store: EmbeddedGraphStore) -> None:
    _old_file(tmp_path / "keys.sqlite")
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes((tmp_path / "keys.sqlite").read_bytes())  # what the second worker read before the rename
    for suffix in ("-wal", "-shm"):
        if (tmp_path / f"keys.sqlite{suffix}").exists():
            (tmp_path / f"copy.sqlite{suffix}").write_bytes((tmp_path / f"keys.sqlite{suffix}").read_bytes())
    assert import_legacy_file(store, tmp_path / "keys.sqlite") == 3
    assert import_legacy_file(store, copy) == 0
    assert len(store.list_keys("hz-pharma")) == 3


def test_the_cli_reads_the_imported_keys_with_the_same_output(tmp_path: Path) -> None:
    _old_file(tmp_path / "keys.sqlite")
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["--data-dir", str(tmp_path), "keys", "list", "--tenant", "hz-pharma", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(k["id"], k["role"], k["rep_id"], k["revoked_at"]) for k in json.loads(listed.stdout)] == [
        ("aaaaaaaaaaaa", "rep", "R-1", None),
        ("bbbbbbbbbbbb", "admin", None, None),
        ("cccccccccccc", "trainer", None, "2026-11-30T08:00:00"),
    ]
    assert (tmp_path / f"keys.sqlite{MIGRATED_SUFFIX}").is_file()
    revoked = runner.invoke(cli_app, ["--data-dir", str(tmp_path), "keys", "revoke", "aaaaaaaaaaaa"])
    assert revoked.exit_code == 0 and "revoked aaaaaaaaaaaa (rep, hz-pharma)" in revoked.stdout
    missing = runner.invoke(cli_app, ["--data-dir", str(tmp_path), "keys", "revoke", "ffffffffffff"])
    assert missing.exit_code == 4


# ---------------------------------------------------------------------------------------------- revocation


def test_a_revocation_through_one_worker_denies_in_another_within_the_cache_time(store: EmbeddedGraphStore) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = _keys(store, clock_a), _keys(store, clock_b)
    record, text = a.create("hz-pharma", "service", "报价屏")
    assert b.verify(text) == record and b.reads == 1
    for _ in range(100):
        b.verify(text)
    assert b.reads == 1  # a hit is no database read

    a.revoke(record.id)
    with pytest.raises(InvalidKeyError, match="revoked"):
        a.verify(text)  # the worker that revoked: at once
    clock_b.t += CACHE_S - 0.25
    assert b.verify(text) == record  # the other worker may still trust its cache entry, but not longer than CACHE_S
    clock_b.t += 0.25
    with pytest.raises(InvalidKeyError, match="revoked"):
        b.verify(text)  # CACHE_S after its last read: read again, refused


def test_the_refresher_denies_a_revoked_key_before_the_cache_time_runs_out(store: EmbeddedGraphStore) -> None:
    clock = Clock()
    a, b = _keys(store, Clock()), _keys(store, clock)
    record, text = a.create("hz-pharma", "rep", "张三", rep_id="R-1")
    b.verify(text)
    clock.t += 1.0
    b.reread()  # a key in use is re-read in the background: requests never wait for that read …
    clock.t += CACHE_S - 0.5
    assert b.verify(text).id == record.id and b.reads == 1  # … and it stays cached past CACHE_S from the first read
    a.revoke(record.id)
    b.reread()
    with pytest.raises(InvalidKeyError, match="revoked"):
        b.verify(text)


def test_the_refresher_thread_sees_a_revocation(store: EmbeddedGraphStore) -> None:
    """The thread the API starts: B refuses a key A revoked without B being asked to read it."""
    a, b = KeyStore(store), KeyStore(store, refresh_s=0.05)
    record, text = a.create("hz-pharma", "admin", "运维")
    b.verify(text)
    b.start()
    try:
        a.revoke(record.id)
        deadline = time.monotonic() + 60  # a bound on a busy machine, not a figure
        while record.id in {e.key.id for e in b._cache.values()} and time.monotonic() < deadline:
            time.sleep(0.05)
        reads = b.reads
        with pytest.raises(InvalidKeyError, match="revoked"):
            b.verify(text)
        assert b.reads == reads + 1  # the refresher dropped it: this request read the store and found it revoked
    finally:
        b.close()


def test_idle_keys_leave_the_cache_and_a_tenant_scoped_revoke_is_not_found_elsewhere(
    store: EmbeddedGraphStore,
) -> None:
    clock = Clock()
    keys = _keys(store, clock)
    record, text = keys.create("hz-pharma", "trainer", "王老师")
    keys.verify(text)
    clock.t += IDLE_S + 1
    keys.reread()
    assert not keys._cache  # nobody used it for a minute: not re-read every refresh
    with pytest.raises(NotFoundError):
        keys.revoke(record.id, tenant="sh-pharma")
    assert keys.verify(text).id == record.id and keys.reads == 2


# ---------------------------------------------------------------------------------------------- uses


def test_uses_are_written_once_per_flush_not_per_request(
    store: EmbeddedGraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    keys = KeyStore(store, clock=clock, utcnow=lambda: NOW + dt.timedelta(seconds=clock.t - 1000.0))
    (one, text_one), (two, text_two) = (keys.create("hz-pharma", "service", f"屏{i}") for i in (1, 2))
    writes: list[dict[str, dt.datetime]] = []
    touch = store.touch_keys

    def spy(used: dict[str, dt.datetime]) -> int:
        writes.append(dict(used))
        return touch(used)

    monkeypatch.setattr(store, "touch_keys", spy)

    for i in range(400):  # 400 requests over 50 s: no write
        clock.t += 0.125
        keys.verify(text_one if i % 5 else text_two)
        if i % 16 == 0:
            keys.tick()  # the refresher's rounds (every 2 s)
    assert writes == []
    assert keys.last_used("hz-pharma") == {one.id: None, two.id: None}

    clock.t += 10.5
    keys.tick()  # a minute since the start: one write for both keys, each at its last use
    assert len(writes) == 1
    assert writes[0] == {one.id: NOW + dt.timedelta(seconds=50), two.id: NOW + dt.timedelta(seconds=49.5)}
    assert keys.last_used("hz-pharma") == {
        one.id: NOW + dt.timedelta(seconds=50),
        two.id: NOW + dt.timedelta(seconds=49),  # stored to the second
    }

    clock.t += 60.0
    keys.tick()
    assert len(writes) == 1  # nothing used since: nothing written
    keys.verify(text_two)
    keys.close()  # shutdown writes what is pending
    assert len(writes) == 2 and set(writes[1]) == {two.id}
    assert keys.last_used("hz-pharma")[two.id] == NOW + dt.timedelta(seconds=120)  # used at 120.5 s
