"""The import files of the Neo4j bulk path, written from an embedded store (no Neo4j server needed).

The round trip through a real ``neo4j-admin`` and server is ``tests/e2e/test_neo4j_bulk_load.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from graph.embedded import EmbeddedGraphStore
from graph.errors import ConflictError, InvalidRowError
from graph.model import Customer, Entry, Product, Purchased, node_uid
from graph.neo4j_bulk import (
    ARRAY_DELIMITER,
    COMMAND_FILE,
    MANIFEST,
    bulk_load,
    import_arguments,
    read_manifest,
    write_import_files,
)
from graph.neo4j_store import SCHEMA_VERSION
from graph.ports import ChangeDraft

T = "bulk-t"


def _store(path: Path) -> EmbeddedGraphStore:
    store = EmbeddedGraphStore(path)
    store.upsert_nodes(T, [Product(tenant=T, sku="S1", name="阿托伐他汀钙片", list_price=12.5)])
    store.upsert_nodes(T, [Customer(tenant=T, id="C1", name="康邻大药房", type="chain", tags=["连锁", "DTP"])])
    store.upsert_edges(
        T,
        [
            Purchased(
                tenant=T,
                customer_id="C1",
                sku="S1",
                order_id="O1",
                line=n,
                at=dt.date(2025, 1, n),
                qty=2,
                unit_price=0.1 + 0.2 * n,
            )  # fmt: skip
            for n in (1, 2)
        ],
    )
    store.upsert_nodes(
        T,
        [
            Entry(
                tenant=T,
                id="E1",
                kind="objection_script",
                title='太贵了 "真的"',
                body="第一行\n第二行, 带逗号",
                updated_at=dt.datetime(2025, 1, 2, 3, 4, 5, 6),
            )
        ],  # fmt: skip
    )
    store.append_change(T, ChangeDraft("test"))
    return store


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_files_carry_every_row_with_the_importers_types(tmp_path: Path) -> None:
    with _store(tmp_path / "graph") as store:
        files = write_import_files(store, tmp_path / "out")
        head = store.change_head(T)
    out = tmp_path / "out"
    manifest = read_manifest(out)
    assert manifest["rows"][T] == {"Customer": 1, "Entry": 1, "Product": 1, "PURCHASED": 2, "Change": head}
    assert files.rows == manifest["rows"] and manifest["change_heads"] == {T: head}
    customer = _rows(out / f"Customer.{T}.csv")
    assert customer[0]["uid:ID(Customer)"] == node_uid(T, "C1")
    assert customer[0]["tags:string[]"].split(ARRAY_DELIMITER) == ["连锁", "DTP"]
    entry = _rows(out / f"Entry.{T}.csv")[0]
    assert entry["body"] == "第一行\n第二行, 带逗号" and entry["title"] == '太贵了 "真的"'
    assert entry["updated_at:localdatetime"] == "2025-01-02T03:04:05.000006"
    lines = _rows(out / f"Purchased.{T}.csv")
    assert [r[":START_ID(Customer)"] for r in lines] == [node_uid(T, "C1")] * 2
    assert sorted(float(r["unit_price:double"]) for r in lines) == [0.1 + 0.2, 0.1 + 0.2 * 2]  # exact doubles
    assert _rows(out / "_SkgMeta.csv") == [{"key:ID(_SkgMeta)": "schema_version", "value": str(SCHEMA_VERSION)}]
    assert _rows(out / "_ChangeHead.csv") == [{"tenant:ID(_ChangeHead)": T, "seq:long": str(head)}]
    command = (out / COMMAND_FILE).read_text(encoding="utf-8")
    assert f"--relationships=PURCHASED=Purchased.{T}.csv" in command and "--overwrite-destination=true" in command
    assert ARRAY_DELIMITER not in command and "--array-delimiter=$'\\x1e'" in command


def test_only_the_files_with_a_line_break_in_a_value_are_read_as_multiline(tmp_path: Path) -> None:
    # The Entry body spans two lines; the order lines, products and customers do not, so the importer may cut
    # their files into chunks parsed in parallel (--multiline-fields=true would read every file serially).
    with _store(tmp_path / "graph") as store:
        files = write_import_files(store, tmp_path / "out")
    assert files.multiline == [f"Entry.{T}.csv"] == read_manifest(tmp_path / "out")["multiline"]
    args = import_arguments(Path("/d"), files.nodes, files.relationships, "neo4j", files.multiline)
    assert "--multiline-fields-format=v2" in args and f"--multiline-fields=/d/Entry.{T}.csv" in args
    assert "--multiline-fields=true" not in args
    assert "--multiline-fields=true" in import_arguments(Path("/d"), files.nodes, files.relationships, "neo4j")
    none = import_arguments(Path("/d"), files.nodes, files.relationships, "neo4j", [])
    assert not [a for a in none if a.startswith("--multiline")]


def test_a_folder_that_holds_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("a user's file", encoding="utf-8")
    with _store(tmp_path / "graph") as store, pytest.raises(ConflictError, match="not empty"):
        write_import_files(store, tmp_path / "out")
    assert (tmp_path / "out" / "mine.txt").read_text(encoding="utf-8") == "a user's file"


def test_a_list_element_the_importer_cannot_carry_is_refused_by_field(tmp_path: Path) -> None:
    with _store(tmp_path / "graph") as store:
        store.upsert_nodes(T, [Customer(tenant=T, id="C2", name="x", type="chain", tags=[f"a{ARRAY_DELIMITER}b"])])
        with pytest.raises(InvalidRowError, match="Customer: field 'tags'"):
            write_import_files(store, tmp_path / "out")


def test_bulk_load_refuses_a_folder_of_another_schema_version_before_touching_the_server(tmp_path: Path) -> None:
    with _store(tmp_path / "graph") as store:
        write_import_files(store, tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text(encoding="utf-8"))
    (tmp_path / "out" / MANIFEST).write_text(json.dumps(manifest | {"schema_version": 1}), encoding="utf-8")

    def connect() -> object:
        raise AssertionError("must not connect")

    with pytest.raises(InvalidRowError, match="schema version 1"):
        bulk_load(tmp_path / "out", connect=connect, home=tmp_path, neo4j=tmp_path, neo4j_admin=tmp_path)  # type: ignore[arg-type]
