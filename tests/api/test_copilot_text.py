"""FAQ proposals made drafts over HTTP, and the optional chat-model rewrite (LangChain's fake chat model)."""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from tests.api.conftest import Deployment


def test_faq_proposals_become_drafts_once(deployment: Deployment) -> None:
    trainer = deployment.headers("trainer")
    found = deployment.client.get("/v1/faq/proposals", headers=trainer).json()
    assert found["interactions"] > 1000 and found["proposals"]
    top = found["proposals"][0]
    assert top["examples"] and all(e["interaction_id"].startswith("I-") for e in top["examples"])
    first = deployment.client.post("/v1/faq/drafts", headers=trainer, json={"proposal_ids": [top["id"]]}).json()
    assert first["created"] == [top["id"]]
    again = deployment.client.post("/v1/faq/drafts", headers=trainer, json={"proposal_ids": [top["id"]]}).json()
    assert again["created"] == [] and again["unchanged"] == [top["id"]]
    draft = deployment.client.get(f"/v1/entries/{top['id']}", headers=trainer).json()
    assert (draft["kind"], draft["status"]) == ("faq", "draft")
    assert top["examples"][0]["interaction_id"] in draft["body"]


def _scripted_sku(deployment: Deployment) -> str:
    """A product with a published price script (a product without scripts gets 无匹配话术, nothing to rewrite)."""
    found = deployment.client.get("/v1/entries?kind=objection_script&q=贵&limit=1", headers=deployment.headers("rep"))
    sku: str = found.json()["items"][0]["skus"][0]
    return sku


def test_rewrite_is_extractive_without_a_model(deployment: Deployment) -> None:
    body = {"objection": "店长说太贵了", "skus": [_scripted_sku(deployment)], "rewrite": True}
    out = deployment.client.post("/v1/objection-answers", headers=deployment.headers("rep"), json=body).json()
    rewritten = out["rewritten"]
    assert rewritten["source"] == "extractive" and rewritten["model"] is None
    assert [a["entry_id"] for a in out["answers"]] == rewritten["cited_ids"]


def test_a_faithful_model_text_is_used_and_an_invented_number_is_refused(deployment: Deployment) -> None:
    rep = deployment.headers("rep")
    body = {"objection": "店长说太贵了", "skus": [_scripted_sku(deployment)], "k": 1, "rewrite": True}
    plain = deployment.client.post("/v1/objection-answers", headers=rep, json=body).json()
    eid = plain["answers"][0]["entry_id"]
    deployment.state.chat_model = FakeListChatModel(
        responses=[f"先认同顾客的感受，再说明疗效和用药便利 [{eid}]。", f"现在买立减 37% [{eid}]。"]
    )
    try:
        good = deployment.client.post("/v1/objection-answers", headers=rep, json=body).json()["rewritten"]
        bad = deployment.client.post("/v1/objection-answers", headers=rep, json=body).json()["rewritten"]
    finally:
        deployment.state.chat_model = None
    assert (good["source"], good["cited_ids"]) == ("llm", [eid]) and "先认同" in good["text"]
    assert bad["source"] == "extractive" and "37" in (bad["fallback_reason"] or "")
    assert "rejected_output" not in bad  # the refused text never reaches a rep


def test_briefing_summary_cites_the_customer(deployment: Deployment) -> None:
    out = deployment.client.get("/v1/customers/C-HZ-00001/briefing/summary", headers=deployment.headers("rep")).json()
    assert out["source"] == "extractive" and "客户健康度" in out["text"]
