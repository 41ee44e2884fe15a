"""A trainer's work survives restarts of the run command: the demo is never loaded over it.

The run command (scripts/run.sh) runs ``salescopilot demo --if-empty`` and then serves the API. This test does the
same steps in process: load, serve, edit and publish an entry, stop; start again twice (the second time a month
later); the edit, its history and its audit are intact and the entry can be edited again.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.settings import Settings
from copilot.curation import EntryEdit, edit_entry
from demo.load import demo_states, load_demo
from graph.embedded import EmbeddedGraphStore
from graph.model import Entry

AS_OF = "2026-11-25"
ENTRY = "KB-HZ-OS-0020"
runner = CliRunner()


def _run_command(data_dir: Path) -> None:
    """What scripts/run.sh does before serving."""
    result = runner.invoke(cli, ["--data-dir", str(data_dir), "demo", "--if-empty"])
    assert result.exit_code == 0, result.output


def _serve(data_dir: Path) -> tuple[TestClient, dict[str, dict[str, str]]]:
    settings = Settings(data_dir=data_dir, buffer_pool_mb=256, embedder="hashing")
    client = TestClient(create_app(settings, preload=False), raise_server_exceptions=False)
    client.__enter__()
    state = client.app.state.service  # type: ignore[attr-defined]
    keys = {
        role: {"X-API-Key": state.keys.create("hz-pharma", role, f"{role} 测试")[1]} for role in ("trainer", "admin")
    }
    return client, keys


def test_an_edit_survives_two_restarts_of_the_run_command(tmp_path: Path) -> None:
    first = runner.invoke(cli, ["--data-dir", str(tmp_path), "demo", "--if-empty", "--as-of", AS_OF])
    assert first.exit_code == 0, first.output

    client, keys = _serve(tmp_path)
    trainer = keys["trainer"]
    entry = client.get(f"/v1/entries/{ENTRY}", headers=trainer).json()
    v = entry["version"]
    new_body = entry["body"] + "（培训部 12 月补充：先问清客户比价的规格。）"
    edited = client.patch(f"/v1/entries/{ENTRY}", headers=trainer, json={"version": v, "body": new_body})
    assert edited.status_code == 200, edited.text
    submitted = client.post(f"/v1/entries/{ENTRY}/submit", headers=trainer, json={"version": v + 1})
    assert submitted.status_code == 200, submitted.text
    published = client.post(f"/v1/entries/{ENTRY}/publish", headers=keys["admin"], json={"version": v + 2})
    assert published.status_code == 200, published.text
    history_before = client.get(f"/v1/entries/{ENTRY}/history", headers=trainer).json()
    client.__exit__(None, None, None)

    _run_command(tmp_path)  # restart
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        states = demo_states(store)
        assert states["hz-pharma"].state == "changed" and states["sh-pharma"].state == "loaded"
        # a month later: the run command's load is told today is a month on; still nothing is loaded
        later = dt.date.fromisoformat(AS_OF) + dt.timedelta(days=31)
        report = load_demo(store, if_empty=True, today=later)
        assert report.writes == {} and set(report.skipped) == {"hz-pharma", "sh-pharma"}
    _run_command(tmp_path)  # and the run command itself once more

    client, keys = _serve(tmp_path)
    trainer = keys["trainer"]
    entry = client.get(f"/v1/entries/{ENTRY}", headers=trainer).json()
    assert (entry["body"], entry["version"], entry["status"]) == (new_body, v + 3, "published")
    history = client.get(f"/v1/entries/{ENTRY}/history", headers=trainer).json()
    assert history == history_before
    again = client.patch(
        f"/v1/entries/{ENTRY}", headers=trainer, json={"version": v + 3, "body": new_body + "再补一句。"}
    )
    assert again.status_code == 200, again.text
    assert again.json()["version"] == v + 4
    client.__exit__(None, None, None)


def test_demo_refuses_a_store_with_changes_and_reset_reloads(tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path), "demo", "--as-of", AS_OF]
    assert runner.invoke(cli, args).exit_code == 0
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and "nothing to do" in again.output
    later = runner.invoke(cli, ["--data-dir", str(tmp_path), "demo", "--as-of", "2026-12-25"])
    assert later.exit_code != 0 and "demo_refused" in later.output and "--reset" in later.output

    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        current = store.get_node("hz-pharma", Entry, ENTRY)
        assert current is not None
        edit_entry(store, "hz-pharma", ENTRY, actor="李老师", expected_version=current.version,
                   edit=EntryEdit(body="培训部改过的正文。"))  # fmt: skip
    refused = runner.invoke(cli, args)
    assert refused.exit_code != 0
    assert "hz-pharma: holds the demo" in refused.output and "1 entry_saved" in refused.output
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        kept = store.get_node("hz-pharma", Entry, ENTRY)
        # the entry is published: the edit waits as its pending revision (reps keep the published text until review)
        assert kept is not None and "培训部改过的正文。" in (kept.revision or "")

    reset = runner.invoke(cli, [*args, "--reset"])
    assert reset.exit_code == 0, reset.output
    assert "deleted" in reset.output
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=256) as store:
        fresh = store.get_node("hz-pharma", Entry, ENTRY)
        assert fresh is not None and fresh.revision is None and fresh.body != "培训部改过的正文。"
        assert demo_states(store)["hz-pharma"].state == "loaded"
