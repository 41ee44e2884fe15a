"""Knowledge entries of one tenant: objection scripts, case studies, product notes and FAQs, in Chinese.

Every text is composed from several template parts, each with variants, and filled with the facts of a product
(real formulary status, price, competitor, side effects) and, for case studies, of a customer. Some scripts were
written under the 2022 formulary and state its restrictions as current: a formulary update should mark them stale.
"""

# Chinese template text: CJK characters count double in the line width, and sentences stay whole so they can be
# read and searched as written.
# ruff: noqa: E501

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from demo.catalog import EDITIONS, VBP_GENERICS, Competitor, ProductFacts, company_short
from demo.parties import Customer
from demo.phrases import onset, selling_points, side_effect
from demo.vocab import DEPARTMENTS_BY_CATEGORY, TYPE_LABEL, TenantSpec

CHRONIC = frozenset({"调脂药", "降压药", "降糖药", "抗血栓药", "心血管中成药", "抗痛风药", "骨科用药", "泌尿系统用药"})
OBJECTION_KINDS = (
    ("price", "价格异议"),
    ("formulary", "医保报销"),
    ("efficacy", "疗效质疑"),
    ("safety", "不良反应"),
    ("stockout", "缺货断货"),
    ("payment", "医保卡与回款"),
    ("compliance", "患者依从性"),
    ("dtp", "DTP与处方外流"),
)
KIND_CATEGORY = {
    "price": "price", "formulary": "insurance_card", "efficacy": "efficacy", "safety": "side_effects",
    "stockout": "stock", "payment": "insurance_card", "compliance": "efficacy", "dtp": "dtp_prescription",
}  # fmt: skip
"""The objection category of each kind of product script (患者依从性 is about taking the drug as prescribed:
疗效/疗程, not regulatory 合规); a payment script about 账期 is ``payment_terms``."""
SCRIPTS_PER_KIND = 21
CASE_STUDIES = 112
PRODUCT_NOTES = 40

T = TypeVar("T")


@dataclass
class EntryDraft:
    """An entry before it becomes table rows."""

    kind: str
    title: str
    body: str
    tags: list[str]
    skus: list[str] = field(default_factory=list)
    indications: list[str] = field(default_factory=list)
    customer_id: str | None = None
    written_before: dt.date | None = None
    earlier_bodies: list[str] = field(default_factory=list)
    category: str | None = None
    """The objection category (``graph.model.ObjectionCategory``) of a script; None for other kinds."""
    customer_types: list[str] = field(default_factory=list)
    """Customer types the entry is written for; empty = all."""
    status: str | None = None
    """A fixed status (the general scripts are published); None draws one like a trainer's mix of states."""


