"""Items of a poster or price tag from its OCR lines: product text, prices, mechanics, effective price, region.

Each line is first read on its own (`ingest.posters.notation`): a validity date, a poster-wide rule, a price caption,
a price, an item mechanic, a strength/pack, a product name, or something else (titles, slogans, phone numbers…).
Product names are the anchors: every price, caption, spec and mechanic line is given to the name whose card, row or
column it sits in — the same row to the right (tables, lists), or below in the same column (cards, tags) — measured
on boxes rotated upright (`ingest.posters.layout`). A name that gets no price is not an item (a title, the brand on a
drawn package). Prices then get their roles from their captions and sizes: the largest bare number is the headline
price; a higher one beside it is the struck original; a 到手价 beside a 活动价 is the price after a coupon; helper
figures (折合¥x/盒) are never a price. Each item keeps one deal badge of each kind; a 满减/会员日 rule printed inside
an item box is that item's, one in the header every item's.
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

from ingest.posters.chains import chain_in, mend_chain
from ingest.posters.effective import effective_unit_price, member_unit_price, rule_text
from ingest.posters.layout import Box, deskew, text_angle, upright_box
from ingest.posters.notation import (
    CURRENT_LABELS,
    PACK_CAPTION,
    Mechanic,
    Token,
    caption_role,
    clean,
    clean_keep_spaces,
    cn_number,
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
    r"营业|时间|有效期|促销|零售|会员|专享|日常|特价|原价|现价|活动价|售价|注意|本店|本品|本期|以上|每人|限购|节日|"
    r"春节|国庆|中秋|元旦|双11|双12|618|年货|换季|开学|感恩|回馈|新春|年终|HOT|NEW|SALE|处方|甲类|乙类|专场|专区|"
    r"除外|商品|备注|敬请期待|一站|购齐|医保|个账|支付|大牌|好药|常备|必备|家庭|药箱|惠民|实惠|超值|低至|直降|标签|价"
)
"""Words that make a line a slogan, caption or boilerplate rather than a product name."""
_NOT_ALONE = re.compile(
    r"有限公司|股份|集团|药业|制药|药厂|公司|"  # the maker (a tag's 产地 row, the small print under a pack)
    r"两盒|疗程装|折合|到手|均价|可与|同享|再享|半价|满.{0,4}[减送赠]|买.{1,2}[送赠]|第.{1,2}[件盒]"  # deal words
)
"""Words that make a line a maker or a deal's leftover unless it also names a dosage form (a product read together
with them: ``白云山制药板蓝根颗粒``, ``连花清瘟胶囊半价``)."""
_SHOP = re.compile(
    r"([\u4e00-\u9fff]{2,10}(?:大药房|药房|药店|医药连锁|药堂|大药店))[·\s]*(?:\(?([\u4e00-\u9fff]{2,8}店)\)?)?"
    r"|^([\u4e00-\u9fff]{2,5})[·\s]?([\u4e00-\u9fff]{2,8}(?:路|街|道|广场|镇|区|村)[\u4e00-\u9fff]{0,3}店|[\u4e00-\u9fff]{2,6}分?店)$"
)
_UNIT_CHARS = frozenset("元盒瓶支袋包粒片丸贴件罐")
"""Characters that alone never make a name (``元/盒`` left over from a split price)."""
_UNIT_IN_WORD = re.compile(
    r"(?<![\d\u4e00-\u9fff])[元盒瓶支袋包粒片丸贴件罐](?=[\u4e00-\u9fff])(?![元盒瓶支袋包粒片丸贴件罐装])"
)
"""A unit character that starts a word (``片仔`` for 片仔癀, its rare last character dropped by the OCR) is part of
a name, not a leftover unit."""
_BRACKETS = re.compile(r"[()（）【】\[\]〔〕「」]")
_SPEC_FULL = re.compile(rf"^(?:{SPEC.pattern})(?:/[\u4e00-\u9fff])?$", re.IGNORECASE)


_SLOGAN = re.compile(
    r"券(?!后价)|公众号|关注|满\d+元?[送免]|首单|立减\d*元?$|领券|优惠券|新客|新人|配送费|免配送|包邮|充值|积分|抵\d|扫码|扫一扫|送药上门|电话|热线|地址|营业|"
    r"咨询|解释权|温馨提示|仅供参考|以实物为准|举报|12315|打印日期|更新|[已月]售\s?\d|好评率?\s?\d|\d+%\s?好评"
)
"""Lines that are shop boilerplate even when they hold a number (``新会员首单立减5元``, ``满39元免配送费``; a
shopping app's sales count and rating under each product, ``已售9万+ 好评率97%``)."""
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
    _merge_wrapped_names(ls, known)
    _drop_makers(ls)
    _drop_package_brands(ls)
    _drop_merchandise_above_tag(ls)
    _scope_rules(ls)
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
    shop = mend_chain(shop) if shop else chain_in(ln.text for ln in lines)
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
    cjk = sum(1 for ch in t if is_cjk(ch) and ch not in _UNIT_CHARS) + len(_UNIT_IN_WORD.findall(t))
    if cjk < 2 or _STOP.search(t) or re.search(r"\d元", t):
        return 0
    if _SHOP.search(t):
        return 0
    _, word, _ = strip_form(re.sub(r"[^\u4e00-\u9fff]+$", "", t))
    if word is None and _NOT_ALONE.search(t):
        return 0
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
    toks = tokens(_star_currency(ocr.text), today)
    out: list[Line] = []
    slogan = _SLOGAN.search(clean(ocr.text)) is not None
    shop = _SHOP.search(clean(ocr.text)) is not None
    deal = _DEAL_NUMBERS.search(clean(ocr.text)) is not None
    for tok in toks:
        piece_box = _piece_box(ocr, box, angle, tok.start, tok.end)
        ln = Line(start + len(out), i, ocr, piece_box, tok, line_text=clean(ocr.text), height=piece_box.h)
        out.append(ln)
        if tok.kind == "date":
            ln.kind = "date"
        elif slogan and not _priced_cell_after(ocr.text, tok) and not _priced_cell_before(ocr.text, tok):
            ln.kind = "other"
        elif tok.kind == "mechanic" and tok.mechanic is not None:
            ln.kind = "rule" if tok.mechanic.scope == "poster" else "mechanic"
        elif tok.kind == "price":
            # 999 is a brand, not a price; 满2盒减10元's 10 and 折合¥14.9/盒's 14.9 are a deal's numbers
            ln.kind = "other" if tok.text in known or deal else "price"
        elif tok.kind == "caption":
            ln.kind = "caption"
        elif shop:
            ln.kind = "shop"
        else:
            _classify_text(ln, tok.text, known)
    return out


def _priced_cell_after(text: str, tok: Token) -> bool:
    """A captioned price after the boilerplate of a line is its own cell, read into the same line.

    A tag's bottom row prints ``物价员 监督电话12315`` and, to its right, ``会员价¥28.80``; OCR often reads them as one
    line. The boilerplate makes the line a slogan, but the captioned price after it is still the tag's price.
    """
    mark = tok.price
    if tok.kind != "price" or mark is None or mark.label is None:
        return False
    return _SLOGAN.search(clean(text[: tok.start])) is not None and _SLOGAN.search(clean(text[tok.start :])) is None


def _priced_cell_before(text: str, tok: Token) -> bool:
    """A captioned price before the slogan words of a line is its own badge, read into the same line.

    A poster prints ``活动价￥28.9`` and, right after it, a coupon strip ``领券立减10元``; OCR often reads them as one
    line. The coupon words make the line a slogan, but the captioned price before them is still the item's price
    (the mirror of `_priced_cell_after`).
    """
    mark = tok.price
    if tok.kind != "price" or mark is None or mark.label is None:
        return False
    return _SLOGAN.search(clean(text[: tok.end])) is None and _SLOGAN.search(clean(text[tok.end :])) is not None


_DEAL_NUMBERS = re.compile(r"满\d+[盒件瓶支]?减\d|折合")
"""A line whose numbers are a deal's terms or a computed note, never the item's price (``满2盒减10元``)."""
_STAR_YUAN = re.compile(r"(?<![0-9A-Za-z.])\*(?=\s?\d{1,4}(?:\.\d{1,2})?(?:\s|$|元|/))")


def _star_currency(text: str) -> str:
    """``活动价*24.8`` → ``活动价¥24.8``: a ¥ sign the OCR read as ``*``, which it often does on posters.

    Only a ``*`` standing before a lone price (after a caption, a space or nothing) is taken for ¥; a spec's ``*``
    sits between a unit and a count (``0.35g*24粒``) and stays. Same length, so token offsets still fit the line.
    """
    return _STAR_YUAN.sub("¥", text)


_ML_MISREAD = re.compile(r"(?<=\d)m[1lI|](?=$|[^0-9A-Za-z])")
"""``10m1×12支``: the OCR reads the l of ``ml`` as 1 (or I, |) in small print."""


_LOST_TIMES = re.compile(
    r"(?<![\d.])(\d{1,4}(?:\.\d{1,3})?(?:mg|g|ml|μg|ug))(\d{1,3}(?:片|粒|袋|支|丸|贴|包|瓶|枚))", re.IGNORECASE
)
"""``3g15袋``, ``0.5g20片``: the small × between a strength and its count is what OCR drops; it is put back."""


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
    t = _ML_MISREAD.sub("ml", t)
    t = _LOST_TIMES.sub(r"\1×\2", t)
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

    The spec is printed left-aligned with the name or centred under it (a short spec under a long name).

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
                and (abs(sp.box.x0 - a.box.x0) <= 2 * h or abs(sp.box.cx - a.box.cx) <= h)  # or centred under it
            ]  # fmt: skip
            if below:
                sp = min(below, key=lambda x: x.box.y0)
                a.spec = sp.spec
                sp.anchor = a.index
                box = box.union(sp.box)
        reach[a.index] = box
    return reach


