"""The domain model: every node and relationship type of the sales knowledge graph.

These classes are the allow-list of labels and relationship types: Cypher is only ever built from the names declared
here, never from input. Every node and every relationship carries the ``tenant`` it belongs to.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

KEY_SEPARATOR = "\x1f"
"""Joins tenant and natural key into a node's internal ``uid``; forbidden inside keys."""

TenantId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"),
    Field(description="Tenant (one company of the group) that owns this record.", examples=["hz-pharma"]),
]
Key = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True)]
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]

CustomerType = Literal["chain", "single_pharmacy", "hospital", "clinic", "dtp"]
CUSTOMER_TYPE_NAMES: dict[str, str] = {
    "chain": "连锁", "single_pharmacy": "单体药店", "hospital": "医院", "clinic": "诊所", "dtp": "DTP药房"
}  # fmt: skip
"""How a rep names each customer type."""
EntryKind = Literal["objection_script", "case_study", "product_note", "faq"]
ObjectionCategory = Literal[
    "price", "formulary", "efficacy", "side_effects", "stock", "payment_terms", "insurance_card", "compliance",
    "dtp_prescription", "vbp", "margin_display", "incumbent_supplier", "contract_renewal",
]  # fmt: skip
"""What an objection is about (异议类别); ``compliance`` is regulatory (合规), not patient adherence."""
OBJECTION_CATEGORY_NAMES: dict[str, str] = {
    "price": "价格", "formulary": "进院/目录", "efficacy": "疗效", "side_effects": "不良反应", "stock": "库存/配送",
    "payment_terms": "账期/付款", "insurance_card": "医保报销", "compliance": "合规", "dtp_prescription": "DTP/处方",
    "vbp": "集采", "margin_display": "毛利/陈列", "incumbent_supplier": "现有供应商", "contract_renewal": "合同续约",
}  # fmt: skip
"""How a trainer names each objection category."""
EntryStatus = Literal["draft", "in_review", "published", "stale", "retired"]
"""``stale``: a published entry a formulary change withdrew from reps (its text now states something false)."""
ImpactSeverity = Literal["withdraw", "review"]
"""What a formulary change does to an entry: ``withdraw`` (a claim is now false) or ``review`` (true, incomplete)."""
FormularyCategory = Literal["甲", "乙"]
FormularyState = Literal["matched", "not_listed", "review"]
"""A product's state in a formulary edition: on a row (LISTED_IN), not listed, or waiting for a person."""


class PropType(StrEnum):
    """Storage type of a property; both backends map these to native types."""

    STRING = "STRING"
    INT64 = "INT64"
    DOUBLE = "DOUBLE"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"
    STRING_LIST = "STRING[]"


