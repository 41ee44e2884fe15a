"""The CLI as a user runs it: init, stats, export/import round trip, a bad import file, and the README's commands."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from graph.embedded import EmbeddedGraphStore
from tests.contract.sample import sample_edges, sample_nodes

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _stats(data_dir: Path) -> dict[str, dict[str, int]]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), "stats", "--json"])
    assert result.exit_code == 0, result.output
    counts: dict[str, dict[str, int]] = json.loads(result.stdout)["counts"]
    return counts


def _load_sample(data_dir: Path, tenant: str) -> None:
    with EmbeddedGraphStore(data_dir / "graph", buffer_pool_mb=256) as store:  # every table in one store
        for batch in sample_nodes(tenant):
            store.upsert_nodes(tenant, batch)
        for batch in sample_edges(tenant):
            store.upsert_edges(tenant, batch)


def test_init_and_empty_stats(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "init"])
    assert result.exit_code == 0, result.output
    assert "backend=embedded" in result.stdout
    assert (tmp_path / "graph").is_dir()
    assert _stats(tmp_path) == {}


def test_export_import_round_trip_is_idempotent(tmp_path: Path) -> None:
    src, dst, dump = tmp_path / "src", tmp_path / "dst", tmp_path / "dump"
    _load_sample(src, "hz")
    _load_sample(src, "sh")
    before = _stats(src)
    assert before["hz"]["PURCHASED"] == 5 and set(before) == {"hz", "sh"}
    result = runner.invoke(app, ["--data-dir", str(src), "export", str(dump)])
    assert result.exit_code == 0, result.output
    assert (dump / "nodes" / "Customer.jsonl").read_text(encoding="utf-8").count("老百姓大药房") == 2
    for _ in range(2):
        result = runner.invoke(app, ["--data-dir", str(dst), "import", str(dump)])
        assert result.exit_code == 0, result.output
        after = _stats(dst)
        for t in ("hz", "sh"):  # the import itself is one more record of each tenant's change log, once
            assert after[t].pop("Change") == before[t]["Change"] + 1
        assert after == {t: {k: v for k, v in c.items() if k != "Change"} for t, c in before.items()}
    only_hz = tmp_path / "only-hz"
    result = runner.invoke(app, ["--data-dir", str(src), "export", str(only_hz), "--tenant", "hz"])
    assert result.exit_code == 0, result.output
    assert '"sh"' not in (only_hz / "nodes" / "Customer.jsonl").read_text(encoding="utf-8")


def test_bad_import_file_names_line_and_field_and_writes_nothing(tmp_path: Path) -> None:
    src, dst, dump = tmp_path / "src", tmp_path / "dst", tmp_path / "dump"
    _load_sample(src, "hz")
    assert runner.invoke(app, ["--data-dir", str(src), "export", str(dump)]).exit_code == 0
    path = dump / "edges" / "Purchased.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace('"unit_price":', '"unit_price":"很贵","was":')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["--data-dir", str(dst), "import", str(dump)])
    assert result.exit_code == 2
    assert "Purchased.jsonl: line 3" in result.output and "unit_price" in result.output
    assert _stats(dst) == {}


def test_readme_commands_run(tmp_path: Path) -> None:
    """Every `salescopilot` line of the README's CLI example block runs and exits 0."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- cli-example -->\s*```bash\n(.*?)```", readme, re.S)
    assert block, "README.md lacks the <!-- cli-example --> block"
    commands = [c for c in block.group(1).splitlines() if c.startswith("salescopilot ")]
    assert len(commands) >= 3
    exe = Path(sys.executable).parent / "salescopilot"
    for command in commands:
        line = command.split("#")[0].replace("./data", str(tmp_path / "data"))
        args = shlex.split(line.replace("./backup", str(tmp_path / "backup")))
        done = subprocess.run([str(exe), *args[1:]], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
        assert done.returncode == 0, (command, done.stdout, done.stderr)


def test_demo_twice_leaves_counts_identical(tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path), "demo", "--as-of", "2026-11-25"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    counts = _stats(tmp_path)
    assert set(counts) == {"hz-pharma", "sh-pharma"}
    hz = counts["hz-pharma"]
    assert hz["Product"] == 127 and hz["Customer"] >= 300 and hz["PURCHASED"] > 40_000
    assert hz["FormularyEdition"] == 2 and hz["Entry"] >= 250
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert _stats(tmp_path) == counts


def test_price_check_one_line_and_bad_csv(tmp_path: Path) -> None:
    assert runner.invoke(app, ["--data-dir", str(tmp_path), "demo", "--as-of", "2026-11-25"]).exit_code == 0
    args = ["--data-dir", str(tmp_path), "price-check", "--tenant", "hz-pharma", "--as-of", "2026-11-25"]
    low = runner.invoke(app, [*args, "--customer", "C-HZ-00001", "--sku", "SKU-ATV20-LPT", "--price", "30"])
    assert low.exit_code == 0, low.output
    assert "below_flo" in low.output and "41 元 27%" in low.output  # below the floor price of 41
    bad = tmp_path / "quote.csv"
    bad.write_text("customer_id,sku,unit_price,qty\nC-HZ-00001,SKU-ATV20-LPT,很贵,10\n", encoding="utf-8")
    result = runner.invoke(app, [*args, "--csv", str(bad)])
    assert result.exit_code == 2 and "row 2" in result.output
    good = tmp_path / "报价.csv"  # Chinese headers, 数量 for the quantity, a date per line
    good.write_text("客户编码,商品编码,单价,数量,单位,日期\nC-HZ-00001,SKU-ATV20-LPT,30,10,盒,2026-11-20\n"
                    "C-HZ-00001,SKU-ATV20-LPT,300,1,箱,\n", encoding="utf-8-sig")  # fmt: skip
    result = runner.invoke(app, [*args, "--csv", str(good), "--json"])
    assert result.exit_code == 0, result.output
    first, second = json.loads(result.output)["lines"]
    assert first["verdict"] == "below_floor" and first["line"]["qty"] == 10 and first["line"]["date"] == "2026-11-20"
    assert second["line"]["date"] == "2026-11-25" and second["verdict"] in ("unknown_unit", "below_floor")


def test_objection_answers_from_the_demo(tmp_path: Path) -> None:
    assert runner.invoke(app, ["--data-dir", str(tmp_path), "demo", "--as-of", "2026-11-25"]).exit_code == 0
    result = runner.invoke(
        app,
        ["--data-dir", str(tmp_path), "objection", "客户说可定比仿制药贵太多", "--tenant", "hz-pharma",
         "--product", "SKU-RSV10-KD", "--k", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "KB-HZ-OS-0003" in result.output and "product]" in result.output
    assert (tmp_path / "index" / "hz-pharma" / "entries.json").exists()
