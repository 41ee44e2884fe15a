"""The role × endpoint matrix, cell by cell: every route admits exactly the roles it should (and no key gets 401)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Deployment

ALL = {"rep", "trainer", "admin", "service", "store", "safety"}
PRICING = {"rep", "trainer", "admin", "service"}
READERS = {"rep", "trainer", "admin"}
CURATORS = {"trainer", "admin"}
ADMINS = {"admin"}
SAFETY = {"safety", "admin"}
UPLOADERS = {"store", "admin"}
MATRIX_READERS = {"rep", "trainer", "admin", "store"}

C, P, E = "C-HZ-00001", "SKU-999GML", "KB-HZ-OS-0001"
PH = "0" * 64  # a photo id no tenant has: 404 for the allowed roles
MATRIX: list[tuple[str, str, set[str], dict[str, Any]]] = [
    ("GET", "/v1/me", ALL, {}),
    ("POST", "/v1/price-checks", PRICING, {"json": {"lines": [{"customer_id": C, "sku": P, "unit_price": 20}]}}),
    ("POST", "/v1/case-suggestions", READERS, {"json": {"customer_id": C, "skus": [P]}}),
    ("POST", "/v1/objection-answers", READERS, {"json": {"objection": "太贵了"}}),
    ("GET", f"/v1/customers/{C}/briefing", READERS, {}),
    ("GET", f"/v1/customers/{C}/briefing/summary", READERS, {}),
    ("GET", "/v1/customers", READERS, {}),
    ("GET", f"/v1/customers/{C}", READERS, {}),
    ("GET", "/v1/products", READERS, {}),
    ("GET", f"/v1/products/{P}", READERS, {}),
    ("GET", "/v1/formulary/editions", READERS, {}),
    ("GET", "/v1/promotions", READERS, {}),
    ("GET", "/v1/price-events", READERS, {}),
    ("GET", "/v1/formulary/diff?old=NRDL-2022&new=NRDL-2024", READERS, {}),
    ("GET", "/v1/formulary/impact", CURATORS, {}),
    ("POST", "/v1/formulary/impact?new=NOPE", CURATORS, {}),  # 404 for the allowed: nothing is marked
    ("POST", "/v1/formulary/notes/confirm", CURATORS, {"json": {"sku": "SKU-NOPE"}}),  # nothing noted: no write
    ("POST", "/v1/formulary/notes/withdraw", CURATORS, {"json": {"sku": "SKU-NOPE"}}),
    ("GET", "/v1/formulary/review", CURATORS, {}),
    ("POST", f"/v1/formulary/review/{P}/confirm", CURATORS, {"json": {"edition_id": "NOPE", "row": "x"}}),  # 404
    ("POST", f"/v1/formulary/review/{P}/not-listed", CURATORS, {"json": {"edition_id": "NOPE"}}),  # 404: unchanged
    ("GET", "/v1/entries", READERS, {}),
    ("POST", "/v1/entries", CURATORS, {"json": {"kind": "faq", "title": "矩阵测试"}}),
    ("GET", f"/v1/entries/{E}", READERS, {}),
    ("PATCH", f"/v1/entries/{E}", CURATORS, {"json": {"version": 999}}),  # 409 for the allowed: nothing changes
    ("POST", f"/v1/entries/{E}/submit", CURATORS, {"json": {"version": 999}}),
    ("POST", f"/v1/entries/{E}/publish", CURATORS, {"json": {"version": 999}}),
    ("POST", f"/v1/entries/{E}/reject", CURATORS, {"json": {"version": 999}}),
    ("POST", f"/v1/entries/{E}/retire", CURATORS, {"json": {"version": 999}}),
    ("POST", f"/v1/entries/{E}/confirm", CURATORS, {"json": {"version": 999}}),
    ("POST", f"/v1/entries/{E}/withdraw", CURATORS, {"json": {"version": 999}}),
    ("GET", f"/v1/entries/{E}/history", CURATORS, {}),
    ("GET", f"/v1/entries/{E}/diff?from=1", CURATORS, {}),
    ("POST", "/v1/script-requests", READERS, {"json": {"query": "矩阵测试：发票老是开错"}}),
    ("GET", "/v1/script-requests", CURATORS, {}),
    ("POST", "/v1/script-requests/SR-NOPE/close", CURATORS, {"json": {"status": "declined"}}),  # 404 for the allowed
    ("GET", "/v1/safety-reports", SAFETY, {}),
    ("GET", "/v1/safety-reports/SAFE-NOPE", SAFETY, {}),  # 404 for the allowed
    ("POST", "/v1/safety-reports/SAFE-NOPE/status", SAFETY, {"json": {"status": "closed"}}),  # 404 for the allowed
    ("GET", "/v1/faq/proposals", CURATORS, {}),
    ("POST", "/v1/faq/drafts", CURATORS, {"json": {"proposal_ids": ["FAQ-NOPE"]}}),  # 404 for the allowed
    ("POST", "/v1/ingest", ADMINS, {"files": {"file": ("bad.csv", b"x,y\n1,2\n", "text/csv")}}),
    ("GET", "/v1/keys", ADMINS, {}),
    ("POST", "/v1/keys", ADMINS, {"json": {"role": "rep", "name": "矩阵测试"}}),
    ("DELETE", "/v1/keys/does-not-exist", ADMINS, {}),
    # not an image: 415 for the allowed, nothing stored
    ("POST", "/v1/competitor-photos", UPLOADERS, {"files": {"file": ("x.jpg", b"not an image", "image/jpeg")}}),
    ("GET", "/v1/competitor-photos", MATRIX_READERS, {}),
    ("GET", f"/v1/competitor-photos/{PH}", MATRIX_READERS, {}),
    ("GET", f"/v1/competitor-photos/{PH}/image", MATRIX_READERS, {}),
    ("GET", "/v1/competitor-observations", MATRIX_READERS, {}),
    ("POST", "/v1/competitor-observations/NOPE/resolution", CURATORS, {"json": {"sku": None}}),  # 404
    ("GET", "/v1/competitor-prices", MATRIX_READERS, {}),
    # a rep key reads its own rep's tasks; trainer/admin/service keys name a rep (422 without one); T-NOPE: 404
    ("GET", "/v1/me/tasks", READERS, {}),
    ("GET", "/v1/me/tasks/T-NOPE", READERS, {}),
    ("PATCH", "/v1/me/tasks/T-NOPE", READERS, {"json": {"state": "open"}}),
    ("POST", "/v1/me/tasks/T-NOPE/state", READERS, {"json": {"state": "open"}}),
]
PUBLIC = {("GET", "/v1/health"), ("GET", "/v1/ready")}


def test_matrix_covers_every_route(deployment: Deployment) -> None:
    paths = deployment.client.get("/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    covered = {(m, p.split("?")[0].replace(C, "{customer_id}").replace(P, "{sku}")) for m, p, _, _ in MATRIX}
    covered = {(m, p.replace(E, "{entry_id}").replace("does-not-exist", "{key_id}")) for m, p in covered}
    covered = {(m, p.replace("SR-NOPE", "{request_id}").replace("SAFE-NOPE", "{report_id}")) for m, p in covered}
    covered = {(m, p.replace("/notes/confirm", "/notes/{action}").replace("/notes/withdraw", "/notes/{action}"))
               for m, p in covered}  # fmt: skip
    covered = {
        (m, p.replace(PH, "{photo_id}").replace("NOPE/resolution", "{observation_id}/resolution")) for m, p in covered
    }
    covered = {(m, p.replace("T-NOPE", "{task_id}")) for m, p in covered}
    assert routes - PUBLIC == covered


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize(("method", "path", "allowed", "kwargs"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_cell(
    deployment: Deployment, role: str, method: str, path: str, allowed: set[str], kwargs: dict[str, Any]
) -> None:
    response = deployment.client.request(method, path, headers=deployment.headers(role), **kwargs)
    if role in allowed:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "allowed", "kwargs"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_no_key_or_a_bad_key_is_401(
    deployment: Deployment, method: str, path: str, allowed: set[str], kwargs: dict[str, Any]
) -> None:
    for headers in ({}, {"X-API-Key": "skg_nope_nope"}, {"X-API-Key": "not-a-key"}):
        response = deployment.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "invalid_api_key"


def test_me_names_the_keys_role_and_tenant(deployment: Deployment) -> None:
    me = deployment.client.get("/v1/me", headers=deployment.headers("service", "sh-pharma")).json()
    assert (me["role"], me["tenant"], me["name"]) == ("service", "sh-pharma", "test service")
    rep = deployment.client.get("/v1/me", headers=deployment.headers("rep")).json()
    assert rep["role"] == "rep" and rep["rep_id"]  # a rep key is bound to its rep


def test_health_needs_no_key(deployment: Deployment) -> None:
    assert deployment.client.get("/v1/health").json() == {"status": "ok"}
    ready = deployment.client.get("/v1/ready").json()
    assert ready["status"] == "ready" and set(ready["tenants_loaded"]) >= {"hz-pharma", "sh-pharma"}
    assert ready["feed"]["hz-pharma"]["caught_up"] and ready["feed"]["hz-pharma"]["seq"] >= 1  # the demo load
    startup = ready["startup"]  # where the start went, per stage (eval/bench_ready.py reports it)
    assert {"store", "keys", "embedder", "model", "detectors", "catch_up"} <= set(startup)
    assert {"prices", "competitors", "retrieval", "prices_from", "retrieval_from"} <= set(
        startup["tenants"]["hz-pharma"]
    )


def test_revoked_key_is_refused_at_once(deployment: Deployment) -> None:
    admin = deployment.headers("admin")
    created = deployment.client.post("/v1/keys", headers=admin, json={"role": "service", "name": "临时报价屏"}).json()
    line = {"lines": [{"customer_id": C, "sku": P, "unit_price": 20}]}
    headers = {"X-API-Key": created["key"]}
    assert deployment.client.post("/v1/price-checks", headers=headers, json=line).status_code == 200
    listed = deployment.client.get("/v1/keys", headers=admin).json()["keys"]
    assert created["record"]["id"] in {k["id"] for k in listed}
    assert all("key" not in k and "digest" not in k for k in listed)  # the secret is never shown again
    assert deployment.client.delete(f"/v1/keys/{created['record']['id']}", headers=admin).status_code == 200
    assert deployment.client.post("/v1/price-checks", headers=headers, json=line).status_code == 401


# ------------------------------------------------------------------------------------------ territory cells

HOME = "C-HZ-00001"
"""Owned by the rep of the ``rep`` key; not by the rep of ``rep-other`` (see conftest)."""
TERRITORY: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/customers/{c}", {}),
    ("GET", "/v1/customers/{c}/briefing", {}),
    ("GET", "/v1/customers/{c}/briefing?format=md", {}),
    ("GET", "/v1/customers/{c}/briefing/summary", {}),
    ("POST", "/v1/case-suggestions", {"json": {"customer_id": "{c}", "skus": [P]}}),
    ("POST", "/v1/objection-answers", {"json": {"objection": "太贵了", "customer_id": "{c}"}}),
    ("GET", "/v1/promotions?customer_id={c}", {}),
]


def _fill(value: Any, customer: str) -> Any:
    if isinstance(value, str):
        return value.replace("{c}", customer)
    if isinstance(value, dict):
        return {k: _fill(v, customer) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, customer) for v in value]
    return value


@pytest.mark.parametrize(("method", "path", "kwargs"), TERRITORY, ids=[f"{m} {p}" for m, p, _ in TERRITORY])
def test_territory_cell(deployment: Deployment, method: str, path: str, kwargs: dict[str, Any]) -> None:
    """Own customer: answered. Another rep's customer: exactly the answer for an id the tenant does not have."""
    d = deployment

    def call(role: str, customer: str) -> Any:
        return d.client.request(method, _fill(path, customer), headers=d.headers(role), **_fill(kwargs, customer))

    assert call("rep", HOME).status_code == 200
    outside, unknown = call("rep-other", HOME), call("rep-other", "C-HZ-99999")
    assert outside.status_code == unknown.status_code == 404
    assert outside.json()["error"]["code"] == unknown.json()["error"]["code"] == "not_found"
    assert outside.json()["error"]["message"].replace(HOME, "X") == unknown.json()["error"]["message"].replace(
        "C-HZ-99999", "X"
    )
    for role in ("trainer", "admin"):
        assert call(role, HOME).status_code == 200  # trainers and admins see the whole tenant