def _form_part(name: str) -> str:
    """A name without a trailing bracketed note, where its form word is: ``六味地黄丸(浓缩丸)`` → ``六味地黄丸``."""
    return re.sub(r"[(（][^()（）]{1,8}[)）]\s*$", "", normalize(name)).strip()


def _merge_wrapped_names(ls: list[Line], known: Sequence[str] = ()) -> None:
    """Join a name wrapped onto a second line (``以岭连花清瘟`` / ``胶囊``) into the first line.

    Also a brand set on a line of its own above the generic (``东阿阿胶`` / ``复方阿胶浆``, ``汤臣倍健牌`` /
    ``鱼油软胶囊``): a known name or one ending in 牌, with no dosage form word and no spec, and a name under it.
    """
    names = sorted((ln for ln in ls if ln.kind == "name"), key=lambda ln: ln.box.y0)
    for a in names:
        if a.kind != "name":
            continue
        for b in names:
            if b is a or b.kind != "name" or b.box.y0 <= a.box.y0:
                continue
            h = max(a.box.h, 1.0)
            # the OCR's boxes are padded: a tightly set second line's box may start inside the first's (half a line)
            if not (-0.5 * h <= b.box.y0 - a.box.y1 <= 0.6 * h and abs(b.box.h - a.box.h) <= 0.5 * h):
                continue
            if abs(b.box.x0 - a.box.x0) > 1.5 * h and b.box.x_overlap(a.box) < 0.5:
                continue
            _, a_word, _ = strip_form(_form_part(a.name))
            joined = a.name + b.name
            _, j_word, _ = strip_form(_form_part(joined))
            bracketed = re.fullmatch(r"\([^()]{1,8}\)", normalize(b.name)) is not None
            # a brand alone on its line (a known brand, or any name marked 牌) heads the product name under it;
            # a name broken at the + of a combination (三诺牌安稳 / +血糖试条) goes on
            brand_line = a_word is None and not a.spec and (clean(a.name) in known or a.name.endswith("牌"))
            brand_line = brand_line or (a_word is None and not a.spec and normalize(b.name).startswith("+"))
            if bracketed or brand_line or (a_word is None and (j_word is not None or len(b.name) <= 4) and not a.spec):
                a.name, a.spec = joined, b.spec or a.spec
                if j_word is not None:  # 念慈菴牌蜜炼 / 川贝枇杷膏: the joined name has its dosage form now
                    a.strength = max(a.strength, 2)
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
            if strip_form(_form_part(x.name))[1] is not None and x.box.h >= 0.6 * y.box.h:
                continue  # a product name of its own (999 抗病毒口服液 beside 香雪抗病毒口服液), not a pack's print
            h = max(y.box.h, x.box.h, 1.0)
            near = abs(x.box.cy - y.box.cy) <= 4 * h and (x.box.x_gap(y.box) <= 12 * h)
            # the package repeats the brand: one shared character (片仔 beside 消食片) is a coincidence
            shared = sum(1 for ch in set(xt) if is_cjk(ch) and ch in yt)
            if near and shared >= 2 and fuzz.partial_ratio(xt, yt) >= 60:
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


