"""The local admin channel's checks: loopback only, not through a proxy, the token, the file, a stale file.

And the embedded store's lock, which the channel relies on: a bulk load in the service no longer drops it, and a
second process's open no longer "recovers" the service's load under it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient

import api.cli  # registers the command line the channel runs
from api.app import create_app
from api.local_admin import (
    FILE_NAME,
    ROUTE,
    TOKEN_HEADER,
    LocalAdmin,
    ServiceUnreachableError,
    admits,
    forward,
    is_loopback,
    read,
)
from api.settings import Settings
from graph.embedded import UNDO_FILE, EmbeddedGraphStore

ROOT = typer.main.get_command(api.cli.app)


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("::ffff:127.0.0.1", True), ("10.0.0.5", False),
     ("192.168.1.20", False), ("::ffff:10.0.0.5", False), ("testclient", False), ("", False), (None, False),
     ("2001:db8::1", False)],
)  # fmt: skip
def test_only_loopback_addresses_are_loopback(host: str | None, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_a_request_relayed_by_a_proxy_is_not_admitted_even_from_loopback() -> None:
    assert admits("127.0.0.1", [(b"content-type", b"application/json")])
    for header in (b"X-Forwarded-For", b"forwarded", b"x-real-ip"):
        assert not admits("127.0.0.1", [(header, b"203.0.113.9")])
    assert not admits("203.0.113.9", [])


def test_the_channel_is_off_for_a_listener_loopback_does_not_reach() -> None:
    assert LocalAdmin.for_listener("10.0.0.5", 8000) is None
    assert LocalAdmin.for_listener("0.0.0.0", 8000).url == "http://127.0.0.1:8000"  # type: ignore[union-attr]  # noqa: S104
    assert LocalAdmin.for_listener("::", 8000).url == "http://[::1]:8000"  # type: ignore[union-attr]
    a, b = LocalAdmin.for_listener("127.0.0.1", 1), LocalAdmin.for_listener("127.0.0.1", 1)
    assert a is not None and b is not None and a.token != b.token and len(a.token) >= 40


def test_the_file_is_private_and_removed_only_by_its_own_service(tmp_path: Path) -> None:
    first = LocalAdmin.for_listener("127.0.0.1", 8000)
    assert first is not None
    path = first.write(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and read(tmp_path) == first
    later = LocalAdmin.for_listener("127.0.0.1", 8001)
    assert later is not None
    later.write(tmp_path)  # a later service's file replaces a stale one
    first.remove(tmp_path)
    assert read(tmp_path) == later
    later.remove(tmp_path)
    assert not path.exists()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, LocalAdmin, Path]]:
    channel = LocalAdmin.for_listener("127.0.0.1", 8000)
    assert channel is not None
    settings = Settings(data_dir=tmp_path, buffer_pool_mb=128, embedder="hashing", feed_poll_s=0)
    with TestClient(create_app(settings, preload=False, local_admin=channel)) as test_client:
        yield test_client, channel, tmp_path


def test_the_route_refuses_a_client_off_loopback_even_with_the_token(
    client: tuple[TestClient, LocalAdmin, Path],
) -> None:
    test_client, channel, data_dir = client  # TestClient's address is "testclient": not loopback
    assert (data_dir / FILE_NAME).exists()
    body = {"argv": ["stats"]}
    refused = test_client.post(ROUTE, json=body, headers={TOKEN_HEADER: channel.token})
    assert refused.status_code == 403 and "loopback" in refused.json()["error"]["message"]


def test_the_route_refuses_a_wrong_token_and_runs_the_command_with_the_right_one(tmp_path: Path) -> None:
    channel = LocalAdmin.for_listener("127.0.0.1", 8000)
    assert channel is not None
    settings = Settings(data_dir=tmp_path, buffer_pool_mb=128, embedder="hashing", feed_poll_s=0)
    app = create_app(settings, preload=False, local_admin=channel)
    with TestClient(app, client=("127.0.0.1", 50000)) as test_client:
        body = {"argv": ["stats", "--json"]}
        for headers in ({}, {TOKEN_HEADER: "x" * len(channel.token)}):
            refused = test_client.post(ROUTE, json=body, headers=headers)
            assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_local_token"
        ran = test_client.post(ROUTE, json=body, headers={TOKEN_HEADER: channel.token})
        assert ran.status_code == 200, ran.text
        assert ran.json()["exit_code"] == 0 and '"backend": "embedded"' in ran.json()["stdout"]
        bad = test_client.post(ROUTE, json={**body, "argv": ["tasks", "--rep", "R-X"]},
                               headers={TOKEN_HEADER: channel.token})  # fmt: skip
        assert bad.json()["exit_code"] == 4 and "unknown rep R-X" in bad.json()["stderr"]
    assert not (tmp_path / FILE_NAME).exists()  # the shutdown removed it


def test_a_stale_file_is_reported_at_once(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    stale = LocalAdmin(url="http://127.0.0.1:9", token="t", pid=pid)
    stale.write(tmp_path)
    terminal = {"stdout_tty": False, "stderr_tty": False, "width": None, "color_system": None}
    with pytest.raises(ServiceUnreachableError, match="not running"):
        forward(tmp_path, ["stats"], holder_pid=None, terminal=terminal, command=ROOT)
    with pytest.raises(ServiceUnreachableError, match="held by 4242"):
        forward(tmp_path, ["stats"], holder_pid=4242, terminal=terminal, command=ROOT)
    # a live PID (this one) but nothing listening at the URL: refused at once, no wait
    LocalAdmin(url="http://127.0.0.1:9", token="t", pid=os.getpid()).write(tmp_path)
    with pytest.raises(ServiceUnreachableError, match="does not answer"):
        forward(tmp_path, ["stats"], holder_pid=None, terminal=terminal, command=ROOT)


_PROBE = """
import sys
from graph.embedded import EmbeddedGraphStore
try:
    EmbeddedGraphStore(sys.argv[1], buffer_pool_mb=64).close()
    print("opened")