def test_a_rep_lists_only_its_territory(deployment: Deployment) -> None:
    d = deployment
    mine = d.client.get("/v1/customers?limit=500", headers=d.headers("rep")).json()
    theirs = d.client.get("/v1/customers?limit=500", headers=d.headers("rep-other")).json()
    tenant = d.client.get("/v1/customers?limit=500", headers=d.headers("trainer")).json()
    mine_ids, their_ids = {c["id"] for c in mine["items"]}, {c["id"] for c in theirs["items"]}
    assert HOME in mine_ids and HOME not in their_ids and mine_ids and their_ids and not mine_ids & their_ids
    assert mine["total"] == len(mine_ids) < tenant["total"]
    found = d.client.get("/v1/customers", params={"q": HOME}, headers=d.headers("rep-other")).json()
    assert found == {"total": 0, "items": []}


def test_price_checks_answer_a_customer_outside_the_territory_as_unknown(deployment: Deployment) -> None:
    d = deployment
    body = {"lines": [{"customer_id": HOME, "sku": P, "unit_price": 20}]}
    own = d.client.post("/v1/price-checks", json=body, headers=d.headers("rep")).json()["lines"][0]
    other = d.client.post("/v1/price-checks", json=body, headers=d.headers("rep-other")).json()["lines"][0]
    assert own["verdict"] != "unknown_customer"
    assert other["verdict"] == "unknown_customer" and HOME not in other["suggestions"]
    assert "康邻" not in other["explanation"]
    service = d.client.post("/v1/price-checks", json=body, headers=d.headers("service")).json()["lines"][0]
    assert service["verdict"] == own["verdict"]  # a quote screen sees the tenant


