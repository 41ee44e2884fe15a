"""Writes ``objections_zh.jsonl``: hand-written rep queries for objection-script retrieval, with their labels.

Usage::

    python -m eval.datasets.build_objections_zh          # rewrite the dataset
    python -m eval.datasets.build_objections_zh --show   # also print every query with its labelled titles

Every query below was written by hand, the way reps type into the copilot; none is generated from an entry's text.
A query's labels are ``(objection type, products, variant)`` triples. Each triple selects the *published* objection
scripts of tenant ``hz-pharma`` of that type that are ABOUT one of the products (``AboutProduct``), narrowed by the
variant where one type holds different objections:

- ``payment``: ``card`` (顾客医保卡结算失败), ``quota`` (门店医保额度紧张), ``terms`` (客户要求延长账期), from the title;
- ``formulary``: ``current`` (default: scripts written for the 2024 list), ``legacy`` (the six scripts written under the
  2022 list, ``DemoDataset.truth["legacy_scripts"]``, which state a 2022 restriction as current), ``all`` (both).
  Legacy scripts are labelled only for queries asking *why* a product is reimbursed only in part / what its
  restriction means (the question they answer); queries about what changed or whether it is covered now get the
  current scripts only.

A query's ``relevant`` is the union of its triples; ``skus`` is the union of the triples' products (all SKUs of a
generic or brand when the query names only that), or ``[]`` for a query about no product. The selected titles were
read query by query (``--show``); a triple that selects nothing stops the build.
"""

# Hand-written Chinese queries, one per line.
# ruff: noqa: E501

from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "objections_zh.jsonl"
TENANT = "hz-pharma"
KIND_TAG = {
    "price": "价格异议",
    "formulary": "医保报销",
    "efficacy": "疗效质疑",
    "safety": "不良反应",
    "stockout": "缺货断货",
    "payment": "医保卡与回款",
    "compliance": "患者依从性",
    "dtp": "DTP与处方外流",
}
PAYMENT_VARIANT = {"card": "结算", "quota": "额度", "terms": "账期"}
STYLES = {
    "C": "colloquial",
    "A": "abbreviation",
    "B": "brand",
    "T": "typo",
    "E": "mixed_en",
    "L": "long",
    "S": "short",
}

# ------------------------------------------------------------------------------------------ products (SKUs)
ATV_LPT, ATV_AL = "SKU-ATV20-LPT", "SKU-ATV20-AL"
RSV_KD, RSV_G = "SKU-RSV10-KD", "SKU-RSV10-G"
AML_LHX, AML_G = "SKU-AML5-LHX", "SKU-AML5-G"
LAML_XN = "SKU-LAML25-XN"
NIF_BXT = "SKU-NIF30-BXT"
VAL_DW = "SKU-VAL80-DW"
LOS_KSY = "SKU-LOS50-KSY"
TEL_MKS = "SKU-TEL80-MKS"
CLP_BLW, CLP_TJ = "SKU-CLP75-BLW", "SKU-CLP25-TJ"
FFDS = "SKU-FFDS-DW"
SXJX = "SKU-SXJX"
TXL = "SKU-TXL"
NXT = "SKU-NXT"
MET_GHZ, MET_XR = "SKU-MET05-GHZ", "SKU-MET05-XR"
TELAML = "SKU-TELAML"
OLMAML = "SKU-OLMAML"
SIT_JNW = "SKU-SIT100-JNW"
SITMET_JND = "SKU-SITMET-JND"
LIN_OTN = "SKU-LIN5-OTN"
DOM_SUS, DOM_TAB = "SKU-DOM-SUS", "SKU-DOM10-MDL"
DRZ_HTN = "SKU-DRZ75-HTN"
KPZ = "SKU-KPZ10"
SMT_SUS, SMT_SMD = "SKU-SMT-SUS", "SKU-SMT-SMD"
AMX_DS, AMX_CAP = "SKU-AMX-DS", "SKU-AMX025-AMX"
ROX = "SKU-ROX-GR"
OSE_KW = "SKU-OSE15-KW"
ARB = "SKU-ARB100"
XSZZ = "SKU-XSZZ-W"
GMQR = "SKU-GMQR-KL"
PFD = "SKU-PFD100"
GZFL = "SKU-GZFL-JN"
ADA_XML = "SKU-ADA40-XML"
XYW_ZJ = "SKU-XYW-ZJ"
CET_DROP = "SKU-CET-DROP"
IRB_ABW = "SKU-IRB150-ABW"
ENAFA_YY = "SKU-ENAFA-YY"
ACB_BTP, ACB_KBP = "SKU-ACB50-BTP", "SKU-ACB50-KBP"
EMP_OTJ = "SKU-EMP10-OTJ"
RAB_BLT = "SKU-RAB10-BLT"
AMC = "SKU-AMC375"
TAF_WLD = "SKU-TAF25-WLD"
DLOR = "SKU-DLOR-DS"
CEL_XLB = "SKU-CEL200-XLB"
SLM = "SKU-SLM140"
XLZX = "SKU-XLZX-P"
MON_SEN, MON4_SEN = "SKU-MON10-SEN", "SKU-MON4-SEN"
AMB_MST = "SKU-AMB30-MST"
LOR_KRT = "SKU-LOR10-KRT"
MTP_BTLK, MTP_ZOK = "SKU-MTP25-BTLK", "SKU-MTP47-ZOK"
GLM_YML = "SKU-GLM2-YML"
ESO_NX = "SKU-ESO20-NX"
ETV_BLD = "SKU-ETV05-BLD"
IBU_ML = "SKU-IBU-ML"
IND_NCL = "SKU-IND15-NCL"
ASA_BAY = "SKU-ASA100-BAY"
SNTW_XNX = "SKU-SNTW-XNX"
IMA_GLW = "SKU-IMA100-GLW"
GEF_YRS = "SKU-GEF250-YRS"
DAS_SDS = "SKU-DAS50-SDS"
AXI_YLD = "SKU-AXI5-YLD"
NIN_WJT = "SKU-NIN150-WJT"

# a generic or a brand that names several SKUs (the query does not say which)
ATV = (ATV_LPT, ATV_AL)
RSV = (RSV_KD, RSV_G)
AML = (AML_LHX, AML_G)
CLP = (CLP_BLW, CLP_TJ)
MET = (MET_GHZ, MET_XR)
DOM = (DOM_TAB, DOM_SUS)
ACB = (ACB_BTP, ACB_KBP)
MTP = (MTP_BTLK, MTP_ZOK)
MON = (MON_SEN, MON4_SEN)


@dataclass(frozen=True)
class Label:
    """Published scripts of one objection type about any of ``skus`` (any product when empty), of one variant."""

    kind: str
    skus: tuple[str, ...]
    variant: str | None = None


@dataclass(frozen=True)
class Row:
    """One hand-written query with its labels."""

    style: str
    query: str
    labels: tuple[Label, ...]
    skus: tuple[str, ...] | None
    note: str


ROWS: list[Row] = []


