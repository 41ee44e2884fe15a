"""A key of one tenant never reads or changes another tenant's data: other tenants' ids are simply 'not found'."""

from __future__ import annotations

from tests.api.conftest import Deployment

SH_CUSTOMER, SH_ENTRY = "C-SH-00001", "KB-SH-OS-0001"


def test_the_other_tenants_ids_exist(deployment: Deployment) -> None:
    sh = deployment.headers("trainer", "sh-pharma")
    assert deployment.client.get(f"/v1/customers/{SH_CUSTOMER}", headers=sh).status_code == 200
    assert deployment.client.get(f"/v1/entries/{SH_ENTRY}", headers=sh).status_code == 200


def test_reads_of_another_tenants_ids_are_404(deployment: Deployment) -> None:
    hz = deployment.headers("trainer")
    for path in (
        f"/v1/customers/{SH_CUSTOMER}",
        f"/v1/customers/{SH_CUSTOMER}/briefing",
        f"/v1/entries/{SH_ENTRY}",
        f"/v1/entries/{SH_ENTRY}/history",
        f"/v1/entries/{SH_ENTRY}/diff?from=1",
    ):
        response = deployment.client.get(path, headers=hz)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"
        assert "C-SH" not in response.text.replace(SH_CUSTOMER, "") and "上海" not in response.text
    response = deployment.client.post("/v1/case-suggestions", headers=hz, json={"customer_id": SH_CUSTOMER, "skus": []})
    assert response.status_code == 404


def test_writes_to_another_tenants_entry_are_404_and_change_nothing(deployment: Deployment) -> None:
    hz, sh = deployment.headers("trainer"), deployment.headers("trainer", "sh-pharma")
    before = deployment.client.get(f"/v1/entries/{SH_ENTRY}", headers=sh).json()
    for method, path, body in (
        ("PATCH", f"/v1/entries/{SH_ENTRY}", {"version": before["version"], "title": "越权修改"}),
        ("POST", f"/v1/entries/{SH_ENTRY}/retire", {"version": before["version"]}),
    ):
        assert deployment.client.request(method, path, headers=hz, json=body).status_code == 404
    assert deployment.client.get(f"/v1/entries/{SH_ENTRY}", headers=sh).json() == before


def test_lists_and_searches_hold_only_the_callers_data(deployment: Deployment) -> None:
    hz = deployment.headers("trainer")
    customers = deployment.client.get("/v1/customers?limit=500", headers=hz).json()["items"]
    assert customers and all(c["tenant"] == "hz-pharma" for c in customers)
    entries = deployment.client.get("/v1/entries?limit=500", headers=hz).json()["items"]
    assert entries and all(e["id"].startswith("KB-HZ") or not e["id"].startswith("KB-SH") for e in entries)
    answers = deployment.client.post("/v1/objection-answers", headers=hz, json={"objection": "太贵了", "k": 20})
    assert all(not a["entry_id"].startswith("KB-SH") for a in answers.json()["answers"])
    cases = deployment.client.post(
        "/v1/case-suggestions", headers=hz, json={"customer_id": "C-HZ-00001", "skus": [], "text": "会员", "k": 20}
    )
    assert all(not c["entry_id"].startswith("KB-SH") for c in cases.json()["cases"])


def test_an_admin_cannot_see_or_revoke_another_tenants_keys(deployment: Deployment) -> None:
    sh_keys = deployment.client.get("/v1/keys", headers=deployment.headers("admin", "sh-pharma")).json()["keys"]
    hz_keys = deployment.client.get("/v1/keys", headers=deployment.headers("admin")).json()["keys"]
    assert {k["tenant"] for k in hz_keys} == {"hz-pharma"}
    assert not {k["id"] for k in sh_keys} & {k["id"] for k in hz_keys}
    response = deployment.client.delete(f"/v1/keys/{sh_keys[0]['id']}", headers=deployment.headers("admin"))
    assert response.status_code == 404
