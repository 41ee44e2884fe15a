"""Items of a poster or price tag from its OCR lines: product text, prices, mechanics, effective price, region.

Each line is first read on its own (`ingest.posters.notation`): a validity date, a poster-wide rule, a price caption,
a price, an item mechanic, a strength/pack, a product name, or something else (titles, slogans, phone numbers…).
Product names are the anchors: every price, caption, spec and mechanic line is given to the name whose card, row or
column it sits in — the same row to the right (tables, lists), or below in the same column (cards, tags) — measured
on boxes rotated upright (`ingest.posters.layout`). A name that gets no price is not an item (a title, the brand on a
drawn package). Prices then get their roles from their captions and sizes: the largest bare number is the headline
price; a higher one beside it is the struck original.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from rapidfuzz import fuzz

from ingest.posters.effective import effective_unit_price, member_unit_price, rule_text
from ingest.posters.layout import Box, deskew, text_angle, upright_box
from ingest.posters.notation import (
    CURRENT_LABELS,
    Mechanic,
    Token,
    caption_role,
    clean,
    clean_keep_spaces,
    read_dates,
    tokens,
)
from ingest.posters.ocr import OcrLine, Point, mend_prices
from resolution.dosage_forms import strip_form
from resolution.drug_names import SPEC
from resolution.text import has_cjk, is_cjk, normalize

LineKind = Literal["name", "spec", "price", "caption", "mechanic", "rule", "date", "shop", "other"]

_STOP = re.compile(
    r"电话|热线|地址|扫一扫|扫码|微信|二维码|温馨提示|仅供参考|以实物为准|欢迎|活动|狂欢|盛典|店庆|周年|大促|特卖|"
    r"积分|充值|配送|送药|包邮|免费|详询|咨询|药师|请在|请按|遵医嘱|说明书|禁忌|不良反应|物价|监制|举报|12315|产地|"
    r"规格|单位|品名|更新|打印|条码|价签|标价签|爆款|热卖|推荐|新品|抢购|秒杀|特惠|钜惠|巨惠|优惠|福利|限时|劲爆|"
    r"价格|惊爆|心动|清仓|全场|到店|进店|选购|更多|门店|分店|总店|旗舰|健康|守护|关爱|呵护|品质|正品|保障|放心|"
    r"营业|时间|有效期|促销|零售|会员|专享|日常|特价|原价|现价|活动价|售价|注意|本店|本品|以上|每人|限购|节日|"
    r"春节|国庆|中秋|元旦|双11|双12|618|年货|换季|开学|感恩|回馈|新春|年终|HOT|NEW|SALE|处方|甲类|乙类|专场|专区|"
    r"除外|商品|备注|敬请期待|一站|购齐|医保|个账|支付|大牌|好药|常备|必备|家庭|药箱|惠民|实惠|超值|低至|直降"
)
"""Words that make a line a slogan, caption or boilerplate rather than a product name."""
_SHOP = re.compile(
    r"([\u4e00-\u9fff]{2,10}(?:大药房|药房|药店|医药连锁|药堂|大药店))[·\s]*(?:\(?([\u4e00-\u9fff]{2,8}店)\)?)?"
    r"|^([\u4e00-\u9fff]{2,5})[·\s]?([\u4e00-\u9fff]{2,8}(?:路|街|道|广场|镇|区|村)[\u4e00-\u9fff]{0,3}店|[\u4e00-\u9fff]{2,6}分?店)$"
)
_UNIT_CHARS = frozenset("元盒瓶支袋包粒片丸贴件罐")
"""Characters that alone never make a name (``元/盒`` left over from a split price)."""
_BRACKETS = re.compile(r"[()（）【】\[\]〔〕「」]")
_SPEC_FULL = re.compile(rf"^(?:{SPEC.pattern})(?:/[\u4e00-\u9fff])?$", re.IGNORECASE)


_SLOGAN = re.compile(
    r"券|公众号|关注|满\d+元?[送免]|首单|立减\d*元?$|领券|优惠券|新客|新人|配送费|免配送|包邮|充值|积分|抵\d|扫码|扫一扫|送药上门|电话|热线|地址|营业|"
    r"咨询|解释权|温馨提示|仅供参考|以实物为准|举报|12315|打印日期|更新"
)
"""Lines that are shop boilerplate even when they hold a number (``新会员首单立减5元``, ``满39元免配送费``)."""
_FIELD = re.compile(
    r"^(品名|名称|商品名称?|通用名称?|药品名称|规格|产地|单位|厂家|生产企业|生产厂家|等级|批准文号|物价员|条码)[:：]?"
)


@dataclass
class Line:
    """One piece of an OCR line (a token) with what it says and where it sits upright.

    A line read across several table cells (``原价 活动价 会员价``, ``15.8010.00``) becomes several pieces, each with
    its share of the line's box, so that each is placed on its own.
    """

    index: int
    line_index: int
    ocr: OcrLine
    box: Box
    token: Token
    kind: LineKind = "other"
    name: str = ""
    """The product-name part of a name piece (brackets kept as printed)."""
    spec: str = ""
    """The strength/pack part of a name or spec piece."""
    strength: int = 0
    """How sure a name piece is a product name: 2 (a dosage form word, or a known brand/generic), 1 (plausible)."""
    anchor: int | None = None
    """Index of the name piece this piece was given to."""
    line_text: str = ""
    height: float = 0.0
    """Height of the piece as read (a name's box may grow when a wrapped line is joined; this does not)."""

    @property
    def caption(self) -> str | None:
        """The caption when the piece is a price caption."""
        return self.token.caption if self.kind == "caption" else None


@dataclass(frozen=True)
class PosterItem:
    """One product offered on the poster or tag, with its prices, deal and where it is in the photo."""

    text: str
    """Product name + strength/pack as printed (a name wrapped over two lines re-joined)."""
    name: str
    spec: str | None
    original: Decimal | None
    current: Decimal | None
    member: Decimal | None
    price_labels: dict[str, str | None]
    mechanics: tuple[Mechanic, ...]
    effective_unit_price: Decimal | None
    effective_member_price: Decimal | None
    rule: str
    """The printed rules behind the effective price (``第二件半价 + 满100减20``)."""
    quad: tuple[Point, Point, Point, Point]
    """The item's region in the photo's pixels (the boxes of its lines, rotated back like the photo)."""
    line_indexes: tuple[int, ...]
    confidence: float
    """Lowest OCR confidence of the name and the headline price."""

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Axis-aligned box around `quad`."""
        xs = [p[0] for p in self.quad]
        ys = [p[1] for p in self.quad]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True)
class PosterReading:
    """Everything read from one photo: items, poster-wide rules, validity, the shop's name and the raw lines."""

    items: tuple[PosterItem, ...]
    poster_rules: tuple[Mechanic, ...]
    valid_from: dt.date | None
    valid_to: dt.date | None
    date_text: str | None
    shop: str | None
    branch: str | None
    lines: tuple[OcrLine, ...]
    angle_degrees: float
    kinds: tuple[str, ...] = field(default=())
    """What each OCR line was read as (name, price, caption, …), index-aligned with ``lines``."""


def read_items(lines: Sequence[OcrLine], *, today: dt.date, known_names: Collection[str] = ()) -> PosterReading:
    """Group OCR lines into items (see the module docstring); ``known_names`` (brands, generics) help spot names."""
    lines = mend_prices(lines)
    angle = text_angle(lines)
    boxes = deskew(lines, angle)
    known = tuple(sorted({clean(n) for n in known_names if len(clean(n)) >= 2}, key=len, reverse=True))
    ls: list[Line] = []
    for i, ln in enumerate(lines):
        ls.extend(_pieces(i, ln, boxes[i], angle, today, known, start=len(ls)))
    _join_raised_decimals(ls)
    _merge_wrapped_names(ls)
    _drop_package_brands(ls)
    _drop_merchandise_above_tag(ls)
    reach = _attach_specs(ls)
    _assign(ls, reach)
    rules = [ln.token.mechanic for ln in ls if ln.kind == "rule" and ln.token.mechanic is not None]
    rules = list({(m.type, str(m.params)): m for m in rules}.values())
    headers = _header_captions(ls)
    items = [it for it in (_item(ls, a, rules, headers, angle) for a in ls if a.kind == "name") if it is not None]
    date_line = next((ln for ln in ls if ln.kind == "date"), None)
    shop_line = next((ln for ln in ls if ln.kind == "shop"), None)
    dates = read_dates(date_line.line_text, today) if date_line else None
    shop = branch = None
    if shop_line is not None:
        m = _SHOP.search(shop_line.line_text)
        if m:
            shop, branch = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return PosterReading(
        items=tuple(items),
        poster_rules=tuple(rules),
        valid_from=dates[0] if dates else None,
        valid_to=dates[1] if dates else None,
        date_text=date_line.ocr.text if date_line else None,
        shop=shop,
        branch=branch,
        lines=tuple(lines),
        angle_degrees=math.degrees(angle),
        kinds=tuple(_line_kinds(ls, len(lines))),
    )


# ---------------------------------------------------------------------------------------------------- classify


def _name_strength(text: str, known: Sequence[str]) -> int:
    """2: a product name for sure, 1: could be one, 0: not a name."""
    t = _BRACKETS.sub("", text)
    cjk = sum(1 for ch in t if is_cjk(ch) and ch not in _UNIT_CHARS)
    if cjk < 2 or _STOP.search(t) or re.search(r"\d元", t):
        return 0
    if _SHOP.search(t):
        return 0
    _, word, _ = strip_form(re.sub(r"[^\u4e00-\u9fff]+$", "", t))
    if word is not None and cjk >= 3:
        return 2
    if any(k in t for k in known):
        return 2
    if re.search(r"\d", t) and not _SPEC_FULL.search(t):
        return 0 if cjk < 3 else 1
    return 1


def _split_name_spec(rest: str) -> tuple[str, str]:
    """A line's leftover text as (name, spec): ``以岭连花清瘟胶囊0.35g*24粒`` → name and ``0.35g*24粒``."""
    specs = [m for m in SPEC.finditer(rest) if re.search(r"[a-zA-Z\u4e00-\u9fff%]", m.group(0))]
    if not specs:
        return rest, ""
    # a combination pack is printed with "+" (云南白药气雾剂 85g+30g: the can and its refill): one spec, "+" kept
    spans = [[specs[0].start(), specs[0].end()]]
    for m in specs[1:]:
        if rest[spans[-1][1] : m.start()].strip() == "+":
            spans[-1][1] = m.end()
        else:
            spans.append([m.start(), m.end()])
    spec = "".join(re.sub(r"\s*\+\s*", "+", rest[a:b]) for a, b in spans)
    name = rest
    for a, b in reversed(spans):
        name = name[:a] + " " + name[b:]
    return name.strip(" /"), spec


def _weights(text: str) -> list[float]:
    """Printed width of each character relative to a CJK character (digits and Latin letters are about half)."""
    return [1.0 if is_cjk(ch) or ch in "¥￥" else 0.3 if ch in " .:/" else 0.55 for ch in text]


def _sub_box(box: Box, text: str, start: int, end: int) -> Box:
    """The part of a line's box holding characters ``start:end`` of its text."""
    w = _weights(text)
    total = sum(w) or 1.0
    x0 = box.x0 + box.w * sum(w[:start]) / total
    x1 = box.x0 + box.w * sum(w[:end]) / total
    return Box(x0, box.y0, max(x1, x0 + 1), box.y1)


def _piece_box(ocr: OcrLine, box: Box, angle: float, start: int, end: int) -> Box:
    """The upright box of characters ``start:end`` of an OCR line.

    From the engine's character boxes when it gave them, else the line's box cut in proportion to the characters'
    printed widths.
    """
    if start <= 0 and end >= len(ocr.text):
        return box
    if ocr.chars is not None and len(ocr.chars) == len(ocr.text):
        pts = [p for q in ocr.chars[start:end] for p in q]
        if pts:
            b = upright_box(pts, angle)
            return Box(b.x0, box.y0, b.x1, box.y1)
    return _sub_box(box, ocr.text, start, end)


def _pieces(
    i: int, ocr: OcrLine, box: Box, angle: float, today: dt.date, known: Sequence[str], *, start: int
) -> list[Line]:
    """The pieces of one OCR line, each classified: date, rule, mechanic, price, caption, name, spec, shop, other."""
    toks = tokens(ocr.text, today)
    out: list[Line] = []
    slogan = _SLOGAN.search(clean(ocr.text)) is not None
    shop = _SHOP.search(clean(ocr.text)) is not None
    for tok in toks:
        piece_box = _piece_box(ocr, box, angle, tok.start, tok.end)
        ln = Line(start + len(out), i, ocr, piece_box, tok, line_text=clean(ocr.text), height=piece_box.h)
        out.append(ln)
        if tok.kind == "date":
            ln.kind = "date"
        elif slogan:
            ln.kind = "other"
        elif tok.kind == "mechanic" and tok.mechanic is not None:
            ln.kind = "rule" if tok.mechanic.scope == "poster" else "mechanic"
        elif tok.kind == "price":
            ln.kind = "other" if tok.text in known else "price"  # 999 is a brand, not a price
        elif tok.kind == "caption":
            ln.kind = "caption"
        elif shop:
            ln.kind = "shop"
        else:
            _classify_text(ln, tok.text, known)
    return out


def _classify_text(ln: Line, text: str, known: Sequence[str]) -> None:
    """A text piece: a product name (with its spec when printed on the same line), a spec, or other text."""
    t = clean(text)
    field = _FIELD.match(t)
    forced = False
    if not field:
        t = clean_keep_spaces(text)  # a name keeps the spaces it was printed with (格华止 二甲双胍片)
    if field:
        word = field.group(1)
        t = t[field.end() :]
        if word == "规格":
            if SPEC.search(t):
                ln.kind, ln.spec = "spec", t
            return
        if word not in ("品名", "名称", "商品名", "商品名称", "通用名", "通用名称", "药品名称"):
            return
        forced = True
    t = re.sub(r"^[Ss](?=(?:g|mg|ml)\b)", "5", t)  # 5g read as Sg
    name, spec = _split_name_spec(t)
    strength = _name_strength(name, known) if name else 0
    if forced and name and sum(1 for ch in name if is_cjk(ch)) >= 2:
        strength = max(strength, 2)
    if strength:
        ln.kind, ln.name, ln.spec, ln.strength = "name", name, spec, strength
    elif spec and len(re.sub(r"[\s/*×xX:]", "", name)) <= 1:
        ln.kind, ln.spec = "spec", spec + re.sub(r"[\s/*×xX:]", "", name)  # 0.3g*20位: a misread pack word


def _line_kinds(ls: Sequence[Line], n: int) -> list[str]:
    """What each OCR line was read as: the kinds of its pieces joined with ``+`` (``name``, ``price+mechanic``)."""
    kinds: list[list[str]] = [[] for _ in range(n)]
    for ln in ls:
        kinds[ln.line_index].append(ln.kind)
    return ["+".join(dict.fromkeys(k)) or "other" for k in kinds]


_DECIMALS = re.compile(r"^[.·,]?(\d{1,2})$")


def _join_raised_decimals(ls: list[Line]) -> None:
    """``¥44`` with a small raised ``.50`` (or ``50``) printed after it is 44.50: join the cents to the price.

    Posters print the cents smaller and higher (``¥29.⁸``); the OCR often reads them as a separate line.
    """
    for p in ls:
        mark = p.token.price
        if p.kind != "price" or mark is None or "." in p.token.text:
            continue
        h = max(p.box.h, 1.0)
        for q in ls:
            if q is p or q.kind not in ("other", "price") or q.line_index == p.line_index:
                continue
            m = _DECIMALS.match(clean(q.token.text))
            if m is None or q.box.h >= 0.8 * h:
                continue
            if not (p.box.x1 - 0.6 * h <= q.box.x0 <= p.box.x1 + 0.4 * h):
                continue
            if not (p.box.y0 - 0.3 * h <= q.box.y0 and q.box.cy <= p.box.cy + 0.15 * h):
                continue
            digits = m.group(1)
            cents = Decimal(digits) / (100 if len(digits) == 2 else 10)
            p.token = Token(p.token.kind, p.token.text + "." + digits, p.token.start, p.token.end,
                            price=replace(mark, value=mark.value + cents), caption=p.token.caption)  # fmt: skip
            p.box = p.box.union(q.box)
            q.kind = "other"
            q.token = Token("text", "", q.token.start, q.token.end)
            break


def _attach_specs(ls: list[Line]) -> dict[int, Box]:
    """Give each name without a spec the spec printed right below it; returns each name's reach (name + spec box).

    The reach is what "the same row" is measured against: a table row's name often sits on two lines (name, then
    spec), and the row's prices are level with the pair, not with the name alone.
    """
    reach: dict[int, Box] = {}
    specs = [ln for ln in ls if ln.kind == "spec" and ln.anchor is None]
    for a in ls:
        if a.kind != "name":
            continue
        box = a.box
        if not a.spec:
            h = max(a.box.h, 1.0)
            below = [
                sp for sp in specs
                if sp.anchor is None and sp.box.x_overlap(a.box) > 0 and -0.3 * h <= sp.box.y0 - a.box.y1 <= 0.8 * h
                and abs(sp.box.x0 - a.box.x0) <= 2 * h
            ]  # fmt: skip
            if below:
                sp = min(below, key=lambda x: x.box.y0)
                a.spec = sp.spec
                sp.anchor = a.index
                box = box.union(sp.box)
        reach[a.index] = box
    return reach


def _merge_wrapped_names(ls: list[Line]) -> None:
    """Join a name wrapped onto a second line (``以岭连花清瘟`` / ``胶囊``) into the first line."""
    names = sorted((ln for ln in ls if ln.kind == "name"), key=lambda ln: ln.box.y0)
    for a in names:
        if a.kind != "name":
            continue
        for b in names:
            if b is a or b.kind != "name" or b.box.y0 <= a.box.y0:
                continue
            h = max(a.box.h, 1.0)
            if not (0 <= b.box.y0 - a.box.y1 <= 0.6 * h and abs(b.box.h - a.box.h) <= 0.35 * h):
                continue
            if abs(b.box.x0 - a.box.x0) > 1.5 * h and b.box.x_overlap(a.box) < 0.5:
                continue
            _, a_word, _ = strip_form(a.name)
            joined = a.name + b.name
            _, j_word, _ = strip_form(joined)
            bracketed = re.fullmatch(r"\([^()]{1,8}\)", normalize(b.name)) is not None
            if bracketed or (a_word is None and (j_word is not None or len(b.name) <= 4) and not a.spec):
                a.name, a.spec = joined, b.spec or a.spec
                a.box = a.box.union(b.box)
                b.kind, b.anchor = "other", a.index
                break


def _drop_package_brands(ls: list[Line]) -> None:
    """A name whose text is (nearly) inside a fuller name nearby is the brand on the drawn package: not a name."""
    names = [ln for ln in ls if ln.kind == "name"]
    for x in names:
        if x.spec:
            continue
        xt = _BRACKETS.sub("", x.name)
        for y in names:
            if y is x or y.kind != "name":
                continue
            yt = _BRACKETS.sub("", y.name)
            fuller = len(yt) > len(xt) or (len(yt) == len(xt) and (bool(y.spec) or y.box.h > x.box.h))
            if not fuller:
                continue
            h = max(y.box.h, x.box.h, 1.0)
            near = abs(x.box.cy - y.box.cy) <= 4 * h and (x.box.x_gap(y.box) <= 12 * h)
            if near and fuzz.partial_ratio(xt, yt) >= 60:
                x.kind = "other"
                break


_NAME_FIELD = re.compile(r"^(品名|商品名称?|通用名称?|药品名称)[:：]?")


def _drop_merchandise_above_tag(ls: list[Line]) -> None:
    """On a shelf tag the product is the one its 品名 field names: a bare brand above the tag is a box on the shelf.

    A shelf-tag photo shows the boxes standing on the shelf above the tag, and their brand words (可定, 扬子江) read
    as names. A name printed above the tag's 品名 field with neither a dosage-form word nor a spec is such a brand,
    when the tag itself names a product (a name with a form word or a spec) at or below its 品名 field.
    """
    fields = [ln for ln in ls if _NAME_FIELD.match(ln.line_text)]
    if not fields:
        return
    top = min(f.box.y0 for f in fields)
    h = max(f.box.h for f in fields)
    names = [ln for ln in ls if ln.kind == "name"]
    on_tag = [n for n in names if n.box.y1 > top - 0.5 * h and (n.spec or strip_form(n.name)[1] is not None)]
    if not on_tag:
        return
    for n in names:
        if n.box.y1 <= top and not n.spec and strip_form(n.name)[1] is None:
            n.kind = "other"


# ---------------------------------------------------------------------------------------------------- assign


def _cost(anchor: Box, b: Box) -> float:
    """How far a piece is from a name, in text heights: the same row to the right is near, so is the column below."""
    h = max(anchor.h, b.h, 1.0)
    if b.y_overlap(anchor) >= 0.5 and b.x0 >= anchor.x0 - h:
        return 0.25 * b.x_gap(anchor) / h
    dy = (b.y0 - anchor.y1) / h
    dx = 0.0 if b.x_overlap(anchor) > 0 else b.x_gap(anchor) / h
    if dy < -0.5:
        return 12 + abs(dy) + 2 * dx
    return max(dy, 0.0) + 2 * dx


_MAX_COST = 10.0


def _assign(ls: list[Line], reach: dict[int, Box]) -> None:
    """Give every price, caption, mechanic and spec piece to the nearest name (`_cost`), within reach."""
    anchors = [ln for ln in ls if ln.kind == "name"]
    if not anchors:
        return
    for ln in ls:
        if ln.kind not in ("price", "caption", "mechanic", "spec") or ln.anchor is not None:
            continue
        best = min(anchors, key=lambda a: _cost(reach.get(a.index, a.box), ln.box))
        if _cost(reach.get(best.index, best.box), ln.box) <= _MAX_COST:
            ln.anchor = best.index


# ---------------------------------------------------------------------------------------------------- items


def _caption_for(price: Line, captions: Sequence[Line], headers: Sequence[Line]) -> str | None:
    """The caption printed for a bare price: on its left in the same row, just above it, or its column's header."""
    best: tuple[float, str] | None = None
    h = max(price.box.h, 1.0)
    for c in captions:
        if c.caption is None:
            continue
        d: float | None = None
        if c.box.y_overlap(price.box) >= 0.3 and c.box.x1 <= price.box.x0 + 0.5 * h:
            d = (price.box.x0 - c.box.x1) / h
            d = d if d <= 1.5 else None
        elif c.box.x_overlap(price.box) > 0.3 and -0.2 * h <= price.box.y0 - c.box.y1 <= 0.8 * h:
            d = (price.box.y0 - c.box.y1) / h + 0.5
        if d is not None and (best is None or d < best[0]):
            best = (d, c.caption)
    if best:
        return best[1]
    column: tuple[float, str] | None = None
    for c in headers:
        if c.caption is None or c.box.y1 > price.box.y0:
            continue
        dx = abs(c.box.cx - price.box.cx)
        if dx <= max(c.box.w, price.box.w) * 0.75:
            key = (price.box.y0 - c.box.y1) + dx
            if column is None or key < column[0]:
                column = (key, c.caption)
    return column[1] if column else None


def _header_captions(ls: Sequence[Line]) -> list[Line]:
    """Captions in a table's header row: a row holding two or more captions (``原价 活动价 会员价``)."""
    caps = [ln for ln in ls if ln.kind == "caption"]
    return [c for c in caps if sum(1 for o in caps if o is not c and o.box.y_overlap(c.box) >= 0.5) >= 1]


_PROMO_LABELS = frozenset(CURRENT_LABELS) - {"零售价", "售价", "价格", "单价", "单盒"}


def _roles(
    prices: list[Line], captions: Sequence[Line], headers: Sequence[Line]
) -> tuple[dict[str, Decimal | None], dict[str, str | None], Line | None]:
    """Original, current and member price of an item, their captions, and the piece of the headline price."""
    marks: list[tuple[Decimal, str | None, str | None, Line]] = []  # value, label, role, piece
    for ln in prices:
        mark = ln.token.price
        if mark is None:
            continue
        label = mark.label or _caption_for(ln, captions, headers)
        marks.append((mark.value, label, caption_role(label) if label else None, ln))
    out: dict[str, Decimal | None] = {"original": None, "current": None, "member": None}
    labels: dict[str, str | None] = {"original": None, "current": None, "member": None}
    cur: tuple[Decimal, str | None, str | None, Line] | None = None
    promo = [m for m in marks if m[2] == "current" and m[1] in _PROMO_LABELS]
    if promo:
        cur = max(promo, key=lambda m: m[3].box.h)
    else:
        # 零售价 29.8 beside a bigger bare ¥19.9: the headline (the largest print) is what a customer pays now
        plain = [m for m in marks if m[2] in ("current", None)]
        if plain:
            cur = max(plain, key=lambda m: (round(m[3].box.h / 4), m[2] == "current", -m[0]))
    if cur is not None:
        out["current"], labels["current"] = cur[0], cur[1]
    for m in marks:
        value, label, role, _ = m
        if m is cur:
            continue
        if role == "member" and out["member"] is None:
            out["member"], labels["member"] = value, label
        elif role == "original" and out["original"] is None:
            out["original"], labels["original"] = value, label
        elif role in ("current", None) and out["current"] is not None and value > out["current"]:
            if out["original"] is None:
                out["original"], labels["original"] = value, label
    if out["current"] is None and out["original"] is not None:
        out["current"], labels["current"] = out["original"], labels["original"]
        out["original"], labels["original"] = None, None
    if out["current"] is None and out["member"] is not None:
        out["current"], labels["current"] = out["member"], labels["member"]
        out["member"], labels["member"] = None, None
    return out, labels, cur[3] if cur else None


def _small_bare(price: Line, anchor: Line) -> bool:
    """A bare number (no ¥, 元, caption or cents) printed smaller than the name: a count or a package label."""
    mark = price.token.price
    if mark is None or mark.label or mark.has_currency or re.search(r"\.\d\d$", price.token.text):
        return False
    return price.box.h < 0.8 * (anchor.height or anchor.box.h)


def _item(
    ls: list[Line], anchor: Line, rules: Sequence[Mechanic], headers: Sequence[Line], angle: float
) -> PosterItem | None:
    mine = [ln for ln in ls if ln.anchor == anchor.index]
    prices = [ln for ln in mine if ln.kind == "price" and not _small_bare(ln, anchor)]
    if not prices:
        return None
    spec = anchor.spec or next((ln.spec for ln in sorted(mine, key=lambda x: x.box.y0) if ln.kind == "spec"), "")
    if anchor.strength < 2 and not spec:
        return None  # a plausible name with neither a dosage form, a known brand nor a pack: a slogan, not a product
    captions = [ln for ln in ls if ln.kind == "caption"]
    values, labels, cur_line = _roles(prices, captions, headers)
    current = values["current"]
    mechanics = [ln.token.mechanic for ln in sorted(mine, key=lambda x: (x.box.y0, x.box.x0))
                 if ln.kind == "mechanic" and ln.token.mechanic is not None]  # fmt: skip
    special = labels["current"] == "特价" or any("特价" in ln.line_text for ln in mine if ln.kind == "other")
    mechanics += [m for m in rules if not (m.excludes_special and special)]
    name = anchor.name.strip()
    text = f"{name} {spec}".strip()
    eff = effective_unit_price(current, mechanics) if current is not None else None
    eff_m = member_unit_price(current, values["member"], mechanics) if current is not None else None
    region = anchor.box
    for ln in mine:
        region = region.union(ln.box)
    conf = min([anchor.ocr.confidence] + ([cur_line.ocr.confidence] if cur_line else []))
    return PosterItem(
        text=text,
        name=name,
        spec=spec or None,
        original=values["original"],
        current=current,
        member=values["member"],
        price_labels=labels,
        mechanics=tuple(mechanics),
        effective_unit_price=eff,
        effective_member_price=eff_m,
        rule=rule_text(mechanics),
        quad=_rotate_back(region, angle),
        line_indexes=tuple(sorted({anchor.line_index, *(ln.line_index for ln in mine)})),
        confidence=round(conf, 3),
    )


def _rotate_back(box: Box, angle: float) -> tuple[Point, Point, Point, Point]:
    """The corners of an upright box in the photo's pixels (rotated by ``angle`` like the text)."""
    cos, sin = math.cos(angle), math.sin(angle)
    pts = [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]
    r = [(x * cos - y * sin, x * sin + y * cos) for x, y in pts]
    return (r[0], r[1], r[2], r[3])


def has_text(lines: Sequence[OcrLine]) -> bool:
    """True when the OCR found any line with a letter, digit or CJK character."""
    return any(has_cjk(ln.text) or re.search(r"[0-9A-Za-z]", ln.text) for ln in lines)