def _cost(anchor: Box, b: Box, line_h: float = 0.0) -> float:
    """How far a piece is from a name, in text heights: the same row to the right is near, so is the column below.

    ``line_h`` is the height of the name's text as printed: a name wrapped over two lines with its spec under it
    makes a box three lines high, and measuring in that box's height would bring far pieces three times nearer.
    """
    h = max(line_h or anchor.h, b.h, 1.0)
    if b.y_overlap(anchor) >= 0.5 and b.x0 >= anchor.x0 - h:
        return 0.25 * b.x_gap(anchor) / h
    dy = (b.y0 - anchor.y1) / h
    dx = 0.0 if b.x_overlap(anchor) > 0 else b.x_gap(anchor) / h
    if dy < -0.5:
        return 12 + abs(dy) + 2 * dx
    return max(dy, 0.0) + 2 * dx


_MAX_COST = 10.0
_FAR_COST = 6.0
"""Beyond this a name's column is far enough that a name level with the piece (`_skewed_row`) is its owner."""


def _assign(ls: list[Line], reach: dict[int, Box]) -> None:
    """Give every price, caption, mechanic and spec piece to the nearest name (`_cost`), within reach.

    A price or caption whose nearest name is many lines above it goes to a name level with it on its left
    (`_skewed_row`) when there is one: on a tilted photo the price block drifts between rows, and a column far above
    is a weaker tie than the row beside it.
    """
    anchors = [ln for ln in ls if ln.kind == "name"]
    if not anchors:
        return
    for ln in ls:
        if ln.kind not in ("price", "caption", "mechanic", "spec") or ln.anchor is not None:
            continue
        best = min(anchors, key=lambda a: _cost(reach.get(a.index, a.box), ln.box, a.height))
        best = _column_owner(ln, best, anchors, reach) or best
        top = _block_top_owner(ln, best, anchors, reach)
        cost = _cost(reach.get(best.index, best.box), ln.box, best.height)
        row = _skewed_row(ln, anchors, reach) if cost > _FAR_COST and ln.kind in ("price", "caption") else None
        if top is not None:
            ln.anchor = top.index
        elif row is not None and not _DEAL_NOTE.search(ln.line_text):
            ln.anchor = row.index  # a name's row beside it beats a column many lines above (a tilted photo)
        elif cost <= _MAX_COST:
            ln.anchor = best.index