class Writer:
    """Picks template variants with one random generator, so a tenant's texts are reproducible."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def one(self, options: Sequence[T]) -> T:
        """One of ``options``."""
        return options[int(self.rng.integers(len(options)))]

    def subset(self, options: Sequence[T], k: int) -> list[T]:
        """``k`` distinct options in their given order (for steps that must stay in sequence)."""
        idx = self.rng.choice(len(options), size=min(k, len(options)), replace=False)
        return [options[int(i)] for i in sorted(idx)]

    def some(self, options: Sequence[T], k: int) -> list[T]:
        """``k`` distinct options in a random order."""
        idx = self.rng.choice(len(options), size=min(k, len(options)), replace=False)
        return [options[int(i)] for i in idx]

    def num(self, lo: float, hi: float, digits: int = 0) -> float:
        """A number in ``[lo, hi]`` rounded to ``digits``."""
        return round(float(self.rng.uniform(lo, hi)), digits)

    def n(self, lo: int, hi: int) -> int:
        """An integer in ``[lo, hi]``."""
        return int(self.rng.integers(lo, hi + 1))


def _money(x: float) -> str:
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}".rstrip("0").rstrip(".")


def cheaper(comps: dict[str, list[Competitor]], p: ProductFacts) -> list[Competitor]:
    """The competitors of ``p`` observed below its list price (the ones a price objection cites)."""
    return [c for c in comps.get(p.sku, []) if c.price < p.list_price * 0.97]


def _daily(p: ProductFacts, price: float) -> float:
    return price / max(p.pack_size, 1)


def _change_sentence(p: ProductFacts) -> str:
    """What changed between the 2022 and the 2024 list for ``p``, in a sentence (empty when nothing did)."""
    change = p.formulary_change
    old_r, new_r = p.nrdl_2022_restriction.rstrip("。"), p.nrdl_2024_restriction.rstrip("。")
    if change == "restriction" and old_r and not new_r:
        return (
            f"与2022年版相比，2024年版目录取消了“{old_r}”的限定，自{EDITIONS[1][2]:%Y年%-m月%-d日}起，"
            f"参保患者按适应症使用{p.short}均可按规定由医保支付。"
        )
    if change == "restriction":
        return f"2022年版目录限定“{old_r or '无'}”，2024年版调整为“{new_r or '无限定'}”，解释口径要同步更新。"
    if change == "added":
        pay = p.nrdl_2024_payment_standard
        pay_text = "支付标准未公开" if pay == "*" else f"医保支付标准{pay}"
        return (
            f"{p.short}未收录于2022年版目录，现已列入2024年版目录的协议期内谈判药品({p.nrdl_2024_code})，"
            f"{pay_text}，限定支付范围为“{new_r}”。"
        )
    if change == "removed":
        return (
            f"{p.short}在2022年版目录中为{p.nrdl_2022_category}类({p.nrdl_2022_code})，2024年版目录未再收录，"
            f"自{EDITIONS[1][2]:%Y年%-m月%-d日}起不再纳入医保基金支付，参保人需全额自费。"
        )
    if change == "unlisted":
        return f"{p.short}未列入国家医保目录，需全额自费，门店可结合会员价和组合装提升性价比。"
    return ""


def _policy_line(p: ProductFacts) -> str:
    return p.status_2024() + "。" + _change_sentence(p)


# ------------------------------------------------------------------------------------------ objection scripts


def _price_script(w: Writer, p: ProductFacts, comp: Competitor) -> EntryDraft:
    pct = max(3, round((p.list_price / comp.price - 1) * 100))
    title = w.one(
        [
            f"客户说{comp.name.split(' ')[0]}更便宜，{p.short}怎么守住价格",
            f"{p.short}比竞品贵{pct}%，采购要求降价怎么回应",
            f"价格异议：{p.short} vs {company_short(comp.company)}{comp.name.split(' ')[0]}",
            f"门店反馈竞品{_money(comp.price)}元一盒，{p.short}卖不动怎么办",
        ]
    )
    objection = w.one(
        [
            f"“{comp.company}的{comp.name.split(' ')[0]}才{_money(comp.price)}元，你们{p.short}要{_money(p.list_price)}元，能不能再降一点？”",
            f"“隔壁店{comp.name.split(' ')[0]}卖{_money(comp.price)}元，顾客一比价就走了，{p.short}的价格我们没法做。”",
            f"“{p.short}毛利太薄，{company_short(comp.company)}给的条件比你们好，下个月我们准备主推他们的。”",
        ]
    )
    approach = w.one(
        [
            "先认同客户对毛利和客单价的关注，再把比较口径从“单盒价格”拉回到“日治疗费用”和“门店综合收益”。",
            "价格异议往往是采购的谈判姿态，先确认真实诉求：是担心动销，还是需要更高毛利，还是被竞品政策吸引。",
            "不要第一轮就让价。先讲清差价背后的价值，再用政策内的工具（陈列、会员活动、阶梯政策）解决问题。",
        ]
    )
    values: list[str] = []
    if p.originator:
        values.append(
            f"{p.short}是原研产品，上市时间长、临床使用经验丰富，老患者认品牌，贸然换药带来的流失和投诉成本更高。"
        )
    else:
        values.append(f"{p.short}供货稳定、效期新鲜，在同类产品中价格处于合理区间，门店不会因为断货丢失慢病顾客。")
    if p.category in CHRONIC:
        diff = _daily(p, p.list_price) - _daily(p, comp.price)
        if diff > 0:
            values.append(
                f"按说明书常用量每日一片计算，{p.short}日均费用约{_daily(p, p.list_price):.2f}元，"
                f"比竞品每天多{diff:.2f}元，一个月约{diff * 30:.0f}元，对长期服药的顾客影响有限。"
            )
    if p.nrdl_2024_code:
        values.append(f"{p.short}为{p.status_2024()}，参保顾客在定点药店可按规定医保结算，实际自付差额远小于标价差额。")
    values.extend(point + "。" for point in selling_points(p)[:1])
    values.append("我们可以安排店员培训和陈列支持，把单品销售变成关联销售，提升整体客单价。")
    offer = max(p.floor_price * 1.03, p.list_price * 0.88)
    qty = w.n(3, 20) * 10
    script = w.one(
        [
            f"“{w.one(['王', '李', '陈', '张'])}经理，您说得对，单看标价竞品确实低。但{values[0][:-1]}。"
            f"如果这次按{qty}盒进货，我可以申请阶梯政策，把到手价做到{_money(offer)}元，同时给门店做一次陈列和店员培训。”",
            f"“比价的顾客我们理解。建议把{p.short}放在慢病专区，店员推荐时讲清楚{selling_points(p)[0]}。"
            f"我们这个季度有{w.n(3, 8)}%的陈列支持，进货满{qty}盒还可以申请到{_money(offer)}元。”",
            f"“您算的是单盒账，我们一起算算门店账：{p.short}的老顾客每月固定来买，带动的关联品种销售比单品差价更可观。"
            f"价格方面我最多能申请到{_money(offer)}元，这是公司政策内的最优条件。”",
        ]
    )
    note = w.one(
        [
            f"报价不得低于系统底价{_money(p.floor_price)}元；不得以现金返利、回扣等形式变相降价。",
            "所有价格政策以公司系统审批为准，不得口头承诺；不诋毁竞品，只讲事实和数据。",
            f"特价申请需附竞品价格证据（拍照或报价单），底价{_money(p.floor_price)}元以下一律不报。",
        ]
    )
    body = "\n".join(
        [
            f"【适用场景】{w.one(['连锁采购谈判', '单体药店老板比价', '门店店长反馈动销慢'])}，竞品：{comp.company}{comp.name}（观察价{_money(comp.price)}元，来源：{comp.source}）。",
            f"【客户异议】{objection}",
            f"【应对思路】{approach}",
            "【价值要点】" + "".join(f"{i + 1}. {v}" for i, v in enumerate(w.some(values, 3))),
            f"【参考话术】{script}",
            f"【合规提示】{note}",
        ]
    )
    return EntryDraft("objection_script", title, body, ["价格异议", "竞品", p.category, p.generic_name], [p.sku],
                      list(p.indications[:1]))  # fmt: skip


def _formulary_script(w: Writer, p: ProductFacts, legacy: bool) -> EntryDraft:
    change = p.formulary_change
    if legacy:
        restriction = p.nrdl_2022_restriction.rstrip("。")
        title = w.one([f"{p.short}医保限定“{restriction[:12]}”怎么跟顾客解释", f"顾客问{p.short}为什么报销受限"])
        body = "\n".join(
            [
                f"【客户异议】“我有医保，为什么{p.short}不能全报？”",
                f"【政策要点】{p.short}为{p.status_2022()}。限定支付范围是对医保基金支付的限定，不限制医生处方和患者用药，"
                "超出限定范围使用的部分需个人自付。",
                f"【参考话术】“阿姨，{p.short}是医保{p.nrdl_2022_category}类药，医保规定{restriction}才能报销。"
                "您的情况如果医生诊断符合，带上病历或处方我们可以按医保结算；不符合的话需要自费，我帮您算一下一个月大概多少钱。”",
                "【注意】不同统筹地区的执行口径可能不同，以当地医保经办机构解释为准。",
            ]
        )
        return EntryDraft("objection_script", title, body, ["医保报销", "医保限定", "2022版目录", p.generic_name],
                          [p.sku], list(p.indications[:1]), written_before=EDITIONS[1][2] - dt.timedelta(days=60))  # fmt: skip
    if change in ("restriction", "added", "removed"):
        title = w.one(
            [
                f"{p.short}医保目录变化解读（2022版→2024版）",
                f"2024版医保目录后，{p.short}报销有什么不同",
                f"顾客问：{p.short}现在能不能报医保？",
            ]
        )
    else:
        title = w.one(
            [
                f"{p.short}能不能报医保？一页讲清",
                f"医保报销：{p.short}的顾客怎么解释",
                f"顾客问{p.short}为什么刷不了医保",
            ]
        )
    cls = {
        "甲": "甲类药品按规定直接纳入报销范围",
        "乙": "乙类药品需个人先行自付一定比例（各统筹地区比例不同）后再按规定报销",
    }.get(p.nrdl_2024_category, "目录外药品需全额自费")
    objection = w.one(
        [
            f"“{p.short}到底能不能刷医保？上次在别家药店说不能报。”",
            f"“医院里{p.short}能报，为什么药店不能报？”",
            f"“我听说今年医保目录调整了，{p.short}还能报吗？”",
        ]
    )
    reasons = [
        "门店不是医保定点零售药店，或该药品未在门店医保系统中维护国家医保药品编码（贯标码）；",
        "处方药在药店使用门诊统筹结算需要有效处方（含电子处方流转）；",
        "顾客当年统筹基金支付已达限额，或个人账户余额不足；",
    ]
    if p.nrdl_2024_restriction:
        reasons.insert(0, f"不符合限定支付范围“{p.nrdl_2024_restriction.rstrip('。')}”；")
    script = w.one(
        [
            f"“您好，{p.short}{'是医保' + p.nrdl_2024_category + '类药' if p.nrdl_2024_code else '目前不在国家医保目录里'}。"
            f"{cls}。我先帮您查一下是哪一项没通过，是处方的问题我们可以走电子处方，是额度的问题我给您说清楚自付多少。”",
            f"“{p.short}这次目录调整后的政策是这样的：{_change_sentence(p) or p.status_2024()}您放心，能报的我们一定按规定给您报。”",
            f"“叔叔，报不报销不是药店说了算，是医保目录规定的。{p.short}{p.status_2024()}。您把医保码打开，我帮您试结算看看。”",
        ]
    )
    body = "\n".join(
        [
            f"【客户异议】{objection}",
            f"【政策要点】{_policy_line(p)}{cls}。",
            "【刷不了医保的常见原因】" + "".join(f"{i + 1}. {r}" for i, r in enumerate(w.some(reasons, 3))),
            f"【参考话术】{script}",
            "【注意】医保政策以国家医保局公布的目录和当地医保经办机构解释为准；不得为顾客串换药品、虚开处方或代刷医保。",
        ]
    )
    tags = ["医保报销", "2024版目录", p.generic_name]
    if change in ("restriction", "added", "removed"):
        tags.append("目录调整")
    return EntryDraft("objection_script", title, body, tags, [p.sku], list(p.indications[:1]))


def _efficacy_script(w: Writer, p: ProductFacts, comp: Competitor | None) -> EntryDraft:
    if comp is not None:
        alt = f"{company_short(comp.company)}的{comp.name.split(' ')[0]}"
    else:
        alt = "同类药物" if p.originator or p.innovative or p.tcm else "原研药"
    title = w.one(
        [
            f"顾客说{p.short}吃了没效果怎么办",
            f"医生质疑{p.short}疗效不如{alt}",
            f"“{p.short}和{alt}效果一样吗？”",
            f"{p.short}疗效异议处理",
        ]
    )
    objection = w.one(
        [
            f"“{p.short}吃了{w.n(3, 14)}天了，感觉没什么用。”",
            f"“听说{alt}效果更好，{p.short}是不是差一点？”",
            "“原研药比仿制药贵这么多，效果真的更好吗？”"
            if p.originator
            else "“新药没怎么听说过，效果能有保证吗？”"
            if p.innovative
            else "“中成药起效慢，到底有没有用？”"
            if p.tcm
            else "“便宜的仿制药，效果能有保证吗？”",
        ]
    )
    if p.tcm:
        quality = f"{p.short}由{p.manufacturer}按国家药品标准生产，是临床和家庭常用的中成药。"
    elif p.originator:
        quality = f"{p.short}是{p.manufacturer}的原研药，上市时间长，临床使用经验丰富。"
    elif p.innovative:
        quality = f"{p.short}是{p.manufacturer}研发的国产创新药，按获批适应症使用。"
    else:
        quality = (
            f"{p.short}由{p.manufacturer}生产，是国家批准上市的仿制药；"
            "通过一致性评价的仿制药与原研药在质量和疗效上一致，可以相互替代。"
        )
    steps = [
        f"先问清楚用法用量和服药时间：{onset(p)}。",
        "核对是否漏服、自行减量或与其他药物、食物相互影响。",
        f"了解顾客的期望：{p.short}用于{'、'.join(p.indications[:2])}，要用正确的指标衡量效果。",
        "若规范用药后仍控制不佳，建议及时复诊，由医生调整方案，不要自行换药或加药。",
    ]
    script = w.one(
        [
            f"“您吃{p.short}多长时间了？{onset(p)}，您这才刚开始，我们先坚持按时吃，下次来店里我帮您做个记录。”",
            f"“{quality}效果不理想的话，我们一起看看是不是吃法的问题，如果已经规律吃够疗程，建议您回医院复诊，让医生评估。”",
            f"“每个人对药物的反应不完全一样，{p.short}{selling_points(p)[0]}。重要的是按疗程吃、定期复查，指标说话。”",
        ]
    )
    body = "\n".join(
        [
            f"【客户异议】{objection}",
            f"【应对思路】{quality}疗效异议多数来自疗程不足或期望不匹配，先询问、再解释、必要时转诊。",
            "【处理步骤】" + "".join(f"{i + 1}. {s}" for i, s in enumerate(steps)),
            f"【参考话术】{script}",
            "【合规提示】不得夸大疗效或承诺治愈，不得贬低竞品；涉及调整治疗方案的问题一律建议咨询医生。",
        ]
    )
    return EntryDraft("objection_script", title, body, ["疗效质疑", p.category, p.generic_name], [p.sku],
                      list(p.indications[:2]))  # fmt: skip


def _safety_script(w: Writer, p: ProductFacts) -> EntryDraft:
    reaction, advice = side_effect(p)
    title = w.one(
        [
            f"顾客担心{p.short}的副作用",
            f"{p.short}不良反应咨询应对",
            f"“吃{p.short}伤不伤{w.one(['肝', '胃', '肾', '身体'])}？”",
            f"医生反映{p.short}不良反应怎么跟进",
        ]
    )
    objection = w.one(
        [
            f"“我听说{p.short}副作用很大，{w.one(['伤肝', '伤胃', '吃多了伤肾', '会有依赖'])}，是真的吗？”",
            f"“上次吃{p.short}后有点不舒服，是不是药的问题？”",
            f"“网上说{p.short}有{reaction.split('，')[0].split('、')[0]}的副作用，我不敢吃了。”",
        ]
    )
    script = w.one(
        [
            f"“您的担心可以理解。{p.short}说明书上写的常见不良反应是{reaction}，大多数人没有或很轻微。{advice}。”",
            f"“任何药都有不良反应，关键是怎么正确使用。{p.short}需要注意的是{reaction}，所以{advice}。如果出现明显不适，先停药并及时就医。”",
            f"“您上次的不舒服，我们先记录下来：什么时间、吃了多少、还吃了哪些药。{p.short}常见的是{reaction}，我帮您判断一下，必要时建议您找医生看看。”",
        ]
    )
    body = "\n".join(
        [
            f"【客户异议】{objection}",
            f"【产品要点】{p.display}（{p.spec}）常见不良反应：{reaction}。用药提示：{advice}。",
            "【应对思路】不回避、不夸大：用说明书讲事实，给出可操作的用药建议；疑似不良反应按规定记录并上报。",
            f"【参考话术】{script}",
            "【上报要求】门店发现疑似药品不良反应，应在药品不良反应监测系统中按规定填报，并同步告知负责代表和质量部门。",
        ]
    )
    return EntryDraft("objection_script", title, body, ["不良反应", "用药安全", p.category, p.generic_name], [p.sku],
                      list(p.indications[:1]))  # fmt: skip


def _stockout_script(w: Writer, p: ProductFacts, spec: TenantSpec, comp: Competitor | None) -> EntryDraft:
    weeks = w.n(2, 4)
    title = w.one(
        [
            f"{p.short}上月断货，客户担心供应怎么回应",
            f"门店说{p.short}经常缺货，想换{comp.name.split(' ')[0] if comp else '别的品种'}",
            f"缺货投诉处理：{p.short}",
        ]
    )
    cause = w.one(
        [
            f"{'流感季需求集中爆发' if p.category in ('抗病毒药', '感冒清热中成药') else '集采执行后终端需求增长较快'}，厂家排产跟不上",
            "厂家更换包装和批号，上月有约两周的切换期",
            "物流中心月底盘点，部分门店订单延迟出库",
        ]
    )
    city = spec.cities[0].name
    script = w.one(
        [
            f"“上次断货给您添麻烦了，原因是{cause}。现在库存已经恢复，我建议把{p.short}的安全库存设为近8周平均周销量的{weeks}倍，"
            f"低于这个数系统自动补货，{city}市区次日达、县域48小时内到货。”",
            f"“这次缺货确实影响了门店。我们已经给{p.short}做了预留库存，您这边提前一周把下月预计量报给我，我每周一跟您核对一次到货情况。”",
            f"“我理解您想换品种，但顾客吃惯了{p.short}，换了容易流失。断货期间如遇急需，我们可以从附近门店调拨，或者先供应其他规格。”",
        ]
    )
    body = "\n".join(
        [
            f"【客户异议】“{p.short}{w.one(['上个月断了两周', '老是缺货', '这次又没货'])}，顾客来买不到都去别家了，你们到底能不能保证供应？”",
            f"【原因说明】{cause}。",
            "【应对思路】先道歉并给出原因，再给出具体、可检查的保障措施（安全库存、预订单、到货时效、调拨），最后稳住顾客。",
            f"【参考话术】{script}",
            "【内部动作】在系统中登记缺货影响的客户清单；恢复供货后48小时内逐一回访确认到货。",
        ]
    )
    return EntryDraft("objection_script", title, body, ["缺货断货", "供应保障", p.generic_name], [p.sku])


def _payment_script(w: Writer, p: ProductFacts, spec: TenantSpec) -> EntryDraft:
    app = "浙里办或支付宝里的医保码" if spec.code == "HZ" else "随申办或微信里的医保码"
    days_now, days_ask = w.one(["30", "45", "60"]), w.one(["90", "120"])
    variant = w.n(0, 2)
    if variant == 0:
        title = f"顾客医保卡结算{p.short}失败怎么办"
        objection = f"“我拿医保卡买{p.short}，收银说结算不了，你们是不是不能刷医保？”"
        steps = [
            f"确认{p.short}的医保状态：{p.status_2024()}。",
            "检查门店医保系统中该药品的国家医保药品编码（贯标码）是否维护正确。",
            f"顾客没带卡可以用{app}结算；家庭共济可用家人的个人账户支付。",
            "处方药走门诊统筹需要有效处方，可通过电子处方流转平台获取。",
        ]
        script = (
            f"“阿姨，不是不能刷，我先帮您看看是哪一步的问题。{p.short}{p.status_2024()}，您打开{app}，我们再试一次。”"
        )
    elif variant == 1:
        title = f"门店医保额度紧张，不敢多进{p.short}"
        objection = f"“我们店今年医保额度快用完了，{p.short}这种医保品种不敢多进。”"
        steps = [
            "了解门店医保总额控制的口径和剩余额度，区分统筹基金与个人账户。",
            f"对{p.short}这类慢病品种，按会员实际用量制定月度进货计划，避免积压。",
            "引导非医保顾客和自费需求走会员价，平衡医保和自费结构。",
            "协助门店核对医保对账单，及时处理拒付和扣款明细。",
        ]
        script = f"“额度的事我们一起规划：{p.short}按慢病会员的实际用量进，每月{w.n(20, 80)}盒左右就够，我每月初帮您对一次医保结算数据。”"
    else:
        title = f"客户要求把{p.short}的账期从{days_now}天延长到{days_ask}天"
        objection = f"“医保回款慢，我们资金压力大，{p.short}的账期能不能从{days_now}天延长到{days_ask}天？”"
        steps = [
            "了解客户医保回款周期和资金状况，判断诉求是否合理。",
            "账期调整需信用部门审批，不得口头承诺。",
            "可提供的替代方案：分批到货、小批量多频次配送、电子承兑。",
            "按时对账，减少因对账差异造成的回款延迟。",
        ]
        script = (
            f"“医保回款慢的情况我了解。账期调整要走信用审批，我可以帮您申请，同时建议{p.short}改成每周小批量到货，"
            "这样您的资金占用能少一半左右。”"
        )
    body = "\n".join(
        [
            f"【客户异议】{objection}",
            "【处理步骤】" + "".join(f"{i + 1}. {s}" for i, s in enumerate(steps)),
            f"【参考话术】{script}",
            "【合规提示】严禁串换药品、分解处方或为他人代刷医保卡；账期和信用政策以公司审批为准。",
        ]
    )
    return EntryDraft("objection_script", title, body, ["医保卡与回款", "医保结算", p.generic_name], [p.sku])


def _compliance_script(w: Writer, p: ProductFacts) -> EntryDraft:
    title = w.one(
        [
            f"患者{p.short}吃几天就停，怎么提升依从性",
            f"老人记不住吃{p.short}怎么办",
            f"{p.short}慢病会员复购下降的应对",
        ]
    )
    tools = [
        "建立慢病会员档案，记录用药、复购日期和指标（血压、血糖、血脂）；",
        f"按{p.short}的包装天数（{p.spec}）在用完前3天推送复购提醒；",
        "推荐分格药盒、手机闹钟等简单工具，家属参与提醒；",
        "每月一次药师电话或微信随访，询问有无不适；",
        "门店开展免费测血压、测血糖活动，让顾客看到指标变化；",
    ]
    script = w.one(
        [
            f"“叔叔，{p.short}是要长期吃的，感觉好了也不能停。{onset(p)}。我给您登记个会员，药快吃完了我们提醒您。”",
            f"“很多人觉得没症状就不用吃药，其实{'、'.join(p.indications[:2])}最怕的就是时吃时停。我们每个月帮您测一次，数据好看了您也放心。”",
            f"“阿姨，{p.short}每天固定时间吃最好，比如早饭后。我给您一个一周的分格药盒，吃没吃一眼就能看到。”",
        ]
    )
    body = "\n".join(
        [
            f"【客户异议】“{w.one(['吃了一阵感觉好了，就没再吃', '药太多了记不住', '长期吃药怕有副作用'])}。”",
            f"【应对思路】慢病用药的价值在于长期坚持。{onset(p)}。依从性差是门店复购流失的主要原因，也是专业服务最能体现价值的地方。",
            "【可用工具】" + "".join(f"{i + 1}. {t}" for i, t in enumerate(w.some(tools, 4))),
            f"【参考话术】{script}",
            "【注意】随访不涉及诊疗建议；出现指标异常或不适，建议及时就医。",
        ]
    )
    return EntryDraft("objection_script", title, body, ["患者依从性", "慢病管理", p.category, p.generic_name], [p.sku],
                      list(p.indications[:2]))  # fmt: skip


def _dtp_script(w: Writer, p: ProductFacts) -> EntryDraft:
    title = w.one(
        [
            f"医院开了{p.short}处方，患者不知道去哪买",
            f"{p.short}处方外流到DTP药房怎么对接",
            f"医生不愿意把{p.short}处方流出来怎么办",
            f"{p.short}“双通道”患者购药流程说明",
        ]
    )
    flow = [
        "医生在医院信息系统开具电子处方，经医保电子处方中心流转到定点零售药店；",
        "患者凭医保电子凭证到药店，药师审核处方后调配，按规定直接医保结算；",
        "对纳入本地“双通道”管理的药品，定点药店与定点医院执行相同的支付政策；",
        "首次用药由药师做用药教育，之后每月随访并记录疗效和不良反应；",
        "需要冷链的药品全程温度记录，送药上门时当面核对温度记录。",
    ]
    script = w.one(
        [
            f"“主任，患者出院后续方买{p.short}，通过电子处方流转到我们DTP药房，医保报销比例和院内一致，药师还会每月随访，用药情况可以定期反馈给您。”",
            f"“{p.short}的处方流转不会影响科室的诊疗，患者在我们药房取药，我们把随访记录整理给您，依从性和不良反应都有数据。”",
            f"“您好，您的{p.short}处方已经流转到我们药房了，带上医保电子凭证就能直接结算。需要的话我们可以送药上门。”",
        ]
    )
    body = "\n".join(
        [
            f"【场景】{p.display}属于{p.category}，{p.status_2024()}。"
            f"{w.one(['患者长期用药、单价高', '医院药占比和库存压力大', '患者往返医院取药不便'])}，处方外流是趋势。",
            f"【客户异议】“{w.one(['处方流出去了，患者出了问题谁负责？', '我们科室不了解DTP药房，不放心。', '患者不会用电子处方，太麻烦。'])}”",
            "【购药流程】" + "".join(f"{i + 1}. {s}" for i, s in enumerate(w.subset(flow, 4))),
            f"【参考话术】{script}",
            "【注意】不得以任何形式向医务人员输送利益换取处方；患者隐私数据按规定保护。",
        ]
    )
    return EntryDraft("objection_script", title, body, ["DTP与处方外流", "双通道", p.category, p.generic_name], [p.sku],
                      list(p.indications[:1]))  # fmt: skip


def objection_scripts(
    w: Writer, catalog: tuple[ProductFacts, ...], comps: dict[str, list[Competitor]], spec: TenantSpec,
) -> list[EntryDraft]:  # fmt: skip
    """168 scripts, 21 in each of the eight objection kinds, over products that fit the kind."""
    by_sku = {p.sku: p for p in catalog}
    with_comp = [by_sku[s] for s in comps if cheaper(comps, by_sku[s])]
    listed = [p for p in catalog if p.formulary_change != "same"] + [p for p in catalog if p.formulary_change == "same"]
    chronic = [p for p in catalog if p.category in CHRONIC]
    dtp = [p for p in catalog if p.specialty and not p.tcm] + [p for p in catalog if p.category in CHRONIC][:20]
    legacy = [p for p in catalog if p.formulary_change == "restriction" and p.nrdl_2022_restriction]
    out: list[EntryDraft] = []
    for kind, _ in OBJECTION_KINDS:
        for i in range(SCRIPTS_PER_KIND):
            if kind == "price":
                p = with_comp[i % len(with_comp)]
                out.append(_price_script(w, p, w.one(cheaper(comps, p))))
            elif kind == "formulary":
                if i < 6:
                    out.append(_formulary_script(w, legacy[i % len(legacy)], legacy=True))
                else:
                    out.append(_formulary_script(w, listed[(i - 6) % len(listed)], legacy=False))
            elif kind == "efficacy":
                p = catalog[int(w.rng.integers(len(catalog)))]
                found = comps.get(p.sku)
                out.append(_efficacy_script(w, p, found[0] if found else None))
            elif kind == "safety":
                out.append(_safety_script(w, catalog[(i * 6 + 1) % len(catalog)]))
            elif kind == "stockout":
                p = catalog[(i * 5 + 3) % len(catalog)]
                found = comps.get(p.sku)
                out.append(_stockout_script(w, p, spec, found[0] if found else None))
            elif kind == "payment":
                paid = [p for p in catalog if p.nrdl_2024_code]
                out.append(_payment_script(w, paid[(i * 4 + 2) % len(paid)], spec))
            elif kind == "compliance":
                out.append(_compliance_script(w, chronic[i % len(chronic)]))
            else:
                out.append(_dtp_script(w, dtp[i % len(dtp)]))
            out[-1].category = "payment_terms" if "账期" in out[-1].title else KIND_CATEGORY[kind]
    return out


GENERAL_SCRIPTS: tuple[tuple[str, tuple[str, ...], str, str, str, str, str], ...] = (
    ("price", (), "客户一句“太贵了”，先问清贵在哪里",
     "任何品种、任何客户，尤其是客户只说一句“太贵了”、没有点名产品时",
     "“太贵了，便宜点吧。”",
     "“太贵了”多半是谈判姿态或没算清账，先认同，再问清是和谁比、按盒算还是按疗程算，最后才谈政策。",
     "“您觉得贵，我先记下来。您是和哪家比的？按一盒比还是按一个疗程比？我们把到手价、效期和售后一起算一笔账，"
     "如果确实高，我按公司政策帮您申请，但不会口头先答应。”"),
    ("price", ("chain", "single_pharmacy"), "顾客说网上、外卖平台更便宜",
     "门店顾客拿手机比价（美团、京东、拼多多、O2O平台），店员问怎么回",
     "“网上才卖这么点钱，你们药店凭什么这么贵？”",
     "不否认网上价格，讲清药店的价值：当场拿药、药师指导、医保可结算、正规渠道和效期有保障；同时给门店会员价和组合方案。",
     "“网上的价格我们也看到了。在店里买，药师当面帮您核对用法和禁忌，医保能直接结算，有问题随时回来找我们。"
     "办了会员还有会员价，算下来差得不多。”"),
    ("margin_display", ("chain", "single_pharmacy"), "门店嫌毛利低、不愿主推怎么办",
     "连锁采购或单体药店老板说毛利太薄、不想推、陈列和堆头费用谁出",
     "“这个品毛利才几个点，店员都不愿意推，堆头费还得我们出。”",
     "毛利要和动销一起算：高频慢病品种带来回头客和关联销售；陈列、端架和店员培训按公司政策申请，不私下承诺。",
     "“单品毛利确实不高，但它是慢病顾客每月都来买的品种，带动的关联销售更可观。陈列和店员培训我按公司政策帮您申请，"
     "把动销做起来，周转快了，整体毛利额反而上去。”"),
    ("stock", (), "客户抱怨断货、送货慢时的回应",
     "客户说缺货、断货、到货慢、起订量太高，担心影响门店或科室用药",
     "“上次断了两个礼拜，送货也慢，你们到底能不能保证供应？”",
     "先道歉并说明原因和预计到货时间，给出替代规格或调拨方案；长期看帮客户设安全库存和补货周期。",
     "“这次断货给您添麻烦了。原因是厂家排产，预计下周三到货，这几天可以先从我们仓库调拨一部分。"
     "以后我按您的销量帮您设个安全库存，提前一周提醒补货，就不会再断。”"),
    ("payment_terms", (), "客户要求延长账期、先货后款",
     "客户要求账期从月结延长，或要求先货后款、返利兑现慢",
     "“别家都给九十天账期，你们才三十天，资金压力太大了。”",
     "账期是公司信用政策，按客户资质和回款记录审批；可以讲清按时回款带来的政策优惠，不私下承诺。",
     "“账期按公司信用政策走，您的回款一直很准时，我可以帮您按规定申请调整。另外按时回款可以享受的政策我也给您算清楚，"
     "比单纯拉长账期更划算。”"),
    ("insurance_card", ("chain", "single_pharmacy"), "顾客问为什么不能刷医保卡、报销不了",
     "顾客在门店刷医保卡失败，或问某个药为什么不能报销、自付比例为什么高",
     "“这个药为什么不能刷医保卡？医院都能报。”",
     "先查清原因：药店是否医保定点、药品是否在医保目录、有没有限定支付条件；按事实解释，不承诺报销。",
     "“我先帮您查一下：这个药在医保目录里，但有限定支付条件，门店要核对您的处方和诊断。有处方的话可以按规定结算，"
     "没有的话我们也可以帮您联系开处方的渠道。”"),
    ("formulary", ("hospital",), "医院药事会没通过、一品两规进不去",
     "医院药剂科说同类药已经有了、一品两规限制，或者新药申请没过药事会",
     "“同类药我们已经有两个规格了，一品两规，进不来。”",
     "了解医院目录结构和临床需求，找出未满足的用药场景；按医院流程准备资料，必要时走临采，不绕开药事会。",
     "“理解医院的品规限制。我们整理了这个品种在特定人群里的临床证据和费用对比，想请科室评估一下是否有未满足的需求；"
     "如果有临床急需，也可以按医院流程申请临时采购。”"),
    ("vbp", ("hospital", "chain"), "集采以后客户问原研为什么还这么贵",
     "集采品种中选价很低，客户问原研或未中选产品为什么价格高、要不要换",
     "“集采的才几毛钱一片，你们原研还卖这么贵？”",
     "尊重集采政策，不贬低中选产品；讲清原研的证据、质量一致性和老患者的用药连续性，让客户和患者自己选择。",
     "“集采价格确实低，这是好政策。原研的价值在于长期临床证据和稳定的质量，很多老患者吃惯了不想换。"
     "门店可以两种都备，让顾客自己选，原研我们也有相应的政策支持。”"),
    ("efficacy", (), "顾客说吃了没效果怎么处理",
     "顾客说吃了没用、见效慢、效果不如以前，或怀疑是智商税",
     "“吃了一个礼拜了，一点效果都没有。”",
     "先问清用法用量、疗程和合并用药，很多“没效果”是没吃够疗程或用法不对；必要时建议就医复查，不夸大疗效。",
     "“您是每天按时吃吗？一次吃几片？这类药一般要吃够两到四周才看得出效果。如果按规定吃够了还是不行，建议去医院复查，"
     "让医生调整方案。”"),
    ("side_effects", (), "顾客担心副作用、看了说明书不敢吃",
     "顾客看了说明书上的不良反应不敢吃，或担心伤肝伤肾、长期吃有害",
     "“说明书上写了一大堆副作用，我不敢吃。”",
     "说明书列出的是所有观察到的可能反应，大多数少见且轻微；讲清发生率和注意事项。顾客说已经出现不适时，"
     "记录下来并按公司流程报药物警戒，建议就医，不在话术里判断。",
     "“说明书写得全，是为了让大家心里有数，大多数反应都很少见。您按医嘱吃，定期复查就好。万一吃了有不舒服，"
     "马上告诉我们或去看医生，我们会按规定登记上报。”"),
    ("compliance", (), "没有处方要买处方药、暗示要好处费时怎么回应",
     "顾客没有处方要买处方药，或客户暗示要回扣、好处费",
     "“没处方就不能卖？通融一下嘛。”",
     "合规没有商量余地：处方药凭处方销售，抗菌药物按规定管理；任何形式的回扣、好处费都不能给，也不能答应。",
     "“这是处方药，按规定要凭处方才能卖，这也是保护您的用药安全。您可以用我们合作的互联网医院问诊开方。"
     "至于费用方面的要求，公司有明确规定，我们只按公开的政策合作。”"),
    ("dtp_prescription", ("dtp", "hospital"), "处方流不到药房、DTP药房接不住特药患者",
     "医院处方外流不顺、患者拿着处方不知道去哪里买，或DTP药房担心特药服务做不过来",
     "“医院的处方流不出来，患者都在医院排队，我们药房接不到。”",
     "帮医院和药房打通处方流转（电子处方、双通道），给药房配患者随访和用药指导工具，让患者愿意来。",
     "“我们可以协助对接医院的电子处方流转平台，把双通道的流程讲给科室和患者听；药房这边我们提供随访工具和培训，"
     "特药患者来了接得住、留得下。”"),
    ("incumbent_supplier", (), "客户说已经有固定供应商了",
     "客户说一直从老供应商拿货、关系好、换供应商麻烦（首营资料、开户）",
     "“我们一直从老供应商拿货，合作十几年了，不想换。”",
     "不攻击现有供应商，先做补充而不是替代：从对方断货或缺的品种切入，首营资料一次备齐，降低换的麻烦。",
     "“理解，合作久了放心。我们不求一下子全换，您看看有没有现在经常断货或者拿不到的品种，先从这几个试试。"
     "首营资料我们一次准备齐，不给您添麻烦。”"),
)  # fmt: skip
"""General scripts (通用: no product, no indication), one or two per objection category, some for given customer types:
what a rep gets for a product-less 太贵了 or 送货慢."""

RENEWAL_SCRIPTS: tuple[tuple[str, tuple[str, ...], str, str, str, str, str], ...] = (
    ("contract_renewal", (), "合同一周内到期，客户还没续签：怎么开口谈续约",
     "供货合同或年度协议 7–30 天内到期、客户尚未续签，或客户说“到期再说”",
     "“合同到期再说吧，我们也要比比别家的条件。”",
     "不等到期才谈：先用数据回顾上一合同期（采购额、到货及时率、账期执行、返利兑现），再提出新合同的品种、数量和服务"
     "安排；价格和返利以公司审批政策为准，当场只约定下一步时间，不口头承诺。",
     "“王经理，合同下周三到期，我把这一年的合作做了个小结：您这边全年采购了多少、到货准时率多少、返利都已兑现。"
     "新一年的品种和数量我先按您的销量拟了个方案，您看周五前我们当面过一下？价格政策我按公司流程报批，书面为准。”"),
    ("contract_renewal", (), "续签时客户要求加返利、延长账期",
     "续约谈判中客户以续签为条件，要求提高返利点数、延长账期或追加免费配送",
     "“续签可以，返利要再加两个点，账期改成九十天，不然我们就换别家。”",
     "先确认客户最看重的是哪一项，用全年数据算清账；返利和账期按公司信用政策与审批权限办理，可以用按时回款奖励、"
     "阶梯返利等公开政策代替单纯加点，不私下让利。",
     "“您的要求我都记下了。我们先看看哪一项对您最要紧：如果是资金压力，按时回款可以享受的政策我给您算一下；如果是"
     "毛利，阶梯返利按量走，量上去了点数自然上去。具体条件我按公司流程申请，批下来书面给您。”"),
    ("contract_renewal", ("hospital", "chain"), "合同到期客户说要重新招标、比价",
     "医院或连锁总部说合同到期后要重新招标、遴选配送商或集中比价",
     "“合同到期后我们要重新招标，到时候你们也来投吧。”",
     "尊重客户的采购流程：问清招标时间、评分办法和资质要求，提前备齐资料；用服务数据（到货率、应急配送、退换货）"
     "说明价值，不私下打探标底，不做不正当接触。",
     "“理解，按流程走对双方都好。请问招标大概什么时候、评分看哪些方面？资质资料我们提前备齐。"
     "这一年我们的到货率和应急配送记录我整理好一并提交，供评审参考。”"),
)  # fmt: skip
"""Contract-renewal scripts (通用), for the task list's renewal reminders (90 / 30 / 7 days before a contract ends)."""


