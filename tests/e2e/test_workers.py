"""Several API processes on one Neo4j database: a write through one reaches the others' answers through the change
feed, without a restart. Also: ``serve --workers`` is refused on the embedded backend, with the reason.

The Neo4j leg runs when NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD are set and is skipped otherwise (the reason says
so). It starts ``salescopilot serve`` twice — once as one process, once with ``--workers 2`` — on one tenant of its
own, publishes a script through the first and waits for the second to answer with it; then retires it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.keys import KeyStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NEO4J_SKIP = (
    "Neo4j leg skipped: set NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD to run API workers against a Neo4j 5 server"
)
WAIT_S = 300.0
"""How long a server may take to start, or a write to reach the other process, before the test fails (a bound
against hanging, not a speed claim: speed is measured by ``python -m eval.bench_feed``)."""


def test_workers_are_refused_on_the_embedded_backend(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["--data-dir", str(tmp_path), "serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers 2 needs the Neo4j backend" in result.output and "one process at a time" in result.output


LOGS: list[Path] = []
"""The server logs of the running test (shown when it fails)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(what: str, check: object, deadline: float) -> None:
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    logs = {p.name: p.read_text(errors="replace")[-2000:] for p in LOGS if p.exists()}
    pytest.fail(f"not within {WAIT_S:.0f} s: {what}; server logs: {logs}")


@pytest.fixture
def neo4j_env() -> dict[str, str]:
    uri, user, password = (os.environ.get(k) for k in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD"))
    if not (uri and user and password):
        pytest.skip(NEO4J_SKIP)
    return {"SKG_NEO4J_URI": uri, "SKG_NEO4J_USER": user, "SKG_NEO4J_PASSWORD": password}


@pytest.fixture
def tenant(neo4j_env: dict[str, str]) -> Iterator[str]:
    from graph.neo4j_store import Neo4jGraphStore
    from ingest.pipeline import ingest_paths

    name = f"feed-{uuid.uuid4().hex[:10]}"
    store = Neo4jGraphStore(neo4j_env["SKG_NEO4J_URI"], neo4j_env["SKG_NEO4J_USER"], neo4j_env["SKG_NEO4J_PASSWORD"])
    try:
        ingest_paths(store, name, [EXAMPLES])
        yield name
    finally:
        store.delete_tenant(name)
        store.close()


def _serve(env: dict[str, str], port: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "salescopilot"), "serve", "--port", str(port), "--log-level",
               "warning", *extra]  # fmt: skip
    with log.open("wb") as f:
        return subprocess.Popen(command, env=env, stdout=f, stderr=subprocess.STDOUT)


def test_a_write_through_one_process_reaches_the_workers_of_another(
    tmp_path: Path, neo4j_env: dict[str, str], tenant: str
) -> None:
    from graph.neo4j_store import Neo4jGraphStore

    with Neo4jGraphStore(neo4j_env["SKG_NEO4J_URI"], neo4j_env["SKG_NEO4J_USER"],
                         neo4j_env["SKG_NEO4J_PASSWORD"]) as store:  # fmt: skip
        keys = KeyStore(store)  # in the database: every process and worker sees them
        trainer, reviewer, rep = (keys.create(tenant, role, name)[1] for role, name in
                                  (("trainer", "王老师"), ("trainer", "李主管"), ("admin", "运维")))  # fmt: skip
    env = {**os.environ, **neo4j_env, "SKG_BACKEND": "neo4j", "SKG_DATA_DIR": str(tmp_path), "SKG_EMBEDDER": "hashing",
           "SKG_TENANTS": f'["{tenant}"]', "SKG_FEED_POLL_S": "0.5", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    port_a, port_b = _free_port(), _free_port()
    LOGS[:] = [tmp_path / "a.log", tmp_path / "b.log"]
    servers = [_serve(env, port_a, tmp_path / "a.log"), _serve(env, port_b, tmp_path / "b.log", "--workers", "2")]
    a = httpx.Client(base_url=f"http://127.0.0.1:{port_a}", timeout=WAIT_S)
    b = httpx.Client(base_url=f"http://127.0.0.1:{port_b}", timeout=WAIT_S)
    try:
        deadline = time.monotonic() + WAIT_S
        for client in (a, b):

            def ready(client: httpx.Client = client) -> bool:
                try:
                    return client.get("/v1/ready").status_code == 200
                except httpx.TransportError:
                    return False

            _until(f"{client.base_url} ready", ready, deadline)
        created = a.post("/v1/entries", headers={"X-API-Key": trainer}, json={
            "kind": "objection_script", "title": "顾客嫌立普妥口感发苦想换牌子",
            "body": "先认同顾客感受，再说明薄膜衣片不苦，整片吞服即可。", "skus": ["SKU-ATV-20"]})  # fmt: skip
        assert created.status_code == 201, created.text
        entry = created.json()
        submitted = a.post(f"/v1/entries/{entry['id']}/submit", headers={"X-API-Key": trainer},
                           json={"version": entry["version"]}).json()  # fmt: skip
        published = a.post(f"/v1/entries/{entry['id']}/publish", headers={"X-API-Key": reviewer},
                           json={"version": submitted["version"]})  # fmt: skip
        assert published.status_code == 200, published.text
        ask = {"objection": "顾客嫌立普妥口感发苦想换牌子", "skus": ["SKU-ATV-20"], "k": 3}

        def answers_of_b() -> list[str]:
            body = b.post("/v1/objection-answers", headers={"X-API-Key": rep}, json=ask).json()
            return [x["entry_id"] for x in body.get("answers", [])]

        # each of B's two workers answers some of these requests: all of them must have taken the write
        _until("B answers with the script published through A", lambda: all(
            entry["id"] in answers_of_b() for _ in range(8)), time.monotonic() + WAIT_S)  # fmt: skip
        retired = a.post(f"/v1/entries/{entry['id']}/retire", headers={"X-API-Key": trainer},
                         json={"version": published.json()["version"]})  # fmt: skip
        assert retired.status_code == 200, retired.text
        _until("B stops answering with the script retired through A", lambda: all(
            entry["id"] not in answers_of_b() for _ in range(8)), time.monotonic() + WAIT_S)  # fmt: skip
        feed = b.get("/v1/ready").json()["feed"][tenant]
        assert feed["caught_up"] and feed["seq"] >= 4  # ingest, create, submit, publish, retire: all applied

        # keys live in the database: a key made through A works in both of B's workers; revoked through A, B
        # refuses it once its key cache re-reads it (every 2 s; never trusted past 5 s)
        made = a.post("/v1/keys", headers={"X-API-Key": rep}, json={"role": "admin", "name": "临时运维"})
        assert made.status_code == 201, made.text
        temp, temp_id = made.json()["key"], made.json()["record"]["id"]
        assert all(b.get("/v1/keys", headers={"X-API-Key": temp}).status_code == 200 for _ in range(6))
        assert a.delete(f"/v1/keys/{temp_id}", headers={"X-API-Key": rep}).status_code == 200
        assert a.get("/v1/keys", headers={"X-API-Key": temp}).status_code == 401  # A: at once
        _until("B refuses the key revoked through A", lambda: all(
            b.get("/v1/keys", headers={"X-API-Key": temp}).status_code == 401 for _ in range(8)),
            time.monotonic() + WAIT_S)  # fmt: skip
    finally:
        a.close()
        b.close()
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
