"""Administration: ingesting a file upload and managing the tenant's API keys."""

from __future__ import annotations

import re
import tempfile
from functools import partial
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import Admin, State, WriteSlot
from api.errors import ApiError
from api.keys import Role
from api.request_model import RequestModel
from api.timestamps import UtcDatetime
from graph.errors import NotFoundError, SalesCopilotError
from graph.model import Rep
from ingest.formats import FILE_TYPES_BY_NAME

router = APIRouter(tags=["admin"])

_CHUNK = 1 << 20


class FileOut(BaseModel):
    """What happened to the uploaded file."""

    file: str
    file_type: str
    rows_read: int
    rows_loaded: int
    seconds: float
    ignored_columns: list[str]
    encoding: str | None = None
    mentions_linked: int = 0
    unconvertible_units: int = Field(
        0, description="Order lines loaded whose unit the product cannot convert (e.g. 件 without a case size)."
    )
    unit_examples: list[str] = Field(default_factory=list, description="A few of them: row, SKU and unit.")


class WriteOut(BaseModel):
    """Rows written to one graph type."""

    type_name: str
    received: int
    created: int
    updated: int
    unchanged: int


class IngestOut(BaseModel):
    """The ingest report: rows per file and writes per graph type (a re-run creates nothing new)."""

    files: list[FileOut]
    writes: list[WriteOut]
    seconds: float
    duplicate_customers: int = Field(0, description="Likely duplicate customer pairs found (never merged).")


class KeyOut(BaseModel):
    """An API key's record; the secret is never shown again."""

    id: str
    tenant: str
    role: Role
    name: str
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None = None
    rep_id: str | None = Field(None, description="A rep key's rep: it reads only that rep's customers.")


class KeyCreate(RequestModel):
    """A new key of the caller's tenant."""

    role: Role
    name: str = Field(min_length=1, max_length=100, examples=["张三的报价屏"])
    rep_id: str | None = Field(
        None, min_length=1, max_length=200, description="Required for a rep key: the rep (代表编码) it belongs to.",
        examples=["R-HZ-001"],
    )  # fmt: skip


class KeyCreated(BaseModel):
    """The new key: ``key`` is shown this once; store it now."""

    key: str
    record: KeyOut


class KeyList(BaseModel):
    """The tenant's keys, newest first."""

    keys: list[KeyOut]


def _safe_name(name: str | None) -> str:
    base = FsPath(name or "upload").name
    cleaned = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", base)[:120].lstrip(".")
    return cleaned or "upload"


@router.post("/ingest", summary="Upload a file to ingest (any supported data format)", dependencies=[WriteSlot])
async def ingest_upload(
    key: Admin,
    state: State,
    file: Annotated[UploadFile, File(description="CSV, XLSX, JSON, JSON Lines or PDF; see docs/formats.md.")],
    file_type: Annotated[
        str | None, Form(max_length=50, description="Force the file type (e.g. orders); default: detected.")
    ] = None,
) -> IngestOut:
    """Validate the whole file, then write it; a rejected file writes nothing and the 422 names row and column."""
    if file_type is not None and file_type not in FILE_TYPES_BY_NAME:
        raise ApiError(422, "invalid_request", f"unknown file_type {file_type!r}",
                       details={"path": "file_type", "allowed": sorted(FILE_TYPES_BY_NAME)})  # fmt: skip
    limit = state.settings.upload_max_mb * _CHUNK
    shown = _shown_name(file.filename)
    with tempfile.TemporaryDirectory(prefix="skg-upload-") as tmp:
        path = FsPath(tmp) / _safe_name(file.filename)
        size = 0
        with path.open("wb") as out:
            while chunk := await file.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, "too_large", f"upload larger than {state.settings.upload_max_mb} MiB",
                                   details={"limit_mb": state.settings.upload_max_mb})  # fmt: skip
                out.write(chunk)
        try:
            report = await run_in_threadpool(
                partial(state.tenant(key.tenant).ingest, file_type=file_type,
                        actor=key.name),
                [path],
            )  # fmt: skip
        except SalesCopilotError as e:
            raise _without_dir(e, {str(path): shown, f"{tmp}/": ""}) from None
    return IngestOut(
        files=[FileOut(**{k: getattr(f, k) for k in FileOut.model_fields} | {"file": shown}) for f in report.files],
        writes=[WriteOut.model_validate(w, from_attributes=True) for w in report.writes.values()],
        seconds=report.seconds,
        duplicate_customers=len(report.duplicates.merges) if report.duplicates else 0,
    )


def _shown_name(name: str | None) -> str:
    """The uploaded file's own name (without any folder the client sent): what results and errors call it."""
    return FsPath((name or "upload").replace("\\", "/")).name or "upload"


def _without_dir(error: SalesCopilotError, replace: dict[str, str]) -> SalesCopilotError:
    """The error naming the file as uploaded, not by its path in the server's temporary folder."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for old, new in replace.items():
                value = value.replace(old, new)
            return value
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    error.message = clean(error.message)
    error.details = clean(error.details)
    error.args = (error.message,)
    return error


def _key_out(k: object) -> KeyOut:
    return KeyOut.model_validate(k, from_attributes=True)


@router.get("/keys", summary="API keys of the tenant")
def list_keys(key: Admin, state: State) -> KeyList:
    """Every key of the caller's tenant (records only, never secrets)."""
    return KeyList(keys=[_key_out(k) for k in state.keys.list(key.tenant)])


@router.post("/keys", status_code=status.HTTP_201_CREATED, summary="Create an API key", dependencies=[WriteSlot])
def create_key(body: KeyCreate, key: Admin, state: State) -> KeyCreated:
    """A new key for the caller's tenant; the response is the only time the key text is shown.

    A rep key names a rep of the tenant (404 ``not_found`` for an unknown one; 422 without one).
    """
    if body.rep_id is not None and state.store.get_node(key.tenant, Rep, body.rep_id) is None:
        raise NotFoundError(f"unknown rep {body.rep_id}", details={"rep_id": body.rep_id})
    record, text = state.keys.create(key.tenant, body.role, body.name, rep_id=body.rep_id)
    return KeyCreated(key=text, record=_key_out(record))


@router.delete("/keys/{key_id}", summary="Revoke an API key", dependencies=[WriteSlot])
def revoke_key(key_id: Annotated[str, Path(min_length=1, max_length=100)], key: Admin, state: State) -> KeyOut:
    """Revoke at once; requests with it get 401 from now on. 404 for a key of another tenant."""
    return _key_out(state.keys.revoke(key_id, tenant=key.tenant))
