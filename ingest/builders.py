"""From a validated input table to the node and edge tables it contributes to the graph.

One input file usually fills several types: an interactions file gives interactions and the rep/customer/product
edges around them. Each part keeps, per row, the position of its source row so that a problem found later (an unknown
reference) is reported on the right line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.model import (
    AboutIndication,
    AboutProduct,
    CaseOf,
    CompetesWith,
    CompetitorProduct,
    Contract,
    ContractWith,
    Customer,
    Deal,
    DealFor,
    Doctor,
    Edge,
    Entry,
    FormularyEdition,
    Had,
    Indication,
    Interaction,
    InteractionWith,
    ListedIn,
    Mentions,
    Node,
    Owns,
    Prescribes,
    PriceEvent,
    Product,
    Promotion,
    Purchased,
    Quotes,
    Rep,
    Treats,
    WorksAt,
)
from ingest.validation import Validated

Model = type[Node] | type[Edge]


@dataclass
class Part:
    """Rows of one graph type, with each row's source position and the input column behind each edge field."""

    model: Model
    frame: pd.DataFrame
    source: np.ndarray
    columns: dict[str, str]

    arrow: pa.Table | None = None

    def table(self) -> pa.Table:
        """Arrow table with the model's field names (the store adds the tenant)."""
        if self.arrow is not None:
            return self.arrow
        return pa.Table.from_pandas(self.frame.reset_index(drop=True), preserve_index=False)


def _part(model: Model, df: pd.DataFrame, mapping: dict[str, str], *, required: tuple[str, ...] = ()) -> Part:
    """Select ``mapping`` (model field → input column) from ``df``; rows missing a ``required`` column are dropped."""
    sub = df
    for col in required:
        sub = sub[sub[col].notna()]
    sub = sub.drop_duplicates(subset=[mapping[f] for f in _identity(model)], keep="first")
    frame = pd.DataFrame({fld: sub[col].to_numpy() for fld, col in mapping.items()})
    return Part(model, frame, sub["_pos"].to_numpy(), dict(mapping))


def _identity(model: Model) -> list[str]:
    if issubclass(model, Node):
        return [model.key_field]
    return [*model.endpoint_fields(), *model.identity] if model.identity else list(model.endpoint_fields())


def _explode(df: pd.DataFrame, column: str, as_name: str) -> pd.DataFrame:
    out = df[df[column].map(len) > 0].explode(column)
    return out.rename(columns={column: as_name}) if as_name != column else out


def _fields(model: Model, df: pd.DataFrame, renames: dict[str, str] | None = None) -> dict[str, str]:
    """Model field → input column for every model field present in ``df`` (after ``renames`` field → column)."""
    renames = renames or {}
    out = {}
    for name in model.model_fields:
        col = renames.get(name, name)
        if name != "tenant" and col in df.columns:
            out[name] = col
    return out


def _products(df: pd.DataFrame) -> list[Part]:
    parts = [_part(Product, df, _fields(Product, df))]
    if "indications" in df.columns:
        ind = _explode(df, "indications", "indication")
        parts.append(_part(Indication, ind, {"name": "indication"}))
        parts.append(_part(Treats, ind, {"sku": "sku", "indication": "indication"}))
    return parts


def _competitors(df: pd.DataFrame) -> list[Part]:
    parts = [_part(CompetitorProduct, df, _fields(CompetitorProduct, df))]
    if "sku" in df.columns:
        parts.append(_part(CompetesWith, df, {"sku": "sku", "competitor_id": "id"}, required=("sku",)))
    return parts


def _customers(df: pd.DataFrame) -> list[Part]:
    parts = [_part(Customer, df, _fields(Customer, df))]
    if "rep_id" in df.columns:
        parts.append(_part(Owns, df, {"rep_id": "rep_id", "customer_id": "id"}, required=("rep_id",)))
    return parts


def _doctors(df: pd.DataFrame) -> list[Part]:
    parts = [_part(Doctor, df, _fields(Doctor, df))]
    if "customer_id" in df.columns:
        parts.append(_part(WorksAt, df, {"doctor_id": "id", "customer_id": "customer_id"}, required=("customer_id",)))
    return parts


def _interactions(df: pd.DataFrame) -> list[Part]:
    parts = [
        _part(Interaction, df, _fields(Interaction, df)),
        _part(InteractionWith, df, {"interaction_id": "id", "customer_id": "customer_id"}),
    ]
    if "rep_id" in df.columns:
        parts.append(_part(Had, df, {"rep_id": "rep_id", "interaction_id": "id"}, required=("rep_id",)))
    if "skus" in df.columns:
        parts.append(_part(Mentions, _explode(df, "skus", "sku"), {"interaction_id": "id", "sku": "sku"}))
    return parts


def _deals(df: pd.DataFrame) -> list[Part]:
    parts = [
        _part(Deal, df, _fields(Deal, df, {"id": "deal_id"})),
        _part(DealFor, df, {"deal_id": "deal_id", "customer_id": "customer_id"}),
    ]
    if "sku" in df.columns:
        parts.append(_part(Quotes, df, _fields(Quotes, df), required=("sku", "unit_price", "qty")))
    return parts


def _contracts(df: pd.DataFrame) -> list[Part]:
    return [
        _part(Contract, df, _fields(Contract, df)),
        _part(ContractWith, df, {"contract_id": "id", "customer_id": "customer_id"}),
    ]


def _entries(df: pd.DataFrame) -> list[Part]:
    parts = [_part(Entry, df, _fields(Entry, df))]
    if "skus" in df.columns:
        parts.append(_part(AboutProduct, _explode(df, "skus", "sku"), {"entry_id": "id", "sku": "sku"}))
    if "indications" in df.columns:
        ind = _explode(df, "indications", "indication")
        parts.append(_part(AboutIndication, ind, {"entry_id": "id", "indication": "indication"}))
    if "customer_id" in df.columns:
        parts.append(_part(CaseOf, df, {"entry_id": "id", "customer_id": "customer_id"}, required=("customer_id",)))
    return parts


def _formulary(df: pd.DataFrame) -> list[Part]:
    return [
        _part(FormularyEdition, df, _fields(FormularyEdition, df, {"id": "edition_id", "name": "edition_name"})),
        _part(ListedIn, df, _fields(ListedIn, df)),
    ]


BUILDERS: dict[str, Callable[[pd.DataFrame], list[Part]]] = {
    "products": _products,
    "indications": lambda df: [_part(Indication, df, _fields(Indication, df))],
    "competitors": _competitors,
    "customers": _customers,
    "doctors": _doctors,
    "prescriptions": lambda df: [_part(Prescribes, df, _fields(Prescribes, df))],
    "reps": lambda df: [_part(Rep, df, _fields(Rep, df))],
    "interactions": _interactions,
    "orders": lambda df: [_part(Purchased, df, _fields(Purchased, df))],
    "deals": _deals,
    "contracts": _contracts,
    "entries": _entries,
    "formulary": _formulary,
    "promotions": lambda df: [_part(Promotion, df, _fields(Promotion, df))],
    "price_events": lambda df: [_part(PriceEvent, df, _fields(PriceEvent, df, {"kind": "event_type"}))],
}


def build_parts(v: Validated) -> list[Part]:
    """The graph parts of a validated table, leaving out rows that failed validation."""
    df = v.frame.copy()
    df["_pos"] = np.arange(len(df))
    df = df[~v.bad]
    return [p for p in BUILDERS[v.file_type.name](df) if len(p.frame)]
