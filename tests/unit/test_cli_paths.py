"""The CLI beside a running service sends its path arguments absolute (the service never changes its directory)."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli import app
from api.local_admin import CliSession, _session, absolute_paths, as_typed

ROOT = typer.main.get_command(app)
CWD = Path("/work/here")


def test_relative_path_arguments_are_made_absolute_and_nothing_else() -> None:
    argv, typed = absolute_paths(ROOT, ["--data-dir", "d", "ingest", "examples/orders.csv", "/abs/x.csv",
                                        "--tenant", "examples", "--type", "orders"], CWD)  # fmt: skip
    assert argv == ["--data-dir", "/work/here/d", "ingest", "--rejects", "/work/here/rejects",
                    "/work/here/examples/orders.csv", "/abs/x.csv",
                    "--tenant", "examples", "--type", "orders"]  # fmt: skip
    assert typed == {"/work/here/d": "d", "/work/here/examples/orders.csv": "examples/orders.csv",
                     "/work/here/rejects": "rejects"}  # fmt: skip
    assert absolute_paths(ROOT, ["formulary", "diff", "--old", "a.xlsx", "--new=./b.xlsx"], CWD)[0] == [
        "formulary", "diff", "--old", "/work/here/a.xlsx", "--new=/work/here/b.xlsx"]  # fmt: skip
    assert absolute_paths(ROOT, ["brief", "--tenant", "t", "--customer", "C-1", "-oout.pdf"], CWD)[0][-1] == (
        "-o/work/here/out.pdf"
    )
    words = ["search", "立普妥 太贵", "--tenant", "t"]  # not paths: left as typed
    assert absolute_paths(ROOT, words, CWD) == (words, {})
    assert absolute_paths(ROOT, ["ingest", "--tenant", "t", "--rejects", "/r", "--", "-odd.csv"], CWD)[0] == [
        "ingest", "--tenant", "t", "--rejects", "/r", "--", "/work/here/-odd.csv"]  # fmt: skip


def test_a_command_in_the_service_prints_the_paths_as_typed(tmp_path: Path) -> None:
    _, typed = absolute_paths(ROOT, ["ingest", "examples", "--tenant", "t"], CWD)
    text = "/work/here/examples/orders.csv: 缺少必填列; rejects in /work/here/rejects/orders.rejects.csv"
    assert as_typed(text) == text  # outside a session: as it is
    token = _session.set(CliSession(state=None, settings=None, typed_paths=typed))  # type: ignore[arg-type]
    try:
        assert as_typed(text) == "examples/orders.csv: 缺少必填列; rejects in rejects/orders.rejects.csv"
    finally:
        _session.reset(token)
