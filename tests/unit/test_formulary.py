"""Applying a formulary edition re-tags the tenant's products; diff on files; idempotent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from graph.embedded import EmbeddedGraphStore
from graph.model import FormularyDecision, FormularyStatus, ListedIn, Product
from ingest.formulary import (
    ReviewStateError,
    apply_edition,
    confirm_row,
    diff_files,
    formulary_states,
    load_edition,
    mark_not_listed,
)
from resolution.errors import UnknownRowError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nrdl"
MINI_2024 = FIXTURES / "nrdl-2024-mini.xlsx"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "nrdl"
T = "hz"

PRODUCTS = [
    Product(
        tenant=T, sku="OME-20", name="奥美拉唑肠溶胶囊", generic_name="奥美拉唑", dosage_form="胶囊剂", spec="20mg*14粒"
    ),
    Product(tenant=T, sku="OME-INJ", name="注射用奥美拉唑钠", generic_name="奥美拉唑钠", dosage_form="注射剂"),
    Product(tenant=T, sku="MET-XR", name="盐酸二甲双胍缓释片", generic_name="盐酸二甲双胍", dosage_form="缓释片"),
    Product(tenant=T, sku="LWDH", name="六味地黄胶囊", dosage_form="胶囊剂"),
    Product(tenant=T, sku="NHQG", name="牛黄清感胶囊", dosage_form="胶囊剂"),
    Product(tenant=T, sku="ATV", name="阿托伐他汀钙片", generic_name="阿托伐他汀钙", dosage_form="片剂"),
]


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=128)
    s.upsert_nodes(T, PRODUCTS)
    yield s
    s.close()


def _listed(store: EmbeddedGraphStore) -> dict[str, ListedIn]:
    return {e.sku: e for page in store.iter_edges(T, ListedIn) for e in page}


def test_apply_tags_matching_products_with_their_status(store: EmbeddedGraphStore) -> None:
    drugs = load_edition([MINI_2024], "NRDL-2024")
    report = apply_edition(store, T, drugs, edition_id="NRDL-2024", name="国家医保药品目录（2024年）")
    listed = _listed(store)
    assert listed["OME-20"].category == "甲" and listed["OME-20"].code == "15"
    assert listed["OME-INJ"].category == "乙" and "应激性溃疡" in (listed["OME-INJ"].restriction or "")
    assert listed["MET-XR"].category == "乙"  # 缓释控释剂型 row, not the 甲 口服常释剂型 one
    assert listed["LWDH"].category == "乙"
    assert listed["NHQG"].payment_standard == "0.63元(0.3g/粒)"
    assert listed["NHQG"].section == "协议中成药" and listed["NHQG"].nrdl_name == "牛黄清感胶囊"
    assert (listed["OME-20"].section, listed["OME-20"].nrdl_name, listed["OME-20"].dosage_form) == (
        "西药部分",
        "奥美拉唑",
        "口服常释剂型",
    )
    assert "ATV" not in listed
    assert report.tagged == len(listed) == 5
    status = {e.sku: e for page in store.iter_edges(T, FormularyStatus) for e in page}
    assert set(status) == {"ATV"} and status["ATV"].state == "not_listed"
    states = formulary_states(store, T, edition_id="NRDL-2024")
    assert sorted(s.sku for s in states) == sorted(p.sku for p in PRODUCTS)  # every product exactly once
    changes = len(store.changes(T))
    again = apply_edition(store, T, drugs, edition_id="NRDL-2024", name="国家医保药品目录（2024年）")
    assert again.tagged == 5 and store.counts(T)[T]["LISTED_IN"] == 5
    assert len(store.changes(T)) == changes  # re-applying changes nothing


def test_products_listed_before_but_not_now_are_reported(store: EmbeddedGraphStore) -> None:
    store.upsert_nodes(T, [Product(tenant=T, sku="GONE", name="某已调出药品片", dosage_form="片剂")])
    from graph.model import FormularyEdition

    store.upsert_nodes(T, [FormularyEdition(tenant=T, id="OLD", name="旧目录")])
    store.upsert_edges(T, [ListedIn(tenant=T, sku="GONE", edition_id="OLD", category="乙")])
    report = apply_edition(store, T, load_edition([MINI_2024], "NRDL-2024"), edition_id="NRDL-2024", name="x")
    assert report.unmatched_products == ["GONE"]


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"real NRDL files not found at {SHARED}")
def test_real_2022_to_2024_western_diff_counts() -> None:
    diff = diff_files([SHARED / "nrdl-2022-western.xlsx"], [SHARED / "nrdl-2024.xlsx"], kind="western")
    counts = diff.counts()
    assert (counts["added"], counts["removed"], counts["category_changed"], counts["restriction_changed"]) == (
        495,
        20,
        0,
        142,
    )


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"real NRDL files not found at {SHARED}")
def test_applying_the_official_2024_list_to_the_demo_catalogue_agrees_with_its_recorded_status(
    tmp_path: Path,
) -> None:
    """The demo catalogue records each product's real 2024 status; applying the official file must reproduce it."""
    import datetime as dt

    from demo.load import load_demo

    with EmbeddedGraphStore(tmp_path / "demo", buffer_pool_mb=256) as store:
        load_demo(store, as_of=dt.date(2026, 11, 25))
        drugs = load_edition([SHARED / "nrdl-2024.xlsx"], "official")
        apply_edition(store, "hz-pharma", drugs, edition_id="official", name="2024 official file")
        edges = [e for page in store.iter_edges("hz-pharma", ListedIn) for e in page]
        states = formulary_states(store, "hz-pharma", edition_id="official")
        products = store.counts("hz-pharma")["hz-pharma"]["Product"]
    recorded = {e.sku: e for e in edges if e.edition_id == "NRDL-2024"}
    applied = {e.sku: e for e in edges if e.edition_id == "official"}
    assert set(applied) <= set(recorded)  # no product tagged that is not on the list
    assert len(applied) >= len(recorded) - 1
    assert all(applied[k].category == recorded[k].category for k in applied)
    assert all((applied[k].section, applied[k].code) == (recorded[k].section, recorded[k].code) for k in applied)
    # every one of the demo's products is in exactly one state
    assert products == 127 and len(states) == 127 and len({s.sku for s in states}) == 127
    assert {s.state for s in states} <= {"matched", "not_listed", "review"}