except Exception as e:
    print("refused", e)
"""


def _open_elsewhere(graph_dir: Path) -> str:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(graph_dir)], capture_output=True, text=True, check=True)
    return done.stdout


def test_the_store_stays_locked_through_a_bulk_load_and_a_second_open_touches_nothing(tmp_path: Path) -> None:
    graph_dir = tmp_path / "graph"
    store = EmbeddedGraphStore(graph_dir, buffer_pool_mb=64)
    try:
        assert _open_elsewhere(graph_dir).startswith("refused")
        store._take_undo_image()  # what a guarded bulk load does first: copy the database file
        assert (graph_dir / UNDO_FILE).exists()
        before = (graph_dir / "graph.lbdb").stat().st_ino
        # another process may not open the store now, nor "undo" the load under way with the image
        assert f"Lock is held by PID {os.getpid()}" in _open_elsewhere(graph_dir)
        assert (graph_dir / UNDO_FILE).exists() and (graph_dir / "graph.lbdb").stat().st_ino == before
        assert store.tenants() == []
    finally:
        store.close()
    assert _open_elsewhere(graph_dir).startswith("opened")


def test_a_streamed_command_answers_its_output_in_lines_then_its_result(tmp_path: Path) -> None:
    """``stream``: JSON lines of output as written, the last one the result; a cancel with nothing running says so."""
    import json

    from api.local_admin import CANCEL_ROUTE

    channel = LocalAdmin.for_listener("127.0.0.1", 8000)
    assert channel is not None
    settings = Settings(data_dir=tmp_path, buffer_pool_mb=128, embedder="hashing", feed_poll_s=0)
    app = create_app(settings, preload=False, local_admin=channel)
    with TestClient(app, client=("127.0.0.1", 50000)) as test_client:
        headers = {TOKEN_HEADER: channel.token}
        ran = test_client.post(ROUTE, json={"argv": ["tasks", "--rep", "R-X"], "stream": True}, headers=headers)
        assert ran.status_code == 200 and ran.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in ran.text.splitlines()]
        result = lines[-1]["result"]
        assert result["exit_code"] == 4 and not result["cancelled"]
        assert "unknown rep R-X" in "".join(line.get("err", "") for line in lines[:-1]) == result["stderr"]
        assert test_client.post(CANCEL_ROUTE, headers=headers).json() == {"cancelled": False}
        assert test_client.post(CANCEL_ROUTE, headers={TOKEN_HEADER: "x"}).status_code == 401


def test_a_cancelled_command_stops_at_its_next_step_and_says_nothing_was_written(tmp_path: Path) -> None:
    """A session's checkpoint raises once the CLI cancelled; the run answers exit 130, ``cancelled``, and why."""
    from api.local_admin import CliRequest, checkpoint, current_session, register_runner, run_command
    from api.local_admin import _runner as runners

    class _State:
        settings = Settings(data_dir=tmp_path)

    steps: list[int] = []

    def command(argv: list[str], out: object, err: object) -> None:
        session = current_session()
        assert session is not None
        for step in range(3):
            checkpoint()
            steps.append(step)
            session.cancelled.set()  # the CLI's Ctrl-C arrives during the first step

    before = list(runners)
    register_runner(command)
    try:
        result = run_command(_State(), CliRequest(argv=["ingest"]))  # type: ignore[arg-type]
    finally:
        runners[:] = before
    assert steps == [0] and result.exit_code == 130 and result.cancelled
    assert "nothing was written" in result.stderr
    checkpoint()  # outside a session: nothing to cancel
