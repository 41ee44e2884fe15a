"""Competitor prices: store managers upload photos of competitors' posters and tags; the matrix updates itself.

``POST /v1/competitor-photos`` reads the photo (OCR, items, SKU resolution) and keeps it with its observations;
``GET /v1/competitor-prices`` is the matrix (JSON or CSV); the review list holds items the resolution was not sure
of, each with its photo crop, and a reviewer's decision is kept for the same item text on later photos.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import MatrixReader, PhotoUploader, Reviewer, State, WriteSlot
from api.errors import ApiError, ErrorResponse
from api.request_model import RequestModel
from graph.errors import NotFoundError
from graph.model import CompetitorObservation, CompetitorPhoto, CustomerType, Product
from graph.ports import PriceHistory, PriceHistoryFilter
from ingest.competitor_prices import CLOCK_SLACK
from pricing_guard.competitor_matrix import STALE_AFTER_DAYS, MatrixCell, OurPrice, competitor_matrix, matrix_csv

router = APIRouter(tags=["competitor prices"])

PhotoId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The photo's SHA-256 (hex).")]
_CHUNK = 1 << 20
OUR_PRICE_WINDOW_DAYS = 90


class ObservationOut(BaseModel):
    """One item read from a photo, with its SKU resolution and prices (``quad``: its region on the photo)."""

    id: str
    photo_id: str
    item_index: int
    text: str
    sku: str | None
    resolution: str = Field(description="matched, not_carried, review or corrected.")
    resolution_confidence: float
    resolution_reason: str
    candidates: list[dict[str, Any]]
    competitor: str | None
    city: str | None
    observed_on: dt.date
    original_price: float | None
    current_price: float | None
    member_price: float | None
    effective_price: float | None
    effective_member_price: float | None
    rule: str
    mechanics: list[dict[str, Any]]
    quad: list[list[float]]
    ocr_confidence: float

    @classmethod
    def of(cls, o: CompetitorObservation) -> ObservationOut:
        """From the graph record (JSON text fields parsed)."""
        data = o.model_dump(exclude={"tenant"})
        for name in ("candidates", "mechanics", "quad"):
            data[name] = json.loads(data[name] or "[]")
        return cls.model_validate(data)


class PhotoOut(BaseModel):
    """A competitor photo: who and when, what the OCR read (lines with boxes) and the items found."""

    id: str
    media_type: str
    size_bytes: int
    width: int
    height: int
    customer_id: str | None
    competitor: str | None
    competitor_branch: str | None
    city: str | None
    taken_on: dt.date
    uploaded_by: str
    uploaded_at: dt.datetime
    valid_from: dt.date | None
    valid_to: dt.date | None
    seconds: float = Field(description="Time from upload to items, seconds.")
    duplicate: bool = Field(False, description="The same photo was uploaded before: nothing new was stored.")
    lines: list[dict[str, Any]] = Field(default_factory=list, description="OCR lines: text, quad, confidence.")
    poster_rules: list[dict[str, Any]] = Field(default_factory=list)
    observations: list[ObservationOut] = Field(default_factory=list)

    @classmethod
    def of(cls, p: CompetitorPhoto, obs: list[CompetitorObservation], *, duplicate: bool = False) -> PhotoOut:
        """From the graph records."""
        data = p.model_dump(exclude={"tenant", "ocr_lines", "poster_rules", "ocr_engine", "taken_at", "region"})
        lines = [{"text": t, "quad": q, "confidence": c} for t, q, c in json.loads(p.ocr_lines or "[]")]
        return cls(
            **data,
            duplicate=duplicate,
            lines=lines,
            poster_rules=json.loads(p.poster_rules or "[]"),
            observations=[ObservationOut.of(o) for o in sorted(obs, key=lambda o: o.item_index)],
        )


class PhotoPage(BaseModel):
    """One page of photos, newest upload first (without lines and items; fetch a photo for those)."""

    total: int
    items: list[PhotoOut]


class ObservationList(BaseModel):
    """Observations (the review list when filtered by ``resolution=review``), newest first."""

    items: list[ObservationOut]


class MatrixCellOut(BaseModel):
    """One SKU × competitor × city of the matrix (see `pricing_guard.competitor_matrix.MatrixCell`)."""

    sku: str
    product_name: str
    competitor: str
    city: str | None
    region: str | None
    observed_on: dt.date
    current_price: float | None
    effective_price: float | None = Field(description="Per box after the deal, for a non-member.")
    member_price: float | None
    rule: str
    observation_id: str
    photo_id: str
    quad: list[list[float]]
    our_price: float | None
    our_price_basis: str | None = Field(description="list (list price) or orders:<type> (recent orders' median).")
    gap_pct: float | None = Field(description="(ours − theirs) / theirs × 100: positive when we are dearer.")
    days_old: int
    stale: bool
    seen: int
    previous_price: float | None
    previous_on: dt.date | None

    @classmethod
    def of(cls, c: MatrixCell) -> MatrixCellOut:
        """From the matrix cell."""
        data = dict(c.__dict__)
        data["quad"] = json.loads(c.quad or "[]")
        return cls.model_validate(data)


class Matrix(BaseModel):
    """The competitor price matrix as of a day."""

    as_of: dt.date
    customer_type: str | None
    stale_after_days: int
    cells: list[MatrixCellOut]


class ResolutionIn(RequestModel):
    """A reviewer's decision on an observation: our SKU, or null when it is not a product we carry."""

    sku: str | None = Field(description="Our SKU, or null: not ours (another pack size, another product).")


