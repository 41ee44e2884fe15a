"""The domain model is the allow-list: every type has a key, a tenant and storable fields."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from graph.model import (
    EDGE_TYPES,
    KEY_SEPARATOR,
    NODE_TYPES,
    REL_TYPES,
    ContractWith,
    Customer,
    InteractionWith,
    PropType,
    Purchased,
    edge_types_of,
    node_uid,
)

DESIGN_LABELS = {
    "Product",
    "Indication",
    "FormularyEdition",
    "CompetitorProduct",
    "Customer",
    "Doctor",
    "Rep",
    "Interaction",
    "Deal",
    "Contract",
    "Entry",
    "EntryVersion",
}
DESIGN_RELS = {
    "TREATS",
    "LISTED_IN",
    "STATUS_IN",  # issue 18: a product's not-listed / review state in an edition
    "COMPETES_WITH",
    "WORKS_AT",
    "PRESCRIBES",
    "OWNS",
    "HAD",
    "WITH",
    "MENTIONS",
    "PURCHASED",
    "FOR",
    "QUOTES",
    "ABOUT",
    "CASE_OF",
    "PREVIOUS",
}


def test_every_design_type_is_modelled() -> None:
    assert DESIGN_LABELS <= {m.label for m in NODE_TYPES}
    assert set(REL_TYPES) == DESIGN_RELS


@pytest.mark.parametrize("model", NODE_TYPES, ids=lambda m: m.label)
def test_nodes_have_tenant_and_key(model: type) -> None:
    types = model.property_types()
    assert types["tenant"] is PropType.STRING
    assert model.key_field in types


@pytest.mark.parametrize("model", EDGE_TYPES, ids=lambda m: m.__name__)
def test_edges_have_tenant_and_endpoints(model: type) -> None:
    src, dst = model.endpoint_fields()
    assert src in model.model_fields and dst in model.model_fields
    assert "tenant" in model.stored_properties()
    assert src not in model.stored_properties()


def test_shared_relationship_types_store_the_same_properties() -> None:
    for rel_type in REL_TYPES:
        props = {tuple(m.stored_properties()) for m in edge_types_of(rel_type)}
        assert len(props) == 1, rel_type


def test_uids_are_tenant_qualified() -> None:
    c = Customer(tenant="a", id="C1", name="康邻大药房", type="chain")
    assert c.uid == node_uid("a", "C1") == f"a{KEY_SEPARATOR}C1"
    p = Purchased(
        tenant="a", customer_id="C1", sku="S", order_id="O9", line=2, at=dt.date(2025, 1, 1), qty=1, unit_price=2.0
    )
    assert p.uid == f"a{KEY_SEPARATOR}O9{KEY_SEPARATOR}2"
    # Two WITH edges with the same keys but different source labels never share a uid.
    i = InteractionWith(tenant="a", interaction_id="X", customer_id="C1")
    k = ContractWith(tenant="a", contract_id="X", customer_id="C1")
    assert i.uid != k.uid


@pytest.mark.parametrize("tenant", ["", "a b", "x" * 65, "-lead", "租户"])
def test_bad_tenant_ids_are_rejected(tenant: str) -> None:
    with pytest.raises(ValidationError):
        Customer(tenant=tenant, id="C1", name="x", type="chain")


def test_rows_are_validated_at_the_boundary() -> None:
    with pytest.raises(ValidationError, match="type"):
        Customer(tenant="a", id="C1", name="x", type="supermarket")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unit_price"):
        Purchased(tenant="a", customer_id="C", sku="S", order_id="O", at=dt.date(2025, 1, 1), qty=1, unit_price=-1)
    with pytest.raises(ValidationError, match="colour"):
        Customer(tenant="a", id="C1", name="x", type="chain", colour="red")  # type: ignore[call-arg]
    assert Customer(tenant="a", id="  C1 ", name=" 药房 ", type="chain").id == "C1"
