"""The drug-safety queue over the API: reactions in demo notes and in objection queries, forwarded and closed."""

from __future__ import annotations

from tests.api.conftest import Deployment


def test_reactions_in_the_demo_notes_are_queued_with_customer_product_date_and_text(deployment: Deployment) -> None:
    d = deployment
    page = d.client.get("/v1/safety-reports?status=all&limit=500", headers=d.headers("safety")).json()
    assert page["total"] > 50  # the demo's visit notes report reactions (店员反馈有顾客服用…后出现…)
    for item in page["items"][:50]:
        assert item["source"] == "interaction" and item["source_id"] and item["at"]
        assert item["customer_id"] and item["customer_name"] and item["text"] and item["symptoms"]
        assert item["sentence"] in item["text"] and len(item["products"]) == len(item["skus"])
    other = d.client.get("/v1/safety-reports?status=all", headers=d.headers("safety", "sh-pharma")).json()
    assert not {i["id"] for i in other["items"]} & {i["id"] for i in page["items"]} or all(
        i["customer_id"].startswith("C-SH") for i in other["items"]
    )


def test_an_objection_query_reporting_a_reaction_is_routed_to_drug_safety(deployment: Deployment) -> None:
    d = deployment
    query = {"objection": "店长说有顾客吃了立普妥以后肌肉酸痛，不敢再进货了", "customer_id": "C-HZ-00001"}
    answer = d.client.post("/v1/objection-answers", json=query, headers=d.headers("rep")).json()
    assert answer["status"] == "adverse_event" and answer["answers"] == [] and answer["nearest_general"] == []
    assert "药物警戒" in answer["message"] and answer["request_script"] is None
    report_id = answer["safety"]["report_id"]
    assert "肌肉酸痛" in answer["safety"]["symptoms"]

    safety = d.headers("safety")
    queued = d.client.get(f"/v1/safety-reports/{report_id}", headers=safety).json()
    assert queued["status"] == "new" and queued["source"] == "objection_query"
    assert queued["customer_id"] == "C-HZ-00001" and queued["text"] == query["objection"] and queued["audit"] == []
    new_ids = {i["id"] for i in d.client.get("/v1/safety-reports?limit=500", headers=safety).json()["items"]}
    assert report_id in new_ids or d.client.get("/v1/safety-reports?limit=1", headers=safety).json()["total"] > 500

    forwarded = d.client.post(f"/v1/safety-reports/{report_id}/status", headers=safety,
                              json={"status": "forwarded", "note": "已转药物警戒部"}).json()  # fmt: skip
    assert forwarded["status"] == "forwarded" and forwarded["updated_by"].startswith("test safety")
    assert [a["action"] for a in forwarded["audit"]] == ["safety_forwarded"]
    assert forwarded["audit"][0]["actor"].startswith("test safety")
    closed = d.client.post(f"/v1/safety-reports/{report_id}/status", headers=d.headers("admin"),
                           json={"status": "closed"}).json()  # fmt: skip
    assert [a["action"] for a in closed["audit"]] == ["safety_forwarded", "safety_closed"]
    again = d.client.post(f"/v1/safety-reports/{report_id}/status", headers=safety, json={"status": "new"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "report_closed"
    assert d.client.get(f"/v1/safety-reports/{report_id}", headers=d.headers("safety", "sh-pharma")).status_code == 404


def test_a_denied_or_feared_reaction_is_an_ordinary_objection(deployment: Deployment) -> None:
    d = deployment
    for text in ("顾客担心立普妥会不会伤肝，不敢买", "老顾客吃了一年立普妥没有不良反应，就是嫌贵"):
        answer = d.client.post("/v1/objection-answers", json={"objection": text}, headers=d.headers("rep")).json()
        assert answer["status"] in ("answered", "no_match") and answer["safety"] is None