def _column_owner(ln: Line, best: Line, anchors: Sequence[Line], reach: dict[int, Box]) -> Line | None:
    """The name a piece sits right under, when the nearest name only has it in the same row to its right.

    In a grid of cards the next card's price can be level with this card's name; but a piece printed straight
    under a name, in its column and within a line and a half, is that card's (a list row's prices sit to the right
    of its name, under no other name).
    """
    b = reach.get(best.index, best.box)
    if ln.box.x_overlap(b) > 0 or ln.box.y_overlap(b) < 0.5:
        return None
    for a in anchors:
        if a is best:
            continue
        r = reach.get(a.index, a.box)
        h = max(a.height or a.box.h, ln.box.h, 1.0)
        if ln.box.x_overlap(r) >= 0.5 and -0.3 * h <= ln.box.y0 - r.y1 <= 1.5 * h and r.x0 > b.x1:
            return a
    return None


def _block_top_owner(ln: Line, best: Line, anchors: Sequence[Line], reach: dict[int, Box]) -> Line | None:
    """The name a struck reference price (``原价¥179``) heads the price block of.

    The reference price is printed small on top of the big current price, so it starts above the name level with
    the block and only partly shares its row; it then looks nearer the previous card's name above. A price captioned
    as a reference that starts above a name's top, ends below it (or within half a line above it) and sits to its
    right belongs to that name.
    """
    mark = ln.token.price
    if ln.kind != "price" or mark is None or mark.label is None or caption_role(mark.label) != "original":
        return None
    if ln.box.y_overlap(reach.get(best.index, best.box)) >= 0.5:
        return None
    owner: tuple[float, Line] | None = None
    for a in anchors:
        r = reach.get(a.index, a.box)
        h = max(a.height or a.box.h, 1.0)
        if not (ln.box.y0 < r.y0 <= ln.box.y1 + 0.5 * h and ln.box.x0 >= r.x1 - h and ln.box.x_gap(r) <= 12 * h):
            continue
        if owner is None or ln.box.x_gap(r) < owner[0]:
            owner = (ln.box.x_gap(r), a)
    return owner[1] if owner else None