def _flat(skus: tuple[str | tuple[str, ...], ...]) -> tuple[str, ...]:
    out: list[str] = []
    for s in skus:
        out.extend([s] if isinstance(s, str) else s)
    return tuple(dict.fromkeys(out))


def price(*skus: str | tuple[str, ...]) -> Label:
    """Price objections (vs a cheaper competitor) about ``skus``."""
    return Label("price", _flat(skus))


def formulary(*skus: str | tuple[str, ...], v: str = "current") -> Label:
    """Reimbursement scripts about ``skus``: ``current``, ``legacy`` or ``all``."""
    return Label("formulary", _flat(skus), v)


def efficacy(*skus: str | tuple[str, ...]) -> Label:
    """Efficacy doubts about ``skus``."""
    return Label("efficacy", _flat(skus))


def safety(*skus: str | tuple[str, ...]) -> Label:
    """Side-effect worries about ``skus``."""
    return Label("safety", _flat(skus))


def stockout(*skus: str | tuple[str, ...]) -> Label:
    """Stock-out complaints about ``skus``."""
    return Label("stockout", _flat(skus))


def payment(v: str, *skus: str | tuple[str, ...]) -> Label:
    """Insurance-card / quota / credit-term scripts (variant ``v``) about ``skus``."""
    return Label("payment", _flat(skus), v)


def compliance(*skus: str | tuple[str, ...]) -> Label:
    """Adherence scripts about ``skus``."""
    return Label("compliance", _flat(skus))


def dtp(*skus: str | tuple[str, ...]) -> Label:
    """DTP / prescription-outflow scripts about ``skus``."""
    return Label("dtp", _flat(skus))


def q(style: str, query: str, *labels: Label, skus: tuple[str, ...] | None = None, note: str = "") -> None:
    """Add one query; ``skus`` defaults to the labels' products."""
    ROWS.append(Row(STYLES[style], query, labels, skus, note))


# Queries stay one per line: fmt off until the labelling code.
# fmt: off
# ================================================================================= 价格异议 (price vs competitor)
q("C", "店长嫌可定卖得比鲁南的贵一倍，让我降价，咋回", price(RSV_KD))
q("C", "阿乐比乐普的贵了三块钱，老板天天跟我磨", price(ATV_AL))
q("C", "单体店老板说海正那个瑞舒伐他汀比鲁南贝特的贵，非让我让点利", price(RSV_G))
q("C", "络活喜一盒36，华润赛科的才二十出头，连锁采购让我砍价，怎么谈", price(AML_LHX))
q("C", "玄宁被施慧达的左旋氨氯地平低价压着打，门店不想做了", price(LAML_XN))
q("C", "拜新同给店里的利润不如现代药业，连锁要改推别人家的，我该咋留住", price(NIF_BXT))
q("C", "代文比华海的缬沙坦贵了两倍多，顾客都跑去买便宜的了，咋办", price(VAL_DW))
q("C", "科素亚跟华海氯沙坦差价太大，老板说这货没法卖", price(LOS_KSY))
q("C", "美卡素45一盒，华海的替米沙坦不到16，采购天天压我", price(TEL_MKS))
q("C", "波立维比乐普的氯吡格雷贵好几十，药店老板张口就要特价", price(CLP_BLW))
q("C", "泰嘉利润太低，乐普那边给的条件好，店里打算换掉我们", price(CLP_TJ))
q("C", "复方丹参滴丸卖不过白云山的复方丹参片，采购嫌我们贵", price(FFDS))
q("C", "地奥心血康比速效救心丸便宜，老板说不降价就下架", price(SXJX))
q("C", "通心络被梧州的血栓通胶囊比下去了，这价格还怎么谈", price(TXL))
q("C", "格华止贵了快三倍，京丰的才八九块，客户嫌太贵了", price(MET_GHZ))
q("C", "我们的二甲双胍缓释片就比京丰贵一块多，采购也要我降", price(MET_XR))
q("C", "客户拿美团上的截图来压价，说可定贵太多了", price(RSV_KD))
q("C", "顾客嫌拜新同贵，店员都懒得推了，我怎么给店员讲清楚值在哪", price(NIF_BXT))
q("C", "代文的老顾客被隔壁便宜的缬沙坦抢走了，想稳住老板别换货", price(VAL_DW))
q("C", "老板放话络活喜再不降，以后只进国产仿制的", price(AML_LHX))
q("A", "二甲 价格谈不下来，客户一直比价", price(MET), skus=MET)
q("A", "瑞舒 被鲁南低价比下去了", price(RSV), skus=RSV)
q("A", "氯吡 被乐普压价", price(CLP), skus=CLP)
q("A", "左旋氨氯 价格异议", price(LAML_XN))
q("A", "硝苯控释 比价 客户嫌贵", price(NIF_BXT))
q("B", "苯磺酸氨氯地平片辉瑞原研那个比华润的贵，采购要降价", price(AML_LHX), note="originator 苯磺酸氨氯地平片 = 络活喜")
q("B", "缬沙坦胶囊诺华原研的太贵，客户要求再便宜点", price(VAL_DW), note="诺华缬沙坦胶囊 = 代文")
q("B", "氯沙坦钾片默沙东原研的价格守不住了", price(LOS_KSY), note="科素亚")
q("B", "替米沙坦原研的贵了快三倍，门店不愿进", price(TEL_MKS), note="美卡素")
q("B", "盐酸二甲双胍片施贵宝那个太贵，药店要我降价", price(MET_GHZ), note="格华止")
q("B", "硫酸氢氯吡格雷 信立泰那个被乐普比价了", price(CLP_TJ), note="泰嘉")
q("B", "阿斯利康的瑞舒伐他汀钙片太贵，被国产比价", price(RSV_KD), note="可定")
q("T", "可订太贵了，客户要压价", price(RSV_KD), note="typo 可订 = 可定")
q("T", "络活西价格被仿制药打下来了", price(AML_LHX), note="typo 络活西 = 络活喜")
q("T", "波力维价格怎么守", price(CLP_BLW), note="typo 波力维 = 波立维")
q("T", "复方丹参低丸 采购嫌贵", price(FFDS), note="typo 低丸 = 滴丸")
q("T", "速效就心丸比地奥贵咋办", price(SXJX), note="typo 就心 = 救心")
q("E", "客户说可定 price 太高，competitor 才二十五", price(RSV_KD))
q("E", "科素亚 vs 华海 generic，margin 太低怎么 handle", price(LOS_KSY))
q("E", "美卡素 pricing objection，chain buyer 要 discount", price(TEL_MKS))
q("E", "通心络 price gap 太大，老板不想进", price(TXL))
q("L", "温州一家连锁的采购经理今天跟我摊牌：华海的缬沙坦胶囊十二块一盒，我们代文三十三，收银台一比顾客就不要了，下个月要把代文的货架位让给华海。我不想直接降价，怎么跟他算这笔账？", price(VAL_DW))
q("L", "我负责的一家单体药店，老板很精明，拿着京东的截图说我们海正的瑞舒伐他汀比鲁南贝特那个贵两块，要求每盒再让两块，不然只进鲁南的。这种情况有现成的话术吗？", price(RSV_G))
q("S", "可定太贵", price(RSV_KD))
q("S", "代文降价", price(VAL_DW))
q("S", "泰嘉被比价", price(CLP_TJ))

