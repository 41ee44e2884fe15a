"""The demo dataset: valid tables, intact references, deterministic, realistic in the ways other parts rely on."""

from __future__ import annotations

import ast
import builtins
import datetime as dt
import hashlib
import inspect
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import demo as demo_package
from demo import DemoDataset, build_demo
from demo.catalog import load_catalog
from graph.frames import arrow_schema, conform
from graph.model import EDGES_BY_NAME, NODES_BY_LABEL, CustomerType, GraphModel, ObjectionCategory

AS_OF = dt.date(2025, 6, 30)
TENANTS = ("hz-pharma", "sh-pharma")
MODELS: dict[str, type[GraphModel]] = {
    **{cls.__name__: cls for cls in NODES_BY_LABEL.values()},
    **EDGES_BY_NAME,
}


@pytest.fixture(scope="module")
def demo() -> DemoDataset:
    return build_demo(seed=7, scale=1, as_of=AS_OF)


def test_two_tenants_with_every_main_type(demo: DemoDataset) -> None:
    assert set(demo.tenants) == set(TENANTS)
    expected = {
        "Product", "Indication", "FormularyEdition", "CompetitorProduct", "Customer", "Doctor", "Rep", "Interaction",
        "Deal", "Contract", "Entry", "Treats", "ListedIn", "CompetesWith", "WorksAt", "Prescribes", "Owns", "Had",
        "InteractionWith", "Mentions", "Purchased", "DealFor", "Quotes", "ContractWith", "AboutProduct",
        "AboutIndication", "CaseOf",
    }  # fmt: skip
    for tables in demo.tenants.values():
        assert expected <= set(tables)
        assert all(name in MODELS for name in tables)
        assert all(t.num_rows > 0 for t in tables.values())


@pytest.mark.parametrize("tenant", TENANTS)
def test_every_table_conforms_to_its_model(demo: DemoDataset, tenant: str) -> None:
    for name, table in demo.tenants[tenant].items():
        model = MODELS[name]
        assert "tenant" not in table.column_names, name
        allowed = set(arrow_schema(model).names) - {"tenant"}
        assert set(table.column_names) <= allowed, name
        for field in table.schema:
            assert field.type == arrow_schema(model).field(field.name).type, f"{name}.{field.name}: {field.type}"
        out = conform(model, table, tenant)
        assert out.num_rows == table.num_rows


@pytest.mark.parametrize("tenant", TENANTS)
def test_rows_validate_against_the_pydantic_models(demo: DemoDataset, tenant: str) -> None:
    """Field constraints that ``conform`` does not check (literals, ranges) hold on a sample of every table."""
    for name, table in demo.tenants[tenant].items():
        model = MODELS[name]
        for row in table.slice(0, 200).to_pylist() + table.slice(max(0, table.num_rows - 50)).to_pylist():
            model.model_validate({**row, "tenant": tenant})


@pytest.mark.parametrize("tenant", TENANTS)
def test_keys_unique_and_every_edge_references_existing_nodes(demo: DemoDataset, tenant: str) -> None:
    tables = demo.tenants[tenant]
    keys: dict[str, set[str]] = {}
    for name, table in tables.items():
        model = MODELS[name]
        if name in NODES_BY_LABEL:
            col = table.column(model.key_field)  # type: ignore[attr-defined]
            assert pc.count_distinct(col).as_py() == table.num_rows, f"duplicate keys in {name}"
            keys[name] = set(col.to_pylist())
    for name, table in tables.items():
        if name not in EDGES_BY_NAME:
            continue
        model = EDGES_BY_NAME[name]
        for end in (model.source, model.target):
            values = set(table.column(end.field).to_pylist())
            missing = values - keys.get(end.node.label, set())
            example = sorted(missing)[:3]
            assert not missing, f"{name}.{end.field}: {len(missing)} unknown {end.node.label}, e.g. {example}"
        ident = list(model.identity) or list(model.endpoint_fields())
        distinct = table.group_by(ident).aggregate([]).num_rows
        assert distinct == table.num_rows, f"{name}: duplicate edges"


