"""What one line of poster text says: prices with their labels, promotion mechanics, validity dates.

Shops print the same facts in many ways (``¥29.8``, ``29.8元/盒``, ``两盒39.8``, ``39.8元/2盒``, ``第二件半价``,
``第2盒7折``, ``买三送一``, ``每满100减10``, ``会员日全场9折``, ``活动时间：12月26日-1月5日``). Each reader here takes one
OCR line (already NFKC-normalised, spaces removed) and returns structured facts with the span of text they used,
so the layout step can tell a price line from a name line and nothing is read twice.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from resolution.text import nfkc

PriceRole = Literal["original", "current", "member", "final", "note", "pack"]
"""What a caption says a price is. Besides original / current / member: ``final`` is the 到手价 a customer pays
after a coupon (the effective price when a 活动价 is printed beside it), ``note`` a helper figure such as
``折合¥14.9/盒`` or ``单盒低至¥13.5`` (a computed per-box price, never the price on the shelf), ``pack`` a pack
price captioned ``两盒¥`` / ``3盒¥`` printed apart from its number."""
MechanicType = Literal[
    "second_half", "nth_discount", "nth_fixed_price", "buy_n_get_m", "multi_buy", "qty_discount", "qty_off", "add_on",
    "gift", "limit", "spend_x_off_y", "member_discount", "coupon",
]  # fmt: skip

_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_N = r"(?:\d{1,2}|[一二两俩三四五六七八九十])"
_UNIT = r"(?:件|盒|瓶|支|袋|包|罐|份|板|贴|个|只|提|听)"
_MONEY = r"(\d{1,5}(?:\.\d{1,2})?)"
_YUAN = r"[¥￥Y]"

ORIGINAL_LABELS = ("原价", "日常价", "门店价", "市场价", "划线价", "专柜价", "参考价", "建议零售价", "吊牌价")
CURRENT_LABELS = (
    "活动价", "现价", "特价", "秒杀价", "到手价", "惊爆价", "促销价", "限时价", "单盒", "单价", "售价", "价格", "优惠价",
    "抢购价", "折后价", "券后价", "团购价", "零售价", "狂欢价", "直降价", "疯抢价", "爆款价", "钜惠价", "巨惠价",
)  # fmt: skip
"""Captions of the price a non-member pays; ``零售价`` is current unless a promotional price sits beside it."""
MEMBER_LABELS = ("会员专享价", "会员专享", "会员再享", "会员享", "会员价", "会员", "员价", "员专享", "VIP价", "vip价")
NOTE_LABELS = ("到手均价", "均价", "折合", "单盒低至", "低至", "约合", "平均每盒", "每盒仅")
"""Captions of a helper figure: the per-box price the poster worked out for the reader (``折合¥14.9/盒``)."""
FINAL_LABELS = ("到手价", "券后价")
"""Captions of the price a customer pays after a coupon taken at the till (``券后价¥29.8`` is printed like 到手价)."""
_LABEL_RE = re.compile(
    "|".join(
        re.escape(w)
        for w in sorted((*ORIGINAL_LABELS, *CURRENT_LABELS, *MEMBER_LABELS, *NOTE_LABELS), key=len, reverse=True)
    )
)
PACK_CAPTION = re.compile(rf"(?:疗程装)?({_N})(?:{_UNIT})装?")
"""A pack-price caption printed apart from its number (``两盒¥`` above or beside a big ``39.8``)."""


def clean(text: str) -> str:
    """NFKC (full-width → half-width), no whitespace, ``：`` as ``:``; the form every reader here works on."""
    t = nfkc(text).replace("：", ":")
    return re.sub(r"\s+", "", t)


def cn_number(token: str) -> int:
    """``3`` → 3, ``三`` → 3, ``十`` → 10, ``十二`` → 12 (the small counts posters print)."""
    if token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if token.startswith("十"):
        return 10 + _CN_DIGITS.get(token[1:], 0)
    if token.endswith("十"):
        return _CN_DIGITS.get(token[:-1], 1) * 10
    return _CN_DIGITS[token]


def _rate(token: str) -> Decimal:
    """A Chinese discount ``8``/``8.5``/``95``/``半`` as a rate: 0.8, 0.85, 0.95, 0.5."""
    if token in ("半", "五"):
        return Decimal("0.5")
    if token in _CN_DIGITS:
        return Decimal(_CN_DIGITS[token]) / 10
    d = Decimal(token)
    return d / 100 if d >= 10 else d / 10


@dataclass(frozen=True)
class Mechanic:
    """A promotion rule as structured data: its type, parameters, the text it was read from and its scope."""

    type: MechanicType
    params: dict[str, Any]
    text: str
    scope: Literal["item", "poster"] = "item"
    excludes_special: bool = False
    """A poster rule printed with ``（特价商品除外）``: items priced as 特价 do not get it."""
    audience: Literal["all", "member"] = "all"
    """``member`` for a deal printed for members only (``会员第二件半价``, ``会员两盒装¥50``)."""
    stacks: bool = False
    """The poster says the deal adds to the member benefit (``会员再享第二件半价``, ``可与第二件半价同享``)."""


@dataclass(frozen=True)
class PriceMark:
    """A price printed in a line: its value, the caption printed with it (or None) and what the caption says."""

    value: Decimal
    label: str | None
    role: PriceRole | None
    """original / current / member when the caption says so; None for a bare number (decided by layout)."""
    per_unit: str | None = None
    """``盒`` in ``29.8元/盒``."""
    has_currency: bool = False
    """Printed with ¥ or 元 (a bare number is a price only by its place and size)."""


@dataclass
class LineFacts:
    """Everything one OCR line says, and how much of it was not read (the name or spec part, or noise)."""

    text: str
    prices: list[PriceMark] = field(default_factory=list)
    mechanics: list[Mechanic] = field(default_factory=list)
    dates: tuple[dt.date | None, dt.date | None] | None = None
    date_text: str | None = None
    rest: str = ""
    """The text left when prices, mechanics and dates are taken out (a product name, a spec, a caption…)."""
    caption_only: str | None = None
    """The line is only a price caption (``零售价``, ``单价¥``): it labels the price printed next to it."""


# ---------------------------------------------------------------------------------------------------- mechanics

_MECHANIC_PATTERNS: list[tuple[MechanicType, re.Pattern[str]]] = [
    # 满2盒减10元 (a count, then 减): OCR reads the small 盒 as another character (满2金减10元)
    ("qty_off", re.compile(rf"满({_N})(?:{_UNIT}|[\u4e00-\u9fff])减(\d{{1,3}}(?:\.\d)?)元?")),
    ("spend_x_off_y", re.compile(r"(全场)?(每)?满(\d{2,4})元?(?:立)?减(\d{1,3})元?")),
    # 领券立减10元: a coupon taken at the till; 领 is often read as a look-alike (特券立减3元)
    ("coupon", re.compile(r"[\u4e00-\u9fff]?券(?:后)?立?减(\d{1,3}(?:\.\d)?)元?")),
    ("member_discount", re.compile(r"((?:每周[一二三四五六日天]|每月\d{1,2}[号日])?会员日)?(全场)?(?:会员)?(?:再)?享?(\d(?:\.\d)?|\d{2})折")),
    ("add_on", re.compile(rf"加{_MONEY}元(?:(多|再得|换购同款)({_N}){_UNIT}|换购(.{{1,12}}))")),
    ("nth_fixed_price", re.compile(rf"第({_N}){_UNIT}{_YUAN}?{_MONEY}元")),
    # 第 is sometimes read as 0 (第2件半价 → 02件半价): a count with a leading zero is that 第, never goods
    ("nth_discount", re.compile(rf"(?:买{_N}{_UNIT}?)?(?:第|(?<![\d.])0(?=[2-9]))({_N})?(?:{_UNIT}|[\u4e00-\u9fff])(半价|(\d(?:\.\d)?|[一二三四五六七八九])折)")),
    ("qty_discount", re.compile(rf"(?:任选|满)?({_N}){_UNIT}(\d(?:\.\d)?)折")),
    ("buy_n_get_m", re.compile(rf"买({_N}){_UNIT}?[送赠](?:({_N}){_UNIT}?(?![\u4e00-\u9fff]{{2}})|$)")),
    ("gift", re.compile(rf"(?:买就送|再送|买({_N}){_UNIT}?送|赠送?)([\u4e00-\u9fffA-Za-z0-9]{{2,12}})")),
    ("limit", re.compile(rf"(?:每人)?限(?:购)?({_N}){_UNIT}")),
    # a count after a times sign is a spec's pack (10ml×10支, 6.5cm×10cm×8贴) even when its price is glued on
    ("multi_buy", re.compile(rf"(?<![×xX*✕\d])({_N}){_UNIT}装?(?:到手|仅需|只要|共)?:?{_YUAN}?{_MONEY}元?(?!/|\d|[a-zA-Z%*×])|{_YUAN}?{_MONEY}元?/({_N}){_UNIT}")),
]  # fmt: skip


def _mechanic(kind: MechanicType, m: re.Match[str]) -> Mechanic | None:
    text = m.group(0)
    g = m.groups()
    if kind == "spend_x_off_y":
        threshold, off = int(g[2]), int(g[3])
        if off >= threshold:
            return None
        return Mechanic(kind, {"threshold": threshold, "off": off, "stackable": bool(g[1])}, text, "poster")
    if kind == "member_discount":
        rate = _rate(g[2])
        if "会员" not in text:
            # 全场9折, or 8.8折 alone on its badge: everyone's discount (inside 第二件8折 it is part of that deal)
            alone = not m.string[: m.start()].strip(" \x01") and not m.string[m.end() :].strip(" \x01")
            if not (Decimal("0.5") <= rate < 1) or not (g[1] or alone):
                return None
            return Mechanic("qty_discount", {"qty": 1, "rate": rate}, text, "poster" if g[1] else "item")
        if not (Decimal("0.5") <= rate < 1):
            return None
        when = None
        if g[0]:
            when = g[0][:-3] or None  # 每周三会员日 → 每周三
        scope: Literal["item", "poster"] = "poster" if (g[0] or g[1]) else "item"
        return Mechanic(kind, {"rate": rate, "when": when}, text, scope)
    if kind == "add_on":
        price = Decimal(g[0])
        if g[1]:
            return Mechanic(kind, {"add_price": price, "target": None, "same_item": True}, text)
        target = g[3] or ""
        same = target.startswith("同款")
        return Mechanic(kind, {"add_price": price, "target": None if same else target, "same_item": same}, text)
    if kind == "nth_fixed_price":
        return Mechanic(kind, {"n": cn_number(g[0]), "price": Decimal(g[1])}, text)
    if kind == "nth_discount":
        n = cn_number(g[0]) if g[0] else 2  # 第盒半价: the thin 二 is the character OCR loses most often
        rate = Decimal("0.5") if g[1] == "半价" else _rate(g[2])
        if n < 2 or not (0 < rate < 1):
            return None
        if n == 2 and rate == Decimal("0.5"):
            return Mechanic("second_half", {"n": 2, "rate": rate}, text)
        return Mechanic(kind, {"n": n, "rate": rate}, text)
    if kind == "qty_discount":
        rate = _rate(g[1])
        qty = cn_number(g[0])
        if qty < 2 or not (0 < rate < 1):
            return None
        return Mechanic(kind, {"qty": qty, "rate": rate}, text)
    if kind == "buy_n_get_m":
        # 买三送 at the end of a line: the 一 after 送 is a single thin stroke that OCR drops; it is 买三送一
        return Mechanic(kind, {"buy": cn_number(g[0]), "get": cn_number(g[1]) if g[1] else 1}, text)
    if kind == "gift":
        gift = g[1]
        if re.fullmatch(rf"{_N}{_UNIT}?", gift):
            return None  # 买二送一 is buy_n_get_m
        return Mechanic(kind, {"gift": gift, "min_qty": cn_number(g[0]) if g[0] else 1}, text)
    if kind == "limit":
        return Mechanic(kind, {"max_qty": cn_number(g[0])}, text)
    if kind == "qty_off":
        count, amount = cn_number(g[0]), Decimal(g[1])
        return Mechanic(kind, {"qty": count, "off": amount}, text) if count >= 2 and amount > 0 else None
    if kind == "coupon":
        amount = Decimal(g[0])
        return Mechanic(kind, {"off": amount}, text) if amount > 0 else None
    if kind == "multi_buy":
        if g[0] is not None:
            qty, price = cn_number(g[0]), Decimal(g[1])
        else:
            qty, price = cn_number(g[3]), Decimal(g[2])
        if qty < 2 or price <= 0:
            return None
        return Mechanic(kind, {"qty": qty, "price": price}, text)
    return None


def read_mechanics(text: str) -> tuple[list[Mechanic], str]:
    """The mechanics printed in ``text`` (cleaned), and the text left after taking them out.

    Patterns are tried most specific first, each taking its span out of the text, so ``买一盒第二盒半价`` is one
    second-half rule and not also a ``买一…`` gift.
    """
    found, rest = _find_mechanics(clean(text))
    left = re.sub(r"\x01+", " ", rest).strip()
    left = re.sub(r"\(?特价(商品|品)?除外\)?|特价不参与|特价商品不参加", "", left).strip()
    return [m for _, _, m in found], left


_MEMBER_PREFIX = re.compile(r"(?:会员|VIP|vip)(?:再享|再|专享|享)?$")
_STACK_PREFIX = re.compile(r"(?:可与|与|并|可)$")
_STACK_SUFFIX = re.compile(r"^(?:同享|共享|叠加|同时享受?)")


def _find_mechanics(rest: str) -> tuple[list[tuple[int, int, Mechanic]], str]:
    """Mechanics in a cleaned line with their spans, and the line with those spans masked.

    A deal printed after ``会员`` (``会员第二件半价``, ``会员再享第二件半价``, ``会员两盒装50元``) is for members
    only, and stacks with the member price; one printed as ``可与第二件半价同享`` adds to the member-day discount.
    Those words belong to the deal's span (a lone ``会员`` left behind would read as a member-price caption).
    """
    found: list[tuple[int, int, Mechanic]] = []
    excludes = bool(re.search(r"特价(商品|品)?除外|特价不参与|特价商品不参加", rest))
    for kind, pattern in _MECHANIC_PATTERNS:
        start = 0
        while True:
            m = pattern.search(rest, start)
            if m is None:
                break
            mech = _mechanic(kind, m)
            if mech is None:
                start = m.start() + 1
                continue
            a, b = m.start(), m.end()
            if mech.scope == "poster" and excludes:
                mech = replace(mech, excludes_special=True)
            member = _MEMBER_PREFIX.search(rest[:a]) if kind != "member_discount" else None
            if member:
                mech = replace(mech, audience="member", stacks=True)
                a = member.start()
            suffix = _STACK_SUFFIX.match(rest[b:])
            if suffix:
                mech = replace(mech, stacks=True)
                b += suffix.end()
                prefix = _STACK_PREFIX.search(rest[:a])
                a = prefix.start() if prefix else a
            found.append((a, b, mech))
            rest = rest[:a] + "\x01" * (b - a) + rest[b:]
            start = b
    found.sort(key=lambda f: f[0])
    return found, rest


# ---------------------------------------------------------------------------------------------------- prices

_PRICE = re.compile(
    rf"(?P<label>{_LABEL_RE.pattern})?:?(?P<cur>{_YUAN})?(?P<num>\d{{1,5}}(?:\.\d{{1,2}})?)(?P<yuan>元)?"
    rf"(?:/(?P<unit>{_UNIT}))?"
)


def read_prices(text: str) -> tuple[list[PriceMark], str]:
    """Prices in a line (after mechanics were taken out) and the text left.

    A number is a price when it has a currency mark or caption, or when it is the whole line (``29.8``, the large
    headline number of a card); numbers inside specs (``0.3g``), dates and phone numbers are not.
    """
    t = clean(text)
    marks: list[PriceMark] = []
    rest_parts: list[str] = []
    pos = 0
    whole = re.fullmatch(r"(?:[^\d]{0,6}?)?[¥Y]?\d{1,5}(?:\.\d{1,2})?(?:元)?(?:/" + _UNIT + ")?", t)
    for m in _PRICE.finditer(t):
        num = m.group("num")
        before = t[max(0, m.start("num") - 1) : m.start("num")]
        after = t[m.end("num") : m.end("num") + 1]
        if before.isdigit() or (before == "." and not m.group("cur")):
            continue
        has_currency = bool(m.group("cur") or m.group("yuan"))
        labelled = m.group("label") is not None
        if not (has_currency or labelled or whole):
            continue
        if after and re.match(r"[a-zA-Z%×*:\-/月日号]", after) and not m.group("yuan") and not m.group("unit"):
            continue  # a strength (0.3g), a date (12-31) or a ratio
        if m.group("cur") == "Y" and not re.match(r"\d", num):
            continue
        if len(num.split(".")[0]) > 4 and "." not in num:
            continue  # a phone number or barcode piece
        value = Decimal(num)
        if value <= 0 or value >= 20000:
            continue
        label = m.group("label")
        marks.append(PriceMark(value, label, _role(label), m.group("unit"), has_currency))
        rest_parts.append(t[pos : m.start()])
        pos = m.end()
    rest_parts.append(t[pos:])
    return marks, "".join(rest_parts)


def _role(label: str | None) -> PriceRole | None:
    if label is None:
        return None
    if label in NOTE_LABELS:
        return "note"
    if label in FINAL_LABELS:
        return "final"
    if PACK_CAPTION.fullmatch(label):
        return "pack"
    if label.endswith("价") and label not in (*ORIGINAL_LABELS, *CURRENT_LABELS, *MEMBER_LABELS):
        # a caption OCR misread: 付店价 is 门店价 (the shop's everyday price), 该爆价 is 惊爆价
        original = label[0] in "原日门市" or label.endswith("店价") or label.endswith("场价")
        return "member" if "员" in label else "original" if original else "current"
    if label in MEMBER_LABELS or "会员" in label or label.lower().startswith("vip"):
        return "member"
    if label in ORIGINAL_LABELS:
        return "original"
    return "current"


def caption_of(text: str) -> str | None:
    """The price caption when the line is only a caption (``零售价``, ``单价¥``, ``会员价:``), else None."""
    t = clean(text).rstrip(":¥Y")
    m = _LABEL_RE.fullmatch(t)
    return m.group(0) if m else None


def caption_role(label: str) -> PriceRole | None:
    """What a caption says the price next to it is: original, current or member."""
    return _role(label)


# ---------------------------------------------------------------------------------------------------- dates

_DATE_RANGE = re.compile(
    r"(?:(?P<y1>20\d{2})[年./-])?(?P<m1>\d{1,2})[月./-](?P<d1>\d{1,2})日?"
    r"(?:[-~至到—]+|起至)"
    r"(?:(?P<y2>20\d{2})[年./-])?(?:(?P<m2>\d{1,2})[月./-])?(?P<d2>\d{1,2})日?"
)
_DATE_UNTIL = re.compile(r"(?:即日起)?(?:至|到|截止)(?:(?P<y>20\d{2})[年./-])?(?P<m>\d{1,2})[月./-](?P<d>\d{1,2})日?")
_DATE_WORDS = re.compile(r"活动时间|活动日期|促销期|有效期|活动期|即日起|截止|时间")


def read_dates(text: str, today: dt.date) -> tuple[dt.date | None, dt.date | None, str] | None:
    """The validity range printed in a line (``2月24日-3月10日``, ``即日起至12月31日``), years taken from ``today``.

    A range without a year that would end before it starts crosses New Year (12月26日-1月5日); a year-less date is
    put in the year that brings it nearest to ``today``. Returns None when the line holds no validity date
    (``打印日期`` and ``更新`` stamps on tags are not validity dates).
    """
    t = clean(text)
    if re.search(r"打印|更新|生产|批号|有效期至\d{4}", t):
        return None
    m = _DATE_RANGE.search(t)
    if m:
        y1 = int(m["y1"]) if m["y1"] else None
        y2 = int(m["y2"]) if m["y2"] else None
        m1, d1 = int(m["m1"]), int(m["d1"])
        m2 = int(m["m2"]) if m["m2"] else m1
        d2 = int(m["d2"])
        if not (1 <= m1 <= 12 and 1 <= m2 <= 12):
            return None
        start_year = y1 or (y2 if y2 else _nearest_year(m1, d1, today))
        end_year = y2 or (start_year if (m2, d2) >= (m1, d1) else start_year + 1)
        try:
            return dt.date(start_year, m1, d1), dt.date(end_year, m2, d2), m.group(0)
        except ValueError:
            return None
    m = _DATE_UNTIL.search(t)
    if m and (_DATE_WORDS.search(t) or "至" in m.group(0)):
        month, day = int(m["m"]), int(m["d"])
        year = int(m["y"]) if m["y"] else _nearest_year(month, day, today, future=True)
        try:
            return None, dt.date(year, month, day), m.group(0)
        except ValueError:
            return None
    return None


def _nearest_year(month: int, day: int, today: dt.date, *, future: bool = False) -> int:
    best = today.year
    best_gap: int | None = None
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            d = dt.date(year, month, day)
        except ValueError:
            continue
        gap = abs((d - today).days)
        if future and d < today - dt.timedelta(days=31):
            gap += 400
        if best_gap is None or gap < best_gap:
            best, best_gap = year, gap
    return best


TokenKind = Literal["date", "mechanic", "price", "caption", "text"]


@dataclass(frozen=True)
class Token:
    """A piece of one OCR line: what it is, its text and its span in the cleaned line (for its share of the box)."""

    kind: TokenKind
    text: str
    start: int
    end: int
    price: PriceMark | None = None
    mechanic: Mechanic | None = None
    caption: str | None = None


_NUMBER_RUN = re.compile(r"\d+\.\d+(?:\.\d+)+")
"""Two or more table cells read as one number: ``15.8010.00`` (15.80 and 10.00), ``20.913.9`` (20.9 and 13.9)."""


def split_run(run: str) -> list[str] | None:
    """The prices a run of digits and dots holds, each with the same number of decimals, or None.

    ``15.8010.00`` → [15.80, 10.00]; ``20.913.9`` → [20.9, 13.9]; ``6.505.90`` → [6.50, 5.90]. Two decimals are tried
    first; a split whose parts would start with 0 (``010.00``) is not one.
    """
    for decimals in (2, 1):
        parts: list[str] = []
        rest = run
        ok = True
        while rest:
            m = re.match(rf"(\d{{1,4}})\.(\d{{{decimals}}})", rest)
            if m is None or (len(m.group(1)) > 1 and m.group(1).startswith("0")):
                ok = False
                break
            parts.append(m.group(0))
            rest = rest[m.end() :]
        if ok and len(parts) >= 2:
            return parts
    return None


_CAPTION_TOKEN = re.compile(
    rf"(?:{_LABEL_RE.pattern})(?=$|[:¥Y\s\x01]|[^\d\u4e00-\u9fff])|(?:{_LABEL_RE.pattern})(?=[\u4e00-\u9fff])"
)
_CURRENCY_PRICE = re.compile(
    rf"(?P<label>{_LABEL_RE.pattern})?(?(label)(?:\s(?=[¥Y*]\s?\d))?)[:]?(?:(?P<cur>[¥Yv?VM*])(?:(?<=[¥Y*])\s(?=\d))?)?(?P<num>\d{{1,5}}(?:\.\d{{1,2}})?)(?P<yuan>元)?(?:/(?P<unit>{_UNIT})?)?"
)


def tokens(text: str, today: dt.date) -> list[Token]:
    """The line cut into tokens: a validity date (the whole line), mechanics, prices, price captions and text.

    Several table cells are often read as one line (``原价 活动价 会员价``, ``17¥11.5``, ``15.8010.00``,
    ``¥24.9/盒每人限购1件``); each becomes its own token, in order, so the layout can place each one.
    """
    t, index = cleaned_with_index(text)
    if read_dates(t, today) is not None:
        # a promo tag's 促销期 row and its deal badge are often read as one line: the deal is still the item's
        deals, _ = _mechanic_spans(t)
        if not deals:
            return [Token("date", t, 0, len(text))]
        cut = min(start for start, _, _ in deals)
        dated = [Token("date", t[:cut], 0, cut)] + [Token("mechanic", t[a:b], a, b, mechanic=m) for a, b, m in deals]
        return [_to_source(tok, index, len(text)) for tok in dated]
    out: list[Token] = []
    mask = list(t)
    mechanics, _ = _mechanic_spans(t)
    for start, end, mech in mechanics:
        out.append(Token("mechanic", t[start:end], start, end, mechanic=mech))
        mask[start:end] = ["\x01"] * (end - start)
    for bare_pass in (False, True):
        masked = "".join(mask)
        for m in _CURRENCY_PRICE.finditer(masked):
            mark = _price_at(masked, m, bare_pass)
            if mark is None:
                continue
            out.append(Token("price", m.group(0), m.start(), m.end(), price=mark))
            mask[m.start() : m.end()] = ["\x01"] * (m.end() - m.start())
    masked = "".join(mask)
    for m in re.finditer(r"(?:^|(?<=[\s\x01]))([\u4e00-\u9fff]{1,3}价)(?=$|[\s\x01:¥Y])", masked):
        if not _LABEL_RE.fullmatch(m.group(1)):
            # a caption OCR misread (限财价, 棕继价): a short word ending in 价 next to a price is still a caption
            out.append(Token("caption", m.group(1), m.start(1), m.end(1), caption=m.group(1)))
            mask[m.start(1) : m.end(1)] = ["\x01"] * (m.end(1) - m.start(1))
    masked = "".join(mask)
    for m in _CAPTION_TOKEN.finditer(masked):
        out.append(Token("caption", m.group(0), m.start(), m.end(), caption=m.group(0)))
        mask[m.start() : m.end()] = ["\x01"] * (m.end() - m.start())
    masked = "".join(mask)
    for m in re.finditer(
        r"(?:^|(?<=[\s\x01]))((?:疗程装)?(?:[两二三四]|[2-5])(?:盒|件|瓶|支)装?)(?=[¥Y:]|$|\s|\x01)", masked
    ):
        after = masked[m.end(1) : m.end(1) + 1]
        if m.group(1)[0] in "2345" and after not in ("¥", "Y", ":") and not m.group(1).endswith("装"):
            continue  # 2盒 alone may be a pack size; with ¥ or 装 it captions a pack price
        out.append(Token("caption", m.group(1), m.start(1), m.end(1), caption=m.group(1)))
        mask[m.start(1) : m.end(1)] = ["\x01"] * (m.end(1) - m.start(1))
    masked = "".join(mask)
    for m in re.finditer(r"[^\x01]+", masked):
        piece = m.group(0).strip(" :¥/")
        if piece and re.search(r"[0-9A-Za-z\u4e00-\u9fff]", piece):
            out.append(Token("text", m.group(0).strip(), m.start(), m.end()))
    out.sort(key=lambda tok: tok.start)
    return [_to_source(tok, index, len(text)) for tok in out]


def _to_source(tok: Token, index: list[int], n: int) -> Token:
    """The token with its span moved from the cleaned text to the OCR text it came from."""
    if not index:
        return tok
    start = index[min(tok.start, len(index) - 1)]
    end = index[min(tok.end, len(index)) - 1] + 1 if tok.end > 0 else start
    return Token(tok.kind, tok.text, start, min(max(end, start + 1), n), tok.price, tok.mechanic, tok.caption)


def cleaned_with_index(text: str) -> tuple[str, list[int]]:
    """`clean_keep_spaces` of ``text`` with two cells read as one number split, and each character's source index.

    ``15.8010.00`` → ``15.80 10.00``; the index says, for each character of the result, which OCR character it came
    from (so a token's box can be taken from the engine's character boxes).
    """
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for c in nfkc(ch).replace("：", ":"):
            if c.isspace():
                if not chars or chars[-1] == " ":
                    continue
                c = " "
            chars.append(c)
            index.append(i)
    while chars and chars[-1] == " ":
        chars.pop()
        index.pop()
    s = "".join(chars)
    for m in reversed(list(_NUMBER_RUN.finditer(s))):
        parts = split_run(m.group(0))
        if parts is None:
            continue
        k = m.start()
        for part in parts[:-1]:
            k += len(part)
            s = s[:k] + " " + s[k:]
            index.insert(k, index[k - 1])
            k += 1
    return s, index


_SPEC_END = re.compile(r"\d[a-zA-Z]*\s?[×xX*✕]\s?\d{1,3}\s?(?:片|粒|丸|支|袋|贴|包|瓶|盒|枚|只)$")
"""A line that ends in a spec's pack count (``10ml×10支``): a table's spec cell, which OCR often runs into the price
cell after it (``10mlx10支16.8``, ``0.44g*24片12.9``); a decimal right after it is that price."""


def _price_at(masked: str, m: re.Match[str], bare_pass: bool) -> PriceMark | None:
    """The price a match of `_CURRENCY_PRICE` reads, or None when it is a strength, a date, a count or noise.

    The first pass takes prices with a currency mark, ``元``, a caption or two decimals (``13.90``); the second pass
    takes bare numbers standing alone between spaces, line ends or tokens already read (``17¥11.5``: 17).
    """
    num = m.group("num")
    before = masked[max(0, m.start("num") - 1) : m.start("num")]
    after = masked[m.end("num") : m.end("num") + 1]
    if (
        before.isdigit()
        or before == "."
        or (before.isalpha() and before.isascii() and not (m.group("cur") or m.group("yuan")))
    ):
        return None
    label, cur, yuan = m.group("label"), m.group("cur"), m.group("yuan")
    alone = cur == "*" and masked[: m.start()].strip(" \x01") == "" and masked[m.end() :].strip(" \x01") == ""
    if cur and cur in "vVM*" and not label and not alone:
        return None  # ¥ read as v, V, M or * counts right after a caption (秒杀价*129) or alone on its line (*185)
    if after and re.match(r"[a-zA-Z%×*:\-月日号年]", after) and not yuan:
        return None  # a strength (0.3g), a date (12-31) or a ratio
    if after == "." and "." in num:
        return None  # 2026.02.20: a date, not a price
    two_decimals = re.fullmatch(r"\d{1,4}\.\d{2}", num) is not None
    if "." in num and after.isdigit() and not (cur or yuan or label):
        return None  # 0.520片: a strength and a count run together (0.5g×20片), never a price
    marked = bool(cur or yuan or label or two_decimals)
    if not marked and after and re.match(r"[\u4e00-\u9fff]", after) and not m.group("unit"):
        return None  # 24小时, 3号
    glued = "." in num and _SPEC_END.search(masked[: m.start()]) is not None
    if not marked and not (bare_pass and (_alone(masked, m.start(), m.end()) or glued)):
        return None
    if marked and bare_pass:
        return None  # already taken in the first pass
    if "." not in num and len(num) > 4:
        return None  # a phone number or barcode piece
    value = Decimal(num)
    if value <= 0 or value >= 20000:
        return None
    return PriceMark(value, label, _role(label), m.group("unit"), bool(cur or yuan))


def clean_keep_spaces(text: str) -> str:
    """`clean` but with runs of spaces kept as one space (they separate table cells)."""
    t = nfkc(text).replace("：", ":")
    t = re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def _alone(s: str, start: int, end: int) -> bool:
    """True when s[start:end] is bounded by the line's ends, spaces or already-read tokens."""
    left = s[start - 1] if start > 0 else " "
    right = s[end] if end < len(s) else " "
    return left in " \x01" and right in " \x01"


def _mechanic_spans(text: str) -> tuple[list[tuple[int, int, Mechanic]], str]:
    """Mechanics of a line with their spans (see `read_mechanics`)."""
    keep = [i for i, ch in enumerate(text) if not ch.isspace()]
    found, rest = _find_mechanics("".join(text[i] for i in keep))
    spans = [(keep[a], keep[b - 1] + 1, mech) for a, b, mech in found]
    return spans, rest
