"""The competitor price matrix: per SKU × competitor × city, the latest price seen, against ours.

Built from `CompetitorObservation` records (photos of competitors' posters and tags, `ingest.competitor_prices`).
A cell keeps the newest observation (its date, photo and crop, so a rep can show the evidence), how many were seen
before and the previous price, our price for the customer type asked about, the gap in percent and how stale the
observation is. Only observations tied to one of our SKUs count (those in review or not ours are left out).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from graph.model import CompetitorObservation

STALE_AFTER_DAYS = 30
"""An observation older than this is flagged stale: the competitor may have changed the price since."""


@dataclass(frozen=True)
class OurPrice:
    """Our price for a SKU and what it is (``list``: the list price; ``orders``: recent orders of the segment)."""

    value: float
    basis: str


@dataclass(frozen=True)
class MatrixCell:
    """One SKU × competitor × city: the latest competitor price with its evidence, ours, the gap and staleness."""

    sku: str
    product_name: str
    competitor: str
    city: str | None
    region: str | None
    observed_on: dt.date
    current_price: float | None
    effective_price: float | None
    member_price: float | None
    rule: str
    observation_id: str
    photo_id: str
    quad: str
    our_price: float | None
    our_price_basis: str | None
    gap_pct: float | None
    """(our price − their effective price) / their effective price × 100: positive when we are dearer."""
    days_old: int
    stale: bool
    seen: int
    """Observations of this cell in all (the history behind it)."""
    previous_price: float | None
    previous_on: dt.date | None


def _competitor(o: CompetitorObservation) -> str:
    return o.competitor or "未知竞品"


def competitor_matrix(
    observations: Iterable[CompetitorObservation],
    *,
    product_names: dict[str, str],
    our_price: Callable[[str], OurPrice | None],
    today: dt.date,
    stale_after_days: int = STALE_AFTER_DAYS,
) -> list[MatrixCell]:
    """The matrix cells, by SKU then competitor then city; ``our_price(sku)`` gives our price to compare with."""
    groups: dict[tuple[str, str, str | None], list[CompetitorObservation]] = {}
    for o in observations:
        if o.sku is None or o.resolution not in ("matched", "corrected") or o.current_price is None:
            continue
        groups.setdefault((o.sku, _competitor(o), o.city), []).append(o)
    cells: list[MatrixCell] = []
    prices: dict[str, OurPrice | None] = {}
    for (sku, competitor, city), obs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")):
        obs.sort(key=lambda o: (o.observed_on, o.id), reverse=True)
        latest = obs[0]
        previous = next((o for o in obs[1:] if o.effective_price != latest.effective_price), None)
        if sku not in prices:
            prices[sku] = our_price(sku)
        ours = prices[sku]
        theirs = latest.effective_price if latest.effective_price is not None else latest.current_price
        gap = None
        if ours is not None and theirs:
            gap = round((ours.value - theirs) / theirs * 100, 1)
        days = (today - latest.observed_on).days
        cells.append(
            MatrixCell(
                sku=sku,
                product_name=product_names.get(sku, sku),
                competitor=competitor,
                city=city,
                region=latest.region,
                observed_on=latest.observed_on,
                current_price=latest.current_price,
                effective_price=latest.effective_price,
                member_price=latest.member_price,
                rule=latest.rule,
                observation_id=latest.id,
                photo_id=latest.photo_id,
                quad=latest.quad,
                our_price=ours.value if ours else None,
                our_price_basis=ours.basis if ours else None,
                gap_pct=gap,
                days_old=days,
                stale=days > stale_after_days,
                seen=len(obs),
                previous_price=(previous.effective_price or previous.current_price) if previous else None,
                previous_on=previous.observed_on if previous else None,
            )
        )
    return cells


CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("sku", "SKU"), ("product_name", "商品"), ("competitor", "竞品门店"), ("city", "城市"),
    ("observed_on", "观察日期"), ("current_price", "标价"), ("effective_price", "到手单价"), ("rule", "活动规则"),
    ("member_price", "会员价"), ("our_price", "我方价格"), ("our_price_basis", "我方价格依据"), ("gap_pct", "价差%"),
    ("days_old", "距今天数"), ("stale", "已过时"), ("seen", "观察次数"), ("previous_price", "上次价格"),
    ("previous_on", "上次日期"), ("photo_id", "照片"), ("observation_id", "记录"),
)  # fmt: skip


def matrix_csv(cells: Iterable[MatrixCell]) -> str:
    """The matrix as CSV (UTF-8 with BOM for Excel, Chinese headers); text cells cannot start a formula."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([title for _, title in CSV_COLUMNS])
    for c in cells:
        row = []
        for name, _ in CSV_COLUMNS:
            v = getattr(c, name)
            text = "" if v is None else ("是" if v is True else "否" if v is False else str(v))
            if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
                text = "'" + text
            row.append(text)
        writer.writerow(row)
    return out.getvalue()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
