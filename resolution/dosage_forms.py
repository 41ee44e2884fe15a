"""Dosage forms: the words ERP names and list rows use, and the NRDL's form groups (2024 凡例 八 and 九).

A product names one specific form (``肠溶片``, ``咀嚼片``, ``缓释胶囊``); a 西药 row of the list names a form *group*
in its 剂型 column (``口服常释剂型`` covers 片, 肠溶片, 分散片, 胶囊, 软胶囊, 肠溶胶囊 …) or an unmerged form of its own
(``咀嚼片``, ``口腔崩解片``, ``泡腾片``). Release and special oral forms are deliberately *not* in 口服常释剂型: a
chewable or orally disintegrating tablet belongs only to a row that names its form. 中成药 forms are not merged
(凡例 九) except that 丸剂 covers 水丸, 蜜丸, 水蜜丸, 糊丸, 浓缩丸 and 微丸 — not 滴丸 — and 胶囊 means hard capsules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


@dataclass(frozen=True)
class FormSpec:
    """A specific dosage form: the 剂型 values naming exactly it, and the 凡例 groups it is a member of."""

    canonical: str
    specific: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    release: str | None = None


def _f(canonical: str, specific: str = "", groups: str = "", release: str | None = None) -> FormSpec:
    return FormSpec(canonical, frozenset(specific.split()), frozenset(groups.split()), release)


_ORAL = "口服常释剂型"
_SR = "缓释控释剂型"
_LIQ = "口服液体剂"
_INJ = "注射剂"
_INH = "吸入剂"

SPECS: dict[str, FormSpec] = {
    s.canonical: s
    for s in (
        # 口服常释剂型 (凡例 八): plain, enteric, coated, dispersible tablets; hard, soft, enteric capsules
        _f("片", "片剂", _ORAL),
        _f("肠溶片", "肠溶片", _ORAL, "肠溶"),
        _f("分散片", "分散片", _ORAL, "分散"),
        _f("胶囊", "胶囊剂", _ORAL),
        _f("软胶囊", "软胶囊", _ORAL),
        _f("肠溶胶囊", "肠溶胶囊", _ORAL, "肠溶"),
        # special oral forms: only their own rows
        _f("咀嚼片", "咀嚼片", release="咀嚼"),
        _f("口腔崩解片", "口腔崩解片 口崩片", release="口崩"),
        _f("肠溶口崩片", "肠溶口崩片", release="口崩"),
        _f("泡腾片", "泡腾片", release="泡腾"),
        _f("含片", "含片", release="含"),
        _f("舌下片", "舌下片剂 舌下片", release="舌下"),
        _f("口溶膜", "口溶膜", release="口溶"),
        _f("口腔贴片", "口腔贴片"),
        # 缓释控释剂型
        _f("缓释片", "缓释片", _SR, "缓释"),
        _f("控释片", "控释片", _SR, "控释"),
        _f("缓释胶囊", "缓释胶囊", _SR, "缓释"),
        _f("控释胶囊", "控释胶囊", _SR, "控释"),
        _f("肠溶缓释片", "肠溶缓释片", _SR, "缓释"),
        _f("肠溶缓释胶囊", "肠溶缓释胶囊", _SR, "缓释"),
        _f("双释放肠溶胶囊", "双释放肠溶胶囊", release="缓释"),
        _f("缓释颗粒", "缓控释颗粒剂", release="缓释"),
        _f("缓释混悬剂", "缓释混悬剂", release="缓释"),
        # granules, powders
        _f("颗粒", "颗粒剂", "颗粒剂"),
        _f("肠溶颗粒", "", "颗粒剂", "肠溶"),
        _f("散", "散剂", "口服散剂 外用散剂"),
        _f("口服散", "口服散剂 口服粉剂", "口服散剂"),
        _f("外用散", "局部用散剂", "外用散剂"),
        # oral liquids (口服液体剂)
        _f("口服溶液", "口服溶液剂", _LIQ),
        _f("口服液", "口服溶液剂", _LIQ),
        _f("混悬液", "口服混悬剂", _LIQ),
        _f("干混悬剂", "口服混悬剂", _LIQ),
        _f("肠溶干混悬剂", "", "", "肠溶"),
        _f("乳剂", "乳剂 口服乳剂", _LIQ),
        _f("胶浆剂", "胶浆剂", f"{_LIQ} 外用液体剂"),
        _f("合剂", "合剂", _LIQ),
        _f("糖浆", "糖浆剂", _LIQ),
        _f("滴剂", "滴剂", _LIQ),
        _f("酊", "酊剂", f"{_LIQ} 外用液体剂"),
        _f("溶液", "溶液剂 液体剂", f"外用液体剂 {_LIQ}"),
        # pills
        _f("丸", "丸剂", "丸剂"),
        _f("滴丸", "滴丸剂", "丸剂"),
        # external
        _f("软膏", "软膏剂", "软膏剂"),
        _f("乳膏", "乳膏剂", "软膏剂"),
        _f("眼膏", "眼膏剂"),
        _f("贴剂", "贴剂", "贴剂"),
        _f("透皮贴剂", "透皮贴剂", "贴剂"),
        _f("贴膏", "贴膏剂", "贴剂"),
        _f("凝胶贴膏", "凝胶贴膏剂", "贴剂"),
        _f("巴布膏", "巴布膏剂", "贴剂"),
        _f("硬膏", "硬膏剂", "硬膏剂"),
        _f("外用溶液", "", "外用液体剂"),
        _f("洗剂", "洗剂", "外用液体剂"),
        _f("搽剂", "搽剂", "外用液体剂"),
        _f("含漱液", "含漱液", "外用液体剂"),
        _f("凝胶", "凝胶剂", "凝胶剂"),
        _f("眼用凝胶", "眼用凝胶剂"),
        _f("混悬凝胶", "混悬凝胶剂"),
        _f("涂剂", "涂剂", "涂剂"),
        _f("栓", "栓剂", "栓剂"),
        _f("阴道片", "阴道片"),
        _f("阴道泡腾片", "阴道泡腾片"),
        _f("阴道软胶囊", "阴道软胶囊"),
        _f("阴道胶囊", "阴道胶囊"),
        _f("滴眼液", "滴眼剂", "滴眼剂"),
        _f("滴耳液", "滴耳剂", "滴耳剂"),
        _f("滴鼻液", "滴鼻剂", "滴鼻剂"),
        _f("灌肠剂", "灌肠剂"),
        _f("冲洗剂", "冲洗剂"),
        _f("喷雾剂", "喷雾剂"),
        # inhaled (吸入剂 covers aerosols, powders, solutions and suspensions for inhalation, nasal sprays)
        _f("气雾剂", "气雾剂", _INH),
        _f("粉雾剂", "粉雾剂", _INH),
        _f("吸入溶液", "吸入溶液剂 吸入用溶液剂", _INH),
        _f("吸入混悬液", "", _INH),
        _f("鼻喷雾剂", "鼻用喷雾剂", _INH),
        # injections
        _f("注射液", "", _INJ),
        _f("注射用", "", _INJ),
        _f("脂质体注射剂", "脂质体注射剂", _INJ),
        _f("微球注射剂", "微球注射剂 缓释微球注射剂"),
        _f("植入剂", "植入剂"),
        _f("眼用注射液", "", _INJ),
        # TCM-only forms (matched literally; 凡例 九)
        _f("膏"), _f("煎膏"), _f("丹"), _f("锭", "锭剂"), _f("露"), _f("酒"), _f("茶"), _f("液"), _f("水"),
        _f("胶"), _f("组合包装"),
    )
}  # fmt: skip
"""Every canonical specific form, with the 剂型 values it fits."""

FORM_WORDS: dict[str, str] = {
    # tablets
    "片": "片", "片剂": "片", "薄膜衣片": "片", "糖衣片": "片", "包衣片": "片", "浸膏片": "片",
    "划痕片": "片", "肠溶片": "肠溶片", "肠溶衣片": "肠溶片", "分散片": "分散片", "咀嚼片": "咀嚼片",
    "口腔崩解片": "口腔崩解片", "口崩片": "口腔崩解片", "肠溶口崩片": "肠溶口崩片", "肠溶口腔崩解片": "肠溶口崩片",
    "泡腾片": "泡腾片", "含片": "含片", "舌下片": "舌下片", "口溶膜": "口溶膜", "口腔贴片": "口腔贴片",
    "缓释片": "缓释片", "缓释包衣片": "缓释片", "控释片": "控释片", "肠溶缓释片": "肠溶缓释片",
    "阴道片": "阴道片", "阴道泡腾片": "阴道泡腾片",
    # capsules
    "胶囊": "胶囊", "胶囊剂": "胶囊", "硬胶囊": "胶囊", "软胶囊": "软胶囊", "胶丸": "软胶囊", "肠溶胶囊": "肠溶胶囊",
    "肠溶软胶囊": "肠溶胶囊", "缓释胶囊": "缓释胶囊", "控释胶囊": "控释胶囊", "肠溶缓释胶囊": "肠溶缓释胶囊",
    "双释放肠溶胶囊": "双释放肠溶胶囊", "阴道软胶囊": "阴道软胶囊", "阴道胶囊": "阴道胶囊",
    # granules, powders
    "颗粒": "颗粒", "颗粒剂": "颗粒", "冲剂": "颗粒", "肠溶颗粒": "肠溶颗粒", "缓释颗粒": "缓释颗粒",
    "散": "散", "散剂": "散", "粉剂": "散", "口服散": "口服散", "口服粉剂": "口服散", "外用散": "外用散",
    # oral liquids
    "口服溶液": "口服溶液", "口服溶液剂": "口服溶液", "口服液": "口服液", "混悬液": "混悬液", "口服混悬液": "混悬液",
    "混悬剂": "混悬液", "口服混悬剂": "混悬液", "混悬滴剂": "滴剂", "干混悬剂": "干混悬剂",
    "肠溶干混悬剂": "肠溶干混悬剂", "缓释干混悬剂": "缓释混悬剂", "缓释混悬液": "缓释混悬剂",
    "乳剂": "乳剂", "口服乳剂": "乳剂", "乳液": "乳剂", "胶浆剂": "胶浆剂", "合剂": "合剂", "糖浆": "糖浆",
    "糖浆剂": "糖浆", "干糖浆": "糖浆", "滴剂": "滴剂", "酊": "酊", "酊剂": "酊", "溶液": "溶液", "溶液剂": "溶液",
    "外用溶液": "外用溶液", "外用溶液剂": "外用溶液", "洗剂": "洗剂", "搽剂": "搽剂", "含漱液": "含漱液",
    "漱口液": "含漱液",
    # pills
    "丸": "丸", "丸剂": "丸", "水丸": "丸", "蜜丸": "丸", "大蜜丸": "丸", "小蜜丸": "丸", "水蜜丸": "丸",
    "糊丸": "丸", "浓缩丸": "丸", "微丸": "丸", "滴丸": "滴丸", "滴丸剂": "滴丸",
    # external
    "软膏": "软膏", "软膏剂": "软膏", "乳膏": "乳膏", "乳膏剂": "乳膏", "霜剂": "乳膏", "眼膏": "眼膏", "眼膏剂": "眼膏",
    "贴剂": "贴剂", "透皮贴剂": "透皮贴剂", "贴膏": "贴膏", "贴膏剂": "贴膏", "橡胶膏": "贴膏",
    "凝胶贴膏": "凝胶贴膏", "凝胶贴膏剂": "凝胶贴膏", "巴布膏": "巴布膏", "巴布膏剂": "巴布膏", "巴布剂": "巴布膏",
    "硬膏": "硬膏", "凝胶": "凝胶", "凝胶剂": "凝胶", "乳胶剂": "凝胶", "眼用凝胶": "眼用凝胶",
    "混悬凝胶": "混悬凝胶", "涂剂": "涂剂", "涂膜剂": "涂剂", "栓": "栓", "栓剂": "栓", "阴道栓": "栓",
    "直肠栓": "栓", "阴道膨胀栓": "栓", "滴眼液": "滴眼液", "滴眼剂": "滴眼液", "滴耳液": "滴耳液", "滴耳剂": "滴耳液",
    "滴鼻液": "滴鼻液", "滴鼻剂": "滴鼻液", "灌肠剂": "灌肠剂", "灌肠液": "灌肠剂", "冲洗液": "冲洗剂",
    "冲洗剂": "冲洗剂", "喷雾剂": "喷雾剂",
    # inhaled
    "气雾剂": "气雾剂", "吸入气雾剂": "气雾剂", "粉雾剂": "粉雾剂", "吸入粉雾剂": "粉雾剂", "干粉吸入剂": "粉雾剂",
    "粉吸入剂": "粉雾剂", "吸入剂": "粉雾剂", "吸入溶液": "吸入溶液", "吸入用溶液": "吸入溶液",
    "雾化溶液": "吸入溶液", "雾化液": "吸入溶液", "吸入溶液剂": "吸入溶液",
    "雾化吸入溶液": "吸入溶液", "雾化吸入用溶液": "吸入溶液", "吸入用溶液剂": "吸入溶液",
    "吸入用混悬剂": "吸入混悬液", "吸入混悬剂": "吸入混悬液", "雾化混悬液": "吸入混悬液",
    "吸入混悬液": "吸入混悬液", "吸入用混悬液": "吸入混悬液", "雾化吸入用混悬液": "吸入混悬液",
    "鼻喷雾剂": "鼻喷雾剂", "鼻用喷雾剂": "鼻喷雾剂",
    # injections
    "注射液": "注射液", "注射剂": "注射液", "针剂": "注射液", "粉针剂": "注射用", "粉针": "注射用",
    "冻干粉针": "注射用", "注射用浓溶液": "注射液", "乳状注射液": "注射液", "注射乳剂": "注射液",
    "注射溶液": "注射液", "眼用注射液": "眼用注射液", "眼内注射溶液": "眼用注射液", "植入剂": "植入剂",
    "脂质体注射液": "脂质体注射剂", "微球注射剂": "微球注射剂",
    # TCM-only
    "膏": "膏", "煎膏": "煎膏", "膏剂": "膏", "丹": "丹", "锭": "锭", "露": "露", "酒": "酒", "茶": "茶", "液": "液",
    "水": "水", "组合包装": "组合包装",
}  # fmt: skip
"""Form words as names end in them (longest match wins) → canonical specific form."""

FORM_PREFIXES: dict[str, str] = {"注射用": "注射用", "吸入用": "吸入溶液"}
"""Form words that open a name (``注射用头孢曲松钠``, ``吸入用乙酰半胱氨酸溶液``)."""

FORM_WORDS_BY_LENGTH: tuple[str, ...] = tuple(sorted(FORM_WORDS, key=len, reverse=True))

TCM_PILL_FAMILY = frozenset({"丸", "水丸", "蜜丸", "大蜜丸", "小蜜丸", "水蜜丸", "糊丸", "浓缩丸", "微丸"})
"""中成药 丸剂 (凡例 九): these, not 滴丸."""


class Fit(IntEnum):
    """How well a product's form fits a row: a row naming exactly that form beats a group that includes it."""

    NONE = 0
    GROUP = 1
    SPECIFIC = 2


