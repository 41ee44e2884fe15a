"""Request ids and structured logs: every response names its request, every record of it carries the id."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from api.logs import ContextFilter, FieldsFormatter, RequestContext
from tests.api.conftest import Deployment

work_log = logging.getLogger("tests.work")


def test_every_response_carries_a_request_id_and_a_plausible_given_one_is_kept(deployment: Deployment) -> None:
    made = deployment.client.get("/v1/health")
    assert len(made.headers["X-Request-ID"]) == 32
    other = deployment.client.get("/v1/health")
    assert other.headers["X-Request-ID"] != made.headers["X-Request-ID"]
    kept = deployment.client.get("/v1/health", headers={"X-Request-ID": "crm-7f3a.1"})
    assert kept.headers["X-Request-ID"] == "crm-7f3a.1"
    odd = deployment.client.get("/v1/health", headers={"X-Request-ID": "x" * 65})
    assert odd.headers["X-Request-ID"] != "x" * 65
    refused = deployment.client.get("/v1/me")  # an error response has one too
    assert refused.status_code == 401 and refused.headers["X-Request-ID"]


def test_one_access_record_per_request_with_route_tenant_status_and_duration(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="api.access"):
        response = deployment.client.get(
            "/v1/entries/KB-NONE-0000", headers={**deployment.headers("trainer", "sh-pharma"), "X-Request-ID": "r-1"}
        )
    assert response.status_code == 404
    (record,) = [r for r in caplog.records if r.name == "api.access" and getattr(r, "request_id", None) == "r-1"]
    assert record.__dict__["route"] == "/v1/entries/{entry_id}"  # the template, not the id
    assert record.__dict__["method"] == "GET" and record.__dict__["status"] == 404
    assert record.__dict__["tenant"] == "sh-pharma"
    assert isinstance(record.__dict__["duration_ms"], float) and record.__dict__["duration_ms"] >= 0


def _failing_app() -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    def boom() -> None:
        work_log.info("working", extra={"step": 1})
        raise RuntimeError("secret internals: password=hunter2")

    app.add_middleware(RequestContext, on_error=errors.unexpected)
    return app


def test_an_unexpected_error_names_the_request_and_its_records_carry_the_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(ContextFilter())
    with caplog.at_level("INFO"), TestClient(_failing_app(), raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500 and response.headers["X-Request-ID"] == "req-42"
    body = response.json()["error"]
    assert body["code"] == "internal" and body["details"] == {"request_id": "req-42"} and "req-42" in body["message"]
    assert "hunter2" not in response.text
    work = next(r for r in caplog.records if r.name == "tests.work")
    assert work.__dict__["request_id"] == "req-42" and work.__dict__["step"] == 1  # a record from a worker thread
    failure = next(r for r in caplog.records if r.name == "api.errors")
    assert failure.__dict__["request_id"] == "req-42" and failure.exc_info is not None


def test_the_formatter_writes_fields_as_text_or_json() -> None:
    record = logging.makeLogRecord(
        {"name": "api.access", "levelname": "INFO", "msg": "request", "request_id": "r-9", "tenant": None,
         "route": "/v1/x", "status": 200, "duration_ms": 1.5, "rows": 3}
    )  # fmt: skip
    text = FieldsFormatter().format(record)
    assert text.endswith("api.access request request_id=r-9 route=/v1/x status=200 duration_ms=1.5 rows=3")
    body = json.loads(FieldsFormatter(json_lines=True).format(record))
    assert body["request_id"] == "r-9" and body["rows"] == 3 and "tenant" not in body and body["message"] == "request"
