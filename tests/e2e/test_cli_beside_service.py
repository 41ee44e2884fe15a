"""The CLI beside a running embedded service (issue 22, item 2): its commands go through the service.

Two data folders start alike. The same commands run on the first with no service, and on the second while
``salescopilot serve`` (a real process) holds its store; their stdout, stderr and exit codes are compared (after
blanking the figures that differ between any two runs: seconds, key ids and secrets, creation times). Then: the
channel's file is 0600 and gone after a clean stop; a wrong token is refused; a command that must not go through the
service says so; a file left by ``kill -9`` neither hangs the CLI nor stops it (the store is free then).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from api.local_admin import FILE_NAME, ROUTE, TOKEN_HEADER
from api.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
NRDL = ROOT / "tests" / "fixtures" / "nrdl" / "nrdl-2024-mini.xlsx"
TENANT = "beside"
WAIT_S = 600.0
runner = CliRunner()
ENV = {"SKG_EMBEDDER": "hashing", "SKG_BUFFER_POOL_MB": "256", "HF_HUB_OFFLINE": "1", "SKG_FEED_POLL_S": "0.5"}


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI in this process reads the same settings as the service (hashing embedder, a small buffer pool)."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **ENV, "SKG_DATA_DIR": str(data_dir)}
    command = [str(Path(sys.executable).parent / "salescopilot"), "serve", "--port", str(port),
               "--log-level", "warning"]  # fmt: skip
    with (data_dir.parent / f"serve-{port}.log").open("wb") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _until_ready(port: int, data_dir: Path, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, (data_dir.parent / f"serve-{port}.log").read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ready").status_code == 200 and (data_dir / FILE_NAME).exists():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError("the service did not get ready")


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """Two data folders with the same company files loaded (no service on either)."""
    alone, beside = tmp_path / "alone", tmp_path / "beside"
    for folder in (alone, beside):
        code, out, err = _cli(folder, "ingest", str(ROOT / "examples"), "--tenant", TENANT)
        assert code == 0, out + err
    return alone, beside


@pytest.fixture
def service(folders: tuple[Path, Path]) -> Iterator[tuple[Path, int, subprocess.Popen[bytes]]]:
    """``salescopilot serve`` on the second folder, stopped (SIGINT, a clean shutdown) at the end."""
    port = _free_port()
    server = _serve(folders[1], port)
    try:
        _until_ready(port, folders[1], server)
        yield folders[1], port, server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=120)


_VARYING = [
    (re.compile(r"\d+\.\d+ s\b"), "<s> s"),  # "ingest summary (0.6 s)", "formulary apply E1 (0.1 s)"
    (re.compile(r"│\s+\d+\.\d\d │"), "│ <s> │"),  # the per-file seconds column of the ingest summary
    (re.compile(r"skg_[0-9a-f]{12}_[\w-]+"), "<key>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?(\+00:00)?"), "<time>"),
    (re.compile(r'"seconds": [\d.]+'), '"seconds": <s>'),
    (re.compile(r"\b\d+:\d\d:\d\d\b"), "<elapsed>"),  # the progress display's elapsed time
]


_CENTRED = re.compile(r"^ +| +$", re.MULTILINE)
"""A centred table title's padding: it depends on the width of the seconds in it ("(0.6 s)" against "(12.3 s)")."""


def _same(text: str) -> str:
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    return _CENTRED.sub("", text)


