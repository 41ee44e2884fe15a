"""Reads of the graph a rep needs around the copilot: customers, products, formulary editions, diffs and impact."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.auth import Curator, Reader, State, WriteSlot, territory
from api.errors import ApiError
from api.request_model import RequestModel
from copilot.formulary_impact import Change, edition_changes
from graph.errors import NotFoundError
from graph.model import Customer, FormularyEdition, ImpactSeverity, ListedIn, PriceEvent, Product, Promotion
from graph.ports import GraphStore
from ingest.formulary import ProductFormularyState, formulary_states

router = APIRouter(tags=["catalog"])

Id = Annotated[str, Path(min_length=1, max_length=200)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Search = Annotated[str | None, Query(max_length=100, description="Substring of the name (or id / SKU).")]


class CustomerPage(BaseModel):
    """One page of customers, ordered by id."""

    total: int
    items: list[Customer]


class ProductListing(BaseModel):
    """A product's row in one formulary edition (``code`` is the row's number, repeated as ``number``)."""

    edition_id: str
    category: str | None = None
    restriction: str | None = None
    payment_standard: str | None = None
    code: str | None = None
    section: str | None = Field(None, description="西药部分, 中成药部分, 协议西药, 协议中成药 or 竞价药品部分.")
    nrdl_name: str | None = Field(None, description="The row's 药品名称.")
    dosage_form: str | None = Field(None, description="The row's 剂型 (form group), if any.")


class CandidateRow(BaseModel):
    """A list row offered to a person for a product in review."""

    identity: str = Field(description="What to send back to confirm this row.")
    section: str
    number: str | None = None
    name: str
    dosage_form: str | None = None
    category: str | None = None
    restriction: str | None = None
    payment_standard: str | None = None
    why: str = ""


class FormularyStateOut(BaseModel):
    """A product's state in one edition: matched (with the row), not_listed (with why), review, or unchecked."""

    sku: str
    product_name: str
    edition_id: str
    state: str = Field(description="matched, not_listed, review, or unchecked (the edition was not applied to it).")
    section: str | None = None
    number: str | None = None
    nrdl_name: str | None = None
    dosage_form: str | None = None
    category: str | None = None
    restriction: str | None = None
    payment_standard: str | None = None
    reason: str | None = Field(None, description="Why not listed (not_a_drug, generic_not_listed, form_excluded, …) "
                               "or why in review (ambiguous, similar_name, no_form, …).")  # fmt: skip
    explanation: str | None = None
    candidates: list[CandidateRow] = Field(default_factory=list)
    decided_by: str | None = Field(None, description="rule, or person:<who> for a reviewed decision.")

    @classmethod
    def of(cls, s: ProductFormularyState) -> FormularyStateOut:
        """From the ingest layer's read-back."""
        out = cls.model_validate(s, from_attributes=True)
        out.candidates = [CandidateRow.model_validate(c) for c in s.candidates]
        return out


class ProductOut(BaseModel):
    """A product with its formulary listings and its state in every edition."""

    product: Product
    listings: list[ProductListing] = Field(default_factory=list)
    formulary: list[FormularyStateOut] = Field(default_factory=list, description="State per edition, oldest first.")


class ProductPage(BaseModel):
    """One page of products, ordered by SKU, with each one's state in the latest formulary edition."""

    total: int
    items: list[Product]
    formulary: dict[str, FormularyStateOut] = Field(
        default_factory=dict, description="SKU → state in the latest edition (absent when no edition exists)."
    )


class ReviewPage(BaseModel):
    """Products of one edition by state: the review queue (default) or any other state."""

    edition_id: str
    counts: dict[str, int] = Field(description="Products per state in this edition.")
    total: int
    items: list[FormularyStateOut]


class ConfirmIn(RequestModel):
    """Confirm one of the candidate rows of a product."""

    edition_id: str = Field(min_length=1, max_length=200, examples=["NRDL-2024"])
    row: str = Field(min_length=1, max_length=500, description="The candidate's ``identity``.")


class NotListedIn(RequestModel):
    """Mark a product not listed in an edition (kept for the next edition)."""

    edition_id: str = Field(min_length=1, max_length=200, examples=["NRDL-2024"])
    reason: str = Field(
        "generic_not_listed",
        pattern=r"^(not_a_drug|generic_not_listed|form_excluded|scope_excluded)$",
        description="not_a_drug, generic_not_listed, form_excluded or scope_excluded.",
    )
    note: str | None = Field(None, max_length=500)


