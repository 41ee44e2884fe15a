"""Bad input over HTTP: one error shape, the field path (or file, row and column), 4xx, and nothing half-written."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.api.conftest import Deployment

ROOT = Path(__file__).resolve().parents[2]


def _error(response) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert "Traceback" not in response.text
    return body["error"]  # type: ignore[no-any-return]


def test_invalid_body_names_the_field_path(deployment: Deployment) -> None:
    response = deployment.client.post(
        "/v1/price-checks",
        headers=deployment.headers("service"),
        json={"lines": [{"customer_id": "C-HZ-00001", "sku": "SKU-999GML", "unit_price": -3}]},
    )
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "invalid_request"
    assert error["details"]["errors"][0]["path"] == "body.lines.0.unit_price"
    assert error["message"].startswith("body.lines.0.unit_price")


def test_unknown_ids_and_units_are_line_verdicts_and_the_other_lines_are_answered(deployment: Deployment) -> None:
    good = {"customer_id": "C-HZ-00001", "sku": "SKU-999GML", "unit_price": 13.5, "qty": 50}
    lines = [
        good,
        good | {"customer_id": "C-HZ-0001"},  # one digit short, the shape of an old OpenAPI example
        good | {"customer_id": "C-SH-00001"},  # another tenant's customer
        good | {"customer_id": "'; DROP TABLE x;--"},
        good | {"sku": "SKU-NOPE"},
        good | {"unit": "桶"},
    ]
    response = deployment.client.post("/v1/price-checks", headers=deployment.headers("service"), json={"lines": lines})
    assert response.status_code == 200, response.text
    real, short, other, injected, sku, unit = response.json()["lines"]
    assert real["verdict"] not in ("unknown_customer", "unknown_product", "unknown_unit") and real["peer_count"] > 0
    for line in (short, other, injected):
        assert line["verdict"] == "unknown_customer" and line["band_low"] is None and line["peer_count"] == 0
    assert short["suggestions"][0] == "C-HZ-00001"
    assert sku["verdict"] == "unknown_product" and sku["band_low"] is None
    assert unit["verdict"] == "unknown_unit" and "盒" in unit["suggestions"]


def test_a_prospect_needs_a_profile_and_the_answer_says_so(deployment: Deployment) -> None:
    service = deployment.headers("service")
    line = {"sku": "SKU-999GML", "unit_price": 13.5, "qty": 50}
    missing = deployment.client.post("/v1/price-checks", headers=service, json={"lines": [line]})
    assert missing.status_code == 422 and "profile" in _error(missing)["message"]
    profile = {"type": "chain", "tier": "A"}
    body = {"lines": [line | {"profile": profile}]}
    response = deployment.client.post("/v1/price-checks", headers=service, json=body)
    assert response.status_code == 200, response.text
    [checked] = response.json()["lines"]
    assert checked["checked_against"] == "profile" and "客户画像" in checked["explanation"]
    assert checked["verdict"] in ("ok", "low", "high", "no_history") and checked["customer_id"] is None


def test_malformed_json_and_unknown_route(deployment: Deployment) -> None:
    json_type = deployment.headers("rep") | {"Content-Type": "application/json"}
    response = deployment.client.post("/v1/price-checks", headers=json_type, content=b"{")
    assert response.status_code == 400 and _error(response)["code"] == "invalid_request"
    assert _error(response)["message"].startswith("the body is not valid JSON")
    not_utf8 = deployment.client.post("/v1/objection-answers", headers=json_type, content=b'{"objection": "\xff\xfe"}')
    assert not_utf8.status_code == 400 and _error(not_utf8)["code"] == "invalid_request"
    text_type = deployment.headers("rep") | {"Content-Type": "text/plain"}
    not_json = deployment.client.post("/v1/objection-answers", headers=text_type, content='{"objection": "太贵"}')
    assert not_json.status_code == 400 and "must be JSON" in _error(not_json)["message"]
    assert _error(deployment.client.get("/v1/nope"))["code"] == "not_found"


def test_an_unknown_field_is_422_naming_its_path(deployment: Deployment) -> None:
    draft = {"customer_id": "C-HZ-00001", "skus": [], "situation": "连锁总部想做慢病会员日"}
    response = deployment.client.post("/v1/case-suggestions", headers=deployment.headers("rep"), json=draft)
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "invalid_request" and error["message"].startswith("body.situation: unknown field")
    assert [e["path"] for e in error["details"]["errors"]] == ["body.situation"]
    line = {"customer_id": "C-HZ-00001", "sku": "SKU-999GML", "unit_price": 20, "price": 20}
    nested = deployment.client.post("/v1/price-checks", headers=deployment.headers("service"), json={"lines": [line]})
    assert nested.status_code == 422 and _error(nested)["details"]["errors"][0]["path"] == "body.lines.0.price"


def test_every_request_body_refuses_unknown_fields_in_the_openapi_document(deployment: Deployment) -> None:
    doc = deployment.client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]

    def closed(ref: str, seen: set[str]) -> list[str]:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        schema = schemas[name]
        open_ = [] if schema.get("additionalProperties") is False else [name]
        refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(schema.get("properties", {})))
        return open_ + [n for r in refs for n in closed(r, seen)]

    bodies = [
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for path in doc["paths"].values()
        for op in path.values()
        if "application/json" in op.get("requestBody", {}).get("content", {})
    ]
    assert len(bodies) >= 9
    assert [name for ref in bodies for name in closed(ref, set())] == []


def test_rejected_upload_names_row_and_column_and_writes_nothing(deployment: Deployment) -> None:
    admin = deployment.headers("admin")
    before = deployment.state.store.counts("hz-pharma")
    text = (ROOT / "examples" / "orders.csv").read_text(encoding="utf-8").splitlines()
    header, rows = text[0], text[1:]
    bad_row = rows[1].split(",")
    bad_row[header.split(",").index("qty")] = "十盒"
    csv = "\n".join([header, rows[0], ",".join(bad_row), *rows[2:]]).encode()
    response = deployment.client.post("/v1/ingest", headers=admin, files={"file": ("订单.csv", csv, "text/csv")})
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] in ("validation_failed", "unknown_reference")
    assert deployment.state.store.counts("hz-pharma") == before


def test_bad_value_in_an_upload_is_reported_by_row_and_column(deployment: Deployment) -> None:
    admin = deployment.headers("admin")
    before = deployment.state.store.counts("hz-pharma")
    csv = "客户编码,客户名称,客户类型\nC-NEW-1,新客户,连锁\nC-NEW-2,另一个,超市\n".encode()
    response = deployment.client.post("/v1/ingest", headers=admin, files={"file": ("customers.csv", csv, "text/csv")})
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_failed"
    [row_error] = error["details"]["errors"]
    assert (row_error["file"], row_error["row"], row_error["column"]) == ("customers.csv", 3, "客户类型")
    assert deployment.state.store.counts("hz-pharma") == before


def test_good_upload_loads_and_a_rerun_duplicates_nothing(deployment: Deployment) -> None:
    admin = deployment.headers("admin")
    csv = "客户编码,客户名称,客户类型,城市\nC-UP-1,上传测试药房,单体药店,杭州\n".encode()
    first = deployment.client.post("/v1/ingest", headers=admin, files={"file": ("c.csv", csv, "text/csv")})
    assert first.status_code == 200, first.text
    assert first.json()["writes"][0]["created"] == 1
    counts = deployment.state.store.counts("hz-pharma")
    again = deployment.client.post("/v1/ingest", headers=admin, files={"file": ("c.csv", csv, "text/csv")}).json()
    assert again["writes"][0]["created"] == 0 and deployment.state.store.counts("hz-pharma") == counts
    assert deployment.client.get("/v1/customers/C-UP-1", headers=deployment.headers("trainer")).status_code == 200
    # no 负责代表 in the file: nobody's territory yet, so no rep sees it (trainers and admins do)
    assert deployment.client.get("/v1/customers/C-UP-1", headers=deployment.headers("rep")).status_code == 404


def test_a_header_only_upload_is_422_naming_the_file(deployment: Deployment) -> None:
    admin = deployment.headers("admin")
    csv = "客户编码,客户名称,客户类型\n".encode()
    response = deployment.client.post("/v1/ingest", headers=admin, files={"file": ("客户.csv", csv, "text/csv")})
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "validation_failed"
    [row_error] = error["details"]["errors"]
    assert (row_error["file"], row_error["code"]) == ("客户.csv", "no_data_rows")
    assert row_error["reason"] == "文件没有数据行（只有表头）"


def test_a_header_typo_names_the_missing_column_and_a_forced_type_is_accepted(deployment: Deployment) -> None:
    admin = deployment.headers("admin")
    typo = "订单号,行号,客户编码,商品编码,订单日期,数量,单格\nN-1,1,C-HZ-00001,SKU-1,2025-09-01,10,30\n".encode()
    response = deployment.client.post("/v1/ingest", headers=admin, files={"file": ("订单.csv", typo, "text/csv")})
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "unknown_file_type" and "--type" not in error["message"]
    assert error["message"].startswith("订单.csv: 看起来像订单行文件（orders），但缺少必填列 单价/unit_price")
    assert error["details"] == {"file": "订单.csv", "closest": "orders", "missing": ["单价/unit_price"]}
    people = "id,name\nR-UP-1,上传代表\n".encode()
    ambiguous = deployment.client.post("/v1/ingest", headers=admin, files={"file": ("people.csv", people, "text/csv")})
    assert ambiguous.status_code == 422
    assert _error(ambiguous)["details"]["candidates"] == ["competitors", "doctors", "reps"]
    forced = deployment.client.post(
        "/v1/ingest", headers=admin, files={"file": ("people.csv", people, "text/csv")}, data={"file_type": "reps"}
    )
    assert forced.status_code == 200, forced.text
    assert forced.json()["files"][0]["file_type"] == "reps"


def test_an_upload_is_named_by_its_own_file_name(deployment: Deployment) -> None:
    admin = deployment.headers("admin")
    name = "客户 名单(1).csv"
    good = "客户编码,客户名称,客户类型,城市\nC-UP-9,上传命名测试药房,单体药店,杭州\n".encode()
    loaded = deployment.client.post("/v1/ingest", headers=admin, files={"file": (name, good, "text/csv")})
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["files"][0]["file"] == name and "skg-upload" not in loaded.text
    bad = "客户编码,客户名称,客户类型\nC-UP-10,另一个,超市\n".encode()
    rejected = deployment.client.post("/v1/ingest", headers=admin, files={"file": (name, bad, "text/csv")})
    error = _error(rejected)
    assert error["details"]["file"] == name and error["details"]["errors"][0]["file"] == name
    assert error["message"].startswith(f"{name}: ") and "skg-upload" not in rejected.text


def test_oversized_upload_is_413(deployment: Deployment) -> None:
    limit = deployment.state.settings.upload_max_mb << 20
    response = deployment.client.post(
        "/v1/ingest",
        headers=deployment.headers("admin"),
        files={"file": ("big.csv", b"a" * (limit + 10), "text/csv")},
    )
    assert response.status_code == 413 and _error(response)["code"] == "too_large"


def test_pdf_and_markdown_briefings(deployment: Deployment) -> None:
    rep = deployment.headers("rep")
    pdf = deployment.client.get("/v1/customers/C-HZ-00001/briefing?format=pdf", headers=rep)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    md = deployment.client.get("/v1/customers/C-HZ-00001/briefing?format=md", headers=rep)
    assert md.headers["content-type"].startswith("text/markdown") and "客户健康度" in md.text
    bad = deployment.client.get("/v1/customers/C-HZ-00001/briefing?format=docx", headers=rep)
    assert bad.status_code == 422 and _error(bad)["details"]["errors"][0]["path"] == "query.format"
