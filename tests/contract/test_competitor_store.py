"""Competitor photos and observations on every backend: filters, newest first, pages, and tenant isolation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from graph.base import CypherGraphStore
from graph.model import CompetitorObservation, CompetitorPhoto, SkuCorrection

TenantFactory = Callable[[str], str]


def photo(t: str, n: int, day: int) -> CompetitorPhoto:
    return CompetitorPhoto(
        tenant=t, id=f"{n:064x}", media_type="image/jpeg", size_bytes=100, width=10, height=10,
        taken_on=dt.date(2026, 11, day), uploaded_by="店长", uploaded_at=dt.datetime(2026, 11, day, 9, 0),
    )  # fmt: skip


def observation(
    t: str, n: int, i: int, sku: str | None, day: int, resolution: str = "matched"
) -> CompetitorObservation:
    return CompetitorObservation(
        tenant=t, id=f"{n:016x}-{i:02d}", photo_id=f"{n:064x}", item_index=i, text=f"商品{i}", sku=sku,
        resolution=resolution, observed_on=dt.date(2026, 11, day), current_price=10.0 + i, city="长沙",
    )  # fmt: skip


def test_observations_filter_and_order(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t, other = tenant_factory("t"), tenant_factory("o")
    store.upsert_nodes(t, [photo(t, 1, 20), photo(t, 2, 25)])
    store.upsert_nodes(
        t,
        [observation(t, 1, 0, "A", 20), observation(t, 1, 1, None, 20, "not_carried"),
         observation(t, 2, 0, "A", 25), observation(t, 2, 1, "B", 25, "review")],
    )  # fmt: skip
    store.upsert_nodes(other, [photo(other, 1, 20)])
    store.upsert_nodes(other, [observation(other, 1, 0, "A", 20)])
    everything = store.competitor_observations(t)
    assert [o.id for o in everything][:2] == [f"{2:016x}-00", f"{2:016x}-01"]  # newest first
    assert len(everything) == 4 and all(o.tenant == t for o in everything)
    assert [o.observed_on.day for o in store.competitor_observations(t, sku="A")] == [25, 20]
    assert [o.sku for o in store.competitor_observations(t, resolution="review")] == ["B"]
    assert len(store.competitor_observations(t, photo_id=f"{1:064x}")) == 2
    assert [o.observed_on.day for o in store.competitor_observations(t, since=dt.date(2026, 11, 21))] == [25, 25]
    assert len(store.competitor_observations(t, limit=1, offset=1)) == 1
    assert len(store.competitor_observations(other)) == 1
    assert store.competitor_observations(tenant_factory("empty")) == []


def test_photos_page_newest_first_with_total(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t, other = tenant_factory("t"), tenant_factory("o")
    store.upsert_nodes(t, [photo(t, n, day) for n, day in ((1, 20), (2, 25), (3, 22))])
    store.upsert_nodes(other, [photo(other, 9, 28)])
    page, total = store.competitor_photos(t, limit=2)
    assert total == 3 and [p.taken_on.day for p in page] == [25, 22]
    assert store.competitor_photos(t, limit=2, offset=2)[0][0].taken_on.day == 20
    assert store.get_node(other, CompetitorPhoto, f"{1:064x}") is None


def test_a_correction_round_trips(store: CypherGraphStore, tenant_factory: TenantFactory) -> None:
    t = tenant_factory("t")
    c = SkuCorrection(tenant=t, id="以岭连花清瘟胶囊0.35g×24粒", text="以岭连花清瘟胶囊 0.35g*24粒", sku=None,
                      decided_by="李老师", decided_at=dt.datetime(2026, 12, 1, 10, 0))  # fmt: skip
    store.upsert_nodes(t, [c])
    assert store.get_node(t, SkuCorrection, c.id) == c
