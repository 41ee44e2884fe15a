"""A worker of ``serve --workers N`` takes requests only once its indexes are built (issue 22, the feed lag).

The workers share one listening socket and uvicorn lets a worker accept connections once the app's lifespan has run.
A worker that built its indexes in the background accepted connections at once and held their requests until the
build was done, which the feed benchmark saw as a 12 s lag of the first publish after a start.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import worker_app
from api.settings import get_settings
from graph.embedded import EmbeddedGraphStore
from ingest.pipeline import ingest_paths

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    store = EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256)
    ingest_paths(store, "w1", [EXAMPLES])
    store.close()
    for name, value in {"SKG_DATA_DIR": str(tmp_path), "SKG_EMBEDDER": "hashing", "SKG_BUFFER_POOL_MB": "256",
                        "SKG_FEED_POLL_S": "0"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    interval = sys.getswitchinterval()
    yield tmp_path
    sys.setswitchinterval(interval)
    get_settings.cache_clear()


def test_a_worker_is_ready_when_it_starts_taking_requests(data_dir: Path) -> None:
    app = worker_app()
    with TestClient(app) as client:
        assert app.state.service.started.is_set()  # the lifespan (before any request is accepted) built the indexes
        body = client.get("/v1/ready").json()
        assert body["status"] == "ready" and body["tenants_loaded"] == ["w1"]
        tenant = body["startup"]["tenants"]["w1"]
        assert tenant["prices_from"] == "built" and tenant["retrieval_from"] == "store"  # no snapshot yet
    with TestClient(worker_app()) as client:  # the first stop saved the snapshots: the second start reads them
        tenant = client.get("/v1/ready").json()["startup"]["tenants"]["w1"]
        assert tenant["prices_from"] == "snapshot" and tenant["retrieval_from"] == "snapshot"


def test_a_worker_logs_as_the_command_line_asked(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve --workers N --log-level …`` reaches the workers (they log their feed passes and start-up at INFO);
    without it a worker logged nothing but warnings, and where a feed lag went could not be seen."""
    import logging

    from api.logs import FieldsFormatter
    from api.settings import Settings, export_for_workers

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    monkeypatch.setenv("SKG_DATA_DIR", str(data_dir))  # restored after the test (export_for_workers sets it)
    monkeypatch.setenv("SKG_BACKEND", "embedded")
    monkeypatch.setenv("SKG_LOG_LEVEL", "warning")
    monkeypatch.setenv("SKG_LOG_JSON", "false")
    try:
        export_for_workers(Settings(), log_level="debug", log_json=True)
        get_settings.cache_clear()
        worker_app()
        worker_app()  # a second app in one process: still one handler
        ours = [h for h in root.handlers if isinstance(h.formatter, FieldsFormatter)]
        assert root.level == logging.DEBUG and len(ours) == 1 and ours[0].formatter.json_lines  # type: ignore[union-attr]
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
