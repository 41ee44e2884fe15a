"""Competitor items to the tenant's SKUs: ``以岭连花清瘟胶囊 0.35g*24粒`` → our ``连花清瘟胶囊 0.35g×24粒``, or none.

A shop prints a product as brand + generic + strength×pack in any order and style (``【拜新同】硝苯地平控释片``,
``布洛芬缓释胶囊(芬必得) 0.3g*20粒``, brand-only ``芬必得 0.3g×20粒``, a short generic ``二甲双胍缓释片``), read
through OCR with the odd wrong character. The rule: the item is one of our SKUs when it names the same generic (or
one of its short names, salts dropped), the same brand when the brand tells our SKUs apart, and the same strength
**and** pack. Another pack or strength of a product we carry is *not* that SKU (a 48-capsule box is not our
24-capsule box): comparing its price with ours would be wrong, so it resolves to none.

Names are taken apart with `resolution.drug_names` (brands, salts, form words); the OCR's slips are absorbed by a
fuzzy comparison of the name, never of the numbers. A person's correction of an item text is kept and wins over
the rules next time the same text is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz

from resolution.dosage_forms import strip_form
from resolution.drug_names import SPEC, salt_keys
from resolution.text import compact, normalize

Outcome = Literal["matched", "not_carried", "review", "corrected"]

REVIEW_THRESHOLD = 0.8
"""Below this confidence an item goes to the review list (with its photo crop) instead of the matrix."""


@dataclass(frozen=True)
class CatalogEntry:
    """One of our SKUs as the resolver needs it: names to recognise and the pack to compare."""

    sku: str
    name: str
    generic: str
    brand: str | None = None
    aliases: tuple[str, ...] = ()
    spec: str | None = None
    """Strength × pack as the product master writes it (``0.35g×24粒``, ``200丸``, ``85g+30g``)."""


@dataclass(frozen=True)
class Candidate:
    """A SKU the item may be, with how sure and why."""

    sku: str
    name: str
    score: float
    why: str


@dataclass(frozen=True)
class Resolution:
    """What an item text resolved to: a SKU (or None: not a product we carry), how sure, and the alternatives."""

    sku: str | None
    outcome: Outcome
    confidence: float
    reason: str
    """One sentence a reviewer can check (Chinese)."""
    candidates: tuple[Candidate, ...] = ()
    generic: str | None = None
    """The generic recognised in the item, when any (also for products we do not carry)."""
    spec: str | None = None
    """The item's strength × pack, normalised (``0.35g×24粒``)."""

    @property
    def needs_review(self) -> bool:
        """True when a person should confirm it before it counts in the matrix."""
        return self.outcome == "review"


_UNIT_ALIASES = (("μg", "μg"), ("µg", "μg"), ("ug", "μg"), ("mcg", "μg"), ("毫克", "mg"), ("毫升", "ml"), ("克", "g"))
_NUM_UNIT = re.compile(r"(\d+(?:\.\d+)?)([a-zμ%]+|[\u4e00-\u9fff])?")


def normalize_spec(spec: str | None) -> str | None:
    """``0.5gX20片/盒`` → ``0.5g×20片``; ``3g/丸`` → ``3g×1丸``; ``150ml/瓶`` → ``150ml×1瓶``; None stays None."""
    if not spec:
        return None
    s = normalize(spec).lower().replace(" ", "")
    for a, b in _UNIT_ALIASES:
        s = s.replace(a, b)
    s = re.sub(r"[*xX×]", "×", s)
    s = re.sub(r"/(盒|板)$", "", s)
    s = re.sub(r"^(\d+(?:\.\d+)?[a-zμ%]+)/([\u4e00-\u9fff])$", r"\1×1\2", s)
    return s or None


_SCALE = {"g": ("mg", 1000.0), "mg": ("mg", 1.0), "μg": ("mg", 0.001), "kg": ("mg", 1_000_000.0),
          "l": ("ml", 1000.0), "ml": ("ml", 1.0)}  # fmt: skip
