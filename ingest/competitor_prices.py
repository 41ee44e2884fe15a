"""Competitor photos into the graph: read a photo, resolve its items to our SKUs, keep photo and observations.

`record_photo` is the whole upload: the photo is checked and read first (nothing is written for a bad upload or a
photo without text), then the file goes into the photo store and the `CompetitorPhoto` with its
`CompetitorObservation` nodes into the graph in one transaction with one change-log record; if the graph write fails
the new file is taken back. `resolve_observation` records a reviewer's decision: the observation is updated and the
decision kept as a `SkuCorrection`, reused for the same item text on every later photo (and applied at once to the
observations still waiting in review with that text).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from graph.errors import NotFoundError
from graph.frames import models_to_table
from graph.model import CompetitorObservation, CompetitorPhoto, Customer, Product, SkuCorrection
from graph.ports import ChangeDraft, GraphStore
from ingest.posters.items import PosterItem
from ingest.posters.notation import Mechanic
from ingest.posters.ocr import OcrEngine
from ingest.posters.photo_store import PhotoStore, photo_id
from ingest.posters.reader import PhotoReading, read_photo
from resolution.dosage_forms import strip_form
from resolution.drug_names import parse_name
from resolution.sku_match import CatalogEntry, Resolution, SkuMatcher, correction_key, normalize_spec


def catalog_entries(products: Iterable[Product]) -> list[CatalogEntry]:
    """The tenant's products as the SKU matcher needs them: generic with its form, brand, short names, pack."""
    out: list[CatalogEntry] = []
    for p in products:
        parsed = parse_name(p.name, spec=p.spec, brand=p.brand)
        generic = parsed.drug or p.name
        short = p.generic_name or ""
        if short and strip_form(short)[1] is None:
            # 二甲双胍 alone would be found inside every metformin: a short name counts with the product's form word
            short = short + parsed.form_word if parsed.form_word and "…" not in parsed.form_word else ""
        aliases = tuple(sorted({p.name, short} - {generic, ""}))
        spec = normalize_spec(p.spec) or normalize_spec("×".join(x for x in (parsed.strength, parsed.pack) if x))
        out.append(CatalogEntry(p.sku, p.name, generic, p.brand or parsed.brand, aliases, spec))
    return out


def known_names(entries: Iterable[CatalogEntry]) -> set[str]:
    """Brands, generics and short names of the catalogue: they help the layout step tell names from slogans."""
    names: set[str] = set()
    for e in entries:
        names.update(x for x in (e.generic, e.brand, *e.aliases) if x)
    return names


def matcher(store: GraphStore, tenant: str) -> SkuMatcher:
    """The tenant's SKU matcher: its products and every correction a person made."""
    corrections: dict[str, str | None] = {}
    while True:
        page = store.list_nodes(tenant, SkuCorrection, limit=1000, offset=len(corrections))
        corrections.update((c.id, c.sku) for c in page)
        if len(page) < 1000:
            break
    return SkuMatcher(catalog_entries(store.catalogue(tenant).products), corrections)


@dataclass(frozen=True)
class RecordedPhoto:
    """An upload's outcome: the photo record, its observations, the reading, and whether it was seen before."""

    photo: CompetitorPhoto
    observations: tuple[CompetitorObservation, ...]
    reading: PhotoReading | None
    duplicate: bool = False


def _money(v: Decimal | None) -> float | None:
    return float(v) if v is not None else None


def mechanic_json(m: Mechanic) -> dict[str, Any]:
    """A mechanic as JSON-ready data (decimals as numbers)."""
    params = {k: (float(v) if isinstance(v, Decimal) else v) for k, v in m.params.items()}
    return {"type": m.type, "params": params, "text": m.text, "scope": m.scope}


def observation(
    tenant: str,
    photo: CompetitorPhoto,
    index: int,
    item: PosterItem,
    resolution: Resolution,
) -> CompetitorObservation:
    """The graph record of one item read from ``photo``."""
    return CompetitorObservation(
        tenant=tenant,
        id=f"{photo.id[:16]}-{index:02d}",
        photo_id=photo.id,
        item_index=index,
        text=item.text,
        sku=resolution.sku,
        resolution=resolution.outcome,
        resolution_confidence=min(1.0, max(0.0, resolution.confidence)),
        resolution_reason=resolution.reason,
        candidates=json.dumps([c.__dict__ for c in resolution.candidates[:5]], ensure_ascii=False),
        generic=resolution.generic,
        spec=resolution.spec,
        competitor=photo.competitor,
        competitor_branch=photo.competitor_branch,
        customer_id=photo.customer_id,
        city=photo.city,
        region=photo.region,
        observed_on=photo.taken_on,
        original_price=_money(item.original),
        current_price=_money(item.current),
        member_price=_money(item.member),
        effective_price=_money(item.effective_unit_price),
        effective_member_price=_money(item.effective_member_price),
        rule=item.rule,
        mechanics=json.dumps([mechanic_json(m) for m in item.mechanics], ensure_ascii=False),
        quad=json.dumps([[round(x, 1), round(y, 1)] for x, y in item.quad]),
        ocr_confidence=min(1.0, max(0.0, item.confidence)),
    )


CLOCK_SLACK = dt.timedelta(days=1)
"""How far past the service's clock (UTC) a photo's date may lie: a phone in China is 8 hours ahead of UTC."""


def observed_on(exif_taken_at: dt.datetime | None, taken_on: dt.date | None, now: dt.datetime) -> dt.date:
    """The day a photo's prices were seen: its EXIF date, unless that is in the future; else the date given, else today.

    A phone whose clock was never set, or was set a year ahead, writes a wrong DateTimeOriginal; a date after today
    cannot be when the poster was seen, and a matrix cell "-13 days old" misleads the rep. Such a date is not used
    (the photo keeps it in ``taken_at``), and the date the uploader gave, or the upload day, is taken instead.
    """
    latest = (now + CLOCK_SLACK).date()
    if exif_taken_at is not None and exif_taken_at.date() <= latest:
        return exif_taken_at.date()
    return min(taken_on, latest) if taken_on is not None else now.date()