def test_same_inputs_same_output_and_seed_matters() -> None:
    a = build_demo(seed=11, scale=1, as_of=AS_OF)
    b = build_demo(seed=11, scale=1, as_of=AS_OF)
    for tenant in TENANTS:
        assert a.tenants[tenant].keys() == b.tenants[tenant].keys()
        for name, table in a.tenants[tenant].items():
            assert table.equals(b.tenants[tenant][name]), f"{tenant} {name} differs"
    assert a.truth == b.truth
    c = build_demo(seed=12, scale=1, as_of=AS_OF)
    assert not c.tenants["hz-pharma"]["Purchased"].equals(a.tenants["hz-pharma"]["Purchased"])


def _digest(data: DemoDataset) -> str:
    h = hashlib.sha256()
    for tenant in sorted(data.tenants):
        for name in sorted(data.tenants[tenant]):
            table = data.tenants[tenant][name]
            sink = io.BytesIO()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            h.update(sink.getvalue())
    h.update(repr(data.truth).encode())
    return h.hexdigest()


DIGEST_SCRIPT = """
import datetime as dt, sys
from tests.unit.test_demo_data import _digest
from demo import build_demo
sys.stdout.write(_digest(build_demo(seed=7, scale=1, as_of=dt.date(2025, 6, 30))))
"""


def test_identical_in_another_process_with_another_hash_seed(demo: DemoDataset) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", DIGEST_SCRIPT], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout == _digest(demo)


@pytest.mark.parametrize("tenant", TENANTS)
def test_counts(demo: DemoDataset, tenant: str) -> None:
    tables = demo.tenants[tenant]
    customers = tables["Customer"]
    assert customers.num_rows >= 300
    assert set(customers.column("type").to_pylist()) == {"chain", "single_pharmacy", "hospital", "clinic", "dtp"}
    assert tables["Product"].num_rows == 127
    kinds = tables["Entry"].column("kind").to_pylist()
    assert kinds.count("case_study") >= 100
    assert kinds.count("objection_script") >= 150
    assert kinds.count("product_note") > 0 and kinds.count("faq") > 0
    assert 40_000 <= tables["Purchased"].num_rows <= 70_000
    assert set(tables["FormularyEdition"].column("id").to_pylist()) == {"NRDL-2022", "NRDL-2024"}
    statuses = tables["Entry"].column("status").to_pylist()
    assert statuses.count("published") > len(statuses) / 2 and {"draft", "in_review"} <= set(statuses)


@pytest.mark.parametrize("tenant", TENANTS)
def test_contracts_end_within_7_30_and_90_days_and_later(demo: DemoDataset, tenant: str) -> None:
    ends = demo.tenants[tenant]["Contract"].column("end_date").to_pylist()
    days = [(e - AS_OF).days for e in ends]
    assert any(0 <= d <= 7 for d in days)
    assert any(7 < d <= 30 for d in days)
    assert any(30 < d <= 90 for d in days)
    assert any(d > 90 for d in days)


@pytest.mark.parametrize("tenant", TENANTS)
def test_orders_lie_in_the_18_months_before_as_of(demo: DemoDataset, tenant: str) -> None:
    at = demo.tenants[tenant]["Purchased"].column("at")
    assert pc.max(at).as_py() < AS_OF
    assert pc.min(at).as_py() >= AS_OF - dt.timedelta(days=550)


@pytest.mark.parametrize("tenant", TENANTS)
def test_chains_buy_cheaper_than_clinics(demo: DemoDataset, tenant: str) -> None:
    tables = demo.tenants[tenant]
    types = dict(zip(tables["Customer"].column("id").to_pylist(), tables["Customer"].column("type").to_pylist(),
                     strict=True))  # fmt: skip
    lines = tables["Purchased"].select(["customer_id", "sku", "unit_price"])
    kind = pa.array([types[c] for c in lines.column("customer_id").to_pylist()])
    lines = lines.append_column("type", kind)
    stats = lines.group_by(["sku", "type"]).aggregate([("unit_price", "approximate_median"), ("unit_price", "count")])
    by = {(r["sku"], r["type"]): (r["unit_price_approximate_median"], r["unit_price_count"]) for r in stats.to_pylist()}
    compared = cheaper = 0
    for (sku, kind_), (median, count) in by.items():
        other = by.get((sku, "clinic"))
        if kind_ == "chain" and other and count >= 20 and other[1] >= 20:
            compared += 1
            cheaper += median < other[0]
    assert compared >= 20
    assert cheaper >= 0.9 * compared