def general_scripts(
    w: Writer, scripts: tuple[tuple[str, tuple[str, ...], str, str, str, str, str], ...] = GENERAL_SCRIPTS
) -> list[EntryDraft]:
    """The general scripts, published, each with its category and the customer types it is written for."""
    out = []
    for category, types, title, scene, objection, approach, script in scripts:
        note = w.one(
            [
                "价格和政策以公司系统审批为准，不口头承诺；不诋毁竞品。",
                "只讲事实和数据；涉及用药安全的问题建议就医，不替医生下结论。",
                "不得以现金、回扣等任何形式变相让利；所有承诺以书面政策为准。",
            ]
        )
        body = "\n".join(
            [f"【适用场景】{scene}。", f"【客户异议】{objection}", f"【应对思路】{approach}",
             f"【参考话术】{script}", f"【合规提示】{note}"]
        )  # fmt: skip
        out.append(EntryDraft("objection_script", title, body, ["通用话术"], category=category,
                              customer_types=list(types), status="published"))  # fmt: skip
    return out


# ------------------------------------------------------------------------------------------ case studies

CASE_THEMES: dict[str, tuple[str, ...]] = {
    "chain": ("price", "membership", "season", "formulary", "training", "supply"),
    "single_pharmacy": ("insurance", "membership", "price", "training"),
    "hospital": ("academic", "formulary", "vbp"),
    "clinic": ("family_doctor", "academic", "membership"),
    "dtp": ("dtp", "dtp", "membership"),
}