"""Strength units one quantity is printed in (0.3g = 300mg, 50μg = 0.05mg, 1l = 1000ml)."""
_COUNT_WORDS = frozenset("片粒袋支瓶丸贴盒板喷揿吸条枚包帖管")
"""Pack words: the count of a pack (``24粒``), not a strength."""


def _spec_parts(spec: str | None) -> tuple[tuple[str, str], ...]:
    """(number, unit) pairs of a normalised spec: ``0.35g×24粒`` → (("350.0", "mg"), ("24.0", "粒")).

    Masses and volumes are put in one unit, since shops print the same strength as ``0.3g`` or ``300mg``.
    """
    if not spec:
        return ()
    parts = []
    for n, u in _NUM_UNIT.findall(spec):
        unit, factor = _SCALE.get(u, (u, 1.0))
        parts.append((str(round(float(n) * factor, 6)), unit or ""))
    return tuple(parts)


def _pack_only(parts: tuple[tuple[str, str], ...]) -> bool:
    return len(parts) == 1 and parts[0][1] in _COUNT_WORDS


def spec_fit(item_spec: str | None, sku_spec: str | None) -> float:
    """1.0 when two specs are the same pack, less when one side leaves something out or the OCR slipped, else 0.

    A pack of one may be left out (``100ml`` is ``100ml×1瓶``); 0.9 when only a pack word differs (``20位`` read
    for ``20粒``); 0.85 when one side gives only the pack count (a poster printing ``24粒`` for ``0.35g×24粒``: the
    strength is missing, the count and pack word agree). Every number must be equal, never nearly equal.
    """
    a, b = _spec_parts(item_spec), _spec_parts(sku_spec)
    if not a or not b:
        return 0.0
    if len(a) != len(b):
        if len(a) + 1 == len(b) and b[-1][0] == "1.0":
            b = b[:-1]
        elif len(b) + 1 == len(a) and a[-1][0] == "1.0":
            a = a[:-1]
        elif _pack_only(a) and len(b) >= 2 and b[-1] == a[0]:
            return 0.85
        elif _pack_only(b) and len(a) >= 2 and a[-1] == b[0]:
            return 0.85
        else:
            return 0.0
    if any(x[0] != y[0] for x, y in zip(a, b, strict=True)):
        return 0.85 if _unit_dropped(item_spec, sku_spec) else 0.0
    same_units = all(x[1] == y[1] for x, y in zip(a, b, strict=True))
    if same_units:
        return 1.0
    pairs = list(zip(a, b, strict=True))
    if pairs[0][0][1] == pairs[0][1][1] and all(x[1] == y[1] or not x[1] or not y[1] for x, y in pairs[1:]):
        return 0.9  # a pack word the OCR dropped (0.35g×24 for 0.35g×24粒)
    # strength units must agree (mg vs g is another product); a misread pack word is forgiven
    if any(x[1] != y[1] and (x[1].isascii() or y[1].isascii()) for x, y in zip(a, b, strict=True)):
        return 0.0
    return 0.9


def _unit_dropped(item_spec: str | None, sku_spec: str | None) -> bool:
    """``0.3×20粒`` for ``0.3g×20粒``: the OCR lost a strength's small unit letter; every number as printed agrees."""
    a, b = _NUM_UNIT.findall(item_spec or ""), _NUM_UNIT.findall(sku_spec or "")
    if len(a) != len(b) or not a:
        return False
    dropped = False
    for (n, u), (m, v) in zip(a, b, strict=True):
        if float(n) != float(m):
            return False
        if u != v:
            if u or v not in _SCALE:
                return False
            dropped = True
    return dropped


@dataclass
class _Names:
    entry: CatalogEntry
    keys: tuple[str, ...]
    brand_key: str | None


