"""The effective price of one box for a customer who walks in: the headline price with the item's deal applied.

A competitor's ``¥29.8 第二件半价`` is really 22.35 a box for a customer who buys two; comparing our price with 29.8
would understate the gap. The conventions (written down in docs/decisions/2026-12-10-competitor-prices.md):

1. One quantity deal per item defines the bundle bought (units ``u``, cost ``C``): 第二件半价 → (2, 1.5p);
   第N件X折 → (n, (n−1)p + rate·p); 第二盒1元 → (2, p + 1); 买N送M → (N+M, N·p); 两盒39.8 → (2, 39.8);
   任选2盒8.5折 → (2, 2·p·0.85); 加1元多1盒 → (2, p + 1); gifts, limits and add-ons of another product change nothing.
2. A spend threshold (满X减Y) is reached with the fewest whole bundles, at most 6 boxes (and no more than a purchase
   limit allows); 每满 rules take off Y for every X. A threshold that 6 boxes cannot reach is ignored.
3. Member prices and member days are not in the public price; the member price is the lowest of the public price,
   the printed member price and the member discounts.

Computed exactly in decimals and rounded half-up to the cent at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from ingest.posters.notation import Mechanic

MAX_BOXES_FOR_THRESHOLD = 6
"""A shopper buys at most this many boxes of one product to reach a spend threshold."""
_CENT = Decimal("0.01")


def bundle(price: Decimal, mechanics: Sequence[Mechanic]) -> tuple[int, Decimal, Mechanic | None]:
    """Units and cost of the purchase the item's quantity deal defines, and the deal used (None: one box)."""
    for m in mechanics:
        p = m.params
        if m.type in ("second_half", "nth_discount"):
            n = int(p["n"])
            return n, (n - 1) * price + Decimal(p["rate"]) * price, m
        if m.type == "nth_fixed_price":
            n = int(p["n"])
            return n, (n - 1) * price + Decimal(p["price"]), m
        if m.type == "buy_n_get_m":
            return int(p["buy"]) + int(p["get"]), int(p["buy"]) * price, m
        if m.type == "multi_buy":
            return int(p["qty"]), Decimal(p["price"]), m
        if m.type == "qty_discount":
            q = int(p["qty"])
            return q, q * price * Decimal(p["rate"]), m
        if m.type == "add_on" and p.get("same_item"):
            return 2, price + Decimal(p["add_price"]), m
    return 1, price, None


def effective_unit_price(price: Decimal, mechanics: Sequence[Mechanic]) -> Decimal:
    """The public (non-member) price per box after the item's deal and any spend threshold (see module docstring)."""
    units, cost, _ = bundle(price, mechanics)
    unit = cost / units
    max_qty = min((int(m.params["max_qty"]) for m in mechanics if m.type == "limit"), default=None)
    for m in mechanics:
        if m.type != "spend_x_off_y":
            continue
        threshold, off = Decimal(m.params["threshold"]), Decimal(m.params["off"])
        j = 1
        while j * units <= MAX_BOXES_FOR_THRESHOLD and (max_qty is None or j * units <= max_qty):
            if j * cost >= threshold:
                k = int(j * cost // threshold) if m.params.get("stackable") else 1
                unit = (j * cost - off * k) / (j * units)
                break
            j += 1
        break
    return unit.quantize(_CENT, rounding=ROUND_HALF_UP)


def member_unit_price(price: Decimal, member: Decimal | None, mechanics: Sequence[Mechanic]) -> Decimal:
    """A member's price per box: the lowest of the public effective price, the member price and member discounts."""
    best = effective_unit_price(price, mechanics)
    if member is not None:
        best = min(best, member)
    for m in mechanics:
        if m.type == "member_discount":
            best = min(best, price * Decimal(m.params["rate"]))
    return best.quantize(_CENT, rounding=ROUND_HALF_UP)


def rule_text(mechanics: Sequence[Mechanic]) -> str:
    """The rules behind an effective price, as printed, joined (``第二件半价 + 满100减20``)."""
    return " + ".join(m.text for m in mechanics if m.type not in ("limit",))