def case_study(
    w: Writer, c: Customer, p: ProductFacts, p2: ProductFacts, comps: dict[str, list[Competitor]], theme: str,
) -> EntryDraft:  # fmt: skip
    """One success case: situation, actions, outcome with numbers, and what to copy."""
    who = c.short
    where = who if who.startswith(c.city.name) else c.city.name + who
    label = TYPE_LABEL[c.type]
    months = w.n(2, 6)
    before = w.n(40, 400) if c.type != "dtp" else w.n(8, 60)
    if c.is_hq:
        before *= 10
    lift = w.n(18, 85)
    after = round(before * (1 + lift / 100))
    scope = f"（{c.store_count}家门店）" if c.store_count > 1 else ""
    found = cheaper(comps, p)
    comp = found[0] if found else None
    situation: str
    actions: list[str]
    outcome: str
    title: str
    if theme == "price" and comp is not None:
        title = f"{who}：顶住竞品低价，{p.short}{months}个月销量回升{lift}%"
        situation = (
            f"{where}{scope}是我司{c.tier}类{label}客户。{comp.company}的{comp.name.split(' ')[0]}"
            f"以{_money(comp.price)}元的价格进入其门店，{p.short}月销量从{round(before * 1.3)}盒跌到{before}盒，采购提出降价{w.n(8, 15)}%。"
        )
        actions = [
            f"与采购一起测算日治疗费用：{p.short}比竞品每天仅多{max(0.05, _daily(p, p.list_price) - _daily(p, comp.price)):.2f}元，决定不做直降；",
            f"为{max(c.store_count, 1) if c.store_count > 1 else '全店'}{'家门店' if c.store_count > 1 else ''}店员做“日治疗费用”话术培训{w.n(2, 5)}场；",
            f"申请季度阶梯政策，进货满{w.n(5, 20) * 100}盒执行政策价（不低于底价）；",
            f"在慢病专区把{p.short}与{p2.short}做关联陈列；",
        ]
        outcome = (
            f"{months}个月后{p.short}月销量恢复到{after}盒，较谷底提升{lift}%，门店该品类毛利额提升{w.n(5, 20)}%，"
            f"竞品在该客户的铺货门店数{'减少' if c.store_count > 1 else '没有增加'}。"
        )
    elif theme == "membership":
        members = w.n(80, 900) if c.store_count <= 1 else w.n(1500, 12000)
        rate_a, rate_b = w.n(35, 55), 0
        rate_b = rate_a + w.n(10, 25)
        title = f"慢病会员管理让{p.short}复购率提升{rate_b - rate_a}个百分点"
        situation = (
            f"{who}{scope}位于{c.city.name}{c.district}，{'、'.join(p.indications[:2])}顾客多，但{p.short}的复购率只有{rate_a}%，"
            f"不少顾客吃完一盒就不再回来。"
        )
        actions = [
            f"为购买{p.short}的顾客建立慢病档案，累计建档{members}人；",
            "按包装天数设置复购提醒，药师每月随访一次；",
            f"每周六开展免费{w.one(['测血压', '测血糖', '测血脂', '测尿酸'])}活动，结果写入会员档案；",
            f"对同时需要{p2.short}的顾客给出联合用药建议；",
        ]
        outcome = (
            f"{months}个月后{p.short}复购率从{rate_a}%提升到{rate_b}%，月销量从{before}盒增长到{after}盒，"
            f"会员客单价提高{w.n(8, 25)}元。"
        )
    elif theme == "season":
        title = f"{who}流感季提前备货，{p.short}季度销量增长{lift}%"
        situation = f"{where}{scope}去年流感高峰期{p.short}断货{w.n(7, 15)}天，损失明显。今年我们提前两个月和客户一起做季节性备货计划。"
        actions = [
            f"根据去年同期数据和疾控流感监测，按周制定{p.short}的分批到货计划；",
            f"门店设置“秋冬呼吸道健康”专区，{p.short}与{p2.short}组合陈列；",
            "为店员培训流感与普通感冒的区别、何时建议就医；",
            "高峰期实行每日补货，区域仓优先保障该客户；",
        ]
        outcome = (
            f"本季度{p.short}销量{after * 3}盒，同比增长{lift}%，高峰期未再断货，顾客满意度调查得分提高{w.n(5, 15)}分。"
        )
    elif theme == "formulary" and p.formulary_change != "same" and c.type == "hospital":
        title = f"医保目录调整后，{who}{p.short}用量增长{lift}%"
        situation = (
            f"{_change_sentence(p)}{who}临床科室和医保办对新支付范围掌握不一，{p.short}月用量长期在{before}盒左右。"
        )
        actions = [
            f"与医保办一起整理{p.short}新旧目录差异，在院内OA发布解读；",
            f"在{w.one(DEPARTMENTS_BY_CATEGORY.get(p.category, ('相关科室',)))}科室会上讲解新的支付范围和病历书写要点；",
            "协助药剂科核对医院信息系统中的医保限定维护；",
        ]
        outcome = f"新目录执行后{months}个月，{p.short}月用量达到{after}盒，增长{lift}%，医保拒付{w.n(0, 3)}例。"
    elif theme == "formulary" and p.formulary_change != "same":
        title = f"医保目录调整后，{who}{p.short}销量提升{lift}%"
        situation = (
            f"{_change_sentence(p)}{who}{scope}的店员和顾客对新政策不了解，{p.short}月销量长期在{before}盒左右。"
        )
        actions = [
            f"制作{p.short}医保政策一页纸，逐店讲解2022版与2024版的差异；",
            "协助门店核对医保系统中的药品编码，确保可以正常结算；",
            f"{'与周边医院医生沟通新的支付范围' if c.type != 'chain' else '在会员群推送政策解读'}；",
            "对因政策原因流失的老顾客逐一电话回访；",
        ]
        outcome = (
            f"新目录执行后{months}个月，{p.short}月销量达到{after}盒，增长{lift}%，医保结算占比提高到{w.n(55, 85)}%。"
        )
    elif theme == "training":
        staff = w.n(12, 60) if c.store_count > 1 else w.n(3, 8)
        title = f"{who}店员专业培训带动{p.short}关联销售"
        situation = f"{who}{scope}店员对{p.category}的专业知识不足，推荐{p.short}时讲不清适用人群和用药注意事项，关联销售率低于{w.n(10, 20)}%。"
        actions = [
            f"分{w.n(2, 6)}期为{staff}名店员做产品培训，内容包括适应症、用法用量和常见不良反应；",
            f"编写{p.short}与{p2.short}的关联推荐话术卡；",
            "每月评选“专业推荐之星”，结合销售数据给予表彰；",
        ]
        outcome = (
            f"{months}个月后{p.short}关联销售率提升到{w.n(25, 40)}%，月销量从{before}盒增至{after}盒，顾客投诉为零。"
        )
    elif theme == "supply":
        title = f"{who}：安全库存机制让{p.short}缺货率降到{w.num(0.5, 2.0, 1)}%"
        situation = f"{who}{scope}过去半年{p.short}缺货率高达{w.n(8, 18)}%，门店频繁临时调拨，顾客流失到周边药店。"
        actions = [
            f"按近8周平均周销量的{w.n(2, 3)}倍设置{p.short}安全库存；",
            "与客户ERP对接补货建议，每周一自动生成订单；",
            "区域仓对该客户实行次日达，节假日提前备货；",
        ]
        outcome = f"{months}个月后{p.short}缺货率降到2%以下，月销量从{before}盒增至{after}盒，临时调拨次数减少{w.n(60, 90)}%。"
    elif theme == "insurance":
        title = f"{who}开通门诊统筹后{p.short}销量提升{lift}%"
        situation = f"{who}是{c.city.name}{c.district}的{'医保定点' if c.insurance_designated else ''}单体药店，开通门诊统筹初期，店员不熟悉电子处方流转，{p.short}医保结算常常失败。"
        actions = [
            "手把手指导店员使用电子处方流转平台和医保电子凭证结算；",
            f"核对{p.short}等{w.n(20, 60)}个品种的国家医保药品编码；",
            "在门店张贴“门诊统筹可报销”提示，并在社区做宣传；",
        ]
        outcome = f"{months}个月后医保结算成功率从{w.n(60, 80)}%提高到{w.n(95, 99)}%，{p.short}月销量从{before}盒增至{after}盒。"
    elif theme == "academic":
        docs = w.n(6, 30) if c.type == "hospital" else w.n(2, 8)
        title = f"{who}{p.indications[0]}规范化诊疗学术活动，{p.short}处方量增长{lift}%"
        team = (
            w.one(DEPARTMENTS_BY_CATEGORY.get(p.category, ("全科医学科",))) if c.type == "hospital" else "全科医生团队"
        )
        situation = f"{who}{team}对{p.indications[0]}的诊疗指南更新了解不足，{p.short}月用量约{before}盒。"
        actions = [
            f"组织{w.n(2, 4)}场科室会，邀请上级医院专家解读{p.indications[0]}诊疗指南，覆盖医生{docs}人；",
            "提供患者教育手册和随访工具；",
            "每月与药剂科核对用量和库存，避免断供；",
        ]
        outcome = f"{months}个月后{p.short}月用量达到{after}盒，增长{lift}%，{docs}名医生中有{max(1, docs * 2 // 3)}人将其纳入常规处方。"
    elif theme == "vbp":
        title = f"集采落地后{who}{p.short}用量平稳过渡"
        situation = (
            f"{p.generic_name}执行集采中选结果后，{who}需要在{w.n(1, 3)}个月内完成约定采购量，同时保证患者用药连续。"
        )
        actions = [
            "与药剂科一起测算约定采购量并按月分解；",
            "为临床科室讲解中选产品的质量和一致性评价信息；",
            "对长期用药患者做换药随访，记录不良反应；",
        ]
        outcome = (
            f"该院提前{w.n(1, 4)}周完成约定采购量，{p.short}月用量稳定在{after}盒左右，换药相关投诉{w.n(0, 2)}起。"
        )
    elif theme == "family_doctor":
        patients = w.n(300, 2500)
        title = f"{who}家庭医生签约+长处方，{p.short}用量增长{lift}%"
        situation = (
            f"{who}签约慢病患者{patients}人，过去患者需要每月到上级医院开药，{p.short}在本机构的月用量只有{before}盒。"
        )
        actions = [
            f"协助中心把{p.short}纳入常用药品目录，保障基层配备；",
            "配合家庭医生团队开展慢病长处方（最长12周），减少患者往返；",
            f"为全科医生做{p.indications[0]}基层诊疗培训{w.n(2, 4)}次；",
        ]
        outcome = f"{months}个月后{p.short}月用量增至{after}盒，签约患者在本中心取药比例从{w.n(20, 40)}%提升到{w.n(55, 80)}%。"
    elif theme == "dtp":
        patients = w.n(20, 300)
        title = f"{who}承接{p.short}处方外流，月服务患者{patients}人"
        situation = f"{who}距离周边三甲医院约{w.num(0.5, 3.0, 1)}公里。{p.short}属于{p.category}，{p.status_2024()}，患者以往集中在医院取药，排队时间长。"
        actions = [
            f"完成{p.short}“双通道”定点药店备案，接入电子处方流转平台；",
            "配置冷链设备和执业药师一对一用药指导；",
            "建立每月随访制度，不良反应按规定上报并反馈给处方医生；",
        ]
        outcome = (
            f"{months}个月后每月承接{p.short}处方{patients}张，患者持续用药率达到{w.n(85, 97)}%，"
            f"药房月销售额增长{lift}%。"
        )
    else:
        return case_study(w, c, p, p2, comps, "membership")
    extra = w.one(
        [
            "关键是先用数据说话，再拿出客户看得见的服务动作。",
            "这个做法适合同类型、同规模的客户复制，启动成本低。",
            "经验：方案要和客户的经营目标绑定，而不是只谈价格。",
            "复盘发现，店员/医生的认知改变是销量提升的前提。",
        ]
    )
    body = "\n".join(
        [
            f"【客户背景】{situation}",
            "【我们的做法】" + "".join(f"{i + 1}. {a}" for i, a in enumerate(actions)),
            f"【结果】{outcome}",
            f"【可复制要点】{extra}",
        ]
    )
    tags = ["成功案例", label, p.category, theme_label(theme)]
    return EntryDraft("case_study", title, body, tags, [p.sku, p2.sku] if p2.sku != p.sku else [p.sku],
                      list(p.indications[:2]), customer_id=c.id)  # fmt: skip