def strip_form(text: str) -> tuple[str, str | None, str | None]:
    """``text`` without its form word at the end (or ``注射用`` at the start): the rest, the word, its canonical form.

    The longest form word wins (``缓释胶囊`` before ``胶囊``); nothing is taken when less than one character would
    be left. ``注射用头孢曲松钠`` → (``头孢曲松钠``, ``注射用``, ``注射用``).
    """
    for word in FORM_WORDS_BY_LENGTH:
        if text.endswith(word) and len(text) > len(word):
            rest = text[: -len(word)]
            for prefix, canonical in FORM_PREFIXES.items():
                if rest.startswith(prefix) and len(rest) > len(prefix):
                    if canonical == "注射用":
                        return rest[len(prefix) :], prefix + "…" + word, FORM_WORDS[word]
                    return rest[len(prefix) :], prefix + "…" + word, canonical
            return rest, word, FORM_WORDS[word]
    for prefix, canonical in FORM_PREFIXES.items():
        if text.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix) :], prefix, canonical
    return text, None, None


def row_form_fit(form: str | None, row_form: str) -> Fit:
    """How a product's canonical form fits a 西药 row's 剂型 value (凡例 八), honouring ``(不含分散片)``-style exclusions."""
    if form is None:
        return Fit.NONE
    spec = SPECS.get(form)
    if spec is None:
        return Fit.NONE
    value, excluded = _exclusions(row_form)
    if any(FORM_WORDS.get(x) == form or x == form for x in excluded):
        return Fit.NONE
    if value in spec.specific:
        return Fit.SPECIFIC
    if value in spec.groups:
        return Fit.GROUP
    return Fit.NONE


def _exclusions(row_form: str) -> tuple[str, list[str]]:
    """``口服常释剂型(不含分散片)`` → (``口服常释剂型``, [``分散片``])."""
    if "(" not in row_form:
        return row_form, []
    value, _, rest = row_form.partition("(")
    inner = rest.rstrip(")")
    if inner.startswith(("不含", "除")):
        words = [w for w in inner.lstrip("不含除").replace("、", ",").split(",") if w]
        return value, words
    return value, []


def same_form(a: str | None, b: str | None) -> bool:
    """Two canonical forms name the same product form (for rows that carry the full approved name)."""
    return a is not None and a == b


def tcm_form_fit(product_word: str | None, product_form: str | None, row_form: str | None) -> bool:
    """中成药 (凡例 九): a row's form covers the product's when equal; 丸 covers the 丸 family but not 滴丸."""
    if product_form is None or row_form is None:
        return False
    if product_form == row_form:
        return True
    return row_form == "丸" and (product_word or "") in TCM_PILL_FAMILY
