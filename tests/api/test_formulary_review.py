"""Formulary read-back and the review queue over HTTP: states per product, confirm a candidate, mark not listed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.formulary import apply_edition, load_edition
from tests.api.conftest import Deployment

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "nrdl" / "nrdl-2024-mini.xlsx"
EDITION = "TEST-MINI"


def _apply(d: Deployment) -> None:
    if any(e.id == EDITION for page in d.state.store.iter_nodes("hz-pharma", _edition_model()) for e in page):
        return
    drugs = load_edition([MINI], EDITION)
    # effective long ago, so that it is never "the latest edition" other tests default to
    apply_edition(
        d.state.store, "hz-pharma", drugs, edition_id=EDITION, name="mini", effective_date=dt.date(2000, 1, 1)
    )


def _edition_model() -> type:
    from graph.model import FormularyEdition

    return FormularyEdition


def test_every_product_is_in_one_state_and_products_show_the_row(deployment: Deployment) -> None:
    d = deployment
    _apply(d)
    trainer = d.headers("trainer")
    page = d.client.get(f"/v1/formulary/review?edition={EDITION}&status=all&limit=500", headers=trainer).json()
    assert page["total"] == 127 and sum(page["counts"].values()) == 127 and page["counts"]["unchecked"] == 0
    matched = [i for i in page["items"] if i["state"] == "matched"]
    assert matched and all(i["section"] and i["number"] and i["nrdl_name"] and i["category"] for i in matched)
    assert all(i["reason"] for i in page["items"] if i["state"] == "not_listed")
    sku = matched[0]["sku"]
    product = d.client.get(f"/v1/products/{sku}", headers=d.headers("rep")).json()
    mine = [f for f in product["formulary"] if f["edition_id"] == EDITION]
    assert mine[0]["state"] == "matched" and mine[0]["nrdl_name"] == matched[0]["nrdl_name"]
    listing = next(x for x in product["listings"] if x["edition_id"] == EDITION)
    assert listing["section"] == matched[0]["section"] and listing["code"] == matched[0]["number"]
    products = d.client.get("/v1/products?limit=5", headers=d.headers("rep")).json()
    assert set(products["formulary"]) == {p["sku"] for p in products["items"]}


def test_review_actions_need_a_curator_and_are_kept(deployment: Deployment) -> None:
    d = deployment
    _apply(d)
    trainer = d.headers("trainer")
    page = d.client.get(f"/v1/formulary/review?edition={EDITION}&status=not_listed&limit=500", headers=trainer).json()
    target = next(i for i in page["items"] if i["reason"] != "not_a_drug")
    body = {"edition_id": EDITION, "reason": "not_a_drug", "note": "赠品"}
    assert (
        d.client.post(
            f"/v1/formulary/review/{target['sku']}/not-listed", json=body, headers=d.headers("rep")
        ).status_code
        == 403
    )
    r = d.client.post(f"/v1/formulary/review/{target['sku']}/not-listed", json=body, headers=trainer)
    assert r.status_code == 200 and r.json()["decided_by"].startswith("person:") and r.json()["reason"] == "not_a_drug"
    bad = d.client.post(f"/v1/formulary/review/{target['sku']}/confirm", json={"edition_id": EDITION, "row": "x"},
                        headers=trainer)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_row"
    matched = next(
        i
        for i in d.client.get(f"/v1/formulary/review?edition={EDITION}&status=matched", headers=trainer).json()["items"]
    )
    conflict = d.client.post(f"/v1/formulary/review/{matched['sku']}/confirm", json={"edition_id": EDITION, "row": "x"},
                             headers=trainer)  # fmt: skip
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "invalid_state"
    assert d.client.get("/v1/formulary/review?edition=NOPE", headers=trainer).status_code == 404
