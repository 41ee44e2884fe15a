"""The OpenAPI document's examples work against the demo: every id it shows exists, every value is accepted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graph.model import Customer, Entry, FormularyEdition, Node, PriceEvent, Product, Promotion, Rep
from ingest.formats import FILE_TYPES_BY_NAME
from tests.api.conftest import Deployment

ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")  # C-HZ-00001, SKU-ATV20-LPT, KB-HZ-OS-0001, NRDL-2024


def _examples(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("example", "examples") and not (isinstance(value, dict) and "$ref" in value):
                yield from (value if key == "examples" and isinstance(value, list) else [value])
            else:
                yield from _examples(value)
    elif isinstance(node, list):
        for value in node:
            yield from _examples(value)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_every_example_id_exists_in_the_demo(deployment: Deployment) -> None:
    doc = deployment.client.get("/openapi.json").json()
    ids = sorted({s for value in _examples(doc) for s in _strings(value) if ID.match(s)})
    assert {"C-HZ-00001", "SKU-ATV20-LPT"} <= set(ids), ids
    store = deployment.state.store
    models: tuple[type[Node], ...] = (Customer, Product, Entry, FormularyEdition, Rep)
    # the demo has no promotion calendar and no price events: their examples only show a record's shape, until the
    # demo holds such records (then their ids must exist like every other)
    calendar: tuple[type[Node], ...] = (Promotion, PriceEvent)
    shapes = {e for m in calendar for e in m.model_fields["id"].examples or ()}
    assert shapes and not any(store.counts("hz-pharma")["hz-pharma"].get(m.label) for m in calendar)
    ids = [i for i in ids if i not in shapes]
    missing = [i for i in ids if not any(store.existing_keys("hz-pharma", m, [i]) for m in models)]
    assert missing == [], f"OpenAPI examples that are not in the demo: {missing}"


def test_the_example_file_type_is_one_the_upload_accepts(deployment: Deployment) -> None:
    doc = deployment.client.get("/openapi.json").json()
    descriptions = [
        prop.get("description", "")
        for schema in doc["components"]["schemas"].values()
        for name, prop in schema.get("properties", {}).items()
        if name == "file_type"
    ]
    named = [m for d in descriptions for m in re.findall(r"e\.g\. `?(\w+)", d)]
    assert named and set(named) <= set(FILE_TYPES_BY_NAME), named
