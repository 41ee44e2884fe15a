"""The effective price of one box for a customer who walks in: the headline price with the item's deal applied.

A competitor's ``¥29.8 第二件半价`` is really 22.35 a box for a customer who buys two; comparing our price with 29.8
would understate the gap. The conventions (written down in docs/decisions/2026-12-07-competitor-prices.md):

1. One quantity deal per item defines the bundle bought (units ``u``, cost ``C``): 第二件半价 → (2, 1.5p);
   第N件X折 → (n, (n−1)p + rate·p); 第二盒1元 → (2, p + 1); 买N送M → (N+M, N·p); 两盒39.8 → (2, 39.8);
   任选2盒8.5折 → (2, 2·p·0.85); 满2盒减10元 → (2, 2p − 10); 加1元多1盒 → (2, p + 1); gifts, limits and add-ons
   of another product change nothing. A coupon (领券立减10元) takes its amount off the bundle.
2. A spend threshold (满X减Y) is reached with the fewest whole bundles, at most 6 boxes (and no more than a purchase
   limit allows); 每满 rules take off Y for every X. A threshold those boxes cannot reach is a basket rule met with
   other goods: the discount is shared in proportion, p·(1 − Y/X).
3. Membership is free in Chinese pharmacies, so the lowest price a walk-in customer can reach counts member
   benefits: the printed member price, member-day discounts (会员日9折), and deals printed for members
   (会员两盒装¥50). A deal adds to a member benefit only where the poster says so (会员再享第二件半价,
   可与第二件半价同享); otherwise the customer takes the better of the two. `effective_unit_price` is the public
   (non-member) price, `member_unit_price` the lowest with member benefits.

Computed exactly in decimals and rounded half-up to the cent at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
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
        if m.type == "qty_off":
            q = int(p["qty"])
            return q, q * price - Decimal(p["off"]), m
        if m.type == "add_on" and p.get("same_item"):
            return 2, price + Decimal(p["add_price"]), m
    return 1, price, None


def _public(mechanics: Sequence[Mechanic]) -> list[Mechanic]:
    return [m for m in mechanics if m.audience == "all"]


def _unit(price: Decimal, mechanics: Sequence[Mechanic]) -> Decimal:
    """Per-box price after the deal, coupon and spend threshold among ``mechanics`` (unrounded)."""
    units, cost, _ = bundle(price, mechanics)
    coupon = max((Decimal(m.params["off"]) for m in mechanics if m.type == "coupon"), default=Decimal(0))
    if coupon < cost:
        cost -= coupon
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
                return (j * cost - off * k) / (j * units)
            j += 1
        return unit * (1 - off / threshold)
    return unit


def effective_unit_price(price: Decimal, mechanics: Sequence[Mechanic]) -> Decimal:
    """The public (non-member) price per box after the item's deal and any spend threshold (see module docstring)."""
    return _unit(price, _public(mechanics)).quantize(_CENT, rounding=ROUND_HALF_UP)


def member_unit_price(price: Decimal, member: Decimal | None, mechanics: Sequence[Mechanic]) -> Decimal:
    """The lowest price per box a customer reaches with member benefits (free to join): see the module docstring.

    The member's box price is the lowest of the printed member price and the member-day discounts; a deal printed
    for members, or printed as adding to the member benefit, is applied to it.
    """
    best = _unit(price, _public(mechanics))
    base = price if member is None else min(price, member)
    for m in mechanics:
        if m.type == "member_discount":
            base = min(base, price * Decimal(m.params["rate"]))
    best = min(best, base)
    stacked = [replace(m, audience="all") for m in mechanics if m.stacks or m.audience == "member"]
    if stacked:
        rest = [m for m in mechanics if m.type in ("limit", "coupon", "spend_x_off_y") and m.audience == "all"]
        best = min(best, _unit(base, stacked + rest))
    return best.quantize(_CENT, rounding=ROUND_HALF_UP)


def rule_text(mechanics: Sequence[Mechanic]) -> str:
    """The rules behind an effective price, as printed, joined (``第二件半价 + 满100减20``)."""
    return " + ".join(m.text for m in mechanics if m.type not in ("limit",))