# ================================================================================= 医保报销 (formulary)
q("C", "顾客问替米沙坦氨氯地平片今年还报不报，说听人讲目录又调了", formulary(TELAML))
q("C", "替米沙坦氨氯地平为啥不能全额报，阿姨在店里吵", formulary(TELAML, v="all"), note="includes the legacy (2022-list) script")
q("C", "奥美沙坦氨氯地平报销是不是放开了？以前要别的沙坦不耐受才给报", formulary(OLMAML), note="asks what changed: current script only")
q("C", "捷诺维医保只给二线用，顾客问凭啥", formulary(SIT_JNW, v="legacy"), note="only the legacy (2022-list) script is published")
q("C", "捷诺达顾客说不能全报，这个限定咋解释", formulary(SITMET_JND, v="legacy"), note="only the legacy (2022-list) script is published")
q("C", "欧唐宁现在一线用也能报了吗，隔壁店说报不了", formulary(LIN_OTN), note="asks what changed: current script only")
q("C", "欧唐宁为啥只能报一部分，顾客不理解", formulary(LIN_OTN, v="all"), note="includes the legacy (2022-list) script")
q("C", "吗丁啉混悬液的医保限定怎么跟老人讲明白", formulary(DOM_SUS, v="legacy"), note="only the legacy (2022-list) script is published")
q("C", "华堂宁在医院能报，到我们药店就报不了，顾客来问", formulary(DRZ_HTN), payment("card", DRZ_HTN))
q("C", "华堂宁是新进医保的吧？支付标准多少钱一片", formulary(DRZ_HTN))
q("C", "凯普拉生能不能走医保，胃食管反流的病人来问", formulary(KPZ))
q("C", "蒙脱石混悬液以前只给小孩报，现在大人拉肚子能报吗", formulary(SMT_SUS))
q("C", "阿莫西林干混悬剂大人吃能刷医保吗", formulary(AMX_DS))
q("C", "罗红霉素颗粒成人吃可以报销不", formulary(ROX))
q("C", "可威现在不是重症也能报了吧？顾客拿着处方问", formulary(OSE_KW))
q("C", "阿比多尔片报销还要求是重症高危吗", formulary(ARB))
q("A", "替米氨氯 医保限定取消了没", formulary(TELAML))
q("A", "奥美氨氯 报销有啥变化", formulary(OLMAML))
q("A", "凯普 医保 谈判药", formulary(KPZ), note="凯普 = 凯普拉生")
q("A", "阿比 进医保了吗 还限重症不", formulary(ARB), note="阿比 = 阿比多尔")
q("A", "奥司 颗粒 报销放开没", formulary(OSE_KW), note="奥司 = 奥司他韦; 颗粒 = 可威")
q("B", "磷酸奥司他韦颗粒报销放开了吗", formulary(OSE_KW), note="可威")
q("B", "利格列汀片不是二线用药也能报了？", formulary(LIN_OTN), note="欧唐宁; asks what changed: current script only")
q("B", "多格列艾汀进医保了没有", formulary(DRZ_HTN), note="华堂宁")
q("B", "西格列汀二甲双胍片顾客说只能报一点点", formulary(SITMET_JND, v="legacy"), note="捷诺达; only the legacy script is published")
q("B", "多潘立酮混悬液 医保限定 儿童", formulary(DOM_SUS, v="legacy"), note="吗丁啉混悬液; only the legacy script is published")
q("T", "罗红梅素颗粒能报医保不", formulary(ROX), note="typo 梅 = 霉")
q("T", "阿比多儿片报销", formulary(ARB), note="typo 儿 = 尔")
q("T", "华唐宁医保报消", formulary(DRZ_HTN), note="typo 华唐宁 = 华堂宁, 报消 = 报销")
q("T", "欧堂宁报销受限", formulary(LIN_OTN, v="all"), note="typo 欧堂宁 = 欧唐宁; includes the legacy script")
q("E", "可威 reimbursement 还有 restriction 吗", formulary(OSE_KW))
q("E", "凯普拉生 NRDL 谈判药 支付标准", formulary(KPZ))
q("E", "阿莫西林干混悬剂 adult 能不能 claim 医保", formulary(AMX_DS))
q("L", "一个老顾客拿着医院开的奥美沙坦酯氨氯地平片处方来店里，说他同事去年买还只能部分报，要证明吃别的沙坦类不行才给报，他问今年是不是不用证明了。我该怎么跟他讲清楚新旧目录的差别？", formulary(OLMAML), note="asks what changed: current script only")
q("L", "冬天流感来了，店里好多家长拿着处方来买可威，有的说去年不是重症不给报，今年情况怎么样？我们店是定点，想给店员统一一个说法", formulary(OSE_KW))
q("S", "凯普拉生医保", formulary(KPZ))
q("S", "可威医保", formulary(OSE_KW), payment("card", OSE_KW), note="ambiguous: coverage or card failure")