@pytest.mark.parametrize("tenant", TENANTS)
def test_prices_stay_near_the_list_price_and_mostly_above_floor(demo: DemoDataset, tenant: str) -> None:
    tables = demo.tenants[tenant]
    products = {r["sku"]: r for r in tables["Product"].to_pylist()}
    lines = tables["Purchased"].select(["sku", "unit_price"]).to_pylist()
    ratio = [r["unit_price"] / products[r["sku"]]["list_price"] for r in lines]
    assert 0.5 < min(ratio) and max(ratio) < 2.2
    below = sum(r["unit_price"] < products[r["sku"]]["floor_price"] for r in lines)
    assert below < 0.05 * len(lines)


@pytest.mark.parametrize("tenant", TENANTS)
def test_planted_things_to_find(demo: DemoDataset, tenant: str) -> None:
    truth = demo.truth[tenant]
    names = dict(zip(demo.tenants[tenant]["Customer"].column("id").to_pylist(),
                     demo.tenants[tenant]["Customer"].column("name").to_pylist(), strict=True))  # fmt: skip
    assert len(truth["near_duplicates"]) >= 5
    for copy, original in truth["near_duplicates"]:
        assert names[copy] != names[original]
    kinds = {k for _, _, k in truth["quote_anomalies"]}
    assert kinds == {"too_low", "too_high"}
    assert len(truth["purchase_gaps"]) > 20
    assert len(truth["legacy_scripts"]) >= 3


def test_formulary_facts_are_the_real_ones(demo: DemoDataset) -> None:
    listed = demo.tenants["hz-pharma"]["ListedIn"].to_pylist()
    by = {(r["sku"], r["edition_id"]): r for r in listed}
    # spot checks against the official lists
    assert by[("SKU-ATV20-LPT", "NRDL-2024")]["category"] == "乙"
    assert by[("SKU-ATV20-LPT", "NRDL-2024")]["code"] == "455"
    assert by[("SKU-ATV20-LPT", "NRDL-2024")]["section"] == "西药部分"
    assert by[("SKU-SIT100-JNW", "NRDL-2022")]["restriction"] == "限二线用药"
    assert by[("SKU-SIT100-JNW", "NRDL-2024")]["restriction"] is None
    assert by[("SKU-LHQW-JN", "NRDL-2024")]["category"] == "甲"
    assert ("SKU-XSZZ-W", "NRDL-2024") not in by and ("SKU-XSZZ-W", "NRDL-2022") in by
    assert ("SKU-KPZ10", "NRDL-2022") not in by
    # every product in exactly one state in every edition: listed, or a not_listed status edge
    status = {(r["sku"], r["edition_id"]) for r in demo.tenants["hz-pharma"]["FormularyStatus"].to_pylist()}
    skus = {r["sku"] for r in demo.tenants["hz-pharma"]["Product"].to_pylist()}
    for edition in ("NRDL-2022", "NRDL-2024"):
        assert not status & set(by) and {s for s, e in status | set(by) if e == edition} == skus
    assert ("SKU-XSZZ-W", "NRDL-2024") in status and ("SKU-KPZ10", "NRDL-2022") in status
    assert by[("SKU-KPZ10", "NRDL-2024")]["payment_standard"].startswith("5.68元")
    changes = {p.formulary_change for p in load_catalog()}
    assert {"added", "removed", "restriction", "same", "unlisted"} <= changes


def test_texts_are_chinese_and_varied(demo: DemoDataset) -> None:
    entries = demo.tenants["hz-pharma"]["Entry"].to_pylist()
    bodies = [e["body"] for e in entries]
    assert len(set(bodies)) == len(bodies)
    assert len({e["title"] for e in entries}) > 0.8 * len(entries)
    cases = [e for e in entries if e["kind"] == "case_study"]
    assert all(len(e["body"]) > 150 and any(ch.isdigit() for ch in e["body"]) for e in cases)
    first_lines = [e["body"].split("\n")[0] for e in entries if e["kind"] == "objection_script"]
    assert len(set(first_lines)) > 0.8 * len(first_lines)
    summaries = demo.tenants["hz-pharma"]["Interaction"].column("summary").to_pylist()
    assert len(set(summaries)) > 0.95 * len(summaries)