_DEAL_NOTE = re.compile(r"两盒|[二两三四\d]盒装?[¥￥Y]|疗程装|折合|到手|均价|满\d|减\d|[送赠]")
"""A price that belongs to a deal or a note (``两盒装¥37``, ``折合¥14.9/盒``), not a price row of its own."""


def _skewed_row(ln: Line, anchors: Sequence[Line], reach: dict[int, Box]) -> Line | None:
    """The name whose row a price left over sits in when the photo's perspective tilts rows apart.

    On a photo taken at an angle the rows on the right side of a poster sit higher or lower than on the left by
    more than the text angle explains, so a price block fails the same-row test by part of a line. A price (or its
    caption) that no name reaches goes to the name on its left whose middle is nearest, within one line and a bit.
    """
    best: tuple[float, Line] | None = None
    for a in anchors:
        box = reach.get(a.index, a.box)
        h = max(a.height or a.box.h, ln.box.h, 1.0)
        if ln.box.x0 < box.x1 - 0.5 * h or ln.box.x_gap(box) > 12 * h:
            continue
        d = abs(ln.box.cy - box.cy)
        if d <= 1.2 * h and (best is None or d < best[0]):
            best = (d, a)
    return best[1] if best else None


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
    """Original, current and member price of an item, their captions, and the piece of the headline price.

    Two more keys: ``final``, a 到手价 printed beside the 活动价 (what the customer pays after a coupon: the
    effective price, while current stays the 活动价), and ``pack``, a price captioned ``两盒¥`` (its caption in
    ``labels``), which is current only when no single-box price is printed. Helper figures (``折合¥14.9/盒``,
    ``单盒低至¥13.5``) are the poster's own arithmetic and never take a role.
    """
    marks: list[tuple[Decimal, str | None, str | None, Line]] = []  # value, label, role, piece
    for ln in prices:
        mark = ln.token.price
        if mark is None:
            continue
        label = mark.label or _caption_for(ln, captions, headers)
        role: str | None = caption_role(label) if label else None
        if role != "note":
            marks.append((mark.value, label, role, ln))
    out: dict[str, Decimal | None] = {"original": None, "current": None, "member": None, "final": None, "pack": None}
    labels: dict[str, str | None] = dict.fromkeys(out)
    pack = max((m for m in marks if m[2] == "pack"), key=lambda m: m[3].box.h, default=None)
    final = max((m for m in marks if m[2] == "final"), key=lambda m: m[3].box.h, default=None)
    if pack is not None:
        out["pack"], labels["pack"] = pack[0], pack[1]
    singles = [m for m in marks if m[2] not in ("pack", "final")]
    if final is not None and any(m[2] in ("current", None) for m in singles):
        out["final"], labels["final"] = final[0], final[1]
        marks = [m for m in marks if m is not final]
    elif final is not None:
        final = None  # 到手价 alone is the price on offer
    if pack is not None and any(m[2] in ("current", None) for m in singles if m[3].box.h >= 0.6 * pack[3].box.h):
        marks = [m for m in marks if m is not pack]
    cur: tuple[Decimal, str | None, str | None, Line] | None = None
    promo = [m for m in marks if (m[2] in ("current", "final") and m[1] in _PROMO_LABELS) or m[2] == "pack"]
    if promo:
        cur = max(promo, key=lambda m: m[3].box.h)
    else:
        # 零售价 29.8 beside a bigger bare ¥19.9: the headline (the largest print) is what a customer pays now
        plain = [m for m in marks if m[2] in ("current", "final", None)]
        if plain:
            cur = max(plain, key=lambda m: (round(m[3].box.h / 4), m[2] == "current", -m[0]))
    if cur is not None:
        out["current"], labels["current"] = cur[0], cur[1]
    per_box = out["current"]
    if cur is not None and cur[2] == "pack" and cur[1] and (pm := PACK_CAPTION.fullmatch(cur[1])):
        per_box = cur[0] / cn_number(pm.group(1))  # 原价15.8/盒 beside 两盒¥27.9: compared per box
    for m in marks:
        value, label, role, _ = m
        if m is cur:
            continue
        if role == "member" and out["member"] is None:
            if per_box is None or value < per_box:  # a member price is a discount: a higher one is a neighbour's
                out["member"], labels["member"] = value, label
        elif role == "original" and out["original"] is None:
            value = _struck(value, per_box, m[3])
            if per_box is None or value > per_box:
                out["original"], labels["original"] = value, label
        elif role in ("current", None) and per_box is not None and value > per_box and value != out["current"]:
            # beside a pack price (两盒¥54.5) a smaller ¥39.9 is the struck per-box price: compared per box
            if out["original"] is None:
                out["original"], labels["original"] = _struck(value, per_box, m[3]), label
    if out["current"] is None and out["original"] is not None:
        out["current"], labels["current"] = out["original"], labels["original"]
        out["original"], labels["original"] = None, None
    if out["current"] is None and out["member"] is not None:
        out["current"], labels["current"] = out["member"], labels["member"]
        out["member"], labels["member"] = None, None
    return out, labels, cur[3] if cur else None