# ================================================================================= 疗效质疑 (efficacy)
q("C", "顾客吃了一星期阿乐，说血脂没下来，要退货", efficacy(ATV_AL))
q("C", "泰嘉是仿制的，老病人怀疑没有波立维管用", efficacy(CLP_TJ))
q("C", "医生说感冒清热颗粒效果不如别的，我怎么回", efficacy(GMQR))
q("C", "呼吸科主任嫌吡非尼酮是仿制药不如原研，不愿意开", efficacy(PFD))
q("C", "香砂枳术丸吃了一周胃还是胀，顾客说白吃了", efficacy(XSZZ))
q("C", "桂枝茯苓胶囊中药见效慢，顾客问到底管不管用", efficacy(GZFL))
q("C", "修美乐那么贵，病人问比生物类似药强在哪", efficacy(ADA_XML))
q("C", "顾客问仲景的逍遥丸跟同仁堂的哪个好", efficacy(XYW_ZJ))
q("C", "宝宝用了西替利嗪滴剂还在打喷嚏，家长说没效", efficacy(CET_DROP))
q("C", "儿科医生觉得西替利嗪滴剂不如原研的仙特明", efficacy(CET_DROP))
q("C", "玄宁和施慧达哪个降压好，医生在犹豫", efficacy(LAML_XN))
q("C", "海正瑞舒伐他汀跟天晴的比，是不是差点意思", efficacy(RSV_G))
q("C", "安博维跟华海厄贝沙坦效果一样不，病人想换便宜的", efficacy(IRB_ABW))
q("C", "依叶吃了快两周血压还是高，病人有意见", efficacy(ENAFA_YY))
q("C", "逍遥丸吃了几天没感觉，顾客要换药", efficacy(XYW_ZJ))
q("A", "阿托 仿制 效果不行？", efficacy(ATV), skus=ATV, note="阿托 = 阿托伐他汀; only 阿乐 has an efficacy script")
q("A", "瑞舒 疗效 不如原研", efficacy(RSV), skus=RSV, note="only the 海正 瑞舒伐他汀 has an efficacy script")
q("A", "左氨 疗效 跟施慧达比", efficacy(LAML_XN), note="左氨 = 左氨氯地平 (玄宁)")
q("A", "氯吡 仿制药 效果有保证吗", efficacy(CLP), skus=CLP, note="only 泰嘉 has an efficacy script")
q("B", "阿托伐他汀钙片嘉林的吃着没效果", efficacy(ATV_AL), note="嘉林阿托伐他汀 = 阿乐")
q("B", "马来酸左旋氨氯地平片石药的，疗效比施慧达差吗", efficacy(LAML_XN), note="玄宁")
q("B", "依那普利叶酸片吃了降压不明显", efficacy(ENAFA_YY), note="依叶")
q("B", "阿达木单抗原研贵，疗效值不值这个价", efficacy(ADA_XML), note="修美乐")
q("B", "厄贝沙坦片赛诺菲原研和国产一样吗", efficacy(IRB_ABW), note="安博维")
q("B", "硫酸氢氯吡格雷片信立泰的疗效靠谱吗", efficacy(CLP_TJ), note="泰嘉")
q("T", "香沙枳术丸没效果", efficacy(XSZZ), note="typo 沙 = 砂")
q("T", "感冒青热颗粒吃了两周还不好", efficacy(GMQR), note="typo 青 = 清")
q("T", "吡非尼同仿制药效果怎么样", efficacy(PFD), note="typo 同 = 酮")
q("T", "桂枝茯芩胶囊有用吗", efficacy(GZFL), note="typo 芩 = 苓")
q("T", "逍摇丸 仲景 同仁堂 哪个效果好", efficacy(XYW_ZJ), note="typo 摇 = 遥")
q("E", "医生 challenge 吡非尼酮 generic 的 efficacy", efficacy(PFD))
q("E", "修美乐 originator 这么贵，efficacy 真的更好？", efficacy(ADA_XML))
q("E", "安博维 vs 华海 generic，efficacy 有差别吗", efficacy(IRB_ABW))
q("L", "一位高血压老病人在合作药店买依叶，吃了十来天，自己在家量还是一百五，跑来说这药不管用要退，还说邻居吃的别的药一下就降下来了。店员不知道怎么接，我该怎么教她？", efficacy(ENAFA_YY))
q("L", "今天拜访社区医院，全科医生说感冒清热颗粒是老药了，病人吃了半个月还在咳，不如开别的。我想回应但又不能夸大，有什么思路？", efficacy(GMQR))
q("S", "阿乐没效", efficacy(ATV_AL))
q("S", "泰嘉疗效", efficacy(CLP_TJ))
q("S", "玄宁效果", efficacy(LAML_XN))

# ================================================================================= 不良反应 (safety)
q("C", "顾客吃阿乐后腿上肌肉酸，问是不是药闹的", safety(ATV_AL))
q("C", "拜新同吃了脚踝肿，病人不想吃了", safety(NIF_BXT))
q("C", "医生说有病人吃奥美沙坦氨氯地平头晕，让我跟进一下", safety(OLMAML))
q("C", "顾客担心拜唐苹伤肝，问能不能长期吃", safety(ACB_BTP))
q("C", "欧唐静吃了老想上厕所还尿痛，是不是副作用", safety(EMP_OTJ))
q("C", "波利特吃完头疼还拉肚子", safety(RAB_BLT))
q("C", "吗丁啉会不会影响心脏，家里老人有心脏病", safety(DOM_SUS), skus=DOM, note="brand 吗丁啉 (片 and 混悬液); only the 混悬液 has a safety script")
q("C", "阿莫西林克拉维酸钾吃了身上起疹子", safety(AMC))
q("C", "韦立德吃了乏力头疼，乙肝病人想自己停药", safety(TAF_WLD))
q("C", "地氯雷他定干混悬剂孩子吃了老犯困", safety(DLOR))
q("C", "西乐葆吃多了伤不伤肾，关节炎老人问", safety(CEL_XLB))
q("C", "水飞蓟素会不会伤肾啊，顾客不敢吃", safety(SLM))
q("C", "桂枝茯苓胶囊吃了胃里不舒服", safety(GZFL))
q("C", "香连止泻片吃多了会上瘾吗", safety(XLZX))
q("A", "阿托 肌痛 转氨酶", safety(ATV), skus=ATV, note="only 阿乐 has a safety script")
q("A", "阿卡 胀气 放屁多", safety(ACB), skus=ACB, note="阿卡 = 阿卡波糖; only 拜唐苹 has a safety script")
q("A", "恩格 尿路感染", safety(EMP_OTJ), note="恩格 = 恩格列净 (欧唐静)")
q("A", "雷贝 副作用", safety(RAB_BLT), note="雷贝 = 雷贝拉唑 (波利特)")
q("A", "阿莫克拉 过敏 皮疹", safety(AMC), note="阿莫西林克拉维酸钾")
q("A", "地氯 嗜睡", safety(DLOR))
q("B", "硝苯地平控释片吃了脸红头疼", safety(NIF_BXT), note="拜新同")
q("B", "阿卡波糖片拜耳那个饭后肚子胀", safety(ACB_BTP), note="拜唐苹")
q("B", "恩格列净片副作用有哪些", safety(EMP_OTJ), note="欧唐静")
q("B", "雷贝拉唑钠肠溶片卫材的不良反应", safety(RAB_BLT), note="波利特")
q("B", "丙酚替诺福韦副作用大不大", safety(TAF_WLD), note="韦立德")
q("B", "塞来昔布胶囊伤胃还是伤肾", safety(CEL_XLB), note="西乐葆")
q("B", "多潘立酮混悬液 口干 心律", safety(DOM_SUS), note="吗丁啉混悬液")
q("T", "拜唐平副作用", safety(ACB_BTP), note="typo 平 = 苹")
q("T", "欧唐精吃了不舒服", safety(EMP_OTJ), note="typo 精 = 静")
q("T", "韦立得不良反映", safety(TAF_WLD), note="typo 得 = 德, 反映 = 反应")
q("T", "西乐宝伤肾吗", safety(CEL_XLB), note="typo 宝 = 葆")
q("T", "香连止泄片会依赖吗", safety(XLZX), note="typo 泄 = 泻")
q("E", "阿乐 side effect，复查 ALT 高了怎么办", safety(ATV_AL))
q("E", "拜新同 ADR 上报流程", safety(NIF_BXT))
q("E", "吗丁啉 cardiac risk 顾客问", safety(DOM_SUS), skus=DOM, note="only the 混悬液 has a safety script")
q("E", "TAF 副作用 能不能 stop", safety(TAF_WLD), note="TAF = 丙酚替诺福韦 (韦立德)")
q("E", "地氯雷他定 drowsy，开车的人能吃吗", safety(DLOR))
q("L", "合作连锁有个店长反馈：一位六十多岁的阿姨吃奥美沙坦酯氨氯地平片，第一天早上起床差点摔倒，说头晕得厉害，家属很紧张，来店里问是不是这个药引起的、还能不能继续吃。我该怎么回应，要不要上报？", safety(OLMAML))
q("L", "一个糖友用欧唐静两个月，最近说下面老是痒、小便有点痛，上网一搜说这药容易感染，现在不敢吃了。门店店员怎么给她解释，什么情况要让她去医院？", safety(EMP_OTJ))
q("S", "西乐葆伤肾", safety(CEL_XLB))
q("S", "拜新同水肿", safety(NIF_BXT))