def record_photo(
    store: GraphStore,
    photos: PhotoStore,
    tenant: str,
    data: bytes,
    *,
    engine: OcrEngine,
    uploaded_by: str,
    customer_id: str | None = None,
    competitor: str | None = None,
    taken_on: dt.date | None = None,
    now: dt.datetime | None = None,
    matcher_: SkuMatcher | None = None,
) -> RecordedPhoto:
    """Read, resolve and keep one uploaded photo (see the module docstring); the same photo twice is one record."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    customer: Customer | None = None
    if customer_id is not None:
        customer = store.get_node(tenant, Customer, customer_id)
        if customer is None:
            raise NotFoundError(f"客户 {customer_id} 不存在", details={"customer_id": customer_id})
    sha = photo_id(data)
    existing = store.get_node(tenant, CompetitorPhoto, sha)
    if existing is not None:
        found = store.competitor_observations(tenant, photo_id=sha, limit=500)
        return RecordedPhoto(existing, tuple(sorted(found, key=lambda o: o.item_index)), None, duplicate=True)
    m = matcher_ or matcher(store, tenant)
    reading = read_photo(
        data, engine, today=taken_on or now.date(), known_names=known_names(m.entries), max_bytes=photos.max_bytes
    )
    r = reading.reading
    record = CompetitorPhoto(
        tenant=tenant,
        id=sha,
        media_type=reading.photo.media_type,
        size_bytes=len(data),
        width=reading.photo.width,
        height=reading.photo.height,
        customer_id=customer_id,
        competitor=competitor or r.shop,
        competitor_branch=r.branch if (competitor is None or competitor == r.shop) else None,
        city=customer.city if customer else None,
        region=customer.region if customer else None,
        taken_on=observed_on(reading.photo.taken_at, taken_on, now),
        taken_at=reading.photo.taken_at,
        uploaded_by=uploaded_by,
        uploaded_at=now,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
        ocr_engine=reading.ocr_engine,
        ocr_lines=json.dumps(
            [[ln.text, [[round(x, 1), round(y, 1)] for x, y in ln.quad], round(ln.confidence, 3)] for ln in r.lines],
            ensure_ascii=False,
        ),
        poster_rules=json.dumps([mechanic_json(x) for x in r.poster_rules], ensure_ascii=False),
        seconds=round(reading.seconds, 3),
    )
    observations = tuple(
        observation(tenant, record, i, item, m.resolve(item.text, ocr_confidence=item.confidence))
        for i, item in enumerate(r.items)
    )
    _, new_file = photos.put(tenant, data, record.media_type)
    loads: list[tuple[Any, Any]] = [(CompetitorPhoto, models_to_table(CompetitorPhoto, [record]))]
    if observations:
        loads.append((CompetitorObservation, models_to_table(CompetitorObservation, list(observations))))
    change = ChangeDraft(
        "competitor_photo", uploaded_by, (sha,), {"items": len(observations), "customer_id": customer_id}
    )
    try:
        store.load_batch(tenant, loads, change=change)
    except Exception:
        if new_file:
            photos.remove(tenant, sha, record.media_type)
        raise
    return RecordedPhoto(record, observations, reading)


def resolve_observation(
    store: GraphStore,
    tenant: str,
    observation_id: str,
    sku: str | None,
    *,
    decided_by: str,
    now: dt.datetime | None = None,
) -> list[CompetitorObservation]:
    """A reviewer's decision on an observation (our ``sku``, or None: not ours), kept and applied to its twins.

    Returns every observation updated: this one and those still in review with the same item text.
    """
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    obs = store.get_node(tenant, CompetitorObservation, observation_id)
    if obs is None:
        raise NotFoundError(f"竞品价格记录 {observation_id} 不存在", details={"observation_id": observation_id})
    if sku is not None and store.get_node(tenant, Product, sku) is None:
        raise NotFoundError(f"商品 {sku} 不存在", details={"sku": sku})
    key = correction_key(obs.text)
    twins = [
        o for o in store.competitor_observations(tenant, resolution="review", limit=5_000)
        if o.id != obs.id and correction_key(o.text) == key
    ]  # fmt: skip
    reason = "复核人员已确认" + ("" if sku else "：不是我方在售商品")
    updated = [
        o.model_copy(update={"sku": sku, "resolution": "corrected", "resolution_confidence": 1.0,
                             "resolution_reason": reason, "reviewed_by": decided_by, "reviewed_at": now})
        for o in [obs, *twins]
    ]  # fmt: skip
    correction = SkuCorrection(tenant=tenant, id=key, text=obs.text, sku=sku, decided_by=decided_by, decided_at=now)
    store.load_batch(
        tenant,
        [
            (CompetitorObservation, models_to_table(CompetitorObservation, updated)),
            (SkuCorrection, models_to_table(SkuCorrection, [correction])),
        ],
        change=ChangeDraft("competitor_resolution", decided_by, tuple(o.id for o in updated), {"sku": sku}),
    )
    return updated


def observations_for(
    store: GraphStore, tenant: str, skus: Sequence[str], since: dt.date
) -> list[CompetitorObservation]:
    """Observations of these SKUs since a date (for the copilot), newest first."""
    out: list[CompetitorObservation] = []
    for sku in dict.fromkeys(skus):
        out.extend(store.competitor_observations(tenant, sku=sku, since=since, limit=200))
    return sorted(out, key=lambda o: (o.observed_on, o.id), reverse=True)
