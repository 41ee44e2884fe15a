"""Columnar batches: conversion between model rows and Arrow tables, and the checks every backend runs first.

Both backends write from the same prepared tables, so a batch is validated once, before anything is written.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import InvalidRowError
from graph.model import KEY_SEPARATOR, Edge, GraphModel, Node, PropType

ARROW_TYPES: dict[PropType, pa.DataType] = {
    PropType.STRING: pa.string(),
    PropType.INT64: pa.int64(),
    PropType.DOUBLE: pa.float64(),
    PropType.BOOLEAN: pa.bool_(),
    PropType.DATE: pa.date32(),
    PropType.TIMESTAMP: pa.timestamp("us"),
    PropType.STRING_LIST: pa.list_(pa.string()),
}

UID = "uid"
SRC = "from"
DST = "to"


def arrow_schema(model: type[GraphModel]) -> pa.Schema:
    """Arrow schema with one column per field of ``model``."""
    return pa.schema([(name, ARROW_TYPES[t]) for name, t in model.property_types().items()])


def models_to_table(model: type[GraphModel], rows: Sequence[GraphModel]) -> pa.Table:
    """Arrow table of already validated model rows (all of type ``model``)."""
    for i, row in enumerate(rows):
        if type(row) is not model:
            raise InvalidRowError(
                f"row {i + 1}: expected {model.__name__}, got {type(row).__name__}",
                details={"row": i + 1, "expected": model.__name__},
            )
    return pa.Table.from_pylist([r.model_dump() for r in rows], schema=arrow_schema(model))


def required_fields(model: type[GraphModel]) -> list[str]:
    """Fields that must not be null: required and not optional."""
    out = []
    for name, info in model.model_fields.items():
        if info.is_required() and not _is_optional(info.annotation):
            out.append(name)
    return out


def _fill_value(model: type[GraphModel], name: str) -> Any:
    """What a missing value of a non-optional field with a default becomes (``None``: stays missing)."""
    info = model.model_fields[name]
    if info.is_required() or _is_optional(info.annotation):
        return None
    return info.get_default(call_default_factory=True)


def _is_optional(annotation: Any) -> bool:
    if typing.get_origin(annotation) is Annotated:
        return _is_optional(typing.get_args(annotation)[0])
    return type(None) in typing.get_args(annotation)


def conform(model: type[GraphModel], table: pa.Table, tenant: str) -> pa.Table:
    """Cast ``table`` to the model's schema, fill the tenant, and reject the batch on the first problem.

    Raises ``InvalidRowError`` naming the column and the 1-based row of the batch.
    """
    schema = arrow_schema(model)
    known = set(schema.names)
    unknown = [c for c in table.column_names if c not in known]
    if unknown:
        raise InvalidRowError(f"{model.__name__}: unknown column(s) {', '.join(unknown)}", details={"columns": unknown})
    n = table.num_rows
    columns: list[pa.Array] = []
    required = set(required_fields(model))
    for f in schema:
        if f.name == "tenant" and "tenant" not in table.column_names:
            columns.append(pa.array([tenant] * n, pa.string()))
            continue
        if f.name not in table.column_names:
            if f.name in required:
                raise InvalidRowError(
                    f"{model.__name__}: missing required column '{f.name}'", details={"column": f.name}
                )
            default = _fill_value(model, f.name)
            columns.append(pa.nulls(n, f.type) if default is None else pa.array([default] * n, f.type))
            continue
        col = table.column(f.name)
        try:
            col = col.cast(f.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise InvalidRowError(
                f"{model.__name__}: column '{f.name}' cannot be read as {f.type}: {e}", details={"column": f.name}
            ) from e
        default = _fill_value(model, f.name)
        if default is not None and col.null_count:
            col = pc.fill_null(col, pa.scalar(default, f.type))
        if f.name in required and col.null_count:
            row = _first_true(col.is_null())
            raise InvalidRowError(
                f"{model.__name__}: row {row}: column '{f.name}' is required", details={"row": row, "column": f.name}
            )
        columns.append(col)
    out = pa.Table.from_arrays(columns, schema=schema)
    bad_tenant = pc.not_equal(out.column("tenant"), tenant)
    if pc.any(bad_tenant).as_py():
        row = _first_true(bad_tenant)
        raise InvalidRowError(
            f"{model.__name__}: row {row}: tenant differs from the tenant of the operation '{tenant}'",
            details={"row": row, "column": "tenant"},
        )
    return out


def _first_true(mask: pa.ChunkedArray | pa.Array) -> int:
    """1-based index of the first true value."""
    arr = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
    return int(np.argmax(arr)) + 1


def _check_keys(model: type[GraphModel], table: pa.Table, names: Sequence[str]) -> None:
    for name in names:
        col = table.column(name)
        if col.type == pa.string():
            bad = pc.or_(
                pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(col)), 0),
                pc.match_substring_regex(col, r"[\x00-\x1f]"),
            )
            if pc.any(bad).as_py():
                row = _first_true(pc.fill_null(bad, False))
                raise InvalidRowError(
                    f"{model.__name__}: row {row}: key column '{name}' is empty or holds a control character",
                    details={"row": row, "column": name},
                )


def _uid_column(tenant: str, parts: Sequence[pa.ChunkedArray | pa.Array | str]) -> pa.ChunkedArray:
    pieces: list[Any] = [tenant]
    for p in parts:
        pieces.append(p if isinstance(p, str) else pc.cast(p, pa.string()))
    return pc.binary_join_element_wise(*pieces, KEY_SEPARATOR)


def _dedupe_last(table: pa.Table) -> pa.Table:
    """Keep the last row of each uid (a later row of a batch overrides an earlier one)."""
    uids = table.column(UID).to_pandas()
    keep = ~uids.duplicated(keep="last").to_numpy()
    return table if keep.all() else table.filter(pa.array(keep))


def node_frame(model: type[Node], table: pa.Table, tenant: str) -> pa.Table:
    """Conformed node batch with the ``uid`` column first, one row per key."""
    out = conform(model, table, tenant)
    _check_keys(model, out, [model.key_field])
    uid = _uid_column(tenant, [out.column(model.key_field)])
    return _dedupe_last(out.add_column(0, UID, uid))


def edge_uid_column(
    model: type[Edge], tenant: str, src_keys: pa.ChunkedArray, dst_keys: pa.ChunkedArray, identity: pa.Table
) -> pa.ChunkedArray:
    """Edge uids (as ``Edge.uid``) from endpoint keys, or from the identity columns of ``identity``."""
    if model.identity:
        return _uid_column(tenant, [identity.column(f) for f in model.identity])
    return _uid_column(tenant, [model.source.node.label, src_keys, model.target.node.label, dst_keys])


def edge_frame(model: type[Edge], table: pa.Table, tenant: str) -> pa.Table:
    """Conformed edge batch: ``from``/``to`` node uids, the edge ``uid``, then the stored properties."""
    out = conform(model, table, tenant)
    src_field, dst_field = model.endpoint_fields()
    _check_keys(model, out, [src_field, dst_field, *model.identity])
    src = _uid_column(tenant, [out.column(src_field)])
    dst = _uid_column(tenant, [out.column(dst_field)])
    uid = edge_uid_column(model, tenant, out.column(src_field), out.column(dst_field), out)
    props = model.stored_properties()
    frame = pa.table(
        {SRC: src, DST: dst, UID: uid, **{name: out.column(name) for name in props}},
    )
    frame = frame.append_column(src_field, out.column(src_field)).append_column(dst_field, out.column(dst_field))
    return _dedupe_last(frame)