# ================================================================================= 缺货断货 (stock-out)
q("C", "海正的瑞舒伐他汀又断了，门店说顾客全跑了", stockout(RSV_G))
q("C", "代文上月断了半个月，连锁采购火很大", stockout(VAL_DW))
q("C", "奥美沙坦氨氯地平老断，店里想换别的降压药", stockout(OLMAML))
q("C", "波立维到不了货，客户问我们到底行不行", stockout(CLP_BLW))
q("C", "格华止总是没货，药店想改进普通的二甲双胍", stockout(MET_GHZ))
q("C", "华堂宁缺货，门店想换成其他降糖药", stockout(DRZ_HTN))
q("C", "波利特换包装那阵子断了，客户一直抱怨", stockout(RAB_BLT))
q("C", "吗丁啉片没货了，店长说想换别家的多潘立酮", stockout(DOM_TAB))
q("C", "阿莫仙断货，药店说要进别的厂的阿莫西林", stockout(AMX_CAP))
q("C", "罗红霉素颗粒又缺了，儿童医院旁边那家店急得不行", stockout(ROX))
q("C", "流感季阿比多尔供不上，客户要个说法", stockout(ARB))
q("C", "顺尔宁到货太慢，哮喘病人来了买不到", stockout(MON_SEN), skus=MON, note="brand 顺尔宁 (片 and 咀嚼片); the script is about the 片")
q("C", "沐舒坦老断货，店里准备换别的化痰药", stockout(AMB_MST))
q("C", "开瑞坦过敏季没货，店长要换牌子", stockout(LOR_KRT))
q("C", "修美乐在DTP那边断供了，病人这个月的针打不上", stockout(ADA_XML))
q("A", "瑞舒 断货", stockout(RSV), skus=RSV, note="only the 海正 瑞舒伐他汀 has a stock-out script")
q("A", "氯吡 缺货 客户投诉", stockout(CLP), skus=CLP, note="only 波立维 has a stock-out script")
q("A", "二甲 缺货 门店想换", stockout(MET), skus=MET, note="only 格华止 has a stock-out script")
q("A", "多潘 断供", stockout(DOM), skus=DOM, note="only 吗丁啉片 has a stock-out script")
q("A", "孟鲁 没货", stockout(MON), skus=MON, note="孟鲁 = 孟鲁司特 (顺尔宁)")
q("B", "缬沙坦胶囊诺华的断货了", stockout(VAL_DW), note="代文")
q("B", "孟鲁司特钠片默沙东原研缺货", stockout(MON_SEN), note="顺尔宁")
q("B", "盐酸氨溴索片勃林格的一直没货", stockout(AMB_MST), note="沐舒坦")
q("B", "氯雷他定片拜耳的断了", stockout(LOR_KRT), note="开瑞坦")
q("B", "阿达木单抗断供怎么跟客户交代", stockout(ADA_XML), note="修美乐")
q("B", "雷贝拉唑钠肠溶片缺货", stockout(RAB_BLT), note="波利特")
q("B", "多格列艾汀片供应不上", stockout(DRZ_HTN), note="华堂宁")
q("T", "顺尔林断货", stockout(MON), skus=MON, note="typo 林 = 宁")
q("T", "沐舒谈缺货", stockout(AMB_MST), note="typo 谈 = 坦")
q("T", "开瑞谈没货了", stockout(LOR_KRT), note="typo 谈 = 坦")
q("T", "波利特断获", stockout(RAB_BLT), note="typo 断获 = 断货")
q("T", "阿比多儿缺货", stockout(ARB), note="typo 儿 = 尔")
q("E", "代文 out of stock 两周，客户要 supply guarantee", stockout(VAL_DW))
q("E", "修美乐 backorder 怎么跟 DTP 解释", stockout(ADA_XML))
q("E", "波立维 OOS，安全库存怎么设", stockout(CLP_BLW))
q("L", "宁波一家连锁这个月第三次找我投诉，说我们的格华止总断货，来买的糖尿病老顾客都转去隔壁了，采购说再这样就换成国产便宜的二甲双胍。我怎么道歉，怎么给他一个能落地的保障方案？", stockout(MET_GHZ))
q("L", "冬季流感高峰，社区几家单体药店都在问阿比多尔什么时候能到，说上次断了两个礼拜损失不少，担心这次又供不上。我怎么回复才能稳住他们？", stockout(ARB))
q("S", "代文断货", stockout(VAL_DW))
q("S", "开瑞坦缺货", stockout(LOR_KRT))

