"""Case suggestions over HTTP: an existing customer or a new one's profile, and the 匹配度低 label."""

from __future__ import annotations

from tests.api.conftest import Deployment


def test_a_new_customers_profile_is_accepted(deployment: Deployment) -> None:
    body = {"profile": {"type": "chain", "tier": "A", "region": "华东", "store_count": 40}, "skus": [], "text": "会员"}
    response = deployment.client.post("/v1/case-suggestions", headers=deployment.headers("rep"), json=body)
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["match"] in ("good", "weak", "none")
    assert found["label"] == ("匹配度低" if found["match"] == "weak" else "")
    for case in found["cases"]:
        assert 0 <= case["confidence"] <= 1 and case["label"] in ("", "匹配度低")
        assert case["entry_id"].startswith("KB-HZ-")


def test_a_deal_needs_a_customer_or_a_profile_not_both(deployment: Deployment) -> None:
    rep = deployment.headers("rep")
    neither = deployment.client.post("/v1/case-suggestions", headers=rep, json={"skus": []})
    assert neither.status_code == 422 and "customer_id" in neither.text
    both = {"customer_id": "C-HZ-00001", "profile": {"type": "chain"}, "skus": []}
    assert deployment.client.post("/v1/case-suggestions", headers=rep, json=both).status_code == 422
    bad_type = {"profile": {"type": "supermarket"}, "skus": []}
    response = deployment.client.post("/v1/case-suggestions", headers=rep, json=bad_type)
    assert response.status_code == 422 and "profile.type" in response.text


def test_an_existing_customer_still_works_with_reasons(deployment: Deployment) -> None:
    body = {"customer_id": "C-HZ-00001", "skus": [], "text": ""}
    response = deployment.client.post("/v1/case-suggestions", headers=deployment.headers("rep"), json=body)
    assert response.status_code == 200
    for case in response.json()["cases"]:
        assert not any("情境" in w or "同类问题" in w for w in case["why"])  # no text, no text reason