def _commands(bad_file: Path) -> list[list[str]]:
    """What an operator runs: reads, an ingest of a file and of a folder, a bad file, a formulary edition, keys."""
    return [
        ["stats", "--json"],
        ["ingest", "examples/orders.csv", "--tenant", TENANT],  # relative: read from the CLI's working directory
        ["ingest", str(ROOT / "examples"), "--tenant", TENANT],
        ["ingest", str(bad_file), "--tenant", TENANT],
        ["formulary", "apply", str(NRDL), "--tenant", TENANT, "--edition", "E1", "--effective-date", "2025-01-01"],
        ["formulary", "status", "--tenant", TENANT, "--csv"],
        ["tasks", "--rep", "R-001", "--as-of", "2026-11-01", "--format", "json"],
        ["tasks", "--rep", "R-NOBODY", "--as-of", "2026-11-01"],
        [
            "price-check",
            "--tenant",
            TENANT,
            "--customer",
            "C-001",
            "--sku",
            "SKU-ATV-20",
            "--price",
            "1",
            "--as-of",
            "2026-11-01",
            "--json",
        ],  # fmt: skip
        ["search", "立普妥 太贵", "--tenant", TENANT],
        ["safety", "list", "--tenant", TENANT, "--status", "all"],
        ["keys", "create", "--tenant", TENANT, "--role", "admin", "--name", "运维"],
        ["keys", "create", "--tenant", TENANT, "--role", "boss", "--name", "x"],
        ["keys", "list", "--json"],
        ["stats", "--json", "--tenant", TENANT],
    ]


def _run_all(data_dir: Path, bad_file: Path) -> list[tuple[int, str, str]]:
    results = []
    for command in _commands(bad_file):
        code, out, err = _cli(data_dir, *command)
        results.append((code, _same(out), _same(err)))
    # revoke the key created above (its id differs between the two folders)
    created = json.loads(_cli(data_dir, "keys", "list", "--json")[1])[0]["id"]
    code, out, err = _cli(data_dir, "keys", "revoke", created)
    results.append((code, _same(out), _same(err)))
    code, out, err = _cli(data_dir, "keys", "revoke", "nosuchkey")
    results.append((code, _same(out), _same(err)))
    return results