class EditionList(BaseModel):
    """Formulary editions, oldest first."""

    editions: list[FormularyEdition]


class EditionDiff(BaseModel):
    """Products whose formulary status changed from ``old`` to ``new``."""

    old: str | None
    new: str
    changes: list[Change]


class EntryImpactOut(BaseModel):
    """What the change does to one entry, and why."""

    entry_id: str
    severity: ImpactSeverity = Field(description="withdraw: a claim is now false; review: true but incomplete.")
    sentence: str = Field(description="The sentence whose claim the change touches.")
    skus: list[str]
    reason: str


class NotesIn(RequestModel):
    """Which noted entries a bulk action takes: those of one product, of one change, or both."""

    sku: str | None = Field(None, max_length=200, description="Every noted entry of this product.")
    edition: str | None = Field(None, max_length=200, description="Every noted entry of this change (new edition).")


class NotesOut(BaseModel):
    """A bulk action's result: the entries written (one audit record each) and the ones left, with the reason."""

    action: Literal["confirm", "withdraw"]
    done: list[str]
    skipped: dict[str, str]


class ImpactOut(BaseModel):
    """What a formulary edition change touches: products, customers, entries to review."""

    old_edition: str | None
    new_edition: str
    applied: bool = Field(description="False: a preview; nothing was marked.")
    changes: list[Change]
    customers: dict[str, list[str]] = Field(description="Customer id → the changed SKUs they buy or prescribe.")
    entries: list[EntryImpactOut] = Field(description="Entries whose claims the change touches, by id.")
    already_marked: int = Field(description="Entries that already carry this change's note.")
    mentioning: int = Field(description="Entries naming or about a changed product (what a name match would mark).")
    conflicts: list[str] = Field(description="Entries edited meanwhile and left as they were (re-run to mark).")
    seconds: float


CUSTOMER_SEARCH = ("name", "id", "city")
PRODUCT_SEARCH = ("name", "generic_name", "brand", "sku")


@router.get("/customers", summary="List customers")
def list_customers(key: Reader, state: State, q: Search = None, limit: Limit = 50, offset: Offset = 0) -> CustomerPage:
    """Customers of the caller's tenant (a rep: its territory), optionally filtered by a name or id substring."""
    area = territory(state, key)
    if area.customer_ids is not None:
        owned = state.store.nodes_by_keys(key.tenant, Customer, sorted(area.customer_ids))
        needle = q.lower() if q else None
        found = [c for c in owned if needle is None or any(needle in str(getattr(c, f) or "").lower()
                                                             for f in CUSTOMER_SEARCH)]  # fmt: skip
        found.sort(key=lambda c: c.id)
        return CustomerPage(total=len(found), items=found[offset : offset + limit])
    page = state.store.search_nodes(key.tenant, Customer, text=q, fields=CUSTOMER_SEARCH, limit=limit, offset=offset)
    return CustomerPage(total=page.total, items=page.items)


@router.get("/customers/{customer_id}", summary="One customer")
def get_customer(customer_id: Id, key: Reader, state: State) -> Customer:
    """The customer, or 404 (also for an id of another tenant, or outside a rep's territory)."""
    return territory(state, key).customer(state.store, key.tenant, customer_id)


@router.get("/products", summary="List products")
def list_products(key: Reader, state: State, q: Search = None, limit: Limit = 50, offset: Offset = 0) -> ProductPage:
    """Products of the caller's tenant, optionally filtered by name, generic name, brand or SKU."""
    found = state.store.search_nodes(key.tenant, Product, text=q, fields=PRODUCT_SEARCH, limit=limit, offset=offset)
    page = found.items
    states = (
        formulary_states(state.store, key.tenant, products=page) if page and _editions(state.store, key.tenant) else []
    )
    return ProductPage(total=found.total, items=page, formulary={s.sku: FormularyStateOut.of(s) for s in states})


@router.get("/products/{sku}", summary="One product with its formulary listings")
def get_product(sku: Id, key: Reader, state: State) -> ProductOut:
    """The product and its status in each formulary edition, or 404."""
    found = state.store.get_node(key.tenant, Product, sku)
    if found is None:
        raise NotFoundError(f"no product {sku}", details={"sku": sku})
    listings = [
        ProductListing.model_validate(e, from_attributes=True)
        for e in state.store.edges_of(key.tenant, ListedIn, sources=[sku])
    ]
    states = formulary_states(state.store, key.tenant, skus=[sku], products=[found])
    return ProductOut(product=found, listings=listings, formulary=[FormularyStateOut.of(s) for s in states])