def theme_label(theme: str) -> str:
    """Chinese tag of a case theme."""
    return {
        "price": "竞品应对", "membership": "慢病会员", "season": "季节性备货", "formulary": "医保目录调整",
        "training": "店员培训", "supply": "供应保障", "insurance": "门诊统筹", "academic": "学术推广",
        "vbp": "集采执行", "family_doctor": "家庭医生", "dtp": "处方外流",
    }.get(theme, theme)  # fmt: skip


# ------------------------------------------------------------------------------------------ notes and FAQs


def product_note(w: Writer, p: ProductFacts, comps: list[Competitor], related: list[ProductFacts]) -> EntryDraft:
    """A one-page product note: facts, formulary status, selling points, competitors, related products."""
    reaction, advice = side_effect(p)
    points = selling_points(p)
    lines = [
        f"【基本信息】{p.display}，规格{p.spec}，剂型{p.dosage_form}，{p.manufacturer}生产，{p.category}。",
        f"【适应症】{'、'.join(p.indications)}。",
        f"【医保】{_policy_line(p)}",
        f"【价格】建议零售价{_money(p.list_price)}元/{p.unit}；最低供货价{_money(p.floor_price)}元（仅限内部，不对外）。",
        "【卖点】" + "；".join(points) + "。",
        f"【用药提示】常见不良反应：{reaction}；{advice}。",
    ]
    if comps:
        lines.append(
            "【主要竞品】"
            + "；".join(f"{c.company}{c.name.split(' ')[0]}（{_money(c.price)}元，{c.source}）" for c in comps[:3])
            + "。"
        )
    if related:
        lines.append("【关联推荐】" + "、".join(r.short for r in related[:3]) + "。")
    title = w.one(
        [f"{p.short}产品速记", f"{p.display}一页纸", f"{p.short}产品要点（{w.one(['新员工版', '门店版', '2025版'])}）"]
    )
    return EntryDraft("product_note", title, "\n".join(lines), ["产品资料", p.category, p.generic_name], [p.sku],
                      list(p.indications))  # fmt: skip