def _struck(value: Decimal, current: Decimal | None, piece: Line) -> Decimal:
    """A struck-through reference price with its decimal point lost (``零售价Y225`` beside 15.8 is 22.5).

    The small point of a struck price is what OCR drops first; a reference price is a little above the price on offer
    (rarely twice it), so a whole number over five times the current price whose tenth is still above it is that.
    """
    if current is None or current <= 0 or "." in piece.token.text or value < 100:
        return value
    tenth = value / 10
    return tenth if value >= 5 * current and current < tenth <= 3 * current else value


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
    if not prices and not any(_pack_offer(ln.token.mechanic) for ln in mine if ln.kind == "mechanic"):
        return None  # no price, and no pack price either (a card may print only 三盒¥77.9)
    spec = anchor.spec or next((ln.spec for ln in sorted(mine, key=lambda x: x.box.y0) if ln.kind == "spec"), "")
    if anchor.strength < 2 and not spec:
        return None  # a plausible name with neither a dosage form, a known brand nor a pack: a slogan, not a product
    captions = [ln for ln in ls if ln.kind == "caption"]
    values, labels, cur_line = _roles(prices, captions, headers)
    current = values["current"]
    deals = _wrapped_member_deals([ln for ln in mine if ln.kind == "mechanic"], [ln for ln in mine if ln.caption])
    mechanics = _one_deal_each(anchor, cur_line, deals)
    special = labels["current"] == "特价" or any("特价" in ln.line_text for ln in mine if ln.kind == "other")
    mechanics += [m for m in rules if not (m.excludes_special and special)]
    mechanics += _pack_deal(values["pack"], labels["pack"], mechanics)
    pack_line = next((ln for ln in mine if ln.kind == "mechanic" and _pack_offer(ln.token.mechanic)), None)
    small = cur_line is not None and pack_line is not None and cur_line.box.h < 0.6 * pack_line.box.h
    current = _pack_as_current(values, labels, mechanics, small_reference=small)
    name = anchor.name.strip()
    text = f"{name} {spec}".strip()
    eff = effective_unit_price(current, mechanics) if current is not None else None
    eff_m = member_unit_price(current, values["member"], mechanics) if current is not None else None
    final = values["final"]
    if final is not None and eff is not None and eff_m is not None and current is not None and final < current:
        eff, eff_m = min(eff, final), min(eff_m, final)  # 活动价 p, 到手价 q: q after the coupon
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
        member=values["member"] if values["member"] is not None else _member_pack_price(mechanics),
        price_labels=labels,
        mechanics=tuple(mechanics),
        effective_unit_price=eff,
        effective_member_price=eff_m,
        rule=rule_text(mechanics),
        quad=_rotate_back(region, angle),
        line_indexes=tuple(sorted({anchor.line_index, *(ln.line_index for ln in mine)})),
        confidence=round(conf, 3),
    )


def _slot(m: Mechanic) -> str:
    if m.type in ("limit", "gift", "coupon"):
        return m.type  # a coupon is taken at the till, on top of the card's deal
    if m.type == "member_discount" or m.audience == "member":
        return "member"
    return "stacked" if m.stacks else "deal"


_MEMBER_WORDS = re.compile(r"^(?:会员|VIP|vip)(?:再享|专享|享|再)?:?$")