_SPEC_IN_TEXT = re.compile(
    rf"(?:{SPEC.pattern})(?:/[\u4e00-\u9fff]|(?<=\d)[\u4e00-\u9fff](?![\u4e00-\u9fff]))?", re.IGNORECASE
)
"""A strength/pack in an item text, with a pack word the parser does not know (``20位``: 粒 misread)."""


_PROMO_COUNT = re.compile(r"\d+件")
"""``2件`` counts goods in a promotion (第二件半价, 限购2件, 第2件 misread ``02件``); no medicine's pack is in 件."""


_TIMES_DROPPED = re.compile(r"(?<=\d)(mg|g|ml|μg|ug|mcg)(?=\d)", re.IGNORECASE)
"""``20mg14粒``: a strength's unit followed straight by a count; the OCR dropped the small ``×`` between them."""


def split_item_text(text: str) -> tuple[str, str | None]:
    """An item text as (name, spec): the strength/pack pieces are taken out of the name and joined."""
    t = _TIMES_DROPPED.sub(r"\1×", normalize(text))
    found = [
        m for m in _SPEC_IN_TEXT.finditer(t)
        if re.search(r"[a-zA-Z\u4e00-\u9fffμ%]", m.group(0)) and not _PROMO_COUNT.fullmatch(m.group(0).strip())
    ]  # fmt: skip
    name = _SPEC_IN_TEXT.sub(" ", t)
    spec = None
    for i, m in enumerate(found):
        piece = m.group(0).strip("×*xX ")
        # pieces printed apart are strength × pack; a combination pack keeps its "+" (85g+30g)
        joint = "+" if i and t[found[i - 1].end() : m.start()].strip() == "+" else "×"
        spec = piece if spec is None else spec + joint + piece
    name = re.sub(r"(?<=\s)\+(?=\s)", " ", name)
    return name.strip(), normalize_spec(spec)