# ================================================================================= 医保卡与回款 (card, quota, credit terms)
q("C", "顾客刷医保卡买华堂宁，收银台过不去", payment("card", DRZ_HTN), formulary(DRZ_HTN), note="the formulary script lists why a card is refused too")
q("C", "耐信刷医保失败，顾客说你们店用不了医保", payment("card", ESO_NX))
q("C", "罗红霉素颗粒医保结不了账，宝妈很着急", payment("card", ROX), formulary(ROX), note="the formulary script lists why a card is refused too")
q("C", "可威刷社保卡显示没法结算，咋回事", payment("card", OSE_KW), formulary(OSE_KW), note="the formulary script lists why a card is refused too")
q("C", "美林用医保卡付不了钱", payment("card", IBU_ML))
q("C", "药店说今年统筹额度快花完了，科素亚不敢多进", payment("quota", LOS_KSY))
q("C", "倍他乐克是医保品种，老板怕超额度不肯进", payment("quota", MTP), skus=MTP, note="brand 倍他乐克 (two SKUs); the script is about 酒石酸美托洛尔片")
q("C", "波立维老板说医保额度见底了，只肯少量进", payment("quota", CLP_BLW))
q("C", "地氯雷他定干混悬剂门店怕占医保额度", payment("quota", DLOR))
q("C", "客户说医保局回钱慢，复方丹参滴丸要120天账期", payment("terms", FFDS))
q("C", "脑心通胶囊客户说手头紧想把账期往后拖", payment("terms", NXT))
q("C", "亚莫利账期客户想拉到90天", payment("terms", GLM_YML))
q("C", "思密达客户要求延长付款时间", payment("terms", SMT_SMD))
q("C", "博路定账期客户想放到四个月，我能答应吗", payment("terms", ETV_BLD))
q("C", "顾客没带社保卡，想买耐信走医保", payment("card", ESO_NX))
q("C", "老人想用儿子的医保账户给孙子买美林", payment("card", IBU_ML), note="家庭共济 is one of the card script's steps")
q("A", "埃索 刷卡失败", payment("card", ESO_NX), note="埃索 = 艾司奥美拉唑 (耐信)")
q("A", "恩替 账期", payment("terms", ETV_BLD), note="恩替 = 恩替卡韦 (博路定)")
q("A", "美托 医保额度", payment("quota", MTP), skus=MTP, note="美托 = 美托洛尔")
q("A", "丹参滴丸 回款 账期", payment("terms", FFDS))
q("B", "艾司奥美拉唑镁肠溶片医保结算不成功", payment("card", ESO_NX), note="耐信")
q("B", "布洛芬混悬液医保卡刷不了", payment("card", IBU_ML), note="美林")
q("B", "恩替卡韦片客户要延长回款", payment("terms", ETV_BLD), note="博路定")
q("B", "格列美脲片账期谈不拢", payment("terms", GLM_YML), note="亚莫利")
q("B", "蒙脱石散客户压账期", payment("terms", SMT_SMD), note="思密达")
q("B", "氯沙坦钾片 医保额度不够了", payment("quota", LOS_KSY), note="科素亚")
q("B", "酒石酸美托洛尔片 医保额度", payment("quota", MTP_BTLK), note="倍他乐克")
q("T", "耐心刷医保不行", payment("card", ESO_NX), note="typo 耐心 = 耐信")
q("T", "思蜜达账期", payment("terms", SMT_SMD), note="typo 蜜 = 密")
q("T", "博路顶回款慢", payment("terms", ETV_BLD), note="typo 顶 = 定")
q("T", "科素雅医保额度", payment("quota", LOS_KSY), note="typo 雅 = 亚")
q("E", "客户要把脑心通 payment term 拉长到四个月", payment("terms", NXT))
q("E", "复方丹参滴丸 credit term 要延长，AR 压力大", payment("terms", FFDS))
q("E", "可威 医保 settlement failed，POS 报错", payment("card", OSE_KW), formulary(OSE_KW), note="the formulary script lists why a card is refused too")
q("E", "门店医保 quota 用完了，波立维不进了", payment("quota", CLP_BLW))
q("L", "杭州一家单体药店老板今天跟我说，今年医保统筹额度已经用掉八成多，像科素亚这样的医保药再多进就怕超了被扣款，打算下季度只进一半。可他们店的慢病老顾客挺多，我怎么帮他规划进货又不影响顾客？", payment("quota", LOS_KSY))
q("L", "连锁财务打电话说医保局回款拖了三个月，他们现金流紧张，要求复方丹参滴丸的付款期限从现在的45天改成120天，不然暂停进货。我能答应吗，该怎么谈？", payment("terms", FFDS))
q("S", "账期延长", payment("terms"), skus=(), note="no product: every published credit-term script")
q("S", "医保额度不够", payment("quota"), skus=(), note="no product: every published quota script")

# ================================================================================= 患者依从性 (compliance)
q("C", "老人吃阿乐总忘，药店想帮他坚持下去", compliance(ATV_AL))
q("C", "瑞舒伐他汀怕伤身体，顾客吃一阵就不吃了", compliance(RSV), skus=RSV, note="only the 海正 瑞舒伐他汀 has a published adherence script")
q("C", "氨氯地平片老年人老是记不得吃", compliance(AML), skus=AML, note="only the unbranded 氨氯地平 has a published adherence script")
q("C", "玄宁顾客怕长期吃伤身，自己偷偷停了", compliance(LAML_XN))
q("C", "代文老病人一堆药分不清，经常漏吃", compliance(VAL_DW))
q("C", "血压正常了就把安博维停了，怎么劝", compliance(IRB_ABW))
q("C", "科素亚会员回头买的越来越少", compliance(LOS_KSY))
q("C", "替米沙坦氨氯地平吃了一个月觉得好了就不吃了", compliance(TELAML))
q("C", "奥美沙坦氨氯地平老人老忘记吃", compliance(OLMAML))
q("C", "倍他乐克心慌好了就不吃了", compliance(MTP), skus=MTP, note="only 酒石酸美托洛尔片 has a published adherence script")
q("C", "纳催离顾客怕一直吃有副作用，不想吃了", compliance(IND_NCL))
q("C", "依叶的会员复购掉得厉害", compliance(ENAFA_YY))
q("C", "放了支架的病人波立维自己断断续续地吃", compliance(CLP_BLW))
q("C", "泰嘉长期吃怕出血，不敢一直吃", compliance(CLP_TJ))
q("C", "拜阿司匹灵老人天天忘", compliance(ASA_BAY))
q("A", "阿司 依从性差", compliance(ASA_BAY), note="阿司 = 阿司匹林 (拜阿司匹灵)")
q("A", "美托 复购 低", compliance(MTP), skus=MTP)
q("A", "吲达 停药", compliance(IND_NCL), note="吲达 = 吲达帕胺 (纳催离)")
q("A", "替米氨氯 复购率低", compliance(TELAML))
q("A", "奥美氨氯 漏服", compliance(OLMAML))
q("B", "厄贝沙坦片原研的病人不规律吃", compliance(IRB_ABW), note="安博维")
q("B", "吲达帕胺缓释片怕副作用停药了", compliance(IND_NCL), note="纳催离")
q("B", "缬沙坦胶囊 复购率 怎么提", compliance(VAL_DW), note="代文")
q("B", "阿司匹林肠溶片拜耳的 老人记不住", compliance(ASA_BAY), note="拜阿司匹灵")
q("B", "依那普利叶酸片 会员管理", compliance(ENAFA_YY), note="依叶")
q("B", "氯沙坦钾片 老顾客流失", compliance(LOS_KSY), note="科素亚")
q("T", "倍他乐可 停药", compliance(MTP), skus=MTP, note="typo 可 = 克")
q("T", "纳催黎 依重性", compliance(IND_NCL), note="typo 黎 = 离, 依重性 = 依从性")
q("T", "拜阿斯匹灵 老忘吃", compliance(ASA_BAY), note="typo 斯 = 司")
q("T", "玄凝 患者不坚持", compliance(LAML_XN), note="typo 凝 = 宁")
q("E", "代文 refill rate 低，compliance 怎么提升", compliance(VAL_DW))
q("E", "波立维 adherence 差，patient 老漏服", compliance(CLP_BLW))
q("E", "阿乐 会员 retention 下降", compliance(ATV_AL))
q("E", "泰嘉 compliance 差，怕 bleeding", compliance(CLP_TJ))
q("L", "我们在绍兴一家连锁做慢病会员，发现买安博维的老顾客有一半第二个月就不来了，打电话回访说血压量着正常就没再吃，还有人觉得一直吃药会伤肾。门店想做个提醒加回访的方案，有没有参考？", compliance(IRB_ABW))
q("L", "社区药店的药师反映，有位八十岁的大爷同时吃五六种药，拜阿司匹灵经常想不起来今天吃没吃，女儿在外地也管不了。店里能做点什么帮他按时吃？", compliance(ASA_BAY))
q("S", "安博维停药", compliance(IRB_ABW))
q("S", "依叶复购", compliance(ENAFA_YY))

