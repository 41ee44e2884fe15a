"""The documented input formats: one file type per kind of record, its columns and their Chinese/English aliases.

Column types and constraints come from the graph model (`graph.model`) wherever a column is a model field, so the
rules live in one place; the few extra columns (a product's indications, an order line's customer…) say their type
here. `docs/formats.md` documents the same table for people.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from graph.model import (
    CompetitorProduct,
    Contract,
    Customer,
    Deal,
    Doctor,
    Entry,
    FormularyEdition,
    GraphModel,
    Indication,
    Interaction,
    ListedIn,
    Prescribes,
    PriceEvent,
    Product,
    Promotion,
    Purchased,
    Quotes,
    Rep,
)

Kind = Literal["text", "key", "int", "float", "date", "datetime", "bool", "list", "enum"]


@dataclass(frozen=True)
class Column:
    """One input column: canonical name, accepted header aliases, and where its rules come from."""

    name: str
    aliases: tuple[str, ...] = ()
    source: tuple[type[GraphModel], str] | None = None
    kind: Kind | None = None
    required: bool | None = None
    gt: float | None = None


@dataclass(frozen=True)
class FileType:
    """A kind of input file (products, order lines, …) and its columns."""

    name: str
    title: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...] = field(default=())

    def by_name(self) -> dict[str, Column]:
        """Columns by canonical name."""
        return {c.name: c for c in self.columns}


def f(model: type[GraphModel], name: str, *aliases: str, column: str | None = None) -> Column:
    """A column whose rules are those of ``model.name``."""
    return Column(column or name, (name, *aliases), source=(model, name))


def x(name: str, kind: Kind, *aliases: str, required: bool = False, gt: float | None = None) -> Column:
    """A column that is not a model field (``gt``: a number must be greater than this)."""
    return Column(name, (name, *aliases), kind=kind, required=required, gt=gt)


ENUM_ALIASES: dict[str, dict[str, str]] = {
    "type": {
        "连锁": "chain", "连锁药店": "chain", "连锁药房": "chain", "chain": "chain",
        "单体药店": "single_pharmacy", "单体": "single_pharmacy", "单店": "single_pharmacy",
        "single_pharmacy": "single_pharmacy", "single": "single_pharmacy",
        "医院": "hospital", "hospital": "hospital",
        "诊所": "clinic", "社区卫生服务中心": "clinic", "卫生院": "clinic", "clinic": "clinic",
        "dtp": "dtp", "dtp药房": "dtp", "特药药房": "dtp",
    },
    "kind": {
        "异议话术": "objection_script", "话术": "objection_script", "objection_script": "objection_script",
        "成功案例": "case_study", "案例": "case_study", "case_study": "case_study",
        "产品知识": "product_note", "产品要点": "product_note", "product_note": "product_note",
        "常见问题": "faq", "faq": "faq",
    },
    "status": {
        "草稿": "draft", "draft": "draft", "待审核": "in_review", "审核中": "in_review", "in_review": "in_review",
        "已发布": "published", "发布": "published", "published": "published",
        "待更新": "stale", "过期": "stale", "stale": "stale", "已下线": "retired", "retired": "retired",
    },
    "outcome": {"赢单": "won", "成交": "won", "won": "won", "丢单": "lost", "lost": "lost",
                "进行中": "open", "open": "open"},
    "event_type": {"集采": "vbp", "带量采购": "vbp", "集中带量采购": "vbp", "vbp": "vbp", "调价": "list_change",
                   "价格调整": "list_change", "list_change": "list_change"},
    "category": {"甲": "甲", "甲类": "甲", "a": "甲", "乙": "乙", "乙类": "乙", "b": "乙",
                 # an entry's objection category (异议类别); each column takes only the aliases of its own choices
                 "价格": "price", "价格异议": "price", "目录": "formulary", "进院": "formulary", "医保目录": "formulary",
                 "疗效": "efficacy", "效果": "efficacy", "不良反应": "side_effects", "副作用": "side_effects",
                 "安全性": "side_effects", "库存": "stock", "缺货": "stock", "配送": "stock", "断货": "stock",
                 "账期": "payment_terms", "付款": "payment_terms", "回款": "payment_terms", "付款条件": "payment_terms",
                 "医保卡": "insurance_card", "医保报销": "insurance_card", "报销": "insurance_card",
                 "合规": "compliance", "dtp": "dtp_prescription", "处方": "dtp_prescription",
                 "处方外流": "dtp_prescription", "dtp/处方": "dtp_prescription", "集采": "vbp", "带量采购": "vbp",
                 "毛利": "margin_display", "陈列": "margin_display", "毛利/陈列": "margin_display",
                 "现有供应商": "incumbent_supplier", "供应商": "incumbent_supplier", "在位供应商": "incumbent_supplier",
                 "合同续约": "contract_renewal", "续约": "contract_renewal", "续签": "contract_renewal"},
}  # fmt: skip
ENUM_ALIASES["customer_types"] = ENUM_ALIASES["type"]

SKU = ("商品编码", "产品编码", "编码", "货号", "药品编码", "sku_code")
CUSTOMER_ID = ("客户编码", "客户编号", "客户id", "customer")
REP_ID = ("代表编码", "代表工号", "员工编号", "rep")
DOCTOR_ID = ("医生编码", "医生编号", "doctor")

FILE_TYPES: tuple[FileType, ...] = (
    FileType("products", "商品 Products", (
        f(Product, "sku", *SKU), f(Product, "name", "品名", "商品名", "商品名称", "产品名称", "名称"),
        f(Product, "generic_name", "通用名", "通用名称"), f(Product, "brand", "品牌", "商标名", "商品名(品牌)"),
        f(Product, "spec", "规格"), f(Product, "dosage_form", "剂型"),
        f(Product, "manufacturer", "生产企业", "生产厂家", "厂家"), f(Product, "category", "类别", "分类", "治疗类别"),
        f(Product, "unit", "单位", "计价单位"), f(Product, "pack_size", "包装数量", "最小包装数", "包装"),
        f(Product, "case_size", "件装量", "箱规", "件包装", "装箱数", "每件数量"),
        f(Product, "list_price", "零售价", "指导价", "挂网价", "标准价"),
        f(Product, "floor_price", "最低价", "底价", "最低限价"),
        x("indications", "list", "适应症", "适应证", "功能主治"),
    ), keys=("sku",)),
    FileType("indications", "适应症 Indications", (
        f(Indication, "name", "适应症", "适应证", "名称"), f(Indication, "description", "描述", "说明"),
    ), keys=("name",)),
    FileType("competitors", "竞品价格 Competitor prices", (
        f(CompetitorProduct, "id", "竞品编码", "竞品编号"), f(CompetitorProduct, "name", "竞品名称", "竞品"),
        f(CompetitorProduct, "company", "竞品厂家", "企业", "公司"), f(CompetitorProduct, "price", "竞品价格", "价格"),
        f(CompetitorProduct, "observed_at", "采集日期", "观察日期", "日期"), f(CompetitorProduct, "source", "来源"),
        x("sku", "key", "对标商品编码", "我方商品编码", *SKU),
    ), keys=("id",)),
    FileType("customers", "客户 Customers", (
        f(Customer, "id", *CUSTOMER_ID, "customer_id"), f(Customer, "name", "客户名称", "名称"),
        f(Customer, "type", "客户类型", "类型"), f(Customer, "region", "大区", "区域"), f(Customer, "city", "城市"),
        f(Customer, "tier", "客户级别", "级别", "等级"), f(Customer, "insurance_designated", "医保定点"),
        f(Customer, "dtp_certified", "dtp资质", "dtp"), f(Customer, "store_count", "门店数", "门店数量"),
        f(Customer, "annual_revenue", "年销售额", "年营业额"), f(Customer, "tags", "标签"),
        x("rep_id", "key", "负责代表", *REP_ID),
    ), keys=("id",)),
    FileType("doctors", "医生 Doctors", (
        f(Doctor, "id", *DOCTOR_ID), f(Doctor, "name", "医生姓名", "姓名"), f(Doctor, "department", "科室"),
        f(Doctor, "title", "职称"), x("customer_id", "key", "执业机构编码", "医院编码", *CUSTOMER_ID),
    ), keys=("id",)),
    FileType("prescriptions", "处方偏好 Prescriptions", (
        f(Prescribes, "doctor_id", *DOCTOR_ID), f(Prescribes, "sku", *SKU),
        f(Prescribes, "share", "处方占比", "份额"), f(Prescribes, "count", "处方量", "处方数"),
        f(Prescribes, "last_at", "最近处方日期", "最近处方"),
    ), keys=("doctor_id", "sku")),
    FileType("reps", "销售代表 Reps", (
        f(Rep, "id", *REP_ID), f(Rep, "name", "姓名", "代表姓名"), f(Rep, "territory", "辖区", "区域", "负责区域"),
    ), keys=("id",)),
    FileType("interactions", "拜访记录 Interactions", (
        f(Interaction, "id", "拜访编号", "记录编号"), f(Interaction, "at", "拜访时间", "时间", "日期"),
        f(Interaction, "channel", "方式", "渠道", "拜访方式"), f(Interaction, "summary", "纪要", "拜访纪要", "内容", "摘要"),
        f(Interaction, "next_step", "下一步", "下一步计划"), x("rep_id", "key", *REP_ID),
        x("customer_id", "key", *CUSTOMER_ID, required=True), x("skus", "list", "涉及产品", "提及产品", "产品"),
    ), keys=("id",)),
    FileType("orders", "订单行 Order lines", (
        f(Purchased, "order_id", "订单号", "订单编号", "单号"), f(Purchased, "line", "行号", "订单行号"),
        f(Purchased, "customer_id", *CUSTOMER_ID), f(Purchased, "sku", *SKU),
        f(Purchased, "at", "订单日期", "下单日期", "日期"), f(Purchased, "qty", "数量", "采购数量"),
        f(Purchased, "unit_price", "单价", "成交价", "成交单价"), f(Purchased, "unit", "单位", "计价单位"),
    ), keys=("order_id", "line")),
    FileType("deals", "商机与报价 Deals and quote lines", (
        f(Deal, "id", "商机编号", "商机编码", column="deal_id"), x("customer_id", "key", *CUSTOMER_ID, required=True),
        f(Deal, "stage", "阶段", "商机阶段"), f(Deal, "created_at", "创建日期", "日期"), f(Deal, "outcome", "结果"),
        x("sku", "key", *SKU), f(Quotes, "unit_price", "报价", "报价单价", "单价"), f(Quotes, "qty", "数量", "报价数量"),
    ), keys=("deal_id", "sku")),
    FileType("contracts", "合同 Contracts", (
        f(Contract, "id", "合同编号", "合同号"), x("customer_id", "key", *CUSTOMER_ID, required=True),
        f(Contract, "start_date", "开始日期", "生效日期", "start"), f(Contract, "end_date", "结束日期", "到期日期", "end"),
        f(Contract, "value", "合同金额", "金额"),
    ), keys=("id",)),
    FileType("entries", "知识条目 Knowledge entries", (
        f(Entry, "id", "条目编号", "编号"), f(Entry, "kind", "类型", "条目类型"), f(Entry, "title", "标题"),
        f(Entry, "body", "正文", "内容"), f(Entry, "tags", "标签"), f(Entry, "status", "状态"),
        f(Entry, "version", "版本"), f(Entry, "author", "作者"), f(Entry, "updated_at", "更新时间"),
        f(Entry, "source", "来源"), f(Entry, "category", "异议类别", "话术类别", "问题类别"),
        f(Entry, "customer_types", "适用客户类型", "客户类型"),
        x("skus", "list", "相关产品", "产品"), x("indications", "list", "相关适应症", "适应症"),
        x("customer_id", "key", "案例客户", *CUSTOMER_ID),
    ), keys=("id",)),
    FileType("formulary", "医保目录（企业格式） Formulary, plain format", (
        f(FormularyEdition, "id", "目录版本", "版本", column="edition_id"),
        f(FormularyEdition, "name", "目录名称", column="edition_name"),
        f(FormularyEdition, "effective_date", "生效日期"), f(ListedIn, "sku", *SKU),
        f(ListedIn, "category", "甲乙类", "医保类别", "医保分类"), f(ListedIn, "restriction", "限定支付范围", "备注"),
        f(ListedIn, "payment_standard", "支付标准", "医保支付标准"), f(ListedIn, "code", "药品编号", "目录编号"),
    ), keys=("edition_id", "sku")),
    FileType("promotions", "促销日历 Promotions", (
        f(Promotion, "id", "促销编号", "活动编号", "促销编码"), f(Promotion, "name", "促销名称", "活动名称"),
        f(Promotion, "start_date", "开始日期", "活动开始日期", "start"),
        f(Promotion, "end_date", "结束日期", "活动结束日期", "end"),
        f(Promotion, "customer_types", "适用客户类型", "客户类型"), f(Promotion, "tiers", "适用客户级别", "客户级别"),
        f(Promotion, "customer_ids", "适用客户", "客户名单", "适用客户编码"),
        f(Promotion, "skus", "适用商品", "促销商品", "商品编码"),
        f(Promotion, "min_discount", "最低折扣", "最小折扣"), f(Promotion, "max_discount", "最高折扣", "最大折扣"),
    ), keys=("id",)),
    FileType("price_events", "价格事件（集采、调价） Price events", (
        f(PriceEvent, "id", "事件编号", "事件编码"), f(PriceEvent, "sku", *SKU),
        f(PriceEvent, "effective_date", "生效日期", "执行日期"),
        f(PriceEvent, "kind", "事件类型", "价格事件类型", column="event_type"),
        f(PriceEvent, "new_list_price", "新零售价", "新指导价", "新挂网价"),
        f(PriceEvent, "new_floor_price", "新底价", "新最低价", "新最低限价"),
        f(PriceEvent, "customer_types", "适用客户类型", "客户类型"),
    ), keys=("id",)),
)  # fmt: skip

FILE_TYPES_BY_NAME: dict[str, FileType] = {t.name: t for t in FILE_TYPES}

QUOTE_LINES = FileType("quote_lines", "报价行 Quote lines (price check, not loaded into the graph)", (
    x("customer_id", "key", *CUSTOMER_ID, required=True), x("sku", "key", *SKU, required=True),
    x("unit_price", "float", "单价", "报价", "报价单价", required=True, gt=0),
    x("qty", "float", "quantity", "数量", "报价数量", gt=0), x("unit", "text", "单位", "计价单位"),
    x("date", "date", "日期", "报价日期"),
))  # fmt: skip
"""The lines of a quote to price-check (``ingest.quotes.read_quote_lines``). Not one of ``FILE_TYPES``: a quote is
checked, never written to the graph, so it takes no part in telling the type of a file to ingest."""


def header_key(text: str) -> str:
    """Normalised header for alias matching: NFKC (full-width → half-width), lower case, no spaces/underscores."""
    t = unicodedata.normalize("NFKC", text).lower()
    for ch in " _-\t\n()（）":
        t = t.replace(ch, "")
    return t


def alias_table(file_type: FileType) -> dict[str, str]:
    """Normalised header → canonical column name."""
    out: dict[str, str] = {}
    for col in file_type.columns:
        for alias in (col.name, *col.aliases):
            out.setdefault(header_key(alias), col.name)
    return out
