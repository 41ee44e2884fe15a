"""The role × endpoint matrix, cell by cell: every route admits exactly the roles it should (and no key gets 401)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Deployment

ALL = {"rep", "trainer", "admin", "service", "store"}
PRICING = {"rep", "trainer", "admin", "service"}
READERS = {"rep", "trainer", "admin"}
CURATORS = {"trainer", "admin"}
ADMINS = {"admin"}
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
]
PUBLIC = {("GET", "/v1/health"), ("GET", "/v1/ready")}


def test_matrix_covers_every_route(deployment: Deployment) -> None:
    paths = deployment.client.get("/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    covered = {(m, p.split("?")[0].replace(C, "{customer_id}").replace(P, "{sku}")) for m, p, _, _ in MATRIX}
    covered = {(m, p.replace(E, "{entry_id}").replace("does-not-exist", "{key_id}")) for m, p in covered}
    covered = {(m, p.replace("SR-NOPE", "{request_id}")) for m, p in covered}
    covered = {(m, p.replace("/notes/confirm", "/notes/{action}").replace("/notes/withdraw", "/notes/{action}"))
               for m, p in covered}  # fmt: skip
    covered = {
        (m, p.replace(PH, "{photo_id}").replace("NOPE/resolution", "{observation_id}/resolution")) for m, p in covered
    }
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


def test_health_needs_no_key(deployment: Deployment) -> None:
    assert deployment.client.get("/v1/health").json() == {"status": "ok"}
    ready = deployment.client.get("/v1/ready").json()
    assert ready["status"] == "ready" and set(ready["tenants_loaded"]) >= {"hz-pharma", "sh-pharma"}


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
