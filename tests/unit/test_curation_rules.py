"""Curation rules a compliance officer signs: publish only from review, four eyes, formulary notes, live revisions."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot import curation
from copilot.curation import EntryEdit, FourEyesError, InvalidTransitionError, NoteOpenError
from copilot.formulary_impact import formulary_impact
from graph.embedded import EmbeddedGraphStore
from graph.model import Entry, EntryVersion, FormularyEdition, ListedIn, Product
from graph.ports import GraphStore

T = "t1"
ALICE, BOB = "王老师", "李老师"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GraphStore]:
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as s:
        s.upsert_nodes(T, [Product(tenant=T, sku="SKU-A", name="安宁片", brand="安宁"),
                           Product(tenant=T, sku="SKU-B", name="康泰胶囊")])  # fmt: skip
        old = FormularyEdition(tenant=T, id="E1", name="旧版", effective_date=dt.date(2023, 3, 1))
        s.upsert_nodes(T, [old, FormularyEdition(tenant=T, id="E2", name="新版", effective_date=dt.date(2025, 1, 1))])
        s.upsert_edges(T, [ListedIn(tenant=T, sku="SKU-A", edition_id="E1", category="乙", restriction="限二线用药"),
                           ListedIn(tenant=T, sku="SKU-A", edition_id="E2", category="乙"),
                           ListedIn(tenant=T, sku="SKU-B", edition_id="E1", category="乙")])  # fmt: skip
        yield s


def _draft(store: GraphStore, body: str, *, by: str = ALICE, eid: str | None = None) -> Entry:
    return curation.create_entry(store, T, actor=by, kind="objection_script", title="安宁片报销话术", body=body,
                                 skus=["SKU-A"], entry_id=eid)  # fmt: skip


def _published(store: GraphStore, body: str, eid: str | None = None) -> Entry:
    e = _draft(store, body, eid=eid)
    e = curation.transition(store, T, e.id, "submit", actor=ALICE, expected_version=e.version)
    return curation.transition(store, T, e.id, "publish", actor=BOB, expected_version=e.version)


def test_publish_only_from_review_and_by_someone_else(store: GraphStore) -> None:
    e = _draft(store, "安宁片可以报销。")
    with pytest.raises(InvalidTransitionError):
        curation.transition(store, T, e.id, "publish", actor=BOB, expected_version=e.version)
    e = curation.transition(store, T, e.id, "submit", actor=ALICE, expected_version=e.version)
    with pytest.raises(FourEyesError) as refused:
        curation.transition(store, T, e.id, "publish", actor=ALICE, expected_version=e.version)
    assert "四眼原则" in str(refused.value) and refused.value.details["last_editor"] == ALICE
    # an older record's actor "name (role, key id)" is the same person as the key's name
    with pytest.raises(FourEyesError):
        curation.transition(store, T, e.id, "publish", actor=f"{ALICE} (trainer, key K9)", expected_version=e.version)
    alone = curation.transition(store, T, e.id, "publish", actor=ALICE, expected_version=e.version, four_eyes=False)
    assert alone.status == "published"


def test_an_edit_of_a_published_entry_is_a_revision_reps_do_not_see_until_published(
    store: GraphStore, tmp_path: Path
) -> None:
    e = _published(store, "安宁片可以报销。")
    change = EntryEdit(body="安宁片可以报销，无限定支付范围。", skus=["SKU-A", "SKU-B"])
    revised = curation.edit_entry(store, T, e.id, actor=ALICE, expected_version=e.version, edit=change)
    assert (revised.status, revised.body) == ("published", "安宁片可以报销。")  # the live text is unchanged
    rev = curation.revision_of(revised)
    assert rev is not None and (rev.status, rev.body, rev.author) == (
        "draft",
        "安宁片可以报销，无限定支付范围。",
        ALICE,
    )
    assert curation.links(store, T, [e.id])[e.id][0] == ["SKU-A"]  # links change with the publish, not before
    again = curation.edit_entry(store, T, e.id, actor=ALICE, expected_version=revised.version,
                                edit=EntryEdit(title="安宁片报销话术（新）"))  # fmt: skip
    assert curation.revision_of(again).title == "安宁片报销话术（新）"  # type: ignore[union-attr]
    with pytest.raises(InvalidTransitionError):  # a revision is reviewed before it is published
        curation.transition(store, T, e.id, "publish", actor=BOB, expected_version=again.version)
    sub = curation.transition(store, T, e.id, "submit", actor=ALICE, expected_version=again.version)
    assert sub.status == "published" and curation.revision_of(sub).status == "in_review"  # type: ignore[union-attr]
    with pytest.raises(FourEyesError):
        curation.transition(store, T, e.id, "publish", actor=ALICE, expected_version=sub.version)
    live = curation.transition(store, T, e.id, "publish", actor=BOB, expected_version=sub.version)
    assert (live.title, live.body, live.revision, live.author) == (
        "安宁片报销话术（新）", "安宁片可以报销，无限定支付范围。", None, ALICE
    )  # fmt: skip
    assert curation.links(store, T, [e.id])[e.id][0] == ["SKU-A", "SKU-B"]
    kept = store.get_node(T, EntryVersion, f"{e.id}@{sub.version}")
    assert kept is not None and kept.body == "安宁片可以报销。" and kept.revision  # history holds both texts
    actions = [a.action for a in store.audit_trail(T, "Entry", e.id)]
    assert actions == ["create", "submit", "publish", "edit_revision", "edit_revision", "submit", "publish"]


def test_a_pending_revision_survives_a_restart(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    with EmbeddedGraphStore(folder, buffer_pool_mb=256) as s:
        s.upsert_nodes(T, [Product(tenant=T, sku="SKU-A", name="安宁片")])
        e = _published(s, "旧文本。")
        e = curation.edit_entry(s, T, e.id, actor=ALICE, expected_version=e.version, edit=EntryEdit(body="新文本。"))
    with EmbeddedGraphStore(folder, buffer_pool_mb=256) as s:
        back = curation.get_entry(s, T, e.id)
        assert back.body == "旧文本。" and curation.revision_of(back).body == "新文本。"  # type: ignore[union-attr]


def test_a_formulary_change_notes_drafts_and_reviews_without_changing_their_state(store: GraphStore) -> None:
    wrong = "【参考话术】安宁片是医保乙类药，医保规定限二线用药才能报销。"
    draft = _draft(store, wrong, eid="E-DRAFT")
    review = _draft(store, wrong, eid="E-REVIEW")
    review = curation.transition(store, T, review.id, "submit", actor=ALICE, expected_version=review.version)
    _published(store, wrong, eid="E-LIVE")
    told = _published(store, "与旧版相比，新版取消了“限二线用药”的限定，安宁片均可按规定由医保支付。", eid="E-TOLD")
    named = _published(store, "安宁片复购率提升14个百分点。", eid="E-NAMED")
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    report = formulary_impact(store, T, today=TODAY, actor="formulary-impact")
    assert set(report.impacts) == {"E-DRAFT", "E-REVIEW", "E-LIVE"} and report.mentioning == 5
    got = {e.id: e for e in store.nodes_by_keys(T, Entry, ["E-DRAFT", "E-REVIEW", "E-LIVE", "E-TOLD", "E-NAMED"])}
    assert (got["E-DRAFT"].status, got["E-REVIEW"].status, got["E-LIVE"].status) == ("draft", "in_review", "stale")
    assert got["E-TOLD"].status == got["E-NAMED"].status == "published" and not got["E-TOLD"].stale_reason
    assert got["E-REVIEW"].impact_severity == "withdraw" and "限二线用药" in (got["E-REVIEW"].impact_sentence or "")
    mark = store.audit_trail(T, "Entry", "E-LIVE")[-1]
    assert mark.action == "formulary_note" and mark.at >= before  # stamped with the real time
    assert json.loads(mark.details)["status"] == {"from": "published", "to": "stale"}
    assert formulary_impact(store, T, today=TODAY).impacts == {}  # re-running changes nothing
    # the reviewer must clear the note: publishing over it is refused, clearing it in the publish step is allowed
    with pytest.raises(NoteOpenError):
        curation.transition(store, T, "E-REVIEW", "publish", actor=BOB, expected_version=got["E-REVIEW"].version)
    published = curation.transition(store, T, "E-REVIEW", "publish", actor=BOB,
                                    expected_version=got["E-REVIEW"].version, clear_note=True)  # fmt: skip
    assert (published.status, published.stale_reason, published.impact_severity) == ("published", None, None)
    assert draft.status == "draft" and told.id and named.id


def test_review_severity_stays_live_and_bulk_actions_write_one_record_each(store: GraphStore) -> None:
    store.upsert_edges(T, [ListedIn(tenant=T, sku="SKU-A", edition_id="E2", category="乙", restriction="限急诊")])
    a = _published(store, "安宁片可以医保报销。", eid="E-A")
    b = _published(store, "安宁片能报销，放心推荐。", eid="E-B")
    report = formulary_impact(store, T, today=TODAY)
    assert {i.severity for i in report.impacts.values()} == {"review"}
    for e in store.nodes_by_keys(T, Entry, [a.id, b.id]):
        assert e.status == "published" and e.impact_severity == "review" and e.impact_skus == ["SKU-A"]
    done = curation.bulk_action(store, T, "withdraw", actor=BOB, sku="SKU-A")
    assert sorted(e.id for e in done.done) == ["E-A", "E-B"] and all(e.status == "stale" for e in done.done)
    records = [store.audit_trail(T, "Entry", i)[-1] for i in ("E-A", "E-B")]
    batches = {json.loads(r.details)["batch"]["id"] for r in records}
    assert [r.action for r in records] == ["withdraw", "withdraw"] and len(batches) == 1
    # confirming brings them back (the confirmer is not their last editor), again one record per entry
    back = curation.bulk_action(store, T, "confirm", actor=BOB, edition="E2")
    assert sorted(e.id for e in back.done) == ["E-A", "E-B"] and all(e.status == "published" for e in back.done)
    assert curation.entries_with_note(store, T, sku="SKU-A") == []
    with pytest.raises(Exception, match="sku"):
        curation.bulk_action(store, T, "confirm", actor=BOB)


def test_bulk_confirm_skips_what_four_eyes_refuses(store: GraphStore) -> None:
    _published(store, "【参考话术】安宁片是医保乙类药，医保规定限二线用药才能报销。", eid="E-W")
    formulary_impact(store, T, today=TODAY)
    result = curation.bulk_action(store, T, "confirm", actor=ALICE, sku="SKU-A")  # Alice wrote it
    assert result.done == [] and "四眼原则" in result.skipped["E-W"]
