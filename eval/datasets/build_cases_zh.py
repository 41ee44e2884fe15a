"""Writes ``cases_zh.jsonl``: labelled deal drafts for evaluating case suggestions (``copilot.cases``).

Usage::

    python -m eval.datasets.build_cases_zh          # rewrite the dataset
    python -m eval.datasets.build_cases_zh --show   # also print every deal with its labelled case titles

The demo (``build_demo(seed=7, scale=1, as_of=2026-11-25)``) plants every case study from a *scenario*: a theme
(price defence, chronic-disease membership, seasonal stocking, …; ``demo.knowledge.CASE_THEMES``) that fits
the customer's type, a main product chosen to fit the theme, and that product's indications. The theme is written
into the case's tags (``theme_label``), the main product is its first ``AboutProduct`` edge, the indications are its
``AboutIndication`` edges and the customer is its ``CaseOf`` edge.

One deal draft is made from every published case study of both tenants (the *seed case*), from the same scenario:

- ``customer_id``: another customer of the same type (never the seed case's own customer nor a planted near-duplicate;
  a community health centre for the family-doctor theme), chosen at random;
- ``skus``: the seed case's main product (``variant = same_product``), or, for about a third of the deals, another
  product that shares one of the case's indications and fits the theme like the demo requires (a formulary change for
  ``formulary``, a cheaper competitor for ``price``, a 集采 generic for ``vbp``, …; ``variant = same_indication``).
  One deal in five also quotes a second product the customer buys, about other indications (``extra_sku``);
- ``text``: the situation as a rep would type it, from hand-written phrasings per theme (``PHRASES``), filled with the
  product, an indication, the competitor's maker or the generic name. The phrasings were written against the theme,
  not copied from the case bodies; the build stops when a text shares more than ``MAX_OVERLAP`` consecutive characters
  with a relevant case once product, competitor and indication names are masked (``check_objections.overlap``).

**Labelling rule.** A deal's ``relevant`` cases are the published case studies of its tenant with the same theme, a
customer of the same type, and a product or an indication in common with the deal's products (``Treats`` of the deal's
SKUs against the case's ``AboutProduct`` / ``AboutIndication``). The seed case is always one of them. The rule reads
only the planted scenario; the ranker under test is never run to make or check a label.

``split`` (``tune`` / ``test``, alternating over the seed cases in id order per tenant) is there so that a weight
change can be chosen on one half and reported on the other.
"""

# Hand-written Chinese phrasings.
# ruff: noqa: E501

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from demo import build_demo
from demo.catalog import VBP_GENERICS, Competitor, ProductFacts, company_short, load_catalog
from demo.knowledge import CASE_THEMES, CHRONIC, cheaper, theme_label
from eval.datasets.check_objections import overlap, product_names

OUT = Path(__file__).parent / "cases_zh.jsonl"
DEMO_SEED = 7
AS_OF = dt.date(2026, 11, 25)
SEED = 2026
"""Seed of the choices made here (customer, variant, product, phrasing)."""
TENANTS = ("hz-pharma", "sh-pharma")
SIBLING_SHARE = 0.35
EXTRA_SKU_SHARE = 0.2
MAX_OVERLAP = 6
"""A text sharing more consecutive characters than this with a relevant case (names masked) stops the build."""
THEMES = {theme_label(t): t for types in CASE_THEMES.values() for t in types}
"""Chinese theme tag of a case → theme key."""
FIELDS = ("id", "tenant", "customer_id", "skus", "text", "relevant", "seed_case", "theme", "customer_type", "variant",
          "split", "note")  # fmt: skip