REAL_CHAINS = (
    "老百姓", "益丰", "海王星辰", "华东大药房", "九洲大药房", "张同泰", "方回春堂", "英特", "瑞人堂", "国大药房",
    "国药控股", "雷允上", "华氏大药房", "第一医药", "养和堂", "童涵春堂", "蔡同德堂", "上药云", "一心堂", "大参林",
)  # fmt: skip
"""Real pharmacy chains (and their companies). Real manufacturers (北京同仁堂…) stay: products are real."""


def test_customers_are_invented_not_real_pharmacies_or_hospitals(demo: DemoDataset) -> None:
    """The demo puts made-up purchases on its customers: none may be a real chain, hospital or health centre."""
    for tenant in TENANTS:
        customers = demo.tenants[tenant]["Customer"].to_pylist()
        names = [c["name"] for c in customers]
        assert not [n for n in names if any(real in n for real in REAL_CHAINS)]
        hospitals = [c["name"] for c in customers if c["type"] == "hospital"]
        assert hospitals and not [n for n in hospitals if "人民医院" in n or n.endswith(("市中医院", "区中医院"))]
        centres = [n for n in names if "社区卫生服务中心" in n or "卫生院" in n]
        real_streets = ("湖滨", "小营", "翠苑", "外滩", "徐家汇", "陆家嘴", "月湖", "五马", "平江")
        assert centres and not [n for n in centres if any(s in n for s in real_streets)]
        texts = [e["body"] for e in demo.tenants[tenant]["Entry"].to_pylist()]
        texts += demo.tenants[tenant]["Interaction"].column("summary").to_pylist()
        assert not [t for t in texts if any(real in t for real in REAL_CHAINS)]


def test_generator_never_reads_the_shared_folder() -> None:
    """The demo must run on a fresh clone: no module the generator imports may name the shared data folder."""
    package = Path(inspect.getfile(demo_package)).parent
    for path in package.glob("*.py"):
        if path.name == "build_catalog.py":
            continue  # the offline script that derived data/products.csv from the official lists
        source = path.read_text(encoding="utf-8")
        assert "shared/" not in source and "nrdl-20" not in source and "openpyxl" not in source, path.name
        tree = ast.parse(source)
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert "demo.build_catalog" not in imported, path.name
    assert (package / "data" / "products.csv").is_file()


def test_generator_runs_with_the_shared_folder_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file the generator opens lies inside the package (run with any other path refused)."""
    package = str(Path(inspect.getfile(demo_package)).parent)
    real_open = builtins.open
    opened: list[str] = []

    def guarded(file: object, *args: object, **kwargs: object) -> object:
        name = str(file)
        if isinstance(file, (str, Path)) and name.endswith((".csv", ".xlsx", ".pdf", ".json")):
            opened.append(name)
            if not name.startswith(package):
                raise PermissionError(f"demo generator opened {name}")
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", guarded)
    monkeypatch.setattr(io, "open", guarded)
    load_catalog.cache_clear()
    try:
        data = build_demo(seed=3, scale=1, as_of=AS_OF)
    finally:
        load_catalog.cache_clear()
    assert data.tenants["sh-pharma"]["Product"].num_rows == 127
    assert any(name.endswith("products.csv") for name in opened), "the guard did not see the catalogue being read"


@pytest.mark.parametrize("tenant", TENANTS)
def test_every_objection_category_has_a_published_general_script(demo: DemoDataset, tenant: str) -> None:
    tables = demo.tenants[tenant]
    linked = set(tables["AboutProduct"].column("entry_id").to_pylist())
    linked |= set(tables["AboutIndication"].column("entry_id").to_pylist())
    scripts = [e for e in tables["Entry"].to_pylist() if e["kind"] == "objection_script"]
    general = [e for e in scripts if e["id"] not in linked]
    assert all(e["status"] == "published" for e in general)
    assert {e["category"] for e in general} == set(get_args(ObjectionCategory))
    assert all(e["category"] in get_args(ObjectionCategory) for e in scripts)
    assert {t for e in general for t in e["customer_types"]} <= set(get_args(CustomerType))