@dataclass
class SkuMatcher:
    """Resolves item texts against one tenant's catalogue; corrections by item text win over the rules."""

    entries: Iterable[CatalogEntry]
    corrections: Mapping[str, str | None] = field(default_factory=dict)
    """``correction_key(text)`` → SKU (or None: a person said it is not ours)."""
    review_threshold: float = REVIEW_THRESHOLD

    def __post_init__(self) -> None:
        self.entries = tuple(self.entries)
        self._names: list[_Names] = []
        for e in self.entries:
            keys: set[str] = set()
            for g in (e.generic, *e.aliases):
                g = compact(g)
                if not g:
                    continue
                keys.add(g)
                keys.add(re.sub(r"\([^()]*\)", "", g))  # 六味地黄丸(浓缩丸) → 六味地黄丸
                rest, word, _ = strip_form(re.sub(r"\([^()]*\)", "", g))
                if word is not None and "…" not in word:
                    keys.update(k + word for k in salt_keys(rest) if len(k) >= 2)
            brand = compact(e.brand) if e.brand else None
            self._names.append(_Names(e, tuple(sorted((k for k in keys if len(k) >= 2), key=len, reverse=True)), brand))
        self._corrections = dict(self.corrections)

    def correct(self, text: str, sku: str | None) -> None:
        """Remember a person's decision for this item text (used by every later `resolve`)."""
        self._corrections[correction_key(text)] = sku

    def resolve(self, text: str, *, ocr_confidence: float = 1.0) -> Resolution:
        """The SKU an item text names (see the module docstring), with a confidence and the reason."""
        key = correction_key(text)
        if key in self._corrections:
            sku = self._corrections[key]
            return Resolution(sku, "corrected", 1.0, "复核人员已确认" + ("" if sku else "：不是我方在售商品"))
        name, spec = split_item_text(text)
        name_key = re.sub(r"[()]", "", compact(name))
        scored: list[tuple[float, float, _Names, str]] = []  # name score, brand score, names, why
        other_maker: list[tuple[_Names, str]] = []  # our generic, printed under another maker's brand
        for n in self._names:
            g_score, g_key = self._generic_score(name_key, n)
            b_score = 0.0
            if n.brand_key and len(n.brand_key) >= 2:
                if n.brand_key in name_key:
                    b_score = 1.0
                else:
                    # an OCR-misread brand; never one read out of the generic itself (阿莫仙 in 阿莫西林胶囊)
                    rest = name_key.replace(g_key, " ") if g_key else name_key
                    if len(n.brand_key) >= 3 and fuzz.partial_ratio(n.brand_key, rest) >= 80:
                        b_score = 0.8
            if g_score == 0 and b_score == 0:
                continue
            if g_score == 1.0 and b_score == 0 and n.brand_key:  # a misread generic: its brand is as unsure
                maker = _other_brand(name_key, g_key, n.brand_key)
                if maker:
                    other_maker.append((n, maker))
                    continue
            if g_score == 0 and _another_product(name_key, n):
                continue
            why = f"通用名 {g_key}" if g_score else f"品牌 {n.entry.brand}"
            scored.append((g_score, b_score, n, why))
        if not scored and other_maker:
            n, maker = other_maker[0]
            return Resolution(
                None, "not_carried", 0.8 * ocr_confidence,
                f"我方有 {n.entry.generic}（{n.entry.brand}），照片上是 {maker} 的", generic=n.entry.generic, spec=spec,
            )  # fmt: skip
        if not scored:
            return Resolution(None, "not_carried", 0.9 * ocr_confidence, "商品名不在我方目录中", spec=spec)
        best_generic = max(s[0] for s in scored)
        if best_generic > 0:
            pool = [s for s in scored if s[0] >= best_generic - 0.05]
            longest = max(len(s[3]) for s in pool)
            pool = [s for s in pool if len(s[3]) == longest]  # the fullest name found wins over a part of it
            # the brand tells SKUs of one generic apart; a brand-only hit of another generic is not this product
        else:
            pool = [s for s in scored if s[1] > 0]
        generic = pool[0][2].entry.generic
        fits = [(spec_fit(spec, s[2].entry.spec), s) for s in pool]
        fitting = [(f, s) for f, s in fits if f > 0]
        cands = tuple(
            Candidate(s[2].entry.sku, s[2].entry.name, round(max(s[0], s[1] * 0.9) * max(f, 0.3), 3), s[3])
            for f, s in sorted(fits, key=lambda x: -(max(x[1][0], x[1][1]) * max(x[0], 0.3)))
        )
        if spec is None:
            named = [s for s in pool if s[1] > 0] or pool
            skus = {s[2].entry.sku for s in named}
            guess = named[0][2].entry.sku if len(skus) == 1 else None
            # one SKU fits the name: it is the best guess, but only a person can tell the pack without a spec
            return Resolution(
                guess, "review", 0.5 * ocr_confidence, "看不到规格，无法确定是哪个包装", cands, generic, spec
            )
        if not fitting:
            return Resolution(
                None, "not_carried", 0.9 * ocr_confidence * best_or_brand(pool),
                f"我方有 {generic}，但没有 {spec} 这个规格", cands, generic, spec,
            )  # fmt: skip
        branded = [(f, s) for f, s in fitting if s[1] > 0]
        if len(fitting) > 1:
            if branded:
                fitting = branded
            else:
                plain = [(f, s) for f, s in fitting if not s[2].entry.brand]
                fitting = plain or fitting
        if len(fitting) > 1:
            fitting.sort(key=lambda x: -(x[0] * max(x[1][0], x[1][1])))
            top, second = fitting[0], fitting[1]
            if top[0] * max(top[1][0], top[1][1]) - second[0] * max(second[1][0], second[1][1]) < 0.1:
                return Resolution(
                    None, "review", 0.5 * ocr_confidence, "同规格有多个品牌，照片上看不出是哪个", cands, generic, spec
                )
        f, (g_score, b_score, n, why) = fitting[0]
        confidence = round(max(g_score, b_score * 0.95) * f * ocr_confidence, 3)
        outcome: Outcome = "matched" if confidence >= self.review_threshold else "review"
        reason = f"{why}、规格 {spec} 与 {n.entry.sku}（{n.entry.name}）一致"
        return Resolution(n.entry.sku, outcome, confidence, reason, cands, generic, spec)

    @staticmethod
    def _generic_score(name_key: str, n: _Names) -> tuple[float, str]:
        """1.0 when a generic name of the SKU is inside the item name; less for an OCR-misread one; 0 otherwise.

        A misread name must still end in the same dosage form when both show one: 川贝枇杷露 (a syrup) is not a
        slip for 川贝枇杷膏 (a paste), it is another product.
        """
        for k in n.keys:
            if k in name_key:
                return 1.0, k
        best, best_key = 0.0, ""
        for k in n.keys:
            if len(k) >= 4:
                r = fuzz.partial_ratio(k, name_key) / 100
                if r >= 0.8 and r > best and _same_form(name_key, k):
                    best, best_key = r, k
        return (round(best * 0.95, 3), best_key) if best else (0.0, "")