def test_review_queue_decisions_are_kept_and_reused_on_the_next_edition(store: EmbeddedGraphStore) -> None:
    drugs = load_edition([MINI_2024], "NRDL-2024")
    store.upsert_nodes(T, [Product(tenant=T, sku="OME-X", name="奥美拉唑")])  # no form: one row per form → review
    apply_edition(store, T, drugs, edition_id="NRDL-2024", name="x")
    [review] = [s for s in formulary_states(store, T, edition_id="NRDL-2024") if s.state == "review"]
    assert review.sku == "OME-X" and len(review.candidates) >= 2
    now = dt.datetime(2025, 3, 1, 9, 0)
    with pytest.raises(UnknownRowError):
        confirm_row(store, T, "OME-X", "NRDL-2024", "no|such|row|x", actor="李老师", now=now)
    with pytest.raises(ReviewStateError):
        confirm_row(store, T, "OME-20", "NRDL-2024", review.candidates[0]["identity"], actor="李老师", now=now)
    pick = next(c for c in review.candidates if c["dosage_form"] == "口服常释剂型")
    state = confirm_row(store, T, "OME-X", "NRDL-2024", pick["identity"], actor="李老师", now=now)
    assert (state.state, state.number, state.decided_by) == ("matched", "15", "person:李老师")
    assert [e.sku for page in store.iter_edges(T, FormularyStatus) for e in page].count("OME-X") == 0
    state = mark_not_listed(store, T, "LWDH", "NRDL-2024", reason="not_a_drug", note="样品", actor="李老师", now=now)
    assert state.state == "not_listed" and "LWDH" not in _listed(store)
    assert {d.sku for page in store.iter_nodes(T, FormularyDecision) for d in page} == {"OME-X", "LWDH"}
    kinds = [c.kind for c in store.changes(T)]
    assert "formulary_confirmed" in kinds and "formulary_not_listed" in kinds
    # the next edition: both decisions reused, not asked again
    report = apply_edition(store, T, load_edition([MINI_2024], "NRDL-2025"), edition_id="NRDL-2025", name="y")
    assert report.reused_decisions == 2
    by_sku = {s.sku: s for s in formulary_states(store, T, edition_id="NRDL-2025")}
    assert by_sku["OME-X"].state == "matched" and by_sku["OME-X"].decided_by == "person:李老师"
    assert by_sku["LWDH"].state == "not_listed" and by_sku["LWDH"].reason == "not_a_drug"


def test_a_negotiated_row_wins_over_an_ordinary_row_of_the_same_drug(store: EmbeddedGraphStore) -> None:
    from ingest.nrdl import SECTION_NEGOTIATED_WESTERN, SECTION_WESTERN, NrdlDrug

    def row(section: str, standard: str | None, number: str) -> NrdlDrug:
        # as the official list prints them: a 西药 row names the drug without its form (剂型 column), a negotiated
        # row names the product with its form
        name = "阿托伐他汀钙片" if section == SECTION_NEGOTIATED_WESTERN else "阿托伐他汀钙"
        return NrdlDrug(
            edition="E", section=section, kind="western", number=number, classification_code=None,
            classification_name=None, category="乙", name=name, alternative_names=(), dosage_form="片剂",
            restriction=None, payment_standard=standard, payment_standard_confidential=False, agreement_period=None,
            source=f"x:{number}",
        )  # fmt: skip

    ordinary = row(SECTION_WESTERN, None, "1")
    negotiated = row(SECTION_NEGOTIATED_WESTERN, "24.15元(每片含阿托伐他汀20mg)", "2")
    for rows in ([ordinary, negotiated], [negotiated, ordinary]):
        apply_edition(store, T, rows, edition_id="E", name="x")
        assert _listed(store)["ATV"].payment_standard == "24.15元(每片含阿托伐他汀20mg)"
        assert _listed(store)["ATV"].code == "2"
