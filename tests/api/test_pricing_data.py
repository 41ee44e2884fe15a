"""Promotions and price events through the API: uploaded as files, read back, and used by the price checks."""

from __future__ import annotations

import datetime as dt

from tests.api.conftest import TODAY, Deployment

TENANT = "sh-pharma"


def _a_chain_line(deployment: Deployment) -> tuple[str, str, float]:
    """A chain customer of the tenant, a SKU it buys, and its latest price (read from a price check)."""
    rep = deployment.headers("rep", TENANT)
    chains = [c for c in deployment.client.get("/v1/customers?limit=500", headers=rep).json()["items"]
              if c["type"] == "chain"]  # fmt: skip
    products = [p["sku"] for p in deployment.client.get("/v1/products?limit=500", headers=rep).json()["items"]]
    for c in chains:
        for sku in products[:40]:
            line = {"customer_id": c["id"], "sku": sku, "unit_price": 10.0}
            check = deployment.client.post("/v1/price-checks", headers=rep, json={"lines": [line]}).json()["lines"][0]
            if check["reference"] == "own":
                return c["id"], sku, check["reference_price"]
    raise AssertionError("no chain with an agreed price in the demo")


def test_a_running_promotion_is_read_back_and_judges_the_quote(deployment: Deployment) -> None:
    customer, sku, agreed = _a_chain_line(deployment)
    admin, rep = deployment.headers("admin", TENANT), deployment.headers("rep", TENANT)
    start, end = TODAY - dt.timedelta(days=3), TODAY + dt.timedelta(days=10)
    calendar = ("促销编号,促销名称,开始日期,结束日期,适用客户类型,适用客户级别,适用客户,适用商品,最低折扣,最高折扣\n"
                f"CX-API,双11健康节,{start},{end},连锁,,,{sku},0.05,0.12\n").encode()  # fmt: skip
    files = {"file": ("promotions.csv", calendar, "text/csv")}
    upload = deployment.client.post("/v1/ingest", headers=admin, files=files)
    assert upload.status_code == 200, upload.text
    listed = deployment.client.get(f"/v1/promotions?sku={sku}&on={TODAY}&customer_id={customer}", headers=rep).json()
    assert listed["total"] == 1 and listed["items"][0]["customer_types"] == ["chain"]
    assert listed["items"][0]["max_discount"] == 0.12
    later = deployment.client.get(f"/v1/promotions?on={end + dt.timedelta(days=1)}", headers=rep).json()
    assert all(p["id"] != "CX-API" for p in later["items"])
    line = {"customer_id": customer, "sku": sku, "unit_price": round(agreed * 0.9, 2)}
    check = deployment.client.post("/v1/price-checks", headers=rep, json={"lines": [line]}).json()["lines"][0]
    assert check["verdict"] == "ok" and check["promotion_id"] == "CX-API" and "双11健康节" in check["explanation"]
    other = deployment.client.get("/v1/promotions", headers=deployment.headers("rep", "hz-pharma")).json()
    assert all(p["id"] != "CX-API" for p in other["items"])  # another tenant's calendar


def test_price_events_are_listed_and_an_unknown_sku_is_rejected(deployment: Deployment) -> None:
    admin, rep = deployment.headers("admin", TENANT), deployment.headers("rep", TENANT)
    sku = deployment.client.get("/v1/products?limit=1", headers=rep).json()["items"][0]["sku"]
    events = f"事件编号,商品编码,生效日期,事件类型,新零售价,新底价,适用客户类型\nPE-API,{sku},2025-09-01,调价,30,20,\n"
    files = {"file": ("price_events.csv", events.encode(), "text/csv")}
    ok = deployment.client.post("/v1/ingest", headers=admin, files=files)
    assert ok.status_code == 200, ok.text
    listed = deployment.client.get(f"/v1/price-events?sku={sku}", headers=rep).json()
    assert [e["id"] for e in listed["items"]] == ["PE-API"] and listed["items"][0]["kind"] == "list_change"
    bad = events.replace(sku, "SKU-NOPE").replace("PE-API", "PE-BAD").encode()
    files = {"file": ("price_events.csv", bad, "text/csv")}
    rejected = deployment.client.post("/v1/ingest", headers=admin, files=files)
    assert rejected.status_code == 422 and "SKU-NOPE" in rejected.text
