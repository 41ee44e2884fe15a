"""The CLI as a user runs it: init, stats, export/import round trip, a bad import file, and the README's commands."""

from __future__ import annotations

import json
import os
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
    assert (dump / "nodes" / "Customer.jsonl").read_text(encoding="utf-8").count("康邻大药房") == 2
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


def test_a_header_only_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "customers.csv"
    empty.write_text("客户编码,客户名称,客户类型\n", encoding="utf-8")
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "data"), "ingest", str(empty), "--tenant", "t"])
    assert result.exit_code == 2
    assert f"{empty}: 文件没有数据行" in result.output
    assert _stats(tmp_path / "data") == {}


def test_a_header_typo_names_the_missing_column_and_suggests_type(tmp_path: Path) -> None:
    typo = tmp_path / "x.csv"
    typo.write_text("订单号,行号,客户编码,商品编码,订单日期,数量,单格\nN-1,1,C,S,2025-09-01,1,3\n", encoding="utf-8")
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "data"), "ingest", str(typo), "--tenant", "t"])
    assert result.exit_code == 2
    assert "看起来像订单行文件（orders），但缺少必填列 单价/unit_price" in result.output and "--type" in result.output


def test_a_store_held_by_another_process_is_said_in_words(tmp_path: Path) -> None:
    """While a server holds the embedded store, a command says so and what to do, not the database's lock text."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from graph.embedded import EmbeddedGraphStore as S; "
         "s = S(sys.argv[1], buffer_pool_mb=64); print('open', flush=True); sys.stdin.read()", str(tmp_path / "graph")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        result = runner.invoke(app, ["--data-dir", str(tmp_path), "stats"])
    finally:
        holder.communicate("", timeout=60)
    assert result.exit_code == 3
    assert f"is open in another process (PID {holder.pid})" in result.output
    assert "Stop the server and run the command again, or do the work through the running server" in result.output
    assert "Could not set lock" not in result.output


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


def test_output_does_not_depend_on_terminal_width(tmp_path: Path) -> None:
    """A narrow $COLUMNS and a long path change nothing: table cells stay whole, an error stays on one line."""
    deep = tmp_path / ("很长的文件夹" + "x" * 140)
    deep.mkdir()
    good = deep / "客户名单_浙江大区_连锁与单体药房_二〇二六年第四季度.csv"
    good.write_text("客户编码,客户名称,客户类型,城市\nC-W-1,测试药房,单体药店,杭州\n", encoding="utf-8")
    narrow = CliRunner(env={"COLUMNS": "40"})
    result = narrow.invoke(app, ["--data-dir", str(tmp_path / "data"), "ingest", str(good), "--tenant", "t"])
    assert result.exit_code == 0, result.output
    assert str(good) in result.stdout and "…" not in result.stdout
    missing = deep / "没有这个备份文件夹"
    result = narrow.invoke(app, ["--data-dir", str(tmp_path / "data"), "import", str(missing)])
    assert result.exit_code == 2 and f"{missing} is not a folder" in result.output
    # $COLUMNS set before the CLI starts (rich reads it when a console is made), output to a pipe
    exe = Path(sys.executable).parent / "salescopilot"
    args = [str(exe), "--data-dir", str(tmp_path / "data2"), "ingest", str(good), "--tenant", "t"]
    env = {**os.environ, "COLUMNS": "40"}
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT, env=env)
    assert done.returncode == 0 and str(good) in done.stdout and "…" not in done.stdout, done.stdout


def test_a_table_in_a_narrow_terminal_folds_instead_of_cutting() -> None:
    import io

    from rich.console import Console

    from api.cli_output import Table

    out = io.StringIO()
    table = Table()
    table.add_column("verdict")
    table.add_column("explanation")
    table.add_row("below_floor", "低于最低限价41元27%，需要主管审批后才能报价")
    Console(file=out, width=24, force_terminal=True, color_system=None).print(table)
    text = out.getvalue()
    assert "…" not in text and "below_flo" in text and "│ or " in text and "报价" in text  # folded, not cut


def test_formulary_diff_prints_a_missing_value_as_none_in_words() -> None:
    fixtures = ROOT / "tests" / "fixtures" / "nrdl"
    old, new = fixtures / "nrdl-2022-mini-western.xlsx", fixtures / "nrdl-2024-mini.xlsx"
    result = runner.invoke(app, ["formulary", "diff", "--old", str(old), "--new", str(new), "--kind", "western"])
    assert result.exit_code == 0, result.output
    assert "restriction 奥美拉唑 注射剂: （无） → 限：1.预防重症患者应激性溃疡出血" in result.stdout
    assert "None" not in result.stdout


def test_objection_answers_from_the_demo(tmp_path: Path) -> None:
    assert runner.invoke(app, ["--data-dir", str(tmp_path), "demo", "--as-of", "2026-11-25"]).exit_code == 0
    result = runner.invoke(
        app,
        ["--data-dir", str(tmp_path), "objection", "客户说可定比仿制药贵太多", "--tenant", "hz-pharma",
         "--product", "SKU-RSV10-KD", "--k", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "KB-HZ-OS-0003" in result.output and "本品]" in result.output  # the level in the badge reps see
    assert (tmp_path / "index" / "hz-pharma" / "entries.json").exists()


def test_formulary_apply_then_status_as_a_safe_csv(tmp_path: Path) -> None:
    """Apply the mini edition, then read every product's state back as CSV; formula-leading cells are escaped."""
    import csv
    import io

    from graph.model import ListedIn, Product
    from ingest.csv_out import csv_cell

    fixture = ROOT / "tests" / "fixtures" / "nrdl" / "nrdl-2024-mini.xlsx"
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=128) as store:
        store.upsert_nodes(
            "demo",
            [
                Product(tenant="demo", sku="OME", name="奥美拉唑肠溶胶囊 20mg*14粒"),
                Product(tenant="demo", sku="=HYPERLINK", name="=1+1 保健品 鱼油软胶囊"),
            ],
        )
    base = ["--data-dir", str(tmp_path)]
    applied = runner.invoke(app, [*base, "formulary", "apply", str(fixture), "--tenant", "demo", "--edition", "E1"])
    assert applied.exit_code == 0, applied.output
    result = runner.invoke(app, [*base, "formulary", "status", "--tenant", "demo", "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    by_sku = {r["sku"]: r for r in rows}
    assert by_sku["OME"]["state"] == "matched" and by_sku["OME"]["nrdl_name"] == "奥美拉唑"
    assert by_sku["OME"]["section"] == "西药部分" and by_sku["OME"]["number"] == "15"
    assert by_sku["'=HYPERLINK"]["product_name"].startswith("'=") and by_sku["'=HYPERLINK"]["state"] == "not_listed"
    assert csv_cell("-5") == "'-5" and csv_cell("@x") == "'@x" and csv_cell("阿托伐他汀") == "阿托伐他汀"
    # a listing recorded without the row's printed name (as the demo's are) shows what it has, never "None"
    with EmbeddedGraphStore(tmp_path / "graph", buffer_pool_mb=128) as store:
        store.upsert_nodes("demo", [Product(tenant="demo", sku="ATV", name="阿托伐他汀钙片")])
        listed = ListedIn(tenant="demo", sku="ATV", edition_id="E1", code="455", section="西药部分")
        store.upsert_edges("demo", [listed])
    table = runner.invoke(app, [*base, "formulary", "status", "--tenant", "demo"])
    assert table.exit_code == 0 and "matched" in table.stdout
    assert "西药部分 455" in table.stdout and "None" not in table.stdout


def test_tasks_lists_a_reps_tasks_and_names_bad_input(tmp_path: Path) -> None:
    """``salescopilot tasks --rep R --as-of D``: the tasks as JSON or a table; unknown rep exit 4, bad date exit 2."""
    _load_sample(tmp_path, "hz")
    args = ["--data-dir", str(tmp_path), "tasks", "--rep", "R-1", "--as-of", "2025-10-05"]
    env = {"SKG_EMBEDDER": "hashing"}
    result = runner.invoke(app, [*args, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["rep_id"] == "R-1" and listed["as_of"] == "2025-10-05" and listed["customers"] == 1
    found = {(t["trigger"], t["subject"]) for t in listed["items"]}
    assert ("contract_ending", "K-1") in found and ("followup_overdue", "I-1") in found
    table = runner.invoke(app, args, env=env)
    assert table.exit_code == 0 and "K-1" in table.stdout and "今日待办" in table.stdout
    unknown = runner.invoke(app, ["--data-dir", str(tmp_path), "tasks", "--rep", "R-404"], env=env)
    assert unknown.exit_code == 4 and "unknown rep R-404" in unknown.output
    bad = runner.invoke(app, [*args[:-1], "2025-13-01"], env=env)
    assert bad.exit_code == 2 and "--as-of" in bad.output
