"""Objection answers over HTTP: badges, 无匹配话术 with a request action, the trainers' queue, entry categories."""

from __future__ import annotations

from tests.api.conftest import Deployment


def ask(d: Deployment, body: dict[str, object], role: str = "rep", tenant: str = "hz-pharma") -> dict[str, object]:
    r = d.client.post("/v1/objection-answers", json=body, headers=d.headers(role, tenant))
    assert r.status_code == 200, r.text
    out: dict[str, object] = r.json()
    return out


def test_answers_say_their_level_as_a_badge_and_what_was_read(deployment: Deployment) -> None:
    d = deployment
    scripts = d.client.get("/v1/entries?kind=objection_script&limit=1", headers=d.headers("rep")).json()["items"]
    sku = scripts[0]["skus"][0]
    out = ask(deployment, {"objection": "顾客嫌价隔太贵", "skus": [sku], "k": 3})
    assert out["status"] == "answered"
    badges = {"product": "本品", "indication": "同适应症", "general": "通用"}
    answers = out["answers"]
    assert isinstance(answers, list) and answers
    assert all(a["badge"] == badges[a["level"]] and a["why"] for a in answers)
    reading = out["reading"]
    assert isinstance(reading, dict)
    assert {"typed": "价隔", "read_as": "价格"} in reading["fixes"] and "price" in reading["categories"]


def test_nonsense_gets_no_match_with_the_nearest_general_scripts_and_a_request_action(deployment: Deployment) -> None:
    out = ask(deployment, {"objection": "asdfgh qwerty"})
    assert out["status"] == "no_match" and out["answers"] == []
    assert isinstance(out["message"], str) and out["message"].startswith("无匹配话术")
    nearest = out["nearest_general"]
    assert isinstance(nearest, list) and all(a["nearest"] and a["badge"] == "通用" for a in nearest)
    action = out["request_script"]
    assert isinstance(action, dict) and action["path"] == "/v1/script-requests"
    assert action["body"]["query"] == "asdfgh qwerty"


def test_a_request_lands_in_the_trainers_queue_of_its_tenant_and_is_closed_once(deployment: Deployment) -> None:
    d = deployment
    made = d.client.post("/v1/script-requests", json={"query": "发票老是开错（队列测试）", "category": "payment_terms"},
                         headers=d.headers("rep"))  # fmt: skip
    assert made.status_code == 201, made.text
    request = made.json()
    assert request["status"] == "open" and "rep" in request["requested_by"]
    queue = d.client.get("/v1/script-requests", headers=d.headers("trainer")).json()
    assert request["id"] in {r["id"] for r in queue["items"]}
    other = d.client.get("/v1/script-requests", headers=d.headers("trainer", "sh-pharma")).json()
    assert request["id"] not in {r["id"] for r in other["items"]}
    missing = d.client.post(f"/v1/script-requests/{request['id']}/close", json={"status": "done", "entry_id": "NOPE"},
                            headers=d.headers("trainer"))  # fmt: skip
    assert missing.status_code == 404
    path = f"/v1/script-requests/{request['id']}/close"
    closed = d.client.post(path, json={"status": "declined", "note": "发票问题转财务"}, headers=d.headers("trainer"))
    assert closed.status_code == 200 and closed.json()["status"] == "declined"
    again = d.client.post(path, json={"status": "declined"}, headers=d.headers("admin"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "request_closed"
    open_ids = {r["id"] for r in d.client.get("/v1/script-requests", headers=d.headers("trainer")).json()["items"]}
    assert request["id"] not in open_ids
    from_other = d.client.post(path, json={"status": "done"}, headers=d.headers("trainer", "sh-pharma"))
    assert from_other.status_code == 404


def test_entries_carry_category_and_customer_types_and_filter_by_them(deployment: Deployment) -> None:
    d = deployment
    body = {"kind": "objection_script", "title": "门店嫌冷链药配送费高（类别测试）", "body": "讲冷链成本。",
            "category": "stock", "customer_types": ["连锁"]}  # fmt: skip
    bad = d.client.post("/v1/entries", json={**body, "category": "weather"}, headers=d.headers("trainer"))
    assert bad.status_code == 422
    body["customer_types"] = ["chain"]
    made = d.client.post("/v1/entries", json=body, headers=d.headers("trainer"))
    assert made.status_code == 201, made.text
    entry = made.json()
    assert entry["category"] == "stock" and entry["customer_types"] == ["chain"]
    listed = d.client.get("/v1/entries?category=stock&customer_type=chain&status=draft", headers=d.headers("trainer"))
    assert entry["id"] in {e["id"] for e in listed.json()["items"]}
    hospital = d.client.get("/v1/entries?category=stock&customer_type=hospital&status=draft",
                            headers=d.headers("trainer"))  # fmt: skip
    assert entry["id"] not in {e["id"] for e in hospital.json()["items"]}
    patched = d.client.patch(f"/v1/entries/{entry['id']}", json={"version": entry["version"], "category": "price"},
                             headers=d.headers("trainer"))  # fmt: skip
    assert patched.status_code == 200 and patched.json()["category"] == "price"
    assert patched.json()["customer_types"] == ["chain"]
    cleared = d.client.patch(f"/v1/entries/{entry['id']}", json={"version": patched.json()["version"],
                             "clear_category": True}, headers=d.headers("trainer"))  # fmt: skip
    assert cleared.json()["category"] is None


def test_reps_get_published_scripts_only(deployment: Deployment) -> None:
    d = deployment
    title = "草稿话术只给培训部看（可见性测试）"
    made = d.client.post("/v1/entries", json={"kind": "objection_script", "title": title, "body": title},
                         headers=d.headers("trainer"))  # fmt: skip
    assert made.status_code == 201
    out = ask(d, {"objection": title, "k": 20})
    shown = [a["entry_id"] for a in [*out["answers"], *out["nearest_general"]]]  # type: ignore[misc]
    assert made.json()["id"] not in shown


def test_an_unknown_customer_or_sku_is_404(deployment: Deployment) -> None:
    d = deployment
    r = d.client.post("/v1/objection-answers", json={"objection": "太贵了", "customer_id": "C-NOPE"},
                      headers=d.headers("rep"))  # fmt: skip
    assert r.status_code == 404
    r = d.client.post("/v1/objection-answers", json={"objection": "太贵了", "skus": ["SKU-NOPE"]},
                      headers=d.headers("rep"))  # fmt: skip
    assert r.status_code == 404


def test_a_productless_complaint_on_the_demo_gets_a_general_script_of_its_category(deployment: Deployment) -> None:
    for text, category in (("太贵了", "price"), ("送货太慢了", "stock"), ("已经有固定供应商了", "incumbent_supplier")):
        out = ask(deployment, {"objection": text, "k": 3})
        assert out["status"] == "answered", (text, out)
        first = out["answers"][0]  # type: ignore[index]
        assert first["badge"] == "通用" and first["category"] == category, (text, first)
