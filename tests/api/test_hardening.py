"""Hostile requests: limits enforced on the bytes received, nesting, non-ASCII ids in downloads; never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import Deployment


@pytest.fixture(scope="module")
def small(deployment: Deployment) -> Iterator[TestClient]:
    """The same service with tiny limits: 1 MiB uploads, 16 KiB JSON bodies."""
    settings = deployment.state.settings.model_copy(update={"upload_max_mb": 1, "json_max_kb": 16})
    with TestClient(create_app(settings, state=deployment.state, preload=False)) as client:
        yield client


def _chunks(total: int, size: int = 64 << 10) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield b" " * n
        sent += n


def test_a_chunked_json_body_over_the_limit_is_413_before_it_is_read(small: TestClient, deployment: Deployment) -> None:
    headers = deployment.headers("service") | {"Content-Type": "application/json"}
    response = small.post("/v1/price-checks", headers=headers, content=_chunks(200 << 10))  # no Content-Length
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    declared = small.post("/v1/price-checks", headers=headers, content=b" " * (32 << 10))
    assert declared.status_code == 413


def test_a_chunked_upload_over_the_limit_is_413_and_writes_nothing(small: TestClient, deployment: Deployment) -> None:
    before = deployment.state.store.counts("hz-pharma")
    boundary = "x-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n客户编码,客户名称,客户类型\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for i in range(40_000):
            yield f"C-BIG-{i:06d},大客户{i},连锁\r\n".encode()
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = deployment.headers("admin") | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = small.post("/v1/ingest", headers=headers, content=body())
    assert response.status_code == 413, response.text
    assert deployment.state.store.counts("hz-pharma") == before


def test_deeply_nested_json_is_400_not_500(deployment: Deployment) -> None:
    headers = deployment.headers("service") | {"Content-Type": "application/json"}
    deep = b'{"lines": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = deployment.client.post("/v1/price-checks", headers=headers, content=deep)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] in ("invalid_request", "too_large")


def test_a_briefing_pdf_for_a_customer_id_with_chinese_characters(deployment: Deployment) -> None:
    admin = deployment.headers("admin")
    rep = deployment.client.get("/v1/me", headers=deployment.headers("rep")).json()["rep_id"]  # its territory
    csv = f"客户编码,客户名称,客户类型,城市,负责代表\nC-杭州-001,西湖区仁心药房,单体药店,杭州,{rep}\n".encode()
    upload = deployment.client.post("/v1/ingest", headers=admin, files={"file": ("客户.csv", csv, "text/csv")})
    assert upload.status_code == 200, upload.text
    response = deployment.client.get("/v1/customers/C-杭州-001/briefing?format=pdf", headers=deployment.headers("rep"))
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert "filename*=UTF-8''briefing-C-%E6%9D%AD%E5%B7%9E-001" in disposition
    assert response.content.startswith(b"%PDF")
    assert json.dumps(disposition).isascii()


def test_the_worker_thread_cap_is_the_setting(deployment: Deployment) -> None:
    """``SKG_WORKER_THREADS`` bounds the threads running blocking routes (anyio's limiter of the app's event loop)."""
    settings = deployment.state.settings.model_copy(update={"worker_threads": 3})
    with TestClient(create_app(settings, state=deployment.state, preload=False)) as client:
        tokens = client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
        assert tokens == 3
        assert client.get("/v1/entries", headers=deployment.headers("trainer")).status_code == 200