def test_commands_beside_the_service_print_what_they_print_alone(
    folders: tuple[Path, Path],
    service: tuple[Path, int, subprocess.Popen[bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone, beside = folders
    data_dir, port, _ = service
    bad = tmp_path / "orders_bad.csv"
    bad.write_text("order_id,line,customer_id,sku,at,qty,unit_price,unit\nSO-9,1,C-001,SKU-ATV-20,2026-01-05,abc,30,\n")
    monkeypatch.chdir(ROOT)
    by_itself = _run_all(alone, bad)
    through_service = _run_all(beside, bad)
    for command, a, b in zip([*_commands(bad), ["keys", "revoke"], ["keys", "revoke", "x"]], by_itself,
                             through_service, strict=True):  # fmt: skip
        assert a == b, f"{command}:\nalone   {a}\nservice {b}"
    codes = [code for code, _, _ in by_itself]
    assert codes[3] == 2 and "orders_bad.csv" in by_itself[3][2]  # the bad file: exit 2, the file named
    assert codes[7] == 4 and codes[12] == 2 and codes[-1] == 4  # unknown rep, unknown role, unknown key
    assert all(code == 0 for i, code in enumerate(codes) if i not in (3, 7, 12, len(codes) - 1))
    # the writes went into the service's store (the service answers with them) and the service still holds it
    key = json.loads(_cli(beside, "keys", "list", "--json")[1])
    assert [k["revoked_at"] is not None for k in key] == [True]
    assert (beside / FILE_NAME).exists()
    ingested = json.loads(_cli(beside, "stats", "--json", "--tenant", TENANT)[1])["counts"][TENANT]
    assert ingested["LISTED_IN"] >= 1


def test_the_channel_is_private_and_refuses_a_wrong_token(service: tuple[Path, int, subprocess.Popen[bytes]]) -> None:
    data_dir, port, server = service
    path = data_dir / FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    recorded = json.loads(path.read_text())
    assert recorded["pid"] == server.pid and recorded["url"] == f"http://127.0.0.1:{port}"
    body = {"argv": ["stats"]}
    for headers in ({}, {TOKEN_HEADER: "wrong"}, {TOKEN_HEADER: recorded["token"][:-1]}):
        refused = httpx.post(f"http://127.0.0.1:{port}{ROUTE}", json=body, headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_local_token"
    relayed = httpx.post(f"http://127.0.0.1:{port}{ROUTE}", json=body,
                         headers={TOKEN_HEADER: recorded["token"], "X-Forwarded-For": "203.0.113.9"})  # fmt: skip
    assert relayed.status_code == 403
    ok = httpx.post(f"http://127.0.0.1:{port}{ROUTE}", json=body, headers={TOKEN_HEADER: recorded["token"]})
    assert ok.status_code == 200 and ok.json()["exit_code"] == 0 and TENANT in ok.json()["stdout"]
    assert ROUTE not in httpx.get(f"http://127.0.0.1:{port}/openapi.json").text
    # a command that may not go through the service says which, why, and what to do
    code, out, err = _cli(data_dir, "demo", "--reset")
    assert code == 3 and out == ""
    assert "`salescopilot demo` needs the service stopped" in err and "change log" in err and "Stop" in err
    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=120) == 0
    assert not path.exists()  # removed at a clean stop


def test_a_file_left_by_a_killed_service_neither_hangs_nor_stops_the_cli(folders: tuple[Path, Path]) -> None:
    data_dir = folders[1]
    port = _free_port()
    server = _serve(data_dir, port)
    try:
        _until_ready(port, data_dir, server)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=60)
    assert (data_dir / FILE_NAME).exists()  # stale
    code, out, err = _cli(data_dir, "stats", "--json")  # the store is free: the CLI opens it itself
    assert code == 0, err
    assert TENANT in json.loads(out)["counts"]
    assert not (data_dir / FILE_NAME).exists()  # and the stale file is gone
    code, out, err = _cli(data_dir, "keys", "list", "--json")
    assert code == 0 and json.loads(out) == []


def _orders_file(path: Path, n: int, tag: str) -> Path:
    """``n`` order lines of known customers and SKUs (a large file: its validation takes a while)."""
    rows = [f"SO-{tag}-{i // 3},{i % 3 + 1},C-00{1 + i % 3},SKU-ATV-20,2025-0{1 + i % 9}-1{i % 10},{1 + i % 50},30.00,"
            for i in range(n)]  # fmt: skip
    path.write_text("order_id,line,customer_id,sku,at,qty,unit_price,unit\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_long_ingest_streams_its_progress_and_ctrl_c_cancels_it_with_nothing_written(
    service: tuple[Path, int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """Through the service, an ingest's progress lines reach the CLI while it runs; Ctrl-C on the CLI asks the
    service to stop it, which it does at the next step before the load (one transaction): the CLI says so, exits
    130, and the store holds not one of the files' lines."""
    data_dir, _, server = service
    files = [_orders_file(tmp_path / f"orders_{i}.csv", 60_000, f"C{i}") for i in range(3)]
    before = json.loads(_cli(data_dir, "stats", "--json", "--tenant", TENANT)[1])["counts"][TENANT]
    exe = Path(sys.executable).parent / "salescopilot"
    env = {**os.environ, **ENV, "SKG_DATA_DIR": str(data_dir)}
    cli = subprocess.Popen([str(exe), "ingest", *map(str, files), "--tenant", TENANT], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert cli.stderr is not None
        streamed = []
        while not any("ingest: validating orders_0.csv" in line for line in streamed):
            line = cli.stderr.readline()
            assert line, "".join(streamed)  # the stream ended before the first step's line
            streamed.append(line)
        assert cli.poll() is None  # the step's line came while the command was still running
        cli.send_signal(signal.SIGINT)
        out, err = cli.communicate(timeout=WAIT_S)
    finally:
        if cli.poll() is None:
            cli.kill()
    err = "".join(streamed) + err
    assert cli.returncode == 130, err
    assert "cancelling the command in the service" in err
    assert "cancelled: the command stopped in the service before it wrote anything" in err
    assert "nothing was written" in err and "ingest: validating orders_2.csv" not in err
    after = json.loads(_cli(data_dir, "stats", "--json", "--tenant", TENANT)[1])["counts"][TENANT]
    assert after == before
    assert server.poll() is None and (data_dir / FILE_NAME).exists()  # the service runs on, holding the store
    code, _, _ = _cli(data_dir, "ingest", str(ROOT / "examples" / "orders.csv"), "--tenant", TENANT)
    assert code == 0  # and takes the next command