# ------------------------------------------------------------------------------------------ phrasings
# {p}: the deal's main product as a rep says it; {dx}: one of its indications shared with the seed case; {comp}: the
# maker of a cheaper competitor of it; {generic}: its generic name. Keys with a customer type apply to that type only.
PHRASES: dict[str, tuple[str, ...]] = {
    "price": (
        "{comp}的货比我们便宜一大截，这家{p}走量越来越差，采购天天催我让价",
        "对手在打价格战，{p}这几个月掉得厉害，老板想让我们直接降价，我不想松口",
        "有便宜的同类药进场了，顾客都去拿那个，{p}的份额被抢走不少",
        "客户嫌{p}进价高，拿{comp}的报价来压我，怎么保住价格又不丢量",
        "竞品低价铺货，我们的货卖不动，店里要求给个更低的供货价",
        "{p}被低价货冲击",
    ),
    "membership": (
        "{p}的回头客太少，很多病人买过一次就再也没来",
        "想把{dx}的老病号留住，让他们每个月按时回来续{p}",
        "病人吃完一盒{p}就断了，续药的人不多，想搞个长期患者的管理办法",
        "{p}卖出去以后没人跟进，患者吃吃停停，回购上不去",
        "{dx}的患者流失严重，想做会员和定期回访把人留下来",
        "{p}老顾客留不住",
    ),
    "season": (
        "马上要入冬了，担心{p}又像去年那样一到高峰就卖空",
        "感冒发烧的人一多{p}就供不上，想早点把冬天的量备足",
        "呼吸道病高发的季节快到了，{p}怎么排进货节奏才不会断档",
        "去年冬天{p}缺了一阵子，丢了不少生意，今年想提前规划",
        "冬季{p}备货",
    ),
    "formulary": (
        "新版医保目录出来后{p}报销的规矩变了，店员和买药的人都搞不清",
        "{p}今年医保政策调了，门店还按老口径跟顾客讲，销量一直没起来",
        "目录换版以后{p}能不能报、怎么报，大家说法不一，想把新规讲透",
        "{p}新医保政策落地",
    ),
    "formulary/hospital": (
        "新一版医保目录对{p}的支付范围改了，科室医生和医保办理解不一样，用量上不去",
        "{p}医保限定今年变了，医生怕被拒付不敢开，想请医保办一起把新规讲清楚",
        "医院这边对{p}新的报销口径吃不准，处方量一直卡着",
        "{p}新医保政策落地",
    ),
    "training": (
        "柜台的营业员不太懂{p}，顾客一问就卡壳，也不会顺带推别的药",
        "想给店里的员工上上课，让她们会介绍{p}，把搭配销售做起来",
        "店员对这类药了解太少，{p}推荐不出去，连带销售也很差",
        "药店员工讲不明白{p}适合什么人、怎么吃，想做一轮产品知识培训",
        "店员不会推{p}",
    ),
    "supply": (
        "{p}老断货，几家门店之间来回借货，顾客买不到就走了",
        "客户抱怨{p}经常没库存，想要一套稳定的补货办法",
        "{p}到货不及时，货架老是空的，想跟客户的进销存系统打通自动下单",
        "门店{p}三天两头缺，总部很不满意，要我们保证供应",
        "{p}总缺货",
    ),
    "insurance": (
        "这家店刚能走门诊统筹报销，可{p}总是结算不成功",
        "老板说顾客拿医院的方子来买{p}，统筹报销老出错，店里不会弄处方流转",
        "药店新开通了统筹，处方怎么传过来、医保码怎么扫都不熟，{p}卖不起来",
        "统筹结算{p}失败",
    ),
    "academic/hospital": (
        "科室医生对{dx}的新指南不熟，{p}开得少，想办几场科室讲课",
        "想请上面大医院的专家来讲讲{dx}怎么规范治疗，带一带{p}的处方",
        "这边大夫对{p}认识不够，处方量起不来，需要做学术推广",
        "医生不熟悉{p}",
    ),
    "academic/clinic": (
        "社区的全科大夫对{dx}新指南了解少，{p}用得不多，想组织几次讲座",
        "基层医生对{p}不熟悉，想请专家来讲{dx}的规范用药",
        "这家诊所医生很少开{p}，打算做点学术活动提升认知",
        "医生不熟悉{p}",
    ),
    "vbp": (
        "{generic}集采结果落地了，医院要按约定量采购，还得让病人换药顺顺当当",
        "药剂科在算集采任务量，{p}怎么衔接才不让患者断药",
        "集采中标后医院要完成采购任务，想帮他们把量分到每个月，同时做好患者随访",
        "{generic}集采执行",
    ),
    "family_doctor": (
        "社区签了不少慢病居民，可他们还是跑大医院拿药，{p}在社区用得很少",
        "想配合社区的家庭医生做长处方，让病人就近拿{p}",
        "服务中心的签约病人开药都往上级医院跑，{p}在这里走量很小",
        "社区长处方{p}",
    ),
    "dtp": (
        "附近大医院开的{p}处方想接到这家药房来，病人在医院排长队拿药太辛苦",
        "想让医院的{p}处方流转到这家DTP药房，做双通道",
        "病人拿了{p}的方子不知道去哪买，想让这家药房承接院外处方",
        "{p}院外处方承接",
    ),
}


