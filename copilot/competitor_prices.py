"""Competitor prices in the copilot: the gap a rep can cite, the prices seen near a customer, a quote above them.

A `CompetitorPriceBook` holds, in memory, the latest price each competitor was seen asking for each of our SKUs in
each city (from `CompetitorObservation` records of the last weeks); the price check reads it on every keystroke
without a database query, and objection answers and briefings read it to say
"隔壁益丰 12-01 卖 32.35 元/盒（第二件半价），比我们的目录价低 44%" with the date and the photo behind it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from graph.model import CompetitorObservation

WINDOW_DAYS = 30
"""Observations older than this are not cited: a competitor's promotion rarely lasts longer."""

_PRICE_WORDS = re.compile(
    r"贵|便宜|价格|价钱|价位|降价|让价|特价|促销|打折|折扣|隔壁|别家|竞品|同行|对面|比.{0,6}[低高]"
)


def is_price_objection(text: str) -> bool:
    """True when an objection is about price (贵, 便宜, 隔壁, 降价 …): then competitor prices are worth showing."""
    return _PRICE_WORDS.search(text) is not None


@dataclass(frozen=True)
class Sighting:
    """A competitor's latest price for one of our SKUs in one city, and the evidence (observation and photo)."""

    sku: str
    competitor: str
    city: str | None
    customer_id: str | None
    observed_on: dt.date
    current_price: float
    effective_price: float
    rule: str
    observation_id: str
    photo_id: str

    def gap_pct(self, our_price: float | None) -> float | None:
        """(ours − theirs) / theirs × 100; None without a price of ours."""
        if our_price is None or not self.effective_price:
            return None
        return round((our_price - self.effective_price) / self.effective_price * 100, 1)

    def text(self, product_name: str, our_price: float | None = None, our_label: str = "我方目录价") -> str:
        """One line a rep can say, with date, deal and gap (Chinese)."""
        deal = f"（{self.rule}）" if self.rule else ""
        where = f"{self.city} " if self.city else ""
        line = (
            f"{where}{self.competitor} {self.observed_on:%m-%d} 拍到 {product_name} 标价 {self.current_price:.2f} 元，"
            f"到手 {self.effective_price:.2f} 元/盒{deal}"
        )
        gap = self.gap_pct(our_price)
        if gap is not None and our_price is not None:
            word = "高" if gap > 0 else "低"
            line += f"；{our_label} {our_price:.2f} 元，比它{word} {abs(gap):.0f}%"
        return line


class CompetitorPriceBook:
    """Latest competitor price per (SKU, competitor, city), in memory; rebuilt when observations change."""

    def __init__(self, observations: Iterable[CompetitorObservation] = ()) -> None:
        self._latest: dict[tuple[str, str, str | None], Sighting] = {}
        for o in observations:
            self.add(o)

    def add(self, o: CompetitorObservation) -> None:
        """Take an observation into account (only one tied to our SKU, with a price, counts)."""
        if o.sku is None or o.resolution not in ("matched", "corrected") or o.current_price is None:
            return
        key = (o.sku, o.competitor or "未知竞品", o.city)
        effective = o.effective_price if o.effective_price is not None else o.current_price
        s = Sighting(o.sku, key[1], o.city, o.customer_id, o.observed_on, o.current_price, effective, o.rule, o.id,
                     o.photo_id)  # fmt: skip
        found = self._latest.get(key)
        if found is None or (s.observed_on, s.observation_id) > (found.observed_on, found.observation_id):
            self._latest[key] = s

    def __len__(self) -> int:
        return len(self._latest)

    def sightings(
        self,
        sku: str,
        *,
        city: str | None = None,
        customer_id: str | None = None,
        today: dt.date,
        days: int = WINDOW_DAYS,
    ) -> list[Sighting]:
        """Latest prices of ``sku`` seen in the last ``days``, nearby first (same customer's photos, same city)."""
        since = today - dt.timedelta(days=days)
        found = [
            s for (k_sku, _, _), s in self._latest.items()
            if k_sku == sku and s.observed_on >= since
            and (city is None or s.city == city or (customer_id is not None and s.customer_id == customer_id))
        ]  # fmt: skip
        return sorted(found, key=lambda s: (s.customer_id != customer_id, s.effective_price, s.competitor))

    def near(
        self, *, city: str | None, customer_id: str | None, today: dt.date, days: int = WINDOW_DAYS
    ) -> list[Sighting]:
        """Every SKU's latest prices seen near a customer in the last ``days`` (its own photos and its city)."""
        since = today - dt.timedelta(days=days)
        found = [
            s for s in self._latest.values()
            if s.observed_on >= since
            and ((city is not None and s.city == city) or (customer_id and s.customer_id == customer_id))
        ]  # fmt: skip
        return sorted(found, key=lambda s: (s.sku, s.effective_price))

    def cheapest_below(
        self, sku: str, price: float, *, city: str | None, customer_id: str | None, today: dt.date
    ) -> Sighting | None:
        """The cheapest competitor price nearby below ``price`` (a quote above what a competitor asks), or None."""
        below = [
            s for s in self.sightings(sku, city=city, customer_id=customer_id, today=today) if s.effective_price < price
        ]
        return min(below, key=lambda s: s.effective_price) if below else None
