"""The price-check fast path answers exactly what the FastAPI route answers, and leaves every error to the route."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from api import auth
from api.app import create_app
from api.fast_paths import PriceCheckFastPath
from tests.api.conftest import HOME_CUSTOMER, Deployment

ROUTE_ONLY = "application/vnd.skg+json"
"""A JSON media type FastAPI reads as JSON and the fast path leaves to the route."""


def _both(
    deployment: Deployment, role: str, body: Mapping[str, object]
) -> tuple[tuple[int, object], tuple[int, object]]:
    headers = deployment.headers(role)
    text = json.dumps(body, ensure_ascii=False)
    fast = deployment.client.post(
        "/v1/price-checks", content=text, headers={**headers, "Content-Type": "application/json"}
    )
    route = deployment.client.post("/v1/price-checks", content=text, headers={**headers, "Content-Type": ROUTE_ONLY})
    return (fast.status_code, fast.json()), (route.status_code, route.json())


@pytest.fixture
def fallbacks(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests the fast path handed to the full application."""
    fast = deployment.client.app.price_checks  # type: ignore[attr-defined]
    assert isinstance(fast, PriceCheckFastPath) and fast.enabled
    seen: list[str] = []
    general = fast.app

    async def spied(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["path"])
        await general(scope, receive, send)

    monkeypatch.setattr(fast, "app", spied)
    return seen


def test_the_fast_path_answers_a_well_formed_check_itself(deployment: Deployment, fallbacks: list[str]) -> None:
    body = {"lines": [{"customer_id": HOME_CUSTOMER["hz-pharma"], "sku": _skus(deployment)[0], "unit_price": 20.0}]}
    for role in ("service", "trainer", "admin"):
        response = deployment.client.post("/v1/price-checks", json=body, headers=deployment.headers(role))
        assert response.status_code == 200 and response.json()["lines"][0]["verdict"]
    assert fallbacks == []  # none went through FastAPI
    refused = deployment.client.post("/v1/price-checks", json=body, headers=deployment.headers("safety"))
    assert refused.status_code == 403 and fallbacks == ["/v1/price-checks"]  # the route's own 403


def _skus(deployment: Deployment) -> list[str]:
    return [p.sku for p in deployment.state.store.catalogue("hz-pharma").products]


def test_fast_path_and_route_give_the_same_answer(deployment: Deployment) -> None:
    customer = HOME_CUSTOMER["hz-pharma"]
    skus = [p.sku for p in deployment.state.store.catalogue("hz-pharma").products][:6]
    lines = [{"customer_id": customer, "sku": sku, "unit_price": 20.0 + i, "qty": 10} for i, sku in enumerate(skus)]
    lines.append({"customer_id": "C-NO-SUCH", "sku": skus[0], "unit_price": 12.5})
    lines.append({"profile": {"type": "chain", "tier": "A"}, "sku": skus[1], "unit_price": 30.0, "unit": "盒"})
    body = {"lines": lines, "as_of": "2026-11-20"}
    for role in ("service", "rep", "trainer"):
        fast, route = _both(deployment, role, body)
        assert fast[0] == 200
        assert fast == route, role


def test_errors_are_the_routes_own(deployment: Deployment) -> None:
    bad = {"lines": [{"customer_id": HOME_CUSTOMER["hz-pharma"], "sku": "X", "unit_price": "很贵"}]}
    fast, route = _both(deployment, "service", bad)
    assert fast[0] == 422 and fast == route
    assert "body.lines.0.unit_price" in json.dumps(fast[1], ensure_ascii=False)
    for role in ("safety", "store"):  # roles that may not check prices
        fast, route = _both(deployment, role, {"lines": [{"customer_id": "C", "sku": "S", "unit_price": 1.0}]})
        assert fast[0] == 403 and fast == route
    no_key = deployment.client.post("/v1/price-checks", json={"lines": []}, headers={"X-API-Key": "skg_nope_nope"})
    assert no_key.status_code == 401


def test_a_fast_answer_carries_its_request_id_and_access_record(
    deployment: Deployment, fallbacks: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    body = {"lines": [{"customer_id": HOME_CUSTOMER["hz-pharma"], "sku": _skus(deployment)[0], "unit_price": 20.0}]}
    headers = deployment.headers("service")
    made = deployment.client.post("/v1/price-checks", json=body, headers=headers)
    other = deployment.client.post("/v1/price-checks", json=body, headers=headers)
    assert len(made.headers["X-Request-ID"]) == 32 and made.headers["X-Request-ID"] != other.headers["X-Request-ID"]
    with caplog.at_level(logging.INFO, logger="api.access"):
        kept = deployment.client.post("/v1/price-checks", json=body, headers={**headers, "X-Request-ID": "quote-7.1"})
        odd = deployment.client.post("/v1/price-checks", json=body, headers={**headers, "X-Request-ID": "x" * 65})
    assert kept.headers["X-Request-ID"] == "quote-7.1" and odd.headers["X-Request-ID"] != "x" * 65
    assert fallbacks == []
    (record,) = [r for r in caplog.records if r.name == "api.access" and getattr(r, "request_id", None) == "quote-7.1"]
    assert (record.__dict__["tenant"], record.__dict__["route"], record.__dict__["status"]) == (
        "hz-pharma", "/v1/price-checks", 200
    )  # fmt: skip
    assert record.__dict__["method"] == "POST" and record.__dict__["duration_ms"] >= 0


def test_a_rep_outside_its_territory_gets_the_same_answer_from_the_fast_path(
    deployment: Deployment, fallbacks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rep key: the first check reads the territory through the route; the next ones are answered fast, masked."""
    monkeypatch.setattr(auth, "TERRITORY_CACHE_S", 3600.0)  # the territory read stays fresh however slow the machine
    monkeypatch.setattr(auth, "_territories", {})  # none left from an earlier test with a short expiry
    body = {
        "lines": [
            {"customer_id": HOME_CUSTOMER["hz-pharma"], "sku": s, "unit_price": 20.0} for s in _skus(deployment)[:4]
        ]
    }
    for role in ("rep", "rep-other"):
        deployment.client.post("/v1/price-checks", json=body, headers=deployment.headers(role))  # territory read
        fallbacks.clear()
        fast, route = _both(deployment, role, body)
        assert fast[0] == 200 and fast == route, role
        assert fallbacks == ["/v1/price-checks"]  # only the route-only request
    other = _both(deployment, "rep-other", body)[0][1]
    assert isinstance(other, dict)
    assert {line["verdict"] for line in other["lines"]} == {"unknown_customer"}  # not its customer


def test_cross_origin_requests_get_the_cors_headers_when_cors_is_configured(deployment: Deployment) -> None:
    settings = deployment.state.settings.model_copy(update={"cors_origins": ["https://crm.example"]})
    body = {"lines": [{"customer_id": HOME_CUSTOMER["hz-pharma"], "sku": _skus(deployment)[0], "unit_price": 20.0}]}
    headers = {**deployment.headers("service"), "Origin": "https://crm.example"}
    with TestClient(create_app(settings, state=deployment.state, preload=False)) as client:
        response = client.post("/v1/price-checks", json=body, headers=headers)
        plain = client.post("/v1/price-checks", json=body, headers=deployment.headers("service"))
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "https://crm.example"
    assert response.json() == plain.json()
