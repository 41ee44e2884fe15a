"""Rep interactions (visits, calls, WeChat, meetings) of one tenant, with Chinese summaries and next steps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from demo.catalog import VBP_GENERICS, Competitor, ProductFacts
from demo.knowledge import Writer
from demo.parties import Customer, Rep, person_name
from demo.phrases import symptom
from demo.vocab import CONTACT_ROLES, ROLE_SUFFIX

MONTHS = 12
PER_MONTH = {"A": 1.4, "B": 0.7, "C": 0.25}
CHANNELS = {
    "chain": (("拜访", 5), ("电话", 2), ("微信", 3), ("会议", 1)),
    "single_pharmacy": (("拜访", 5), ("电话", 2), ("微信", 4)),
    "hospital": (("拜访", 6), ("会议", 2), ("电话", 1), ("微信", 1)),
    "clinic": (("拜访", 5), ("电话", 2), ("微信", 2), ("会议", 1)),
    "dtp": (("拜访", 4), ("电话", 2), ("微信", 3), ("会议", 1)),
}


@dataclass
class InteractionDraft:
    """One interaction before it becomes table rows."""

    id: str
    at: dt.datetime
    channel: str
    summary: str
    next_step: str
    rep_id: str
    customer_id: str
    skus: list[str]
    objection: bool = False
    """The summary records an objection the customer raised (the next-action labels need it)."""


def _contact(w: Writer, c: Customer) -> str:
    role = w.one(CONTACT_ROLES[c.type])
    surname = person_name(w.rng, young=False)[0]
    return f"{surname}{ROLE_SUFFIX.get(role, '老师')}（{role}）"


def _monthly(w: Writer, c: Customer, p: ProductFacts) -> int:
    """A believable monthly quantity of ``p`` for customer ``c``, in selling units."""
    if p.specialty:
        lo, hi = (2, 30) if c.type in ("dtp", "hospital") else (1, 6)
    elif c.is_hq:
        lo, hi = 300, 4000
    else:
        lo, hi = {"chain": (10, 80), "single_pharmacy": (5, 40), "hospital": (50, 600), "clinic": (10, 120),
                  "dtp": (5, 40)}[c.type]  # fmt: skip
    n = w.n(lo, hi)
    return n if n < 100 else round(n, -1)


def _summary(
    w: Writer, c: Customer, channel: str, p: ProductFacts, p2: ProductFacts | None, comp: Competitor | None,
    contract_end: dt.date | None,
) -> tuple[str, str, bool]:  # fmt: skip
    who = _contact(w, c)
    opener = {
        "拜访": w.one([f"到{c.short}拜访{who}", f"上门拜访{who}", f"例行拜访{c.short}，与{who}面谈"]),
        "电话": w.one([f"电话沟通{who}", f"与{who}电话跟进"]),
        "微信": w.one([f"微信跟进{who}", f"{who}微信咨询"]),
        "会议": w.one(
            [
                f"在{c.short}组织{p.short}产品培训会，{w.n(5, 40)}人参加，{who}到场",
                f"参加{c.short}季度供应商沟通会，与{who}交流",
                f"{c.short}{'科室会' if c.type in ('hospital', 'clinic') else '店长例会'}上介绍{p.short}",
            ]
        ),
    }[channel]
    unit = p.unit
    monthly = _monthly(w, c, p)
    topics = [
        f"沟通{p.short}下月订货计划，对方预计月需求约{monthly}{unit}",
        f"复盘{p.short}近三个月动销，月销量约{monthly}{unit}，库存周转{w.n(15, 45)}天",
        f"介绍{p.short}的医保情况：{p.status_2024()}",
    ]
    pharmacy = c.type in ("chain", "single_pharmacy")
    if pharmacy:
        topics.append(f"讨论{p.short}的季度阶梯政策和陈列支持")
    if p2 is not None and pharmacy:
        topics.append(f"建议{p.short}与{p2.short}关联陈列，讲解{'、'.join(p.indications[:1])}的联合用药要点")
    if c.type in ("hospital", "clinic"):
        topics += [
            f"了解临床对{p.short}的使用反馈，药剂科月用量约{w.n(5, 80) * 10}{unit}",
            f"沟通{p.indications[0]}诊疗指南更新，安排下月科室会",
        ]
    if c.type == "dtp":
        topics += [f"推进{p.short}双通道备案及电子处方流转对接", f"核对{p.short}冷链到货温度记录，安排患者随访"]
    if c.type == "clinic":
        topics.append(f"对接家庭医生签约患者{p.short}长处方需求")
    if p.formulary_change in ("restriction", "added", "removed"):
        lifted = "限定取消后" if p.formulary_change == "restriction" else ""
        topics.append(f"解读2024版医保目录对{p.short}的调整，{lifted}预计需求变化")
    topic = w.one(topics)
    reporter = "店员反馈有顾客" if pharmacy else "药师反馈有患者" if c.type == "dtp" else "科室反馈有患者"
    if comp is not None and comp.price < p.list_price * 0.97:
        gap = round((p.list_price / comp.price - 1) * 100)
        price_objection = f"对方提出{p.short}比{comp.name.split(' ')[0]}贵约{gap}%，希望降价"
    else:
        price_objection = f"对方认为{p.short}价格偏高，希望增加政策支持"
    objections = [
        price_objection,
        f"反映部分顾客医保结算{p.short}失败",
        f"希望账期从{w.one(['30', '45'])}天延长到{w.one(['60', '90'])}天",
        f"{reporter}服用{p.short}后出现{symptom(p)}，询问处理办法",
        f"担心{p.short}再次断货，要求保证供应",
        f"{w.one(['医生', '药师'])}对{p.short}疗效有疑问",
    ]
    if p.generic_name in VBP_GENERICS:
        objections.append(f"担心{p.short}集采后价格下调造成库存跌价")
    parts = [opener, topic]
    objection = w.rng.random() < 0.55
    if objection:
        parts.append(w.one(objections))
    result = w.one(
        [
            "对方认可方案",
            "对方表示考虑后答复",
            f"达成初步意向，首单约{monthly}{unit}",
            "已现场解答，客户满意",
            "需要内部协调后回复",
        ]
    )
    parts.append(result)
    summary = "；".join(parts) + "。"
    steps = [
        f"{w.n(1, 7)}天内提交{p.short}促销方案",
        "下周安排店员培训",
        "本周内协调仓库补货并回复到货时间",
        "提交特价申请（附竞品价格证据，不低于底价）",
        f"整理{p.short}医保政策一页纸发给对方",
        "约对方负责人下次面谈",
        "跟进上次订单回款",
        f"{w.n(2, 4)}周后回访动销情况",
    ]
    if contract_end is not None:
        steps.append(f"启动合同续签，现合同{contract_end:%Y-%m-%d}到期")
    return summary, w.one(steps), objection


def interactions(
    w: Writer, code: str, customers: list[Customer], reps: list[Rep], baskets: list[list[int]],
    catalog: tuple[ProductFacts, ...], comps: dict[str, list[Competitor]], contract_end: dict[str, dt.date],
    as_of: dt.date,
) -> list[InteractionDraft]:  # fmt: skip
    """Interactions of the last twelve months: A-tier customers about 1.4 a month, C-tier about one a quarter."""
    owner = {ci: r for r in reps for ci in r.customers}
    related = [
        {
            k
            for k, q in enumerate(catalog)
            if k != j and (q.category == p.category or set(q.indications) & set(p.indications))
        }
        for j, p in enumerate(catalog)
    ]
    out: list[InteractionDraft] = []
    for i, c in enumerate(customers):
        if c.duplicate_of is not None or not baskets[i]:
            continue
        n = int(w.rng.poisson(PER_MONTH[c.tier] * MONTHS * (2.0 if c.is_hq else 1.0)))
        names, weights = zip(*CHANNELS[c.type], strict=True)
        wt = np.array(weights, float)
        for _ in range(n):
            rep = owner[i] if w.rng.random() < 0.9 else reps[int(w.rng.integers(len(reps)))]
            channel = names[int(w.rng.choice(len(wt), p=wt / wt.sum()))]
            day = as_of - dt.timedelta(days=int(w.rng.integers(1, 365)))
            at = dt.datetime.combine(day, dt.time(int(w.rng.integers(8, 19)), int(w.rng.integers(0, 60))))
            basket = baskets[i]
            j = basket[int(w.rng.integers(len(basket)))]
            p = catalog[j]
            partners = [catalog[k] for k in basket if k in related[j]]
            p2 = partners[int(w.rng.integers(len(partners)))] if partners else None
            found = comps.get(p.sku)
            comp = found[int(w.rng.integers(len(found)))] if found else None
            end = contract_end.get(c.id)
            near_end = end if end is not None and 0 <= (end - day).days <= 120 else None
            summary, step, objection = _summary(w, c, channel, p, p2, comp, near_end)
            skus = [p.sku] + ([p2.sku] if p2 is not None and p2.short in summary else [])
            out.append(InteractionDraft("", at, channel, summary, step, rep.id, c.id, skus, objection))
    out.sort(key=lambda d: (d.at, d.customer_id))
    for k, d in enumerate(out):
        d.id = f"I-{code}-{k + 1:06d}"
    return out
