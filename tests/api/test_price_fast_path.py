"""The price-check fast path answers exactly what the FastAPI route answers, and leaves every error to the route."""

from __future__ import annotations

import json
from collections.abc import Mapping

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


def test_the_fast_path_is_installed(deployment: Deployment) -> None:
    assert any(m.cls is PriceCheckFastPath for m in deployment.client.app.user_middleware)  # type: ignore[attr-defined]


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