def test_price_evidence_shows_a_rep_no_buyer_outside_its_territory(deployment: Deployment) -> None:
    """Peer lines keep price and date; the buyer and order of a customer the rep does not own are left out."""
    d = deployment
    body = {"lines": [{"customer_id": HOME, "sku": P, "unit_price": 20}]}
    mine = {c["id"] for c in d.client.get("/v1/customers?limit=500", headers=d.headers("rep")).json()["items"]}
    rep = d.client.post("/v1/price-checks", json=body, headers=d.headers("rep")).json()["lines"][0]["evidence"]
    tenant = d.client.post("/v1/price-checks", json=body, headers=d.headers("trainer")).json()["lines"][0]["evidence"]
    assert rep and len(rep) == len(tenant)
    assert any(e["customer_id"] not in mine for e in tenant)  # the peers include other reps' customers ...
    for seen, full in zip(rep, tenant, strict=True):
        assert (seen["unit_price"], seen["at"]) == (full["unit_price"], full["at"])
        if full["customer_id"] in mine:
            assert seen == full
        else:  # ... whom the rep sees only as 辖区外客户
            assert (seen["customer_id"], seen["customer_name"], seen["order_id"]) == ("", "辖区外客户", "")


def test_rep_keys_are_bound_to_a_rep_of_the_tenant(deployment: Deployment) -> None:
    d, admin = deployment, deployment.headers("admin")
    unbound = d.client.post("/v1/keys", headers=admin, json={"role": "rep", "name": "无代表"})
    assert unbound.status_code == 422 and unbound.json()["error"]["code"] == "invalid_key_request"
    unknown = d.client.post("/v1/keys", headers=admin, json={"role": "rep", "name": "x", "rep_id": "R-NOPE"})
    assert unknown.status_code == 404
    trainer = d.client.post("/v1/keys", headers=admin, json={"role": "trainer", "name": "x", "rep_id": "R-NOPE"})
    assert trainer.status_code in (404, 422)
    me = d.client.get("/v1/me", headers=d.headers("rep")).json()
    made = d.client.post("/v1/keys", headers=admin, json={"role": "rep", "name": "新代表", "rep_id": me["rep_id"]})
    assert made.status_code == 201 and made.json()["record"]["rep_id"] == me["rep_id"]
    headers = {"X-API-Key": made.json()["key"]}
    assert d.client.get(f"/v1/customers/{HOME}", headers=headers).status_code == 200