@router.post(
    "/competitor-photos",
    summary="Upload a photo of a competitor's poster or price tag",
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteSlot],
    responses={
        200: {"model": PhotoOut, "description": "The same photo was uploaded before (``duplicate``: true)."},
        413: {"model": ErrorResponse, "description": "The file is larger than the limit (10 MB by default)."},
        415: {"model": ErrorResponse, "description": "Not a JPEG, PNG or HEIC image, or a damaged one."},
        422: {"model": ErrorResponse, "description": "No text in the photo (code ``no_text``), or invalid fields."},
        503: {"model": ErrorResponse, "description": "The OCR engine is not installed."},
    },
)
async def upload_photo(
    key: PhotoUploader,
    state: State,
    response: Response,
    file: Annotated[UploadFile, File(description="JPEG, PNG or HEIC photo, at most 10 MB.")],
    customer_id: Annotated[
        str | None, Form(max_length=200, description="Our customer (the store) near which the photo was taken.")
    ] = None,
    competitor: Annotated[
        str | None, Form(max_length=100, description="Competitor's name; default: the shop name printed on it.")
    ] = None,
    taken_on: Annotated[
        dt.date | None, Form(description="Date taken (YYYY-MM-DD); the photo's EXIF date wins when present.")
    ] = None,
) -> PhotoOut:
    """Read the photo into items, resolve them to our SKUs and keep photo and prices; a bad photo stores nothing."""
    if taken_on is not None and taken_on > (dt.datetime.now(dt.UTC) + CLOCK_SLACK).date():
        raise ApiError(422, "invalid_request", f"拍摄日期 {taken_on.isoformat()} 晚于今天，请填写实际拍摄日期",
                       details={"errors": [{"path": "body.taken_on", "message": "date is in the future",
                                            "type": "future_date"}]})  # fmt: skip
    limit = state.settings.photo_max_mb << 20
    chunks: list[bytes] = []
    size = 0
    while chunk := await file.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"照片超过上限 {state.settings.photo_max_mb} MB",
                           details={"limit_mb": state.settings.photo_max_mb})  # fmt: skip
        chunks.append(chunk)
    data = b"".join(chunks)
    engine = await run_in_threadpool(state.ocr_engine)
    services = state.tenant(key.tenant)
    recorded = await run_in_threadpool(
        lambda: services.record_photo(
            state.photo_store(),
            data,
            engine=engine,
            uploaded_by=key.name,
            customer_id=customer_id or None,
            competitor=(competitor or "").strip() or None,
            taken_on=taken_on,
        )
    )
    if recorded.duplicate:
        response.status_code = status.HTTP_200_OK
    return PhotoOut.of(recorded.photo, list(recorded.observations), duplicate=recorded.duplicate)