class PromotionList(BaseModel):
    """Promotions of the calendar, by start date."""

    total: int
    items: list[Promotion]


class PriceEventList(BaseModel):
    """Filed price events (集采 awards, list changes), by date."""

    total: int
    items: list[PriceEvent]


@router.get("/promotions", summary="The promotion calendar")
def list_promotions(
    key: Reader,
    state: State,
    sku: Annotated[str | None, Query(max_length=200, description="Only promotions covering this SKU.")] = None,
    on: Annotated[dt.date | None, Query(description="Only promotions running on this date.")] = None,
    customer_id: Annotated[
        str | None, Query(max_length=200, description="Only promotions this customer is eligible for.")
    ] = None,
) -> PromotionList:
    """Promotions of the caller's tenant (a quote inside one is judged against its discounts), filtered."""
    customer = None
    if customer_id is not None:
        customer = territory(state, key).customer(state.store, key.tenant, customer_id)

    def wanted(p: Promotion) -> bool:
        if sku is not None and p.skus and sku not in p.skus:
            return False
        if on is not None and not p.start_date <= on <= p.end_date:
            return False
        return (
            customer is None
            or p.covers(sku or "", customer.id, customer.type, customer.tier)
            or (sku is None and bool(p.skus) and p.covers(p.skus[0], customer.id, customer.type, customer.tier))
        )

    found = [p for p in state.store.promotions(key.tenant) if wanted(p)]
    return PromotionList(total=len(found), items=found)


@router.get("/price-events", summary="Filed price events (集采 awards, list changes)")
def list_price_events(
    key: Reader,
    state: State,
    sku: Annotated[str | None, Query(max_length=200, description="Only events of this SKU.")] = None,
) -> PriceEventList:
    """Price events of the caller's tenant, oldest first (events found in the order history are in price checks)."""
    found = state.store.price_events(key.tenant, sku=sku)
    return PriceEventList(total=len(found), items=found)


def _editions(store: GraphStore, tenant: str) -> list[FormularyEdition]:
    return store.formulary_editions(tenant)


@router.get("/formulary/editions", summary="Formulary editions")
def list_editions(key: Reader, state: State) -> EditionList:
    """The formulary editions applied to the tenant's catalogue, oldest first."""
    return EditionList(editions=_editions(state.store, key.tenant))


def _known(store: GraphStore, tenant: str, *ids: str | None) -> None:
    known = {e.id for e in _editions(store, tenant)}
    for edition in ids:
        if edition is not None and edition not in known:
            raise NotFoundError(f"no formulary edition {edition}", details={"edition": edition})


@router.get("/formulary/diff", summary="What changed between two formulary editions")
def diff_editions(
    key: Reader,
    state: State,
    old: Annotated[str, Query(min_length=1, max_length=200, examples=["NRDL-2022"])],
    new: Annotated[str, Query(min_length=1, max_length=200, examples=["NRDL-2024"])],
) -> EditionDiff:
    """Products added, removed, re-categorised, or with changed restriction or payment standard."""
    _known(state.store, key.tenant, old, new)
    return EditionDiff(old=old, new=new, changes=edition_changes(state.store, key.tenant, old, new))


def _impact(state: State, tenant: str, old: str | None, new: str | None, actor: str, apply: bool) -> ImpactOut:
    _known(state.store, tenant, old, new)
    report = state.tenant(tenant).formulary_impact(old=old, new=new, today=dt.date.today(), actor=actor, apply=apply)
    data = dataclasses.asdict(report)
    data["entries"] = [dataclasses.asdict(i) for i in report.impacts.values()]
    return ImpactOut.model_validate({**data, "applied": apply})


@router.get("/formulary/impact", summary="Preview what a formulary change touches")
def preview_impact(
    key: Curator,
    state: State,
    old: Annotated[str | None, Query(max_length=200)] = None,
    new: Annotated[str | None, Query(max_length=200, description="Default: the latest edition.")] = None,
) -> ImpactOut:
    """Changed products, affected customers and the entries that would be marked stale; writes nothing."""
    return _impact(state, key.tenant, old, new, key.name, apply=False)


