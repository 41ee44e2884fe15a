"""Visit briefing pack on the demo data: facts traceable to nodes, gaps, formulary changes, contracts, renderers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from copilot.briefing import build_briefing
from copilot.render import to_markdown, to_pdf
from demo.load import load_demo
from graph.embedded import EmbeddedGraphStore
from graph.errors import NotFoundError
from pricing_guard.index import PriceIndex

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    store = EmbeddedGraphStore(tmp_path_factory.mktemp("demo") / "graph", buffer_pool_mb=256)
    load_demo(store, as_of=TODAY)
    yield store, PriceIndex.from_store(store, "hz-pharma", as_of=TODAY)
    store.close()


def test_pack_has_every_section_with_node_ids(demo) -> None:  # type: ignore[no-untyped-def]
    store, index = demo
    pack = build_briefing(store, "hz-pharma", "C-HZ-00001", today=TODAY, price_index=index)
    assert pack.profile[0].node_id == "C-HZ-00001" and "连锁" in pack.profile[0].text
    assert 0 <= pack.health.score <= 100 and pack.health.factors
    assert pack.interactions and all(f.node_id.startswith("I-") for f in pack.interactions)
    assert any(g.kind == "overdue" for g in pack.purchase_gaps)
    assert any("调出" in c.detail or "限定支付范围" in c.detail for c in pack.formulary_changes)
    assert pack.likely_objections and pack.matching_cases
    assert all(0 <= int(f.text.split("还剩 ")[1].split(" ")[0]) <= 90 for f in pack.contracts_ending)
    with pytest.raises(NotFoundError):
        build_briefing(store, "hz-pharma", "NOPE", today=TODAY)
    with pytest.raises(NotFoundError):  # another tenant's customer
        build_briefing(store, "sh-pharma", "C-HZ-00001", today=TODAY)


def test_markdown_and_pdf_render_chinese(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, index = demo
    pack = build_briefing(store, "hz-pharma", "C-HZ-00001", today=TODAY, price_index=index)
    md = to_markdown(pack)
    assert md.startswith("# 拜访简报") and "## 客户健康度" in md and "[I-HZ-" in md
    pdf = to_pdf(pack)
    assert pdf.startswith(b"%PDF") and b"NotoSansCJK" in pdf and len(pdf) < 2_000_000