@dataclass(frozen=True)
class Case:
    """A published case study as the demo planted it."""

    entry_id: str
    title: str
    text: str
    theme: str
    customer_id: str
    customer_type: str
    skus: tuple[str, ...]
    indications: frozenset[str]


def fits_theme(theme: str, p: ProductFacts, comps: dict[str, list[Competitor]]) -> bool:
    """Whether the demo could have planted a case of ``theme`` on ``p`` (``demo.knowledge.case_studies``)."""
    if theme == "formulary":
        return p.formulary_change != "same"
    if theme == "price":
        return bool(cheaper(comps, p))
    if theme == "membership":
        return p.category in CHRONIC
    if theme == "vbp":
        return p.generic_name in VBP_GENERICS
    if theme == "season":
        return p.category in ("抗病毒药", "感冒清热中成药", "止咳化痰中成药")
    if theme == "dtp":
        return p.specialty
    return True


def _phrasings(theme: str, customer_type: str) -> tuple[str, ...]:
    return PHRASES.get(f"{theme}/{customer_type}") or PHRASES[theme]


def tenant_deals(tenant: str, tables: dict[str, Any], truth: dict[str, list[tuple[str, ...]]],
                 rng: np.random.Generator) -> list[dict[str, Any]]:  # fmt: skip
    """One labelled deal draft per published case study of ``tenant``."""
    catalog = {p.sku: p for p in load_catalog()}
    treats: dict[str, set[str]] = defaultdict(set)
    for r in tables["Treats"].to_pylist():
        treats[r["sku"]].add(r["indication"])
    nodes = {r["id"]: r for r in tables["CompetitorProduct"].to_pylist()}
    comps: dict[str, list[Competitor]] = defaultdict(list)
    for r in tables["CompetesWith"].to_pylist():
        n = nodes[r["competitor_id"]]
        comps[r["sku"]].append(Competitor(n["id"], r["sku"], n["name"], n["company"], n["price"], n["observed_at"],
                                          n["source"]))  # fmt: skip
    customers = {r["id"]: r for r in tables["Customer"].to_pylist()}
    copies = {row[0] for row in truth["near_duplicates"]}
    bought: dict[str, set[str]] = defaultdict(set)
    for cid, sku in zip(tables["Purchased"].column("customer_id").to_pylist(),
                        tables["Purchased"].column("sku").to_pylist(), strict=True):  # fmt: skip
        bought[cid].add(sku)
    about_p: dict[str, list[str]] = defaultdict(list)
    for r in tables["AboutProduct"].to_pylist():
        about_p[r["entry_id"]].append(r["sku"])
    about_i: dict[str, set[str]] = defaultdict(set)
    for r in tables["AboutIndication"].to_pylist():
        about_i[r["entry_id"]].add(r["indication"])
    case_of = {r["entry_id"]: r["customer_id"] for r in tables["CaseOf"].to_pylist()}
    cases = [
        Case(e["id"], e["title"], f"{e['title']}\n{e['body']}", THEMES[e["tags"][3]], case_of[e["id"]],
             customers[case_of[e["id"]]]["type"], tuple(about_p[e["id"]]), frozenset(about_i[e["id"]]))
        for e in sorted(tables["Entry"].to_pylist(), key=lambda e: e["id"])
        if e["kind"] == "case_study" and e["status"] == "published"
    ]  # fmt: skip
    names = product_names(tables["Product"].to_pylist(), tables["CompetitorProduct"].to_pylist())
    names = sorted({*names, *(i for s in treats.values() for i in s)}, key=len, reverse=True)
    code = tenant.split("-")[0]
    out: list[dict[str, Any]] = []
    for n, seed in enumerate(cases):
        pool = sorted(
            cid for cid, c in customers.items()
            if c["type"] == seed.customer_type and cid != seed.customer_id and cid not in copies
            and (seed.theme != "family_doctor" or "卫生" in c["name"])
        )  # fmt: skip
        customer_id = pool[int(rng.integers(len(pool)))]
        main = catalog[seed.skus[0]]
        variant = "same_product"
        siblings = sorted(
            q.sku for q in catalog.values()
            if q.sku not in seed.skus and treats[q.sku] & seed.indications and fits_theme(seed.theme, q, comps)
        )  # fmt: skip
        if rng.random() < SIBLING_SHARE and siblings:
            main, variant = catalog[siblings[int(rng.integers(len(siblings)))]], "same_indication"
        skus = [main.sku]
        if rng.random() < EXTRA_SKU_SHARE:
            others = sorted(s for s in bought[customer_id] if not treats[s] & treats[main.sku] and s != main.sku)
            if others:
                skus.append(others[int(rng.integers(len(others)))])
        shared = sorted(treats[main.sku] & seed.indications) or sorted(treats[main.sku])
        found = cheaper(comps, main)
        options = [t for t in _phrasings(seed.theme, seed.customer_type) if found or "{comp}" not in t]
        text = options[int(rng.integers(len(options)))].format(
            p=main.short, dx=shared[int(rng.integers(len(shared)))],
            comp=company_short(found[0].company) if found else "", generic=main.generic_name,
        )  # fmt: skip
        wanted_ind = {i for s in skus for i in treats[s]}
        relevant = [
            c for c in cases
            if c.theme == seed.theme and c.customer_type == seed.customer_type
            and (set(skus) & set(c.skus) or wanted_ind & c.indications)
        ]  # fmt: skip
        assert seed in relevant, seed.entry_id
        for c in relevant:
            common = overlap(text, c.text, names)
            if len(common) > MAX_OVERLAP:
                raise SystemExit(f"{seed.entry_id}: text {text!r} shares {common!r} with {c.entry_id}")
        out.append(
            {
                "id": f"{code}-d{n + 1:03d}",
                "tenant": tenant,
                "customer_id": customer_id,
                "skus": skus,
                "text": text,
                "relevant": [c.entry_id for c in relevant],
                "seed_case": seed.entry_id,
                "theme": seed.theme,
                "customer_type": seed.customer_type,
                "variant": variant,
                "split": "tune" if n % 2 == 0 else "test",
                "note": f"{theme_label(seed.theme)} {seed.customer_type} {main.short}"
                + (" +" + catalog[skus[1]].short if len(skus) > 1 else ""),
            }
        )
    return out


