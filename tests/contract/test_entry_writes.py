"""The curation write of every backend: versioned, atomic, audited, never losing a concurrent edit."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest

from graph.base import CypherGraphStore
from graph.errors import ConflictError, NotFoundError, UnknownReferenceError, VersionConflictError
from graph.model import AboutProduct, AuditEvent, Entry, EntryVersion, Previous
from tests.contract.test_graph_store import load_sample

TenantFactory = Callable[..., str]
NOW = dt.datetime(2026, 11, 25, 9, 30)


def _audit(t: str, n: int, action: str = "edit") -> AuditEvent:
    return AuditEvent(
        tenant=t, id=f"AUD-{n}", at=NOW, actor="trainer-1", action=action, target_label="Entry", target_key="E-NEW"
    )


def _entry(t: str, **kw: object) -> Entry:
    base: dict[str, object] = {"tenant": t, "id": "E-NEW", "kind": "faq", "title": "医保报销比例？"}
    base["body"] = "甲类全额纳入。"
    return Entry.model_validate(base | kw)


def test_create_update_history_and_audit(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    created = store.save_entry(t, _entry(t), expected_version=None, audit=_audit(t, 1, "create"), skus=["SKU-ATV-20"])
    assert created.version == 1
    with pytest.raises(ConflictError):
        store.save_entry(t, _entry(t), expected_version=None, audit=_audit(t, 2, "create"))
    edited = store.save_entry(
        t,
        _entry(t, body="甲类药品全额纳入报销范围。", tags=["医保"]),
        expected_version=1,
        audit=_audit(t, 3),
        skus=["SKU-MET-05"],
        indications=["2型糖尿病"],
    )
    assert edited.version == 2
    stored = store.get_node(t, Entry, "E-NEW")
    assert stored is not None and stored.version == 2 and stored.body == "甲类药品全额纳入报销范围。"
    assert stored.tags == ["医保"]
    [v1] = store.entry_versions(t, "E-NEW")
    assert (v1.version, v1.body, v1.id) == (1, "甲类全额纳入。", "E-NEW@1")
    assert store.get_node(t, EntryVersion, "E-NEW@1") is not None
    previous = [e for page in store.iter_edges(t, Previous) for e in page if e.entry_id == "E-NEW"]
    assert [p.version_id for p in previous] == ["E-NEW@1"]
    about = sorted(a.sku for page in store.iter_edges(t, AboutProduct) for a in page if a.entry_id == "E-NEW")
    assert about == ["SKU-MET-05"]  # replaced, not added
    assert [e.title for e in store.entries(t, indication="2型糖尿病")] == ["医保报销比例？"]
    assert [a.action for a in store.audit_trail(t, "Entry", "E-NEW")] == ["create", "edit"]


def test_stale_version_is_rejected_with_the_current_entry(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    t = tenant_factory()
    store.save_entry(t, _entry(t), expected_version=None, audit=_audit(t, 1))
    store.save_entry(t, _entry(t, title="A 的修改"), expected_version=1, audit=_audit(t, 2))
    with pytest.raises(VersionConflictError) as raised:
        store.save_entry(t, _entry(t, title="B 的修改"), expected_version=1, audit=_audit(t, 3))
    assert raised.value.current.title == "A 的修改" and raised.value.current.version == 2
    assert store.get_node(t, Entry, "E-NEW").title == "A 的修改"  # type: ignore[union-attr]
    assert len(store.entry_versions(t, "E-NEW")) == 1
    assert len(store.audit_trail(t, "Entry", "E-NEW")) == 2  # the rejected write left nothing
    with pytest.raises(NotFoundError):
        store.save_entry(t, _entry(t, id="E-MISSING"), expected_version=1, audit=_audit(t, 4))


def test_failed_write_leaves_nothing(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory()
    load_sample(store, t)
    before = store.counts(t)
    with pytest.raises(UnknownReferenceError):
        store.save_entry(t, _entry(t), expected_version=None, audit=_audit(t, 1), skus=["SKU-ATV-20", "SKU-NOPE"])
    assert store.counts(t) == before


def test_entries_are_scoped_to_their_tenant(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    a, b = tenant_factory("a"), tenant_factory("b")
    store.save_entry(a, _entry(a), expected_version=None, audit=_audit(a, 1))
    with pytest.raises(NotFoundError):  # b cannot edit a's entry with the same id
        store.save_entry(b, _entry(b, title="越权"), expected_version=1, audit=_audit(b, 2))
    assert store.get_node(b, Entry, "E-NEW") is None
    assert store.entry_versions(b, "E-NEW") == [] and store.audit_trail(b, "Entry", "E-NEW") == []
    assert store.get_node(a, Entry, "E-NEW").title == "医保报销比例？"  # type: ignore[union-attr]


def test_concurrent_editors_lose_no_update(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    """Eight editors each add their line, re-reading and retrying on conflict: every line ends up in the body."""
    t = tenant_factory()
    store.save_entry(t, _entry(t, body=""), expected_version=None, audit=_audit(t, 0))
    conflicts = []
    counter = iter(range(1, 10_000))
    lock = threading.Lock()

    def editor(n: int) -> None:
        for _ in range(3):
            while True:
                current = store.get_node(t, Entry, "E-NEW")
                assert current is not None
                with lock:
                    audit_id = next(counter)
                edited = current.model_copy(update={"body": current.body + f"[{n}]"})
                try:
                    store.save_entry(t, edited, expected_version=current.version, audit=_audit(t, audit_id))
                    break
                except VersionConflictError:
                    conflicts.append(n)

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    final = store.get_node(t, Entry, "E-NEW")
    assert final is not None
    assert sorted(final.body.count(f"[{n}]") for n in range(8)) == [3] * 8
    assert final.version == 1 + 8 * 3
    assert len(store.entry_versions(t, "E-NEW")) == 8 * 3


def test_notes_and_pending_revisions_are_stored_and_kept_in_history(
    store: CypherGraphStore, tenant_factory: TenantFactory
) -> None:
    """Schema 7: a formulary note and a pending revision round-trip, and a version snapshot keeps the revision."""
    t = tenant_factory()
    load_sample(store, t)
    store.save_entry(t, _entry(t, status="published"), expected_version=None, audit=_audit(t, 1, "create"))
    revision = '{"title": "医保报销比例？", "body": "乙类先自付一定比例。", "status": "draft", "base_version": 1}'
    noted = _entry(t, status="published", revision=revision, stale_reason="医保目录 NRDL-2024：…",
                   impact_severity="review", impact_sentence="甲类全额纳入。", impact_edition="NRDL-2024",
                   impact_skus=["SKU-ATV-20"])  # fmt: skip
    assert store.save_entry(t, noted, expected_version=1, audit=_audit(t, 2)).version == 2
    back = store.get_node(t, Entry, "E-NEW")
    assert back is not None and back.model_dump(exclude={"version"}) == noted.model_dump(exclude={"version"})
    cleared = noted.model_copy(update={"revision": None, "impact_severity": None, "impact_skus": []})
    store.save_entry(t, cleared, expected_version=2, audit=_audit(t, 3))
    kept = store.get_node(t, EntryVersion, "E-NEW@2")
    assert kept is not None and kept.revision == revision and kept.body == "甲类全额纳入。"
    now = store.get_node(t, Entry, "E-NEW")
    assert now is not None and now.revision is None and now.impact_skus == [] and now.stale_reason