def faqs(w: Writer, catalog: tuple[ProductFacts, ...], spec: TenantSpec) -> list[EntryDraft]:
    """Policy and process FAQs, some about one product."""
    eff_22, eff_24 = EDITIONS[0][2], EDITIONS[1][2]
    app = "浙里办/支付宝医保码" if spec.code == "HZ" else "随申办/微信医保码"
    general = [
        ("2024年版国家医保目录什么时候开始执行？",
         f"2024年版国家医保目录自{eff_24:%Y年%-m月%-d日}起执行，2022年版目录自{eff_22:%Y年%-m月%-d日}起执行。新旧目录切换时，以结算日期对应的目录为准。",
         ["医保目录"]),
        ("甲类和乙类药品报销有什么区别？",
         "甲类药品按规定直接纳入基本医保支付范围；乙类药品由参保人先行自付一定比例后，再按规定报销，先行自付比例由各统筹地区确定。",
         ["医保目录", "甲乙类"]),
        ("什么是“限定支付范围”？", "目录备注中的“限……”是对医保基金支付范围的限定，并不限制医生处方和患者用药；超出限定范围使用的，医保基金不予支付。",
         ["医保目录", "医保限定"]),
        ("协议期内谈判药品的支付标准是什么意思？",
         "谈判药品的医保支付标准是医保基金与参保人共同支付的费用标准，协议期内医保基金按支付标准和报销比例支付；标“*”的支付标准按协议不公开。",
         ["医保目录", "谈判药品"]),
        ("什么是“双通道”？", "“双通道”指通过定点医疗机构和定点零售药店两个渠道，满足谈判药品的供应保障和临床使用，并同步纳入医保支付。",
         ["双通道", "DTP与处方外流"]),
        ("顾客没带社保卡能用医保结算吗？", f"可以。顾客可出示医保电子凭证（{app}），在定点药店扫码结算。", ["医保结算"]),
        ("什么是家庭共济？", "职工医保个人账户可以用于支付配偶、父母、子女等近亲属在定点医药机构就医购药的个人负担费用。", ["医保结算"]),
        ("门诊统筹在药店怎么报销？",
         "开通门诊统筹的定点零售药店，可凭定点医疗机构开具的处方（含电子处方流转）为参保人按规定结算，起付标准和比例按当地政策执行。",
         ["门诊统筹", "医保结算"]),
        ("集采中选药品和原研药疗效一样吗？",
         "通过仿制药质量和疗效一致性评价的药品，在质量和疗效上与原研药一致，临床上可以替代使用。是否换药由医生根据患者情况决定。",
         ["集采", "疗效质疑"]),
        ("报价低于底价怎么办？", "系统会拦截低于底价的报价；确需特价的，须提交竞品价格证据并经区域经理和商务部门审批，不得口头承诺。",
         ["价格政策"]),
        ("客户要求延长账期怎么处理？", "账期调整需提交信用申请，由信用部门根据客户回款记录审批；可优先提供小批量多频次配送等替代方案。",
         ["回款", "医保卡与回款"]),
        ("发现药品不良反应怎么上报？", "门店或医疗机构发现疑似不良反应，应按规定在国家药品不良反应监测系统填报，并同步告知负责代表和公司质量部。",
         ["不良反应"]),
        ("冷链药品到货温度异常怎么办？", "拒收并拍照留存温度记录，当场通知物流和质量部门，由质量部门判定处理，不得自行降价销售。",
         ["冷链", "DTP与处方外流"]),
        ("合同到期前多久开始续签？", "建议在合同到期前90天启动续签沟通，到期前30天完成条款确认，避免断供和价格空档。", ["合同"]),
        ("客户信息变更（名称、地址）怎么处理？", "提交客户主数据变更申请并附营业执照或许可证照片，避免同一客户在系统中出现多个名称。", ["客户主数据"]),
        ("处方药可以线上销售吗？", "处方药网络销售需凭处方，并由执业药师审核；不得在网上直接展示处方药包装或以买赠方式促销处方药。", ["合规"]),
        ("如何向医生介绍产品才合规？", "只传递说明书和权威指南范围内的信息，不夸大疗效、不贬低竞品，不得以任何形式向医务人员输送利益。", ["合规", "学术推广"]),
        ("门店医保额度用完后怎么安排进货？", "按慢病会员实际用量制定月度计划，引导自费需求走会员价，并协助门店核对医保对账单，避免积压。", ["医保卡与回款"]),
        ("药品召回通知怎么执行？", "收到召回通知后24小时内排查库存和已售批号，按公司质量部要求下架、封存并回收，做好记录。", ["质量"]),
        ("季节性品种怎么备货？", "参考去年同期周销量和疾控监测数据，按周分批到货，高峰期设置每日补货，避免一次性大量压货。", ["季节性备货"]),
    ]  # fmt: skip
    out = [EntryDraft("faq", q, a, ["FAQ", *tags]) for q, a, tags in general]
    changed = [p for p in catalog if p.formulary_change in ("restriction", "added", "removed")]
    for p in w.some(changed, 10):
        q = w.one(
            [f"{p.short}现在能报医保吗？", f"{p.short}的医保政策有什么变化？", f"2024版目录对{p.short}有什么影响？"]
        )
        out.append(
            EntryDraft("faq", q, _policy_line(p), ["FAQ", "医保目录", p.generic_name], [p.sku], list(p.indications[:1]))
        )
    return out