class GraphModel(BaseModel):
    """Base of nodes and edges: strict about unknown fields, strips whitespace."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_assignment=True)

    tenant: TenantId

    @classmethod
    def property_types(cls) -> dict[str, PropType]:
        """Return the storage type of every stored property, in declaration order."""
        return {name: _prop_type(info.annotation) for name, info in cls.model_fields.items()}

    @model_validator(mode="before")
    @classmethod
    def _null_lists_are_empty(cls, data: Any) -> Any:
        """A list property read as NULL is empty: a column added by a schema migration is NULL in older rows."""
        if isinstance(data, dict):
            lists = [n for n in _list_fields(cls) if n in data and data[n] is None]
            if lists:
                data = {**data, **{n: [] for n in lists}}
        return data


_LIST_FIELDS: dict[type[GraphModel], tuple[str, ...]] = {}


def _list_fields(model: type[GraphModel]) -> tuple[str, ...]:
    """The list-typed properties of ``model`` (cached: read on every validation)."""
    found = _LIST_FIELDS.get(model)
    if found is None:
        found = _LIST_FIELDS[model] = tuple(n for n, t in model.property_types().items() if t is PropType.STRING_LIST)
    return found


class Node(GraphModel):
    """A node: one label, one natural key field, unique per tenant."""

    label: ClassVar[str]
    key_field: ClassVar[str]
    references: ClassVar[dict[str, type[Node]]] = {}
    """Fields holding the key of another node (e.g. a price event's SKU): ingest checks that it exists."""

    @property
    def key(self) -> str:
        """The natural key (e.g. the SKU of a product)."""
        return str(getattr(self, self.key_field))

    @property
    def uid(self) -> str:
        """Tenant-qualified internal id, unique across the whole store."""
        return node_uid(self.tenant, self.key)


@dataclass(frozen=True)
class Endpoint:
    """One end of an edge type: the node class and the edge field that holds that node's key."""

    node: type[Node]
    field: str


class Edge(GraphModel):
    """A relationship between two nodes of the same tenant.

    ``identity`` names the fields that identify the relationship (e.g. order id and line of a purchase); when it is
    empty the pair of endpoints does, so there is at most one such edge between two nodes.
    """

    rel_type: ClassVar[str]
    source: ClassVar[Endpoint]
    target: ClassVar[Endpoint]
    identity: ClassVar[tuple[str, ...]] = ()

    @property
    def source_key(self) -> str:
        """Natural key of the source node."""
        return str(getattr(self, self.source.field))

    @property
    def target_key(self) -> str:
        """Natural key of the target node."""
        return str(getattr(self, self.target.field))

    @property
    def uid(self) -> str:
        """Tenant-qualified identity of this edge within its relationship type."""
        if self.identity:
            parts = [str(getattr(self, f)) for f in self.identity]
        else:
            parts = [self.source.node.label, self.source_key, self.target.node.label, self.target_key]
        return KEY_SEPARATOR.join([self.tenant, *parts])

    @classmethod
    def endpoint_fields(cls) -> tuple[str, str]:
        """Names of the fields holding the source and target keys."""
        return cls.source.field, cls.target.field

    @classmethod
    def stored_properties(cls) -> dict[str, PropType]:
        """Properties stored on the relationship itself (all fields but the endpoint keys)."""
        skip = set(cls.endpoint_fields())
        return {k: v for k, v in cls.property_types().items() if k not in skip}


def node_uid(tenant: str, key: str) -> str:
    """Internal id of the node with natural ``key`` in ``tenant``."""
    return f"{tenant}{KEY_SEPARATOR}{key}"


def _prop_type(annotation: Any) -> PropType:
    """Map a field annotation to its storage type (optional types map to their inner type)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _prop_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {annotation!r}")
        return _prop_type(inner[0])
    if origin is Literal:
        return PropType.STRING
    if origin is list:
        (item,) = typing.get_args(annotation)
        if _prop_type(item) is PropType.STRING:
            return PropType.STRING_LIST
        raise TypeError(f"unsupported list {annotation!r}")
    simple: dict[Any, PropType] = {
        str: PropType.STRING,
        int: PropType.INT64,
        float: PropType.DOUBLE,
        bool: PropType.BOOLEAN,
        dt.date: PropType.DATE,
        dt.datetime: PropType.TIMESTAMP,
    }
    if annotation in simple:
        return simple[annotation]
    raise TypeError(f"unsupported field type {annotation!r}")


# --------------------------------------------------------------------------------------------------- nodes


class Product(Node):
    """A SKU the company sells."""

    label: ClassVar[str] = "Product"
    key_field: ClassVar[str] = "sku"

    sku: Key = Field(description="Stock-keeping unit, the company's product code.", examples=["SKU-ATV20-LPT"])
    name: Text = Field(description="Product name as sold (商品名/品名).", examples=["阿托伐他汀钙片"])
    generic_name: Text | None = Field(None, description="Generic name (通用名).", examples=["阿托伐他汀钙"])
    brand: Text | None = Field(None, description="Brand (商标名).", examples=["立普妥"])
    spec: Text | None = Field(None, description="Specification (规格).", examples=["20mg*7片"])
    dosage_form: Text | None = Field(None, description="Dosage form (剂型).", examples=["片剂"])
    manufacturer: Text | None = Field(None, description="Manufacturer (生产企业).")
    category: Text | None = Field(None, description="Therapeutic or commercial category.")
    unit: Text | None = Field(None, description="Selling unit (计价单位), e.g. 盒.", examples=["盒"])
    pack_size: int | None = Field(None, ge=1, description="Smallest units (tablets…) per selling unit.")
    case_size: int | None = Field(
        None, ge=1, description="Selling units per case (件), e.g. 40 boxes; lets lines in 件 convert exactly."
    )
    list_price: Money | None = Field(None, description="List price per selling unit, CNY.")
    floor_price: Money | None = Field(None, description="Lowest price a rep may quote, CNY.")


class Indication(Node):
    """A disease or condition a product treats."""

    label: ClassVar[str] = "Indication"
    key_field: ClassVar[str] = "name"

    name: Key = Field(description="Indication name.", examples=["高血压"])
    description: Text | None = None


class FormularyEdition(Node):
    """One edition of a reimbursement formulary (e.g. the 2024 national list)."""

    label: ClassVar[str] = "FormularyEdition"
    key_field: ClassVar[str] = "id"

    id: Key = Field(examples=["NRDL-2024"])
    name: Text = Field(examples=["国家医保药品目录（2024年）"])
    effective_date: dt.date | None = None


class CompetitorProduct(Node):
    """A competitor's product with an observed price."""

    label: ClassVar[str] = "CompetitorProduct"
    key_field: ClassVar[str] = "id"

    id: Key
    name: Text
    company: Text | None = None
    price: Money | None = None
    observed_at: dt.date | None = None
    source: Text | None = None


class Customer(Node):
    """A pharmacy chain, single pharmacy, hospital, clinic or DTP pharmacy."""

    label: ClassVar[str] = "Customer"
    key_field: ClassVar[str] = "id"

    id: Key
    name: Text = Field(examples=["康邻大药房(人民路店)"])
    type: CustomerType
    region: Text | None = Field(None, examples=["华东"])
    city: Text | None = Field(None, examples=["杭州"])
    tier: Text | None = Field(None, description="Commercial tier, e.g. A/B/C.", examples=["A"])
    insurance_designated: bool | None = Field(None, description="医保定点: accepts the insurance card.")
    dtp_certified: bool | None = None
    store_count: int | None = Field(None, ge=0)
    annual_revenue: Money | None = None
    tags: list[Text] = Field(default_factory=list)


class Doctor(Node):
    """A prescriber working at a customer."""

    label: ClassVar[str] = "Doctor"
    key_field: ClassVar[str] = "id"

    id: Key
    name: Text
    department: Text | None = None
    title: Text | None = None


class Rep(Node):
    """A field sales representative."""

    label: ClassVar[str] = "Rep"
    key_field: ClassVar[str] = "id"

    id: Key
    name: Text
    territory: Text | None = None


class Interaction(Node):
    """A visit, call or message between a rep and a customer."""

    label: ClassVar[str] = "Interaction"
    key_field: ClassVar[str] = "id"

    id: Key
    at: dt.datetime
    channel: Text | None = Field(None, examples=["拜访"])
    summary: Text = ""
    next_step: Text | None = None


class Deal(Node):
    """A sales opportunity with quote lines."""

    label: ClassVar[str] = "Deal"
    key_field: ClassVar[str] = "id"

    id: Key
    stage: Text = Field(examples=["quote"])
    created_at: dt.date
    outcome: Literal["won", "lost", "open"] | None = None


class Contract(Node):
    """A supply contract with a customer.

    The design calls the dates ``start`` and ``end``; ``END`` is a Cypher keyword, hence ``start_date``/``end_date``.
    """

    label: ClassVar[str] = "Contract"
    key_field: ClassVar[str] = "id"

    id: Key
    start_date: dt.date
    end_date: dt.date
    value: Money | None = None


class Entry(Node):
    """A curated knowledge entry: objection script, case study, product note or FAQ."""

    label: ClassVar[str] = "Entry"
    key_field: ClassVar[str] = "id"

    id: Key
    kind: EntryKind
    title: Text
    body: Text = ""
    tags: list[Text] = Field(default_factory=list)
    status: EntryStatus = "draft"
    version: int = Field(1, ge=1)
    author: Text | None = None
    updated_at: dt.datetime | None = None
    stale_reason: Text | None = None
    source: Text | None = Field(None, description="Where the entry came from, e.g. 'guide.pdf p.3'.")
    category: ObjectionCategory | None = Field(
        None, description="What the objection (or the case's problem) is about: price, stock, efficacy, …"
    )
    customer_types: list[CustomerType] = Field(
        default_factory=list, description="Customer types the entry applies to; empty = all."
    )
    impact_severity: ImpactSeverity | None = Field(
        None, description="Set with ``stale_reason`` by a formulary change, until a reviewer clears the note."
    )
    impact_sentence: Text | None = Field(None, description="The sentence whose claim the formulary change touches.")
    impact_edition: Text | None = Field(None, description="The formulary edition whose change set the note.")
    impact_skus: list[Text] = Field(default_factory=list, description="The changed products the note is about.")
    revision: Text | None = Field(
        None,
        description="JSON of a pending revision of a published entry (its text, links, state and author); reps "
        "keep reading the published fields until the revision is published.",
    )


class EntryVersion(Node):
    """A frozen earlier version of an entry, kept for history and diffs."""

    label: ClassVar[str] = "EntryVersion"
    key_field: ClassVar[str] = "id"

    id: Key = Field(description="`<entry id>@<version>`.")
    entry_id: Key
    version: int = Field(ge=1)
    kind: EntryKind
    title: Text
    body: Text = ""
    tags: list[Text] = Field(default_factory=list)
    status: EntryStatus
    author: Text | None = None
    updated_at: dt.datetime | None = None
    revision: Text | None = Field(None, description="The pending revision the entry had at this version (JSON).")


class AuditEvent(Node):
    """Who changed what and when (curation writes, formulary applies, deletes)."""

    label: ClassVar[str] = "AuditEvent"
    key_field: ClassVar[str] = "id"

    id: Key
    at: dt.datetime
    actor: Text
    action: Text
    target_label: Text
    target_key: Text
    details: Text = Field("", description="JSON text of what changed.")


class FormularyDecision(Node):
    """A person's decision about a product's formulary row, kept and reused when the next edition is applied.

    ``matched`` names the confirmed row by section, name and form (numbers change between editions); ``not_listed``
    holds until the list offers a row the person did not see (``rejected``: the rows they were shown).
    """

    label: ClassVar[str] = "FormularyDecision"
    key_field: ClassVar[str] = "sku"

    sku: Key
    product_name: Text = Field(description="The product's name when decided: a renamed product is decided again.")
    state: Literal["matched", "not_listed"]
    edition_id: Key = Field(description="The edition the decision was made in.")
    section: Text | None = None
    number: Text | None = None
    nrdl_name: Text | None = None
    dosage_form: Text | None = None
    reason: Text | None = Field(None, description="Why not listed (not_a_drug, generic_not_listed, …), or a note.")
    rejected: list[Text] = Field(default_factory=list, description="Identities of the rows shown and not chosen.")
    actor: Text = "system"
    decided_at: dt.datetime


class Change(Node):
    """One write to a tenant's data, in the tenant's change log (monotonic ``seq``), written in the write's transaction.

    Services follow the log to keep their in-memory indexes current, and the demo loader reads it to know whether a
    store holds changes a user made after the demo was loaded (it then refuses to overwrite them).
    """

    label: ClassVar[str] = "Change"
    key_field: ClassVar[str] = "id"

    id: Key = Field(description="The sequence number as a zero-padded string (the natural key).")
    seq: int = Field(ge=1, description="Position in the tenant's change log, 1, 2, 3, …")
    kind: Text = Field(description="What changed: demo_loaded, ingest, entry_saved, formulary_applied, …")
    at: dt.datetime
    actor: Text = Field("system", description="Who made the change (a key's name, cli, demo).")
    ids: list[Text] = Field(default_factory=list, description="Natural keys of the records written (may be cut).")
    details: Text = Field("", description="JSON text with what the change was (counts, parameters).")


class Promotion(Node):
    """An announced price campaign (双11, 年终冲量…): some SKUs, for some customers, a discount range, a date window.

    Empty lists mean "all": no customer types given ⇒ every type. The scope is kept on the node (one record, read as
    one by the price guard); lines inside a promotion are judged against the promoted price and kept out of the
    normal band.
    """

    label: ClassVar[str] = "Promotion"
    key_field: ClassVar[str] = "id"

    id: Key = Field(examples=["CX2026-A04"])
    name: Text = Field(examples=["2026年双11健康节"])
    start_date: dt.date = Field(description="First day of the promotion.")
    end_date: dt.date = Field(description="Last day of the promotion (inclusive).")
    customer_types: list[CustomerType] = Field(default_factory=list, description="Eligible types; empty = all.")
    tiers: list[Text] = Field(default_factory=list, description="Eligible customer tiers (A/B/C); empty = all.")
    customer_ids: list[Text] = Field(default_factory=list, description="Eligible customers only; empty = all.")
    skus: list[Text] = Field(default_factory=list, description="SKUs on promotion; empty = all.")
    min_discount: float | None = Field(None, ge=0, le=1, description="Smallest discount, a fraction off (0.04).")
    max_discount: float | None = Field(None, ge=0, le=1, description="Largest discount, a fraction off (0.12).")

    def covers(self, sku: str, customer_id: str | None, customer_type: str | None, tier: str | None) -> bool:
        """Whether a line of ``sku`` for this customer falls under the promotion's scope (dates aside)."""
        return (
            (not self.skus or sku in self.skus)
            and (not self.customer_ids or customer_id in self.customer_ids)
            and (not self.customer_types or customer_type in self.customer_types)
            and (not self.tiers or tier in self.tiers)
        )


ScriptRequestStatus = Literal["open", "done", "declined"]


class ScriptRequest(Node):
    """A rep's request for an objection script that does not exist yet: the trainers' queue.

    Made from an objection answer that found no good match (无匹配话术), with the rep's words and the products at
    hand, so that a trainer sees what reps meet in the field and nobody has a script for.
    """

    label: ClassVar[str] = "ScriptRequest"
    key_field: ClassVar[str] = "id"

    id: Key
    query: Text = Field(description="What the customer said, as the rep typed it.")
    skus: list[Text] = Field(default_factory=list, description="Products at hand (selected or named).")
    category: ObjectionCategory | None = Field(None, description="The category the copilot read in the query.")
    customer_type: CustomerType | None = None
    requested_by: Text = Field(description="Who asked (a key's name, role and id).")
    at: dt.datetime
    status: ScriptRequestStatus = "open"
    entry_id: Text | None = Field(None, description="The script written for it, once there is one.")
    note: Text | None = Field(None, description="The trainer's note when closing it.")
    closed_by: Text | None = None
    closed_at: dt.datetime | None = None


SafetyStatus = Literal["new", "forwarded", "closed"]
SafetySource = Literal["interaction", "objection_query", "note"]


class SafetyReport(Node):
    """A suspected adverse drug reaction found in a rep's text: the drug-safety (药物警戒) queue.

    Made by the detector (`copilot.adverse_events`) from an interaction summary, an uploaded note or an objection
    query; the drug-safety contact forwards it to pharmacovigilance or closes it, each change audited. The text is
    kept as written: it is the source document of a possible individual case safety report.
    """

    label: ClassVar[str] = "SafetyReport"
    key_field: ClassVar[str] = "id"

    id: Key
    source: SafetySource = Field(description="Where the text came from.")
    source_id: Text | None = Field(None, description="The interaction's id (for an interaction or note).")
    customer_id: Text | None = None
    skus: list[Text] = Field(default_factory=list, description="Products the text is about.")
    at: dt.datetime = Field(description="When the reaction was reported (the interaction's time, the query's).")
    text: Text = Field(description="The whole text, as written.")
    sentence: Text = Field(description="The clause that reports the reaction.")
    symptoms: list[Text] = Field(default_factory=list, description="The symptom words found.")
    reported_by: Text | None = Field(None, description="The rep (id) or the key's name.")
    status: SafetyStatus = "new"
    note: Text | None = Field(None, description="The drug-safety contact's note at the last status change.")
    updated_by: Text | None = None
    updated_at: dt.datetime | None = None


TaskState = Literal["open", "done", "snoozed", "dismissed"]
"""A rep's task: to do, done (with the interaction that closed it), snoozed until a date, dismissed with a reason."""


class Task(Node):
    """The state a rep gave one task of its daily list (`copilot.tasks`); open tasks are computed, not stored.

    A task is one situation: a trigger, a customer and a subject (a contract, a SKU, an interaction, a tier), with the
    stable id ``copilot.tasks.task_id`` makes of them, so the same situation on the next day is the same task and its
    state holds. The reason, due date and detail are kept as they were when the state was set.
    """

    label: ClassVar[str] = "Task"
    key_field: ClassVar[str] = "id"

    id: Key
    trigger: Text = Field(description="The rule that found it: contract_ending, silent_customer, …")
    customer_id: Text
    subject: Text = Field("", description="What it is about: a contract id, a SKU, an interaction id, a tier, or ''.")
    detail: Text = Field(
        "", description="When the state was set: a contract's band (7 / 30 / 90 days), a basket drop's SKUs (a,b)."
    )
    reason: Text = Field("", description="The reason (Chinese, with node ids) when the state was set.")
    due: dt.date | None = None
    state: TaskState = "open"
    snoozed_until: dt.date | None = Field(None, description="A snoozed task is open again from this date.")
    dismiss_reason: Text | None = Field(None, description="Why the rep dismissed it (required to dismiss).")
    interaction_id: Text | None = Field(None, description="The interaction that closed a done task.")
    rep_id: Text | None = Field(None, description="The rep who set the state.")
    updated_by: Text | None = None
    updated_at: dt.datetime | None = None


PriceEventKind = Literal["vbp", "list_change"]
PRICE_EVENT_NAMES: dict[str, str] = {"vbp": "集采", "list_change": "调价"}
"""How a rep names each kind of price event."""


class PriceEvent(Node):
    """A policy price change of one SKU on a date: a 集采 (VBP) award, or a list-price change.

    From ``effective_date`` prices of ``customer_types`` (empty = all) are not comparable with those before it; the new
    floor applies to every type from that day.
    """

    label: ClassVar[str] = "PriceEvent"
    key_field: ClassVar[str] = "id"
    references: ClassVar[dict[str, type[Node]]] = {"sku": Product}

    id: Key = Field(examples=["PE-A-003"])
    sku: Key = Field(description="The SKU whose price changes.")
    effective_date: dt.date
    kind: PriceEventKind = Field(description="vbp (集采 award) or list_change (调价).")
    new_list_price: Money | None = Field(None, description="List price per selling unit from that day.")
    new_floor_price: Money | None = Field(None, description="Floor price per selling unit from that day.")
    customer_types: list[CustomerType] = Field(
        default_factory=list, description="Types that switch on the day (集采: hospitals and clinics); empty = all."
    )


ResolutionOutcome = Literal["matched", "not_carried", "review", "corrected"]
"""How an observed item was tied to our SKUs: by the rules, not ours, waiting for a person, or a person decided."""


class CompetitorPhoto(Node):
    """A photo of a competitor's promotion poster or price tag, as a store manager uploaded it.

    The key is the SHA-256 of the file (the file itself is kept in the data folder's photo store under that name), so
    the same photo uploaded twice is one record. What the OCR read (lines with their boxes) is kept with it, so the
    console can draw the boxes and a changed parser can re-read without a second upload.
    """

    label: ClassVar[str] = "CompetitorPhoto"
    key_field: ClassVar[str] = "id"

    id: Key = Field(description="SHA-256 of the file (hex).")
    media_type: Text = Field(examples=["image/jpeg"])
    size_bytes: int = Field(ge=0)
    width: int = Field(ge=0, description="Pixels, upright.")
    height: int = Field(ge=0, description="Pixels, upright.")
    customer_id: Text | None = Field(None, description="Our customer (the store) whose manager took it.")
    competitor: Text | None = Field(None, description="Competitor chain, given or printed.", examples=["益丰大药房"])
    competitor_branch: Text | None = Field(None, examples=["五一路店"])
    city: Text | None = None
    region: Text | None = None
    taken_on: dt.date = Field(description="Date of the observation: EXIF capture date, else given, else upload day.")
    taken_at: dt.datetime | None = Field(None, description="EXIF capture time when the file has one.")
    uploaded_by: Text = Field(description="Name of the API key that uploaded it.")
    uploaded_at: dt.datetime
    valid_from: dt.date | None = Field(None, description="Validity printed on the poster.")
    valid_to: dt.date | None = None
    ocr_engine: Text = ""
    ocr_lines: Text = Field("[]", description="JSON list of [text, quad, confidence] the OCR read.")
    poster_rules: Text = Field("[]", description="JSON list of poster-wide rules (满减, 会员日).")
    seconds: float = Field(0.0, ge=0, description="Time from upload to items, seconds.")


class CompetitorObservation(Node):
    """One competitor price seen on a photo: the item, its prices and deal, where and when, and what SKU it is.

    ``sku`` is our SKU when the item is one (resolved by `resolution.sku_match`, or by a person), else None (a pack
    size or product we do not carry). ``effective_price`` is the per-box price a walk-in customer pays after the deal
    (``rule`` says which); ``quad`` is the item's region on the photo (the crop shown for review).
    """

    label: ClassVar[str] = "CompetitorObservation"
    key_field: ClassVar[str] = "id"
    references: ClassVar[dict[str, type[Node]]] = {"photo_id": CompetitorPhoto}

    id: Key = Field(description="Photo id (first 16 hex) and item number.", examples=["3f5a0c9e1b2d4f60-02"])
    photo_id: Key
    item_index: int = Field(ge=0)
    text: Text = Field(description="Product name and strength/pack as read.", examples=["以岭连花清瘟胶囊 0.35g*24粒"])
    sku: Text | None = Field(None, description="Our SKU, when the item is one.")
    resolution: ResolutionOutcome = "review"
    resolution_confidence: float = Field(0.0, ge=0, le=1)
    resolution_reason: Text = ""
    candidates: Text = Field("[]", description="JSON list of candidate SKUs [{sku, name, score, why}].")
    generic: Text | None = None
    spec: Text | None = None
    competitor: Text | None = None
    competitor_branch: Text | None = None
    customer_id: Text | None = None
    city: Text | None = None
    region: Text | None = None
    observed_on: dt.date
    original_price: Money | None = None
    current_price: Money | None = Field(None, description="What a non-member pays for one box (the headline).")
    member_price: Money | None = None
    effective_price: Money | None = Field(None, description="Per box after the deal, for a non-member.")
    effective_member_price: Money | None = None
    rule: Text = Field("", description="The printed deal behind the effective price.", examples=["第二件半价"])
    mechanics: Text = Field("[]", description="JSON list of mechanics [{type, params, text, scope}].")
    quad: Text = Field("[]", description="JSON [[x, y] × 4]: the item's region on the photo.")
    ocr_confidence: float = Field(0.0, ge=0, le=1)
    reviewed_by: Text | None = None
    reviewed_at: dt.datetime | None = None


class SkuCorrection(Node):
    """A person's decision that an item text is (or is not) one of our SKUs; reused for every later photo."""

    label: ClassVar[str] = "SkuCorrection"
    key_field: ClassVar[str] = "id"

    id: Key = Field(description="The item text compacted (`resolution.sku_match.correction_key`).")
    text: Text = Field(description="The item text as first read.")
    sku: Text | None = Field(None, description="Our SKU, or None: not a product we carry.")
    decided_by: Text
    decided_at: dt.datetime


# --------------------------------------------------------------------------------------------------- edges


class Treats(Edge):
    """(Product)-[:TREATS]->(Indication)."""

    rel_type: ClassVar[str] = "TREATS"
    source: ClassVar[Endpoint] = Endpoint(Product, "sku")
    target: ClassVar[Endpoint] = Endpoint(Indication, "indication")

    sku: Key
    indication: Key


class ListedIn(Edge):
    """(Product)-[:LISTED_IN]->(FormularyEdition): the product's status in one formulary edition."""

    rel_type: ClassVar[str] = "LISTED_IN"
    source: ClassVar[Endpoint] = Endpoint(Product, "sku")
    target: ClassVar[Endpoint] = Endpoint(FormularyEdition, "edition_id")

    sku: Key
    edition_id: Key
    category: FormularyCategory | None = None
    restriction: Text | None = Field(None, description="Payment restriction (限…).")
    payment_standard: Text | None = Field(None, description="Payment standard as published; `*` = confidential.")
    code: Text | None = Field(None, description="Number (编号) of the row in the edition, e.g. 455 or ★(700).")
    section: Text | None = Field(
        None,
        description="Part of the list: 西药部分, 中成药部分, 协议西药, 协议中成药, 竞价药品部分.",
        examples=["西药部分"],
    )
    nrdl_name: Text | None = Field(None, description="The row's 药品名称 as printed.", examples=["阿托伐他汀"])
    dosage_form: Text | None = Field(None, description="The row's 剂型 (form group), when it has one.")
    match_reason: Text | None = Field(None, description="Why the product is on this row (the rule, or a person).")
    decided_by: Text | None = Field(None, description="rule, or the person who confirmed the row.")


class FormularyStatus(Edge):
    """(Product)-[:STATUS_IN]->(FormularyEdition): a product that is not listed in the edition, or awaits review.

    Every product an edition was applied to is in exactly one state: matched (a ``LISTED_IN`` edge, none of these),
    ``not_listed`` or ``review`` (this edge, no ``LISTED_IN``).
    """

    rel_type: ClassVar[str] = "STATUS_IN"
    source: ClassVar[Endpoint] = Endpoint(Product, "sku")
    target: ClassVar[Endpoint] = Endpoint(FormularyEdition, "edition_id")

    sku: Key
    edition_id: Key
    state: Literal["not_listed", "review"]
    reason: Text = Field(
        description="not_a_drug, generic_not_listed, form_excluded, scope_excluded (not listed); ambiguous, "
        "similar_name, no_form, variant_missing, qualifier (review)."
    )
    explanation: Text = Field("", description="One sentence a person can check.")
    candidates: Text = Field("[]", description="JSON list of candidate rows (section, number, name, form, why).")
    decided_by: Text | None = Field(None, description="rule, or the person who marked it not listed.")


class CompetesWith(Edge):
    """(Product)-[:COMPETES_WITH]->(CompetitorProduct)."""

    rel_type: ClassVar[str] = "COMPETES_WITH"
    source: ClassVar[Endpoint] = Endpoint(Product, "sku")
    target: ClassVar[Endpoint] = Endpoint(CompetitorProduct, "competitor_id")

    sku: Key
    competitor_id: Key


class WorksAt(Edge):
    """(Doctor)-[:WORKS_AT]->(Customer)."""

    rel_type: ClassVar[str] = "WORKS_AT"
    source: ClassVar[Endpoint] = Endpoint(Doctor, "doctor_id")
    target: ClassVar[Endpoint] = Endpoint(Customer, "customer_id")

    doctor_id: Key
    customer_id: Key


class Prescribes(Edge):
    """(Doctor)-[:PRESCRIBES]->(Product): a doctor's prescription preference."""

    rel_type: ClassVar[str] = "PRESCRIBES"
    source: ClassVar[Endpoint] = Endpoint(Doctor, "doctor_id")
    target: ClassVar[Endpoint] = Endpoint(Product, "sku")

    doctor_id: Key
    sku: Key
    share: float | None = Field(None, ge=0, le=1, description="Share of the doctor's prescriptions in the class.")
    count: int | None = Field(None, ge=0)
    last_at: dt.date | None = None


class Owns(Edge):
    """(Rep)-[:OWNS]->(Customer)."""

    rel_type: ClassVar[str] = "OWNS"
    source: ClassVar[Endpoint] = Endpoint(Rep, "rep_id")
    target: ClassVar[Endpoint] = Endpoint(Customer, "customer_id")

    rep_id: Key
    customer_id: Key


class Had(Edge):
    """(Rep)-[:HAD]->(Interaction)."""

    rel_type: ClassVar[str] = "HAD"
    source: ClassVar[Endpoint] = Endpoint(Rep, "rep_id")
    target: ClassVar[Endpoint] = Endpoint(Interaction, "interaction_id")

    rep_id: Key
    interaction_id: Key


class InteractionWith(Edge):
    """(Interaction)-[:WITH]->(Customer)."""

    rel_type: ClassVar[str] = "WITH"
    source: ClassVar[Endpoint] = Endpoint(Interaction, "interaction_id")
    target: ClassVar[Endpoint] = Endpoint(Customer, "customer_id")

    interaction_id: Key
    customer_id: Key


class Mentions(Edge):
    """(Interaction)-[:MENTIONS]->(Product)."""

    rel_type: ClassVar[str] = "MENTIONS"
    source: ClassVar[Endpoint] = Endpoint(Interaction, "interaction_id")
    target: ClassVar[Endpoint] = Endpoint(Product, "sku")

    interaction_id: Key
    sku: Key


class Purchased(Edge):
    """(Customer)-[:PURCHASED]->(Product): one order line, identified by order id and line number."""

    rel_type: ClassVar[str] = "PURCHASED"
    source: ClassVar[Endpoint] = Endpoint(Customer, "customer_id")
    target: ClassVar[Endpoint] = Endpoint(Product, "sku")
    identity: ClassVar[tuple[str, ...]] = ("order_id", "line")

    customer_id: Key
    sku: Key
    order_id: Key
    line: int = Field(1, ge=1, description="Line number within the order.")
    at: dt.date
    qty: float = Field(gt=0, allow_inf_nan=False)
    unit_price: Money
    unit: Text | None = Field(
        None, description="Unit of qty and unit_price (盒, 片…); empty means the product's selling unit."
    )


class DealFor(Edge):
    """(Deal)-[:FOR]->(Customer)."""

    rel_type: ClassVar[str] = "FOR"
    source: ClassVar[Endpoint] = Endpoint(Deal, "deal_id")
    target: ClassVar[Endpoint] = Endpoint(Customer, "customer_id")

    deal_id: Key
    customer_id: Key


class Quotes(Edge):
    """(Deal)-[:QUOTES]->(Product): a quote line."""

    rel_type: ClassVar[str] = "QUOTES"
    source: ClassVar[Endpoint] = Endpoint(Deal, "deal_id")
    target: ClassVar[Endpoint] = Endpoint(Product, "sku")

    deal_id: Key
    sku: Key
    unit_price: Money
    qty: float = Field(gt=0, allow_inf_nan=False)


class ContractWith(Edge):
    """(Contract)-[:WITH]->(Customer)."""

    rel_type: ClassVar[str] = "WITH"
    source: ClassVar[Endpoint] = Endpoint(Contract, "contract_id")
    target: ClassVar[Endpoint] = Endpoint(Customer, "customer_id")

    contract_id: Key
    customer_id: Key


class AboutProduct(Edge):
    """(Entry)-[:ABOUT]->(Product)."""

    rel_type: ClassVar[str] = "ABOUT"
    source: ClassVar[Endpoint] = Endpoint(Entry, "entry_id")
    target: ClassVar[Endpoint] = Endpoint(Product, "sku")

    entry_id: Key
    sku: Key


class AboutIndication(Edge):
    """(Entry)-[:ABOUT]->(Indication)."""

    rel_type: ClassVar[str] = "ABOUT"
    source: ClassVar[Endpoint] = Endpoint(Entry, "entry_id")
    target: ClassVar[Endpoint] = Endpoint(Indication, "indication")

    entry_id: Key
    indication: Key


class CaseOf(Edge):
    """(Entry)-[:CASE_OF]->(Customer): a case study about a customer."""

    rel_type: ClassVar[str] = "CASE_OF"
    source: ClassVar[Endpoint] = Endpoint(Entry, "entry_id")
    target: ClassVar[Endpoint] = Endpoint(Customer, "customer_id")

    entry_id: Key
    customer_id: Key


class Previous(Edge):
    """(Entry)-[:PREVIOUS]->(EntryVersion)."""

    rel_type: ClassVar[str] = "PREVIOUS"
    source: ClassVar[Endpoint] = Endpoint(Entry, "entry_id")
    target: ClassVar[Endpoint] = Endpoint(EntryVersion, "version_id")

    entry_id: Key
    version_id: Key


NODE_TYPES: tuple[type[Node], ...] = (
    Product,
    Indication,
    FormularyEdition,
    CompetitorProduct,
    Customer,
    Doctor,
    Rep,
    Interaction,
    Deal,
    Contract,
    Entry,
    EntryVersion,
    AuditEvent,
    FormularyDecision,
    Change,
    Promotion,
    PriceEvent,
    ScriptRequest,
    CompetitorPhoto,
    CompetitorObservation,
    SkuCorrection,
    SafetyReport,
    Task,
)
"""Node types in dependency-free order (the allow-list of labels)."""

EDGE_TYPES: tuple[type[Edge], ...] = (
    Treats,
    ListedIn,
    FormularyStatus,
    CompetesWith,
    WorksAt,
    Prescribes,
    Owns,
    Had,
    InteractionWith,
    Mentions,
    Purchased,
    DealFor,
    Quotes,
    ContractWith,
    AboutProduct,
    AboutIndication,
    CaseOf,
    Previous,
)
"""Edge types (the allow-list of relationship types with their endpoint labels)."""

NODES_BY_LABEL: dict[str, type[Node]] = {n.label: n for n in NODE_TYPES}
EDGES_BY_NAME: dict[str, type[Edge]] = {e.__name__: e for e in EDGE_TYPES}
REL_TYPES: tuple[str, ...] = tuple(dict.fromkeys(e.rel_type for e in EDGE_TYPES))


def edge_types_of(rel_type: str) -> tuple[type[Edge], ...]:
    """All edge models sharing one relationship type (``WITH`` and ``ABOUT`` join several label pairs)."""
    return tuple(e for e in EDGE_TYPES if e.rel_type == rel_type)