@router.get("/competitor-photos", summary="Competitor photos, newest first")
async def list_photos(
    key: MatrixReader,
    state: State,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PhotoPage:
    """One page of the tenant's photos (the newest upload first) and how many there are."""
    photos, total = await run_in_threadpool(
        lambda: state.store.competitor_photos(key.tenant, limit=limit, offset=offset)
    )
    return PhotoPage(total=total, items=[PhotoOut.of(p, []) for p in photos])


def _photo(state: Any, tenant: str, photo_id: str) -> CompetitorPhoto:
    found = state.store.get_node(tenant, CompetitorPhoto, photo_id)
    if found is None:
        raise NotFoundError(f"照片 {photo_id[:12]}… 不存在", details={"photo_id": photo_id})
    assert isinstance(found, CompetitorPhoto)
    return found


@router.get("/competitor-photos/{photo_id}", summary="A photo with its OCR lines and items")
async def get_photo(key: MatrixReader, state: State, photo_id: PhotoId) -> PhotoOut:
    """The photo's record, the lines the OCR read (with boxes) and the items with their resolution."""
    photo = await run_in_threadpool(_photo, state, key.tenant, photo_id)
    obs = await run_in_threadpool(lambda: state.store.competitor_observations(key.tenant, photo_id=photo_id, limit=500))
    return PhotoOut.of(photo, obs)


@router.get(
    "/competitor-photos/{photo_id}/image",
    summary="The photo file",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/heic": {}}}},
)
async def get_photo_image(key: MatrixReader, state: State, photo_id: PhotoId) -> Response:
    """The uploaded file itself (404 once its retention period has passed)."""
    photo = await run_in_threadpool(_photo, state, key.tenant, photo_id)
    data = await run_in_threadpool(state.photo_store().get, key.tenant, photo_id, photo.media_type)
    if data is None:
        raise NotFoundError("照片文件已超过保存期限，已删除（价格记录仍在）", details={"photo_id": photo_id})
    return Response(data, media_type=photo.media_type, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/competitor-observations", summary="Items read from photos; the review list with resolution=review")
async def list_observations(
    key: MatrixReader,
    state: State,
    resolution: Annotated[Literal["matched", "not_carried", "review", "corrected"] | None, Query()] = None,
    sku: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[dt.date | None, Query(description="Observed on or after this day.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ObservationList:
    """Observations of the tenant, newest first, filtered; each carries its photo id and crop (``quad``)."""
    found = await run_in_threadpool(
        lambda: state.store.competitor_observations(
            key.tenant, sku=sku, since=since, resolution=resolution, limit=limit, offset=offset
        )
    )
    return ObservationList(items=[ObservationOut.of(o) for o in found])


@router.post(
    "/competitor-observations/{observation_id}/resolution",
    summary="Decide which SKU an item is (or that it is not ours)",
    dependencies=[WriteSlot],
)
async def resolve(
    key: Reviewer,
    state: State,
    body: ResolutionIn,
    observation_id: Annotated[str, Path(min_length=1, max_length=200)],
) -> ObservationList:
    """Keep the decision for this item text (reused on later photos) and apply it to its twins still in review."""
    services = state.tenant(key.tenant)
    updated = await run_in_threadpool(
        lambda: services.resolve_observation(observation_id, body.sku, decided_by=key.name)
    )
    return ObservationList(items=[ObservationOut.of(o) for o in updated])


def our_price_lookup(history_of: Callable[[str, PriceHistoryFilter], PriceHistory], products: dict[str, Product],
                     customer_type: CustomerType | None, today: dt.date) -> Any:  # fmt: skip
    """Our price per SKU: the median of recent orders of that customer type, else the list price.

    ``history_of``: a SKU's order lines (`TenantServices.price_history`: from the price index when it is built).
    """

    def lookup(sku: str) -> OurPrice | None:
        if customer_type is not None:
            since = today - dt.timedelta(days=OUR_PRICE_WINDOW_DAYS)
            history = history_of(sku, PriceHistoryFilter(customer_type=customer_type, date_from=since))
            values = sorted(v for v in history.column("unit_price") if v is not None)
            if values:
                mid = len(values) // 2
                median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
                return OurPrice(round(float(median), 2), f"orders:{customer_type}")
        p = products.get(sku)
        if p is not None and p.list_price is not None:
            return OurPrice(float(p.list_price), "list")
        return None

    return lookup


@router.get(
    "/competitor-prices",
    summary="The competitor price matrix (JSON, or CSV with format=csv)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def matrix(
    key: MatrixReader,
    state: State,
    sku: Annotated[str | None, Query(max_length=200)] = None,
    city: Annotated[str | None, Query(max_length=100)] = None,
    customer_type: Annotated[CustomerType | None, Query(description="Compare with our price for this type.")] = None,
    since: Annotated[dt.date | None, Query(description="Only observations on or after this day.")] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",  # noqa: A002 - the query parameter's name
) -> Any:
    """Per SKU × competitor × city the latest observed price with date, photo and crop, ours, the gap and staleness."""
    today = dt.date.today()

    def build() -> list[MatrixCell]:
        obs = state.store.competitor_observations(key.tenant, sku=sku, since=since, limit=100_000)
        obs = [o for o in obs if city is None or o.city == city]
        skus = sorted({o.sku for o in obs if o.sku})
        products = {p.sku: p for p in state.store.nodes_by_keys(key.tenant, Product, skus)}
        services = state.tenant(key.tenant)
        lookup = our_price_lookup(lambda s, f: services.price_history(s, f)[0], products, customer_type, today)
        return competitor_matrix(
            obs, product_names={s: p.name for s, p in products.items()}, our_price=lookup, today=today
        )

    cells = await run_in_threadpool(build)
    if format == "csv":
        return Response(
            matrix_csv(cells),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="competitor-prices-{today.isoformat()}.csv"'},
        )
    return Matrix(
        as_of=today,
        customer_type=customer_type,
        stale_after_days=STALE_AFTER_DAYS,
        cells=[MatrixCellOut.of(c) for c in cells],
    )


__all__ = ["router"]
