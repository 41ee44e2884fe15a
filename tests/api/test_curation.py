"""The trainers' workflow over HTTP: versions, 409 on a stale write, audit, history, diff, and retrieval at once."""

from __future__ import annotations

import threading

from tests.api.conftest import Deployment

OBJECTION = "顾客说这个降压药的锌铜配比口感太差想换别的牌子"  # a made-up objection only the new script answers
ASK = {"objection": OBJECTION, "skus": ["SKU-999GML"], "k": 3}
"""Asked with the script's product selected: a product script answers only when its product is at hand."""


def _create(d: Deployment, title: str, body: str, kind: str = "objection_script") -> dict:  # type: ignore[type-arg]
    response = d.client.post(
        "/v1/entries",
        headers=d.headers("trainer"),
        json={"kind": kind, "title": title, "body": body, "tags": ["测试"], "skus": ["SKU-999GML"]},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_workflow_from_draft_to_published_to_retired(deployment: Deployment) -> None:
    d, trainer, rep = deployment, deployment.headers("trainer"), deployment.headers("rep")
    entry = _create(d, "口感异议的应对", "先认同顾客感受。锌铜配比口感差的说法没有依据。")
    assert (entry["status"], entry["version"], entry["skus"]) == ("draft", 1, ["SKU-999GML"])
    assert d.client.get(f"/v1/entries/{entry['id']}", headers=rep).status_code == 404  # reps see published only

    # publishing a draft that was never reviewed is not a step the workflow has
    skipped = d.client.post(f"/v1/entries/{entry['id']}/publish", headers=trainer, json={"version": 1})
    assert skipped.status_code == 409 and skipped.json()["error"]["code"] == "invalid_transition"

    edited = d.client.patch(
        f"/v1/entries/{entry['id']}",
        headers=trainer,
        json={"version": 1, "body": "先认同顾客感受。锌铜配比口感差的说法没有依据。可以推荐同成分的其他剂型。"},
    ).json()
    assert edited["version"] == 2
    submitted = d.client.post(f"/v1/entries/{entry['id']}/submit", headers=trainer, json={"version": 2}).json()
    assert submitted["status"] == "in_review"
    before = d.client.post("/v1/objection-answers", headers=rep, json=ASK).json()
    assert entry["id"] not in [a["entry_id"] for a in before["answers"]]
    # four eyes: the last editor may not publish; the refusal says why, in Chinese, with a code
    own = d.client.post(f"/v1/entries/{entry['id']}/publish", headers=trainer, json={"version": 3})
    assert own.status_code == 403 and own.json()["error"]["code"] == "four_eyes_required"
    assert (
        "四眼原则" in own.json()["error"]["message"] and own.json()["error"]["details"]["last_editor"] == "test trainer"
    )
    published = d.client.post(
        f"/v1/entries/{entry['id']}/publish", headers=d.headers("reviewer"), json={"version": 3, "note": "审核通过"}
    ).json()
    assert (published["status"], published["version"]) == ("published", 4)

    # searchable at once, with its version
    after = d.client.post("/v1/objection-answers", headers=rep, json=ASK).json()
    top = after["answers"][0]
    assert (top["entry_id"], top["version"]) == (entry["id"], 4)

    history = d.client.get(f"/v1/entries/{entry['id']}/history", headers=trainer).json()
    assert [v["version"] for v in history["versions"]] == [1, 2, 3, 4]
    assert [a["action"] for a in history["audit"]] == ["create", "edit", "submit", "publish"]
    assert [a["actor"] for a in history["audit"]] == ["test trainer"] * 3 + ["test reviewer"]  # the keys' names
    assert history["audit"][1]["details"]["changes"]["body"]["from"].startswith("先认同")
    assert history["audit"][3]["details"]["note"] == "审核通过"
    diff = d.client.get(f"/v1/entries/{entry['id']}/diff?from=1", headers=trainer).json()
    assert {"op": "insert", "old": "", "new": "可以推荐同成分的其他剂型。"} in diff["body"]

    retired = d.client.post(f"/v1/entries/{entry['id']}/retire", headers=trainer, json={"version": 4}).json()
    assert retired["status"] == "retired"
    gone = d.client.post("/v1/objection-answers", headers=rep, json=ASK).json()
    assert entry["id"] not in [a["entry_id"] for a in gone["answers"]]
    again = d.client.patch(f"/v1/entries/{entry['id']}", headers=trainer, json={"version": 5, "title": "复活"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"


def test_stale_write_gets_409_with_the_current_version(deployment: Deployment) -> None:
    d, trainer = deployment, deployment.headers("trainer")
    entry = _create(d, "冲突测试", "第一版。")
    first = d.client.patch(f"/v1/entries/{entry['id']}", headers=trainer, json={"version": 1, "body": "甲的修改。"})
    assert first.status_code == 200
    second = d.client.patch(f"/v1/entries/{entry['id']}", headers=trainer, json={"version": 1, "body": "乙的修改。"})
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "version_conflict"
    assert error["details"]["current"]["version"] == 2 and error["details"]["current"]["body"] == "甲的修改。"
    assert d.client.get(f"/v1/entries/{entry['id']}", headers=trainer).json()["body"] == "甲的修改。"


def test_many_clients_editing_one_entry_lose_no_update(deployment: Deployment) -> None:
    """Twelve clients each append a line, re-reading and retrying after every 409: all 36 lines survive."""
    d, trainer = deployment, deployment.headers("trainer")
    entry = _create(d, "并发编辑", "", kind="faq")
    conflicts: list[int] = []
    failures: list[str] = []

    def client(n: int) -> None:
        for i in range(3):
            while True:
                current = d.client.get(f"/v1/entries/{entry['id']}", headers=trainer).json()
                body = current["body"] + f"[{n}-{i}]"
                r = d.client.patch(
                    f"/v1/entries/{entry['id']}", headers=trainer, json={"version": current["version"], "body": body}
                )
                if r.status_code == 200:
                    break
                if r.status_code != 409:
                    failures.append(r.text)
                    return
                conflicts.append(n)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    final = d.client.get(f"/v1/entries/{entry['id']}", headers=trainer).json()
    assert all(final["body"].count(f"[{n}-{i}]") == 1 for n in range(12) for i in range(3))
    assert final["version"] == 1 + 36
    history = d.client.get(f"/v1/entries/{entry['id']}/history", headers=trainer).json()
    assert len(history["versions"]) == 37 and len(history["audit"]) == 37


def test_formulary_notes_after_a_formulary_change_and_clearing_them(deployment: Deployment) -> None:
    d, trainer, reviewer = deployment, deployment.headers("trainer"), deployment.headers("reviewer")
    preview = d.client.get("/v1/formulary/impact", headers=trainer).json()
    assert preview["applied"] is False and preview["changes"]
    assert 0 < len(preview["entries"]) < preview["mentioning"]  # claims, not every entry naming a product
    applied = d.client.post("/v1/formulary/impact", headers=trainer).json()
    withdrawn = [e for e in applied["entries"] if e["severity"] == "withdraw"]
    assert withdrawn and all(e["sentence"] for e in withdrawn)
    queue = d.client.get("/v1/entries?status=stale&limit=500", headers=trainer).json()
    first = next(e for e in queue["items"] if e["id"] in {w["entry_id"] for w in withdrawn})
    assert first["stale_reason"].startswith("医保目录") and first["impact_severity"] == "withdraw"
    assert first["impact_sentence"] in first["body"] or first["impact_sentence"] in first["title"]
    # withdrawn entries are out of the reps' view until a trainer confirms them
    assert d.client.get(f"/v1/entries/{first['id']}", headers=d.headers("rep")).status_code == 404
    history = d.client.get(f"/v1/entries/{first['id']}/history", headers=trainer).json()
    mark = history["audit"][-1]
    assert mark["action"] == "formulary_note" and mark["actor"] == "test trainer"
    assert not mark["at"].endswith("T00:00:00Z")  # the real time, not the date at midnight
    # publishing straight from stale is no step: submit, then another person publishes (clearing the note)
    straight = d.client.post(f"/v1/entries/{first['id']}/publish", headers=reviewer, json={"version": first["version"]})
    assert straight.status_code == 409 and straight.json()["error"]["code"] == "invalid_transition"
    cleared = d.client.post(
        f"/v1/entries/{first['id']}/confirm", headers=reviewer, json={"version": first["version"], "note": "已核对"}
    ).json()
    assert (cleared["status"], cleared["stale_reason"], cleared["impact_severity"]) == ("published", None, None)
    assert d.client.get(f"/v1/entries/{first['id']}", headers=d.headers("rep")).status_code == 200


def test_a_published_entry_keeps_its_text_for_reps_while_a_revision_is_reviewed(deployment: Deployment) -> None:
    d, trainer, reviewer, rep = (deployment, deployment.headers("trainer"), deployment.headers("reviewer"),
                                 deployment.headers("rep"))  # fmt: skip
    question = {"objection": "顾客说这个降压药的钼锰含量看不懂", "skus": ["SKU-999GML"], "k": 3}
    entry = _create(d, "钼锰含量异议", "先请顾客看说明书。钼锰含量的说法没有依据。")
    eid = entry["id"]
    d.client.post(f"/v1/entries/{eid}/submit", headers=trainer, json={"version": 1}).raise_for_status()
    d.client.post(f"/v1/entries/{eid}/publish", headers=reviewer, json={"version": 2}).raise_for_status()
    answered = d.client.post("/v1/objection-answers", headers=rep, json=question).json()["answers"]
    live_script = next(a["script"] for a in answered if a["entry_id"] == eid)

    new_body = "先请顾客看说明书。钼锰含量的说法没有依据。可以请药师当面解释。"
    edited = d.client.patch(f"/v1/entries/{eid}", headers=trainer, json={"version": 3, "body": new_body}).json()
    assert (edited["status"], edited["body"], edited["version"]) == ("published", entry["body"], 4)
    assert edited["revision"]["body"] == new_body and edited["revision"]["status"] == "draft"
    seen = d.client.get(f"/v1/entries/{eid}", headers=rep).json()
    assert (seen["body"], seen["revision"]) == (entry["body"], None)  # reps read the published text, nothing else
    answered = d.client.post("/v1/objection-answers", headers=rep, json=question).json()["answers"]
    assert next(a["script"] for a in answered if a["entry_id"] == eid) == live_script

    diff = d.client.get(f"/v1/entries/{eid}/diff?from=4&pending=true", headers=trainer).json()
    assert diff["pending"] and {"op": "insert", "old": "", "new": "可以请药师当面解释。"} in diff["body"]
    submitted = d.client.post(f"/v1/entries/{eid}/submit", headers=trainer, json={"version": 4}).json()
    assert (submitted["status"], submitted["revision"]["status"]) == ("published", "in_review")
    own = d.client.post(f"/v1/entries/{eid}/publish", headers=trainer, json={"version": 5})
    assert own.status_code == 403 and own.json()["error"]["code"] == "four_eyes_required"
    done = d.client.post(f"/v1/entries/{eid}/publish", headers=reviewer, json={"version": 5}).json()
    assert (done["body"], done["revision"], done["version"]) == (new_body, None, 6)
    assert d.client.get(f"/v1/entries/{eid}", headers=rep).json()["body"] == new_body

    history = d.client.get(f"/v1/entries/{eid}/history", headers=trainer).json()
    assert [a["action"] for a in history["audit"]] == ["create", "submit", "publish", "edit_revision", "submit",
                                                       "publish"]  # fmt: skip
    v5 = next(v for v in history["versions"] if v["version"] == 5)
    assert v5["body"] == entry["body"] and v5["revision"]["body"] == new_body  # both texts, in history
    d.client.post(f"/v1/entries/{eid}/retire", headers=trainer, json={"version": 6}).raise_for_status()  # tidy up


def test_objection_answers_lead_with_the_products_formulary_change(deployment: Deployment) -> None:
    rep = deployment.headers("rep")
    asked = {"objection": "顾客问可威现在能不能报医保", "skus": ["SKU-OSE15-KW"], "k": 3}
    found = deployment.client.post("/v1/objection-answers", headers=rep, json=asked).json()
    [change] = found["formulary_changes"]
    assert change["sku"] == "SKU-OSE15-KW" and (change["old_edition"], change["new_edition"]) == (
        "NRDL-2022",
        "NRDL-2024",
    )
    assert change["effective_date"] == "2025-01-01" and "限流感重症高危人群" in change["old_status"]
    assert change["new_status"].startswith("乙类") and "2025年1月1日" in change["text"]
    unchanged = {"objection": "顾客嫌贵", "skus": ["SKU-999GML"], "k": 3}
    assert (
        deployment.client.post("/v1/objection-answers", headers=rep, json=unchanged).json()["formulary_changes"] == []
    )


def test_a_formulary_note_on_a_draft_keeps_its_state_and_blocks_its_publish(deployment: Deployment) -> None:
    d, trainer, reviewer = deployment, deployment.headers("trainer"), deployment.headers("reviewer")
    created = d.client.post("/v1/entries", headers=trainer, json={
        "kind": "objection_script", "title": "可威报销话术", "skus": ["SKU-OSE15-KW"],
        "body": "【参考话术】可威是医保乙类药，医保规定限流感重症高危人群及重症患者的抗流感病毒治疗才能报销。",
    }).json()  # fmt: skip
    eid = created["id"]
    d.client.post(f"/v1/entries/{eid}/submit", headers=trainer, json={"version": 1}).raise_for_status()
    applied = d.client.post("/v1/formulary/impact", headers=trainer).json()
    mine = next(e for e in applied["entries"] if e["entry_id"] == eid)
    assert mine["severity"] == "withdraw" and "限流感重症高危人群" in mine["sentence"]
    noted = d.client.get(f"/v1/entries/{eid}", headers=trainer).json()
    assert (noted["status"], noted["impact_severity"], noted["impact_skus"]) == (
        "in_review",
        "withdraw",
        ["SKU-OSE15-KW"],
    )
    refused = d.client.post(f"/v1/entries/{eid}/publish", headers=reviewer, json={"version": noted["version"]})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "formulary_note_open"
    assert "医保目录" in refused.json()["error"]["message"]
    queue = d.client.get("/v1/entries?noted=true&limit=500", headers=trainer).json()
    assert eid in [e["id"] for e in queue["items"]]
    # a bulk confirm of the product clears every note of it, one audit record per entry
    bulk = d.client.post("/v1/formulary/notes/confirm", headers=reviewer, json={"sku": "SKU-OSE15-KW"}).json()
    assert eid in bulk["done"]
    trail = d.client.get(f"/v1/entries/{eid}/history", headers=trainer).json()["audit"]
    assert trail[-1]["action"] == "confirm" and trail[-1]["actor"] == "test reviewer"
    assert trail[-1]["details"]["batch"]["sku"] == "SKU-OSE15-KW"
    published = d.client.post(f"/v1/entries/{eid}/publish", headers=reviewer, json={"version": noted["version"] + 1})
    assert published.status_code == 200 and published.json()["status"] == "published"
    retired = d.client.post(f"/v1/entries/{eid}/retire", headers=trainer, json={"version": noted["version"] + 2})
    assert retired.status_code == 200  # tidy up: the shared deployment's other tests see the demo's scripts