def _wrapped_member_deals(deals: Sequence[Line], captions: Sequence[Line]) -> list[Line]:
    """Deals whose ``会员再享`` was printed on the line above or just before them: the badge wrapped (members only).

    A narrow badge wraps ``会员再享第二件半价`` as ``会员再享`` / ``第二件半价``; read apart, the second line would be a
    deal for everyone.
    """
    out: list[Line] = []
    for ln in deals:
        m = ln.token.mechanic
        h = max(ln.box.h, 1.0)
        if m is not None and m.audience == "all" and not m.stacks and m.type not in ("limit", "gift", "coupon"):
            for c in captions:
                if not _MEMBER_WORDS.match(c.line_text) or c.line_index == ln.line_index:
                    continue
                above = c.box.x_overlap(ln.box) > 0.3 and -0.3 * h <= ln.box.y0 - c.box.y1 <= 0.8 * h
                before = c.box.y_overlap(ln.box) >= 0.5 and 0 <= ln.box.x0 - c.box.x1 <= 1.0 * h
                if above or before:
                    ln = replace(ln, token=replace(ln.token, mechanic=replace(m, audience="member", stacks=True)))
                    break
        out.append(ln)
    return out


def _one_deal_each(anchor: Line, price: Line | None, pieces: Sequence[Line]) -> list[Mechanic]:
    """The item's mechanics, one of each kind: a card prints one deal badge (plus, when worded so, one for members).

    Shops print one promotion per product; a combination is worded as one (会员再享第二件半价, 可与第二件半价同享).
    When two deals of one kind reach an item, the other is a neighbour's badge read into this card: the one nearest
    the item's name and headline price is kept.
    """
    home = anchor.box if price is None else anchor.box.union(price.box)
    h = max(anchor.box.h, 1.0)
    best: dict[str, tuple[float, Line]] = {}
    for ln in pieces:
        m = ln.token.mechanic
        if m is None:
            continue
        dy = max(0.0, ln.box.y0 - home.y1, home.y0 - ln.box.y1)
        d = (home.x_gap(ln.box) + dy) / h
        slot = _slot(m)
        if slot not in best or d < best[slot][0]:
            best[slot] = (d, ln)
    kept = sorted((ln for _, ln in best.values()), key=lambda x: (x.box.y0, x.box.x0))
    return [ln.token.mechanic for ln in kept if ln.token.mechanic is not None]


_REFERENCE_LABELS = frozenset({"零售价", "售价"})
"""Captions of the everyday per-box price, which a pack deal is compared against (``原价``/``门店价`` are references
by their role). ``单盒¥`` / ``单价¥`` beside ``两盒¥`` offer one box at that price: then both are on offer."""


def _pack_as_current(
    values: dict[str, Decimal | None],
    labels: dict[str, str | None],
    mechanics: Sequence[Mechanic],
    *,
    small_reference: bool = False,
) -> Decimal | None:
    """The pack price is the price on offer when the only per-box price printed is the everyday reference.

    ``原价¥15.8`` / ``门店价¥20.8`` / ``零售价¥50.9`` over ``两盒装¥24.5`` (or ``疗程装3盒¥115.9``): the card offers
    the pack, so current is the pack price and the per-box price is the original it is compared against. A per-box
    promotional price (``特价``, ``活动价``) or a bare headline number stays current; the pack is then a second offer.
    A bare per-box number printed much smaller than the pack's price is such a reference too (the struck ``¥39.9``
    beside a big ``两盒装¥54.5``). Only a real deal counts: the pack costs more than one box and less than that many
    boxes. A card that prints only the pack's price (``三盒¥77.9``) offers the pack: that is the current price.
    ``values`` and ``labels`` are updated in place; returns the current price.
    """
    current, label = values["current"], labels["current"]
    packs = [m for m in mechanics if _pack_offer(m)]
    if len(packs) != 1:
        return current
    qty, price = int(packs[0].params["qty"]), Decimal(packs[0].params["price"])
    if current is None:  # the card prints only the pack's price
        values["current"], labels["current"] = price, packs[0].text
        return price
    if values["original"] is not None:
        return current
    if label is None and not small_reference:
        return current
    if label is not None and caption_role(label) != "original" and label not in _REFERENCE_LABELS:
        return current
    if not current < price < qty * current:
        return current
    values["original"], labels["original"] = current, label
    values["current"], labels["current"] = price, packs[0].text
    return price


def _pack_offer(m: Mechanic | None) -> bool:
    """A pack of the item at one price for everyone (``两盒装¥24.5``, ``疗程装3盒¥115.9``), printed on its card."""
    return m is not None and m.type == "multi_buy" and m.scope == "item" and m.audience == "all" and "price" in m.params