def build() -> list[dict[str, Any]]:
    """Every deal draft, both tenants, deterministic for ``SEED`` and the demo's seed and date."""
    demo = build_demo(seed=DEMO_SEED, scale=1, as_of=AS_OF)
    rng = np.random.default_rng(SEED)
    rows: list[dict[str, Any]] = []
    for tenant in TENANTS:
        rows += tenant_deals(tenant, demo.tenants[tenant], demo.truth[tenant], rng)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Write the dataset (and with ``--show`` print each deal with its labelled titles)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows = build()
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    if args.show:
        demo = build_demo(seed=DEMO_SEED, scale=1, as_of=AS_OF)
        titles = {e["id"]: e["title"] for t in demo.tenants.values() for e in t["Entry"].to_pylist()}
        for r in rows:
            print(f"{r['id']} [{r['theme']}/{r['customer_type']}/{r['variant']}] {r['skus']} {r['text']}")
            for e in r["relevant"]:
                print(f"    {e} {titles[e]}")
    sizes = [len(r["relevant"]) for r in rows]
    print(f"{len(rows)} deals written to {args.out}; relevant cases per deal: min {min(sizes)}, "
          f"mean {sum(sizes) / len(sizes):.1f}, max {max(sizes)}")  # fmt: skip


if __name__ == "__main__":
    main()