# ================================================================================= DTP与处方外流 (DTP, prescription outflow)
q("C", "先诺欣处方想转到我们店，科室主任不放心", dtp(SNTW_XNX))
q("C", "韦立德那边肝病科医生对DTP一点概念都没有，怎么沟通", dtp(TAF_WLD))
q("C", "格列卫病人不会操作电子处方嫌麻烦", dtp(IMA_GLW))
q("C", "易瑞沙处方出了院门，出事谁兜底？主任问我", dtp(GEF_YRS))
q("C", "施达赛主任不肯放处方出来", dtp(DAS_SDS))
q("C", "英立达病人去哪个药房买能报销，双通道怎么走", dtp(AXI_YLD))
q("C", "维加特处方外流，医生担心担责任", dtp(NIN_WJT))
q("C", "修美乐患者出院以后续方去哪买", dtp(ADA_XML))
q("C", "立普妥医生不肯让处方流到院外", dtp(ATV_LPT))
q("C", "阿乐的双通道购药是怎么个流程", dtp(ATV_AL))
q("C", "可定的电子处方病人不会用", dtp(RSV_KD))
q("C", "海正瑞舒伐他汀处方外流，主任怕出问题", dtp(RSV_G))
q("C", "京新的氨氯地平片双通道怎么买", dtp(AML_G))
q("C", "玄宁处方流到外面药店，科室不放心", dtp(LAML_XN))
q("C", "拜新同长处方的病人想在家门口药店拿药", dtp(NIF_BXT))
q("A", "伊马 处方外流", dtp(IMA_GLW), note="伊马 = 伊马替尼 (格列卫)")
q("A", "尼达 DTP 对接", dtp(NIN_WJT), note="尼达 = 尼达尼布 (维加特)")
q("A", "TAF 处方流转", dtp(TAF_WLD), note="TAF = 丙酚替诺福韦 (韦立德)")
q("A", "阿托 处方外流 医生不放", dtp(ATV), note="both 阿托伐他汀 SKUs have a DTP script")
q("A", "瑞舒 双通道", dtp(RSV), note="both 瑞舒伐他汀 SKUs have a DTP script")
q("B", "甲磺酸伊马替尼片原研处方外流", dtp(IMA_GLW), note="格列卫")
q("B", "吉非替尼片 院外购药怎么弄", dtp(GEF_YRS), note="易瑞沙")
q("B", "达沙替尼片 医生不想外流", dtp(DAS_SDS), note="施达赛")
q("B", "阿昔替尼片 双通道药店", dtp(AXI_YLD), note="英立达")
q("B", "乙磺酸尼达尼布软胶囊 处方流转", dtp(NIN_WJT), note="维加特")
q("B", "先诺特韦利托那韦组合包装 DTP 怎么对接", dtp(SNTW_XNX), note="先诺欣")
q("B", "阿达木单抗 院外药房 取药", dtp(ADA_XML), note="修美乐")
q("T", "格列维处方外流", dtp(IMA_GLW), note="typo 维 = 卫")
q("T", "易瑞莎 双通道", dtp(GEF_YRS), note="typo 莎 = 沙")
q("T", "施达塞处方流不出来", dtp(DAS_SDS), note="typo 塞 = 赛")
q("T", "维加持 电子处方", dtp(NIN_WJT), note="typo 持 = 特")
q("T", "先诺新 处方流转", dtp(SNTW_XNX), note="typo 新 = 欣")
q("E", "DTP药店的处方流转 flow，格列卫怎么跟", dtp(IMA_GLW))
q("E", "修美乐 cold chain 送药上门 DTP", dtp(ADA_XML))
q("E", "韦立德 e-prescription 患者不会操作", dtp(TAF_WLD))
q("E", "拜新同 Rx outflow，hospital 不配合", dtp(NIF_BXT))
q("L", "我在肿瘤医院负责易瑞沙，主任说处方流到外面药房以后，病人万一出现皮疹、腹泻这些问题，责任算医院还是药房？他不太放心，所以一直让病人在院内拿药。我想推动处方流转到合作的DTP药店，该怎么跟他谈？", dtp(GEF_YRS))
q("L", "有个白血病病人的家属问我，施达赛在医院药房经常要排很久，能不能拿处方到外面药房买、还能不能按医保报、要带什么东西。我该怎么一步步告诉她流程？", dtp(DAS_SDS))
q("S", "维加特外流", dtp(NIN_WJT))
q("S", "施达赛DTP", dtp(DAS_SDS))

# ================================================================================= several objections at once
q("L", "修美乐这个月在DTP那边断了货，病人只能回医院开，可医院那边又不太愿意把处方流出来，两头都卡住了。我先处理哪头，怎么跟药房和科室分别说？", stockout(ADA_XML), dtp(ADA_XML))
q("L", "华堂宁在我们合作药店最近先是断货一周，到货以后顾客来买又说医保刷不过去，店长很恼火，说这个品种太折腾想不做了。我该怎么一件件解决？", stockout(DRZ_HTN), payment("card", DRZ_HTN), formulary(DRZ_HTN))
q("L", "儿童医院对面那家店说罗红霉素颗粒老是缺，好不容易到货了家长拿医保卡又结不了，现在家长都去别家买了。我这边怎么跟店里交代？", stockout(ROX), payment("card", ROX), formulary(ROX))
q("L", "有家单体店老板同时提了两件事：一是医保统筹额度快见底了，波立维不敢多进；二是前阵子波立维断过货，他担心以后还断。两个问题我怎么一起回？", payment("quota", CLP_BLW), stockout(CLP_BLW))
q("L", "连锁采购说代文比华海的缬沙坦贵两倍多，上个月还断过一次货，顾客跑了不少，打算下季度换成华海的。我怎么同时回应价格和供货这两件事？", price(VAL_DW), stockout(VAL_DW))
q("L", "一位用泰嘉的老病人来店里说，一是觉得仿制药不如原研的波立维，二是怕长期吃出血，所以药吃得断断续续。店员问我怎么一次讲清楚？", efficacy(CLP_TJ), compliance(CLP_TJ))
q("L", "医院心内科主任对玄宁有两个顾虑：一个是觉得施慧达的左旋氨氯地平降压更强，另一个是不愿意把处方流到外面的药店。下周拜访我该准备什么说法？", efficacy(LAML_XN), dtp(LAML_XN))
q("L", "一个乙肝病人在DTP药店买韦立德，吃了说头疼没劲，想停药，又问以后还能不能在这家药店继续拿药报销。药师让我给个口径，怎么答？", safety(TAF_WLD), dtp(TAF_WLD))