def _member_pack_price(mechanics: Sequence[Mechanic]) -> Decimal | None:
    """The members' pack price (``会员两盒¥39``) when that is the only member price printed: it is the member price.

    The effective price already counts it per box (as a deal for members); this is the number as printed.
    """
    packs = [m for m in mechanics if m.type == "multi_buy" and m.audience == "member" and "price" in m.params]
    return Decimal(packs[0].params["price"]) if len(packs) == 1 else None


def _pack_deal(value: Decimal | None, caption: str | None, mechanics: Sequence[Mechanic]) -> list[Mechanic]:
    """The pack deal a ``两盒¥`` caption prints over its number (``两盒¥`` / ``39.8``), unless already read."""
    if value is None or caption is None or any(m.type == "multi_buy" for m in mechanics):
        return []
    m = PACK_CAPTION.fullmatch(caption)
    if m is None or cn_number(m.group(1)) < 2:
        return []
    return [Mechanic("multi_buy", {"qty": cn_number(m.group(1)), "price": value}, f"{caption}{value}")]


_MAKER = re.compile(r"(?:有限公司|有限责任公司|股份公司|集团公司|公司|制药厂|药厂|药业|制药)$")
_MAKER_FIELD = re.compile(r"^(?:产地|厂家|生产企业|生产厂家|生产商|产\s*地)[:：]?$")


def _drop_makers(ls: Sequence[Line]) -> None:
    """On a shelf tag the 产地/厂家 field names the maker (``西安杨森制药有限公司``), not the product.

    A tag prints 品名, 规格, 产地 and 单位 in rows; the maker's name reads like a product name and, sitting level
    with the price column, takes the 零售价 printed beside it. A name in the 产地 row, or one ending in 有限公司 /
    药业 / 制药厂, is the maker when a product name is printed above it on the same tag (when none was read the
    maker's line is still the tag's best anchor).
    """
    names = [ln for ln in ls if ln.kind == "name"]
    fields = [ln for ln in ls if _MAKER_FIELD.match(ln.line_text)]
    for n in names:
        t = _BRACKETS.sub("", n.name)
        in_field = any(f.box.y_overlap(n.box) >= 0.5 and f.box.x1 <= n.box.x0 + n.box.h for f in fields)
        if not (in_field or _MAKER.search(t)):
            continue
        h = max(n.box.h, 1.0)
        above = [
            o for o in names
            if o is not n and o.kind == "name" and not _MAKER.search(_BRACKETS.sub("", o.name))
            and 0 < n.box.y0 - o.box.y0 <= 6 * h and (o.box.x_overlap(n.box) > 0 or abs(o.box.x0 - n.box.x0) <= 2 * h)
        ]  # fmt: skip
        if above:
            n.kind = "other"


_WIDE_RULE = re.compile(r"全场|全店|所有商品|每周|每月|本店|店内|全部商品")


def _scope_rules(ls: Sequence[Line]) -> None:
    """A 满减 or 会员日 rule printed among the items is one item's badge; only the header's applies to every item.

    Posters print a shop-wide rule in the header, above the first product (``满99减10``, ``每周三会员日
    全场95折``), or word it for the whole shop (全场, 本店); the same words printed inside an item box
    (``满100减20`` under one product's price) are that item's deal, given to it like any other mechanic.
    """
    names = [ln for ln in ls if ln.kind == "name" and (ln.strength >= 2 or ln.spec)]
    if not names:
        return
    top = min(n.box.y0 for n in names)
    for ln in ls:
        mech = ln.token.mechanic
        if ln.kind != "rule" or mech is None or _WIDE_RULE.search(ln.line_text) or ln.box.cy < top:
            continue
        ln.kind = "mechanic"
        ln.token = replace(ln.token, mechanic=replace(mech, scope="item"))


def _rotate_back(box: Box, angle: float) -> tuple[Point, Point, Point, Point]:
    """The corners of an upright box in the photo's pixels (rotated by ``angle`` like the text)."""
    cos, sin = math.cos(angle), math.sin(angle)
    pts = [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]
    r = [(x * cos - y * sin, x * sin + y * cos) for x, y in pts]
    return (r[0], r[1], r[2], r[3])


def has_text(lines: Sequence[OcrLine]) -> bool:
    """True when the OCR found any line with a letter, digit or CJK character."""
    return any(has_cjk(ln.text) or re.search(r"[0-9A-Za-z]", ln.text) for ln in lines)
