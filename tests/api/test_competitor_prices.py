"""Competitor photos through the API: upload, bad uploads (nothing stored), matrix and CSV, review, tenancy."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from graph.model import CompetitorObservation, CompetitorPhoto
from ingest.posters.ocr import ScriptedOcrEngine, line
from tests.api.conftest import Deployment

POSTER = (
    line("益丰大药房(五一路店)", 40, 20, 400, 60),
    line("满100减20", 420, 20, 640, 70),
    line("【立普妥】阿托伐他汀钙片", 50, 150, 350, 190),
    line("20mg×7片", 50, 195, 200, 225),
    line("第二件半价", 50, 230, 200, 260),
    line("¥49.8", 50, 270, 250, 340),
    line("原价¥58", 260, 285, 380, 310),
    line("格华止 盐酸二甲双胍片", 450, 150, 750, 190),
    line("0.5g×30片", 450, 195, 600, 225),
    line("¥19.9", 450, 270, 600, 340),
    line("感冒灵颗粒 10g×9袋", 50, 400, 350, 440, confidence=0.6),
    line("¥15.5", 50, 450, 250, 520),
)
SECOND = (line("感冒灵颗粒 10g×9袋", 50, 40, 350, 80), line("¥14.9", 50, 90, 250, 160))


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (250, 240, 230)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def scripted(deployment: Deployment) -> Iterator[Deployment]:
    """A scripted OCR engine: 800×600 (and 803×600) is the poster, 801×600 a second photo, 802×600 blank."""
    before = deployment.state.ocr
    shapes = {(600, 800): POSTER, (600, 801): SECOND, (600, 802): (), (600, 803): POSTER}
    deployment.state.ocr = ScriptedOcrEngine(by_shape=shapes)
    yield deployment
    deployment.state.ocr = before


def photo_files(d: Deployment, tenant: str) -> list[Path]:
    return sorted(p for p in (d.data_dir / "photos" / tenant).rglob("*") if p.is_file())


def upload(d: Deployment, data: bytes, role: str = "store", tenant: str = "hz-pharma", **form: str):  # type: ignore[no-untyped-def]
    files = {"file": ("poster.png", data, "image/png")}
    return d.client.post("/v1/competitor-photos", headers=d.headers(role, tenant), files=files, data=form)


def test_upload_reads_items_resolves_skus_and_keeps_the_photo(scripted: Deployment) -> None:
    before = len(photo_files(scripted, "hz-pharma"))
    r = upload(scripted, png(803, 600), customer_id="C-HZ-00001", taken_on=dt.date.today().isoformat())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["competitor"] == "益丰大药房" and body["competitor_branch"] == "五一路店"
    items = {o["text"]: o for o in body["observations"]}
    lipitor = items["【立普妥】阿托伐他汀钙片 20mg×7片"]
    assert lipitor["sku"] == "SKU-ATV20-LPT" and lipitor["resolution"] == "matched"
    assert (lipitor["original_price"], lipitor["current_price"]) == (58.0, 49.8)
    # 第二件半价: 2 boxes for 74.70 ≥ 100? no → 4 boxes 149.40 − 20 = 129.40 / 4
    assert lipitor["effective_price"] == 32.35 and "第二件半价" in lipitor["rule"]
    metformin = items["格华止 盐酸二甲双胍片 0.5g×30片"]
    assert metformin["sku"] is None and metformin["resolution"] == "not_carried"  # we sell the 20-tablet box
    cold = items["感冒灵颗粒 10g×9袋"]
    assert cold["resolution"] == "review" and cold["sku"] == "SKU-999GML"  # unsure OCR: a person confirms
    assert len(photo_files(scripted, "hz-pharma")) == before + 1
    again = upload(scripted, png(803, 600), customer_id="C-HZ-00001")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert len(again.json()["observations"]) == 3
    assert len(photo_files(scripted, "hz-pharma")) == before + 1  # the same photo is one file
    image = scripted.client.get(f"/v1/competitor-photos/{body['id']}/image", headers=scripted.headers("rep"))
    assert image.status_code == 200 and image.content == png(803, 600)


def test_matrix_shows_the_latest_price_against_ours_and_exports_csv(scripted: Deployment) -> None:
    upload(scripted, png(800, 600), customer_id="C-HZ-00001")
    r = scripted.client.get("/v1/competitor-prices?sku=SKU-ATV20-LPT", headers=scripted.headers("rep"))
    assert r.status_code == 200, r.text
    (cell,) = r.json()["cells"]
    assert cell["competitor"] == "益丰大药房" and cell["effective_price"] == 32.35
    assert cell["our_price"] == 58.0 and cell["our_price_basis"] == "list"
    assert cell["gap_pct"] == round((58.0 - 32.35) / 32.35 * 100, 1) and cell["stale"] is False
    assert len(cell["quad"]) == 4
    exported = scripted.client.get("/v1/competitor-prices?format=csv", headers=scripted.headers("store"))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["SKU", "商品", "竞品门店"]
    assert any(row[0] == "SKU-ATV20-LPT" and row[6] == "32.35" for row in rows[1:])


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"%PDF-1.4 not a photo", 415, "not_an_image"),
        (b"", 415, "not_an_image"),
        (png(802, 600), 422, "no_text"),
    ],
)
def test_a_bad_upload_is_refused_and_nothing_is_stored(
    scripted: Deployment, data: bytes, status: int, code: str
) -> None:
    before_files = photo_files(scripted, "sh-pharma")
    before = scripted.state.store.competitor_photos("sh-pharma")[1]
    r = upload(scripted, data, tenant="sh-pharma")
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]
    assert photo_files(scripted, "sh-pharma") == before_files
    assert scripted.state.store.competitor_photos("sh-pharma")[1] == before


def test_a_photo_over_the_limit_is_413_and_nothing_is_stored(scripted: Deployment) -> None:
    noisy = Image.effect_noise((2000, 2000), 100).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    assert len(out.getvalue()) > 3 << 20
    limit = scripted.state.settings.photo_max_mb
    scripted.state.settings.photo_max_mb = 1
    try:
        r = upload(scripted, out.getvalue(), tenant="sh-pharma")
    finally:
        scripted.state.settings.photo_max_mb = limit
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert photo_files(scripted, "sh-pharma") == []


def test_an_unknown_customer_is_404_and_nothing_is_stored(scripted: Deployment) -> None:
    r = upload(scripted, png(801, 600), tenant="sh-pharma", customer_id="C-HZ-00001")  # the other tenant's customer
    assert r.status_code == 404
    assert scripted.state.store.competitor_photos("sh-pharma")[1] == 0


def test_a_reviewers_decision_is_kept_and_reused(scripted: Deployment) -> None:
    upload(scripted, png(800, 600), customer_id="C-HZ-00001")
    review = scripted.client.get(
        "/v1/competitor-observations?resolution=review", headers=scripted.headers("trainer")
    ).json()["items"]
    cold = next(o for o in review if o["text"] == "感冒灵颗粒 10g×9袋")
    assert cold["photo_id"] and len(cold["quad"]) == 4  # the crop a reviewer sees
    r = scripted.client.post(
        f"/v1/competitor-observations/{cold['id']}/resolution",
        headers=scripted.headers("trainer"),
        json={"sku": "SKU-999GML"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["resolution"] == "corrected"
    second = upload(scripted, png(801, 600), competitor="益丰大药房", customer_id="C-HZ-00001").json()
    (obs,) = second["observations"]
    assert (obs["sku"], obs["resolution"]) == ("SKU-999GML", "corrected")
    cells = scripted.client.get("/v1/competitor-prices?sku=SKU-999GML", headers=scripted.headers("rep")).json()
    (cell,) = cells["cells"]
    assert cell["effective_price"] == 14.9 and cell["seen"] >= 2  # the newest photo wins, the others are history
    bad = scripted.client.post(
        f"/v1/competitor-observations/{cold['id']}/resolution",
        headers=scripted.headers("trainer"),
        json={"sku": "NOPE"},
    )
    assert bad.status_code == 404


def test_another_tenant_sees_nothing(scripted: Deployment) -> None:
    body = upload(scripted, png(800, 600), customer_id="C-HZ-00001").json()
    other = scripted.headers("admin", "sh-pharma")
    assert scripted.client.get(f"/v1/competitor-photos/{body['id']}", headers=other).status_code == 404
    assert scripted.client.get(f"/v1/competitor-photos/{body['id']}/image", headers=other).status_code == 404
    cells = scripted.client.get("/v1/competitor-prices", headers=other).json()["cells"]
    assert all(c["photo_id"] != body["id"] for c in cells)
    obs = scripted.client.get("/v1/competitor-observations", headers=other).json()["items"]
    assert all(o["photo_id"] != body["id"] for o in obs)
    own = body["observations"][0]["id"]
    moved = scripted.client.post(
        f"/v1/competitor-observations/{own}/resolution",
        headers=scripted.headers("trainer", "sh-pharma"),
        json={"sku": None},
    )
    assert moved.status_code == 404
    store = scripted.state.store
    assert store.get_node("sh-pharma", CompetitorPhoto, body["id"]) is None
    assert store.get_node("sh-pharma", CompetitorObservation, own) is None


def test_the_copilot_cites_the_observed_competitor_price(scripted: Deployment) -> None:
    upload(scripted, png(800, 600), customer_id="C-HZ-00001")  # 立普妥 at 32.35 a box after its deals
    rep = scripted.headers("rep")
    body = {"objection": "店长说立普妥太贵了，隔壁便宜好多", "skus": ["SKU-ATV20-LPT"], "customer_id": "C-HZ-00001"}
    answer = scripted.client.post("/v1/objection-answers", headers=rep, json=body).json()
    (seen,) = [c for c in answer["competitor_prices"] if c["competitor"] == "益丰大药房"]
    assert seen["effective_price"] == 32.35 and seen["gap_pct"] > 0 and "益丰大药房" in seen["text"]
    other = {"objection": "这个药副作用大不大", "skus": ["SKU-ATV20-LPT"]}
    assert scripted.client.post("/v1/objection-answers", headers=rep, json=other).json()["competitor_prices"] == []
    brief = scripted.client.get("/v1/customers/C-HZ-00001/briefing", headers=rep).json()
    assert any("益丰大药房" in f["text"] and "32.35" in f["text"] for f in brief["competitor_prices"])
    line = {"customer_id": "C-HZ-00001", "sku": "SKU-ATV20-LPT", "unit_price": 40.0}
    checked = scripted.client.post("/v1/price-checks", headers=rep, json={"lines": [line]}).json()["lines"][0]
    assert checked["competitor"]["effective_price"] == 32.35 and "益丰大药房" in checked["competitor"]["text"]
    line["unit_price"] = 30.0
    checked = scripted.client.post("/v1/price-checks", headers=rep, json={"lines": [line]}).json()["lines"][0]
    assert checked["competitor"] is None


def test_a_date_taken_in_the_future_is_refused_and_nothing_is_stored(scripted: Deployment) -> None:
    before = photo_files(scripted, "hz-pharma")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).date().isoformat()
    r = upload(scripted, png(803, 600), taken_on=later)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"]["errors"][0]["path"] == "body.taken_on"
    assert later in r.json()["error"]["message"]
    assert photo_files(scripted, "hz-pharma") == before