# ================================================================================= more situations
q("C", "奥美沙坦酯氨氯地平片为什么不能全报，顾客说他有医保", formulary(OLMAML, v="all"), note="includes the legacy (2022-list) script")
q("C", "立普妥病人想在外面药店拿药，但不知道处方怎么转出来", dtp(ATV_LPT))
q("C", "感冒清热颗粒吃了好几天还发烧，顾客说这药不行", efficacy(GMQR))
q("C", "拜唐苹吃完肚子胀得难受，顾客想换药", safety(ACB_BTP))
q("C", "开瑞坦进不来货，店里抗过敏的只剩别家的了", stockout(LOR_KRT))
q("C", "美卡素一盒四十五，顾客说网上十几块就能买到替米沙坦", price(TEL_MKS))
q("C", "可威到了药店医保刷不出来，医院却能用，顾客觉得我们在糊弄", formulary(OSE_KW), payment("card", OSE_KW), note="the formulary script lists why a card is refused too")
q("C", "纳催离吃着吃着顾客就不来买了", compliance(IND_NCL))
q("C", "韦立德病人问出院后在哪儿拿药最方便", dtp(TAF_WLD))
q("C", "吗丁啉片老是断货，顾客问是不是停产了", stockout(DOM_TAB))
q("C", "二甲双胍缓释片跟京丰比没有价格优势，采购问凭什么进你们的", price(MET_XR))
q("E", "阿比多尔 supply 跟不上，flu season 客户很 anxious", stockout(ARB))
q("E", "华堂宁 new drug 进 NRDL 了吗，pharmacy 能不能报", formulary(DRZ_HTN))
q("E", "依叶 效果 not good，patient 想 switch", efficacy(ENAFA_YY))
q("E", "韦立德 tolerability 怎么样，patient 担心头疼没劲", safety(TAF_WLD))
q("E", "亚莫利 payment terms 90 days request", payment("terms", GLM_YML))
q("L", "台州一家连锁的品类经理说，波立维比乐普的氯吡格雷一盒贵三十多，他们想把心血管专区的主推换成乐普，还让我给个书面的特价。我知道不能低于底价，但又不想丢这个客户，该怎么谈？", price(CLP_BLW))
q("L", "金华有个开单体店的老熟人，他说速效救心丸卖得多但挣得少，地奥那边给的返点更高，下个月打算把地奥心血康放到收银台旁边。我不能给返利，有什么正当的办法留住陈列位？", price(SXJX))
q("L", "顾客拿着三甲医院开的凯普拉生来买，说医生讲这个药是新进医保的，但我们店员不清楚能报多少、有没有病种限制。我想给门店做个简单的说明，重点讲什么？", formulary(KPZ))
q("L", "一位大爷一直在吃替米沙坦氨氯地平片，他说以前报销要医生写明别的沙坦吃了不行，现在还要不要？另外他问为什么报完还要自己掏一部分。", formulary(TELAML, v="all"), note="includes the legacy (2022-list) script, which explains the partial payment")
q("L", "有位宝妈说孩子过敏用了西替利嗪滴剂一个多星期，鼻子还是痒、喷嚏不断，觉得国产的不行想换进口的。店员该怎么问、怎么解释，什么时候建议她带孩子去医院？", efficacy(CET_DROP))
q("L", "社区医生反馈有个老病人用拜新同后两只脚踝都肿了，病人以为是肾出了问题很害怕，想自己停药。我回访的时候怎么说比较专业，需要做哪些记录？", safety(NIF_BXT))
q("L", "湖州一家连锁的采购跟我说，沐舒坦最近一个月断了两次，换季咳嗽的人多，顾客买不到就跑别的店了，他们准备把化痰药的主推换成别的牌子。我想先稳住他，再给个以后不断货的办法。", stockout(AMB_MST))
q("L", "一位阿姨拿社保卡在我们合作药店买耐信，收银系统提示结算失败，她觉得是药店故意不给刷，在店里很生气。店员该怎么一步步排查，怎么安抚她？", payment("card", ESO_NX))
q("L", "一个做慢病管理的店长说，买代文的老人普遍药多，早上吃哪几种晚上吃哪几种常常搞混，有的干脆就不吃了。她想在会员里推一个简单的办法，让老人按时吃药，我能给她什么建议？", compliance(VAL_DW))
q("L", "我们刚和一家三甲医院的风湿免疫科建立联系，主任说修美乐要冷藏，病人自己去外面药房拿药路上出问题怎么办，而且药房那边的用药指导能不能跟上。我怎么介绍咱们DTP店的流程让他放心？", dtp(ADA_XML))

# fmt: on

# ------------------------------------------------------------------------------------------ labelling


def _label_ids(label: Label, entries: list[dict[str, Any]], about: dict[str, set[str]], legacy: set[str]) -> list[str]:
    tag = KIND_TAG[label.kind]
    out: list[str] = []
    for e in entries:
        if e["kind"] != "objection_script" or e["status"] != "published" or e["tags"][0] != tag:
            continue
        if label.skus and not about.get(e["id"], set()) & set(label.skus):
            continue
        if label.kind == "payment" and label.variant and PAYMENT_VARIANT[label.variant] not in e["title"]:
            continue
        if label.kind == "formulary" and label.variant != "all":
            if (e["id"] in legacy) != (label.variant == "legacy"):
                continue
        out.append(str(e["id"]))
    return out


def build(show: bool = False) -> list[dict[str, Any]]:
    """The dataset's rows, labels resolved against the demo dataset."""
    from demo import build_demo

    demo = build_demo(seed=7, scale=1, as_of=dt.date(2026, 11, 25))
    tables = demo.tenants[TENANT]
    entries = tables["Entry"].to_pylist()
    about: dict[str, set[str]] = {}
    for a in tables["AboutProduct"].to_pylist():
        about.setdefault(a["entry_id"], set()).add(a["sku"])
    legacy = {str(x[0] if isinstance(x, tuple) else x) for x in demo.truth[TENANT]["legacy_scripts"]}
    titles = {e["id"]: e["title"] for e in entries}
    products = {p["sku"]: p for p in tables["Product"].to_pylist()}
    known = set(products)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, r in enumerate(ROWS, 1):
        if r.query in seen:
            raise SystemExit(f"duplicate query: {r.query}")
        seen.add(r.query)
        ids: list[str] = []
        for label in r.labels:
            found = _label_ids(label, entries, about, legacy)
            if not found:
                raise SystemExit(f"label {label} of {r.query!r} selects no published script")
            ids += found
        skus = list(r.skus) if r.skus is not None else list(_flat(tuple(lab.skus for lab in r.labels)))
        if unknown := set(skus) - known:
            raise SystemExit(f"unknown SKUs {unknown} in {r.query!r}")
        relevant = sorted(dict.fromkeys(ids))
        about_text = "; ".join(
            KIND_TAG[lab.kind]
            + (f"({lab.variant})" if lab.variant and lab.kind == "payment" else "")
            + (
                " " + "/".join(dict.fromkeys(str(products[s]["brand"] or products[s]["name"]) for s in lab.skus))
                if lab.skus
                else ""
            )
            for lab in r.labels
        )
        note = about_text + (f"; {r.note}" if r.note else "")
        rows.append(
            {"id": f"q{n:03d}", "query": r.query, "relevant": relevant, "skus": skus, "style": r.style, "note": note}
        )
        if show:
            print(f"q{n:03d} [{r.style}] {r.query}")
            for i in relevant:
                print(f"      {i}{' (legacy)' if i in legacy else ''}: {titles[i]}")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Rewrite ``objections_zh.jsonl``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", action="store_true", help="print every query with the titles of its labels")
    args = parser.parse_args(argv)
    rows = build(show=args.show)
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} queries written to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