@lru_cache(maxsize=4096)
def _form_word(name: str) -> str | None:
    """The dosage form word a name ends in (cached: the same item and key names come back on every photo)."""
    return strip_form(name)[1]


def _same_form(a: str, b: str) -> bool:
    """False when both names end in a dosage form word and the words differ (缓释胶囊 and 胶囊 are one form)."""
    fa, fb = _form_word(a), _form_word(b)
    return not (fa and fb and not (fa.endswith(fb) or fb.endswith(fa)))


def _other_brand(name_key: str, g_key: str, brand_key: str) -> str | None:
    """The maker's brand printed before our generic when it is not our SKU's brand, else None.

    Shops print brand + generic (白云山板蓝根颗粒, 弥可保甲钴胺片); when our SKU of that generic is another maker's
    (修正, 敏使朗) and the generic was read cleanly, the item is not ours: its price says nothing about our
    product. Two or more characters before the generic count as a brand (``牌`` dropped); an OCR slip of our own
    brand (莫花 for 葵花: half the characters in place) is not another brand.
    """
    at = name_key.find(g_key)
    if at < 0:
        return None
    prefix = re.sub(r"牌$", "", re.sub(r"[^0-9a-z\u4e00-\u9fff]", "", name_key[:at]))
    if len(prefix) < 2:
        return None
    tail = prefix[-len(brand_key) :]
    same = sum(1 for a, b in zip(tail, brand_key, strict=False) if a == b)
    if same * 2 >= len(brand_key) or brand_key in prefix:
        return None
    return prefix


def _another_product(name_key: str, n: _Names) -> bool:
    """The item shows only our SKU's brand, but with another product's name (仲景香砂养胃丸 for 仲景六味地黄丸).

    A brand-only item (``芬必得 0.3g×20粒``) may be our SKU; one that names a product of its own — a dosage form
    word after the brand — that is not like any of our SKU's names is that other product.
    """
    if not n.brand_key or n.brand_key not in name_key:
        return False
    rest = re.sub(r"^牌", "", name_key.replace(n.brand_key, "", 1))
    rest = re.sub(r"[^\u4e00-\u9fff]", "", rest)
    if len(rest) < 3 or strip_form(rest)[1] is None:
        return False
    return all(fuzz.partial_ratio(k, rest) < 60 for k in n.keys)


def best_or_brand(pool: list[tuple[float, float, _Names, str]]) -> float:
    """How sure the name part of a not-carried decision is (the best generic or brand score)."""
    return max(max(s[0], s[1]) for s in pool) if pool else 1.0


def correction_key(text: str) -> str:
    """The key a correction is kept under: the item text compacted (``×``, ``*`` and ``x`` alike, no brackets)."""
    t = compact(text)
    t = re.sub(r"[()\[\]【】]", "", t)
    return re.sub(r"[*x×]", "×", t)