def _partner(w: Writer, p: ProductFacts, basket: list[ProductFacts], catalog: tuple[ProductFacts, ...]) -> ProductFacts:
    """A product to pair with ``p`` (shared indication, else same class), from the basket when possible."""
    for pool in (basket, list(catalog)):
        shared = [q for q in pool if q.sku != p.sku and set(q.indications) & set(p.indications)]
        same = [q for q in pool if q.sku != p.sku and q.category == p.category]
        if shared or same:
            return w.one(shared or same)
    return w.one([q for q in catalog if q.sku != p.sku])


def case_studies(
    w: Writer, customers: list[Customer], baskets: list[list[int]], catalog: tuple[ProductFacts, ...],
    comps: dict[str, list[Competitor]],
) -> list[EntryDraft]:  # fmt: skip
    """``CASE_STUDIES`` success cases over customers with history, themes fitting each customer type."""
    eligible = [i for i, c in enumerate(customers) if c.duplicate_of is None and len(baskets[i]) >= 2]
    weight = np.array([{"A": 3.0, "B": 1.5, "C": 0.6}[customers[i].tier] for i in eligible])
    picks = w.rng.choice(len(eligible), size=CASE_STUDIES, replace=False, p=weight / weight.sum())
    out: list[EntryDraft] = []
    for pick in picks.tolist():
        c = customers[eligible[pick]]
        basket = [catalog[j] for j in baskets[eligible[pick]]]
        themes = CASE_THEMES[c.type]
        if c.type == "clinic" and "卫生" not in c.name:  # family-doctor contracts are a community health centre's
            themes = ("academic", "membership")
        theme = w.one(themes)
        if theme == "formulary":
            moved = [p for p in basket if p.formulary_change != "same"]
            basket = moved or basket
        elif theme == "price":
            basket = [p for p in basket if cheaper(comps, p)] or basket
        elif theme == "membership":
            basket = [p for p in basket if p.category in CHRONIC] or basket
        elif theme == "vbp":
            basket = [p for p in basket if p.generic_name in VBP_GENERICS]
            if not basket:
                theme, basket = "academic", [catalog[j] for j in baskets[eligible[pick]]]
        elif theme == "season":
            basket = [p for p in basket if p.category in ("抗病毒药", "感冒清热中成药", "止咳化痰中成药")] or basket
        elif theme == "dtp":
            basket = [p for p in basket if p.specialty] or basket
        p = basket[int(w.rng.integers(len(basket)))]
        p2 = _partner(w, p, [catalog[j] for j in baskets[eligible[pick]]], catalog)
        out.append(case_study(w, c, p, p2, comps, theme))
    return out