@router.post(
    "/formulary/impact",
    summary="Note the entries whose claims a formulary change touches",
    dependencies=[WriteSlot],
)
def apply_impact(
    key: Curator,
    state: State,
    old: Annotated[str | None, Query(max_length=200)] = None,
    new: Annotated[str | None, Query(max_length=200, description="Default: the latest edition.")] = None,
) -> ImpactOut:
    """Like the preview, and writes the notes (versioned and audited); idempotent.

    A published entry with a claim now false is withdrawn from reps (``stale``); one only incomplete stays live with
    the note (待复核); drafts and entries in review keep their state and get the note their reviewer must clear.
    """
    return _impact(state, key.tenant, old, new, key.name, apply=True)


@router.post(
    "/formulary/notes/{action}",
    summary="Confirm or withdraw every noted entry of one product or one change",
    dependencies=[WriteSlot],
)
def bulk_notes(
    action: Annotated[Literal["confirm", "withdraw"], Path(description="confirm: still right; withdraw.")],
    body: NotesIn,
    key: Curator,
    state: State,
) -> NotesOut:
    """One versioned write and one audit record per entry (sharing a batch id); refused entries are listed.

    ``confirm`` clears the notes (a withdrawn entry is published again, under four eyes); ``withdraw`` takes the
    live ones away from reps.
    """
    if body.sku is None and body.edition is None:
        raise ApiError(422, "validation_failed", "give sku or edition", details={"fields": ["sku", "edition"]})
    result = state.tenant(key.tenant).bulk_note_action(action, actor=key.name, sku=body.sku, edition=body.edition)
    return NotesOut(action=action, done=[e.id for e in result.done], skipped=result.skipped)


def _latest(store: GraphStore, tenant: str, edition: str | None) -> str:
    if edition is not None:
        _known(store, tenant, edition)
        return edition
    editions = _editions(store, tenant)
    if not editions:
        raise NotFoundError("no formulary edition applied yet", details={})
    return editions[-1].id


@router.get("/formulary/review", summary="The formulary review queue (or products in any state)")
def review_queue(
    key: Curator,
    state: State,
    edition: Annotated[str | None, Query(max_length=200, description="Default: the latest edition.")] = None,
    status: Annotated[
        str, Query(pattern=r"^(review|not_listed|matched|unchecked|all)$", description="Which state to list.")
    ] = "review",
    q: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ReviewPage:
    """Products of an edition in one state, with candidate rows and reasons; counts of every state."""
    edition_id = _latest(state.store, key.tenant, edition)
    states = formulary_states(state.store, key.tenant, edition_id=edition_id)
    counts = {name: sum(s.state == name for s in states) for name in ("matched", "not_listed", "review", "unchecked")}
    chosen = [
        s
        for s in states
        if (status == "all" or s.state == status) and (q is None or q.lower() in f"{s.sku} {s.product_name}".lower())
    ]
    return ReviewPage(
        edition_id=edition_id,
        counts=counts,
        total=len(chosen),
        items=[FormularyStateOut.of(s) for s in chosen[offset : offset + limit]],
    )


@router.post(
    "/formulary/review/{sku}/confirm",
    summary="Confirm a candidate row for a product",
    dependencies=[WriteSlot],
)
def confirm_candidate(sku: Id, body: ConfirmIn, key: Curator, state: State) -> FormularyStateOut:
    """The product becomes matched to the chosen row; the decision is kept and reused on the next edition."""
    now = dt.datetime.now().replace(microsecond=0)
    result = state.tenant(key.tenant).confirm_formulary_row(sku, body.edition_id, body.row, actor=key.name, now=now)
    return FormularyStateOut.of(result)


@router.post(
    "/formulary/review/{sku}/not-listed",
    summary="Mark a product not listed in an edition",
    dependencies=[WriteSlot],
)
def not_listed(sku: Id, body: NotListedIn, key: Curator, state: State) -> FormularyStateOut:
    """The product is not listed (a match, if any, is removed); the decision is kept for the next edition."""
    now = dt.datetime.now().replace(microsecond=0)
    result = state.tenant(key.tenant).mark_not_listed(
        sku, body.edition_id, reason=body.reason, note=body.note, actor=key.name, now=now
    )
    return FormularyStateOut.of(result)
