"""Drug names to catalogue SKUs: the product resolver behind ingest's mention links and query product detection.

Chinese drug names vary in ways that a plain string distance gets wrong in both directions: the salt is often left
out (阿托伐他汀钙片 ↔ 阿托伐他汀片), brackets and letters come full-width or half-width (（Ⅱ） ↔ (II)), a brand
stands for a generic (立普妥 ↔ 阿托伐他汀钙片), while names one character apart are often *different* drugs
(氨氯地平 ↔ 左氨氯地平, 洛伐他汀 ↔ 辛伐他汀, 多巴胺 ↔ 多巴酚丁胺) and the dosage form makes a different product
(片 ↔ 胶囊). So a name is first taken apart (`normalize_drug_name`: base, salt, dosage form, variant, strength); the
parts that decide identity are compared exactly (form, variant, strength, codes such as B12 or 30), and only the
base name is compared fuzzily, with rapidfuzz's character-level ``ratio`` (Indel distance; one Chinese character is
one code point). Rules of the domain shape that score:

- a name that *contains* the other whole (左氨氯地平 ⊃ 氨氯地平, 氨氯地平阿托伐他汀 ⊃ 阿托伐他汀) is an isomer, a
  derivative or a combination, never the same drug;
- shared class stems (他汀, 沙坦, 格列, 头孢, 单抗…) are no evidence of identity, so they are taken out before the
  comparison (洛伐他汀 ↔ 辛伐他汀 compares 洛伐 ↔ 辛伐);
- a stem one character off (沙格列丁, 阿托伐他丁) is a typo, since drugs of one class keep the stem exact.

Every result says why: ``exact`` (normalised names equal), ``brand``, ``alias`` (a bracketed alternative name),
``fuzzy``; or what blocked a match (``form_differs``, ``variant_differs``, ``strength_differs``, ``contained``…).

Scores are 0–100 (rapidfuzz's scale): at or above ``merge_threshold`` an automatic ``match``, at or above
``review_threshold`` a ``review`` (a person decides), below it ``no_match``. The defaults come from
``python -m eval.eval_er`` over ``eval/datasets/er_pairs.jsonl`` (342 labelled pairs: 263 drug, 79 customer), by a
rule written in `eval.eval_er.sweep`: merge = the middle of the range of thresholds that give the best recall while
automatic merges keep precision ≥ 0.98; review = the highest threshold that catches the most true pairs with a
review queue of at most 10 % of pairs. Figures at the defaults (``eval/reports/er/er_eval.md``):

====================  =============  =========  ======  ===========  ===================
kind                  merge/review   precision  recall  review rate  recall with review
====================  =============  =========  ======  ===========  ===================
drug, resolver        82 / 66        1.000      0.871   0.049        0.939
drug, baseline        85 / –         0.636      0.265   –            –
customer, resolver    94 / 66        1.000      0.838   0.190        0.946
customer, baseline    85 / –         0.463      0.676   –            –
====================  =============  =========  ======  ===========  ===================

(baseline: ``fuzz.ratio`` of the raw strings, merge at ≥ 85). Precision stays 1.000 for drugs from 76 to 88; below
76 look-alike pairs such as 多巴胺/多巴酚丁胺 (75) merge. The rules, stems and thresholds were developed on this same
dataset (there is no held-out split), so the figures are optimistic; the demo dataset, used as a held-out check,
showed customer merges at 83–89 that were wrong, which is why the customer merge threshold is now 94.

What it cannot do: a one-character typo inside the distinctive part of a name (格列美尿 for 格列美脲, 颉沙坦 for
缬沙坦) scores like a different drug one character away (格列本脲) and is not matched automatically; almost all such
typos are homophones typed through a pinyin input method, so comparing pinyin (``pypinyin``, not a dependency here)
is the next step. Abbreviations (市一院) and parent-company legal names (汇通医药控股联康大药房…) of customers are not
recognised. Free-text mentions (`ProductResolver.find_mentions`) rely on the catalogue's names: a combination not in
the catalogue (氨氯地平阿托伐他汀) is reported as its parts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz, process

from graph.model import Product
from resolution.cleaning import BRACKET_GROUP, clean, join_words, squash, strip_shared

DRUG_MERGE_THRESHOLD = 82.0
"""Default score (0–100) at or above which a drug name is matched automatically (chosen by the evaluation)."""
DRUG_REVIEW_THRESHOLD = 66.0
"""Default score at or above which a drug name goes to review instead of being dropped."""
Decision = Literal["match", "review", "no_match"]
DrugReason = Literal[
    "exact",
    "brand",
    "alias",
    "fuzzy",
    "contained",
    "form_differs",
    "variant_differs",
    "strength_differs",
    "salt_differs",
    "ambiguous",
    "empty",
    "no_candidate",
]

_ROMAN = re.compile(r"\(?(?<![A-Za-z])(VIII|VII|VI|IV|IX|III|II|I|V|X)(?![A-Za-z])\)?")
_STRENGTH = re.compile(
    r"(\d+(?:\.\d+)?)\s*(mg|mcg|μg|µg|ug|g|ml|iu|万单位|万iu|万u|单位|u)(?![a-z])"
    r"(?:\s*[:/]\s*\d+(?:\.\d+)?\s*(?:mg|mcg|μg|µg|ug|g|ml))?"
    r"(?:\s*[*x×]\s*\d+\s*(?:片|粒|袋|支|瓶|丸|贴|盒|板|s)?)*"
    r"(?:\s*/\s*(?:片|粒|袋|支|瓶|盒))?",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------------------------------- dosage forms

FORMS: dict[str, str] = {
    # tablets
    "片": "片", "片剂": "片", "薄膜衣片": "片", "糖衣片": "片",
    "缓释片": "缓释片", "控释片": "控释片", "肠溶片": "肠溶片", "肠溶缓释片": "肠溶缓释片", "分散片": "分散片",
    "咀嚼片": "咀嚼片", "泡腾片": "泡腾片", "口腔崩解片": "口崩片", "口崩片": "口崩片", "含片": "含片",
    "舌下片": "舌下片", "舌下片剂": "舌下片", "阴道片": "阴道片", "阴道泡腾片": "阴道泡腾片",
    # capsules
    "胶囊": "胶囊", "胶囊剂": "胶囊", "硬胶囊": "胶囊", "软胶囊": "软胶囊", "肠溶胶囊": "肠溶胶囊",
    "缓释胶囊": "缓释胶囊", "控释胶囊": "控释胶囊", "肠溶缓释胶囊": "肠溶缓释胶囊", "阴道软胶囊": "阴道软胶囊",
    # granules, powders, oral liquids
    "颗粒": "颗粒", "颗粒剂": "颗粒", "冲剂": "颗粒", "缓释颗粒": "缓释颗粒", "干混悬剂": "干混悬剂",
    "散": "散", "散剂": "散", "口服散剂": "散", "口服液": "口服液", "口服溶液": "口服液", "口服溶液剂": "口服液",
    "糖浆": "糖浆", "糖浆剂": "糖浆", "合剂": "合剂", "混悬液": "混悬液", "口服混悬液": "混悬液",
    "混悬剂": "混悬液", "口服乳剂": "乳剂", "乳剂": "乳剂", "滴剂": "滴剂", "口溶膜": "口溶膜",
    # injections
    "注射液": "注射液", "注射用": "注射用", "粉针剂": "注射用", "粉针": "注射用", "注射用无菌粉末": "注射用",
    "冻干粉针": "注射用", "眼用注射液": "眼用注射液",
    # pills (TCM)
    "丸": "丸", "丸剂": "丸", "水丸": "丸", "蜜丸": "丸", "大蜜丸": "丸", "小蜜丸": "丸", "水蜜丸": "丸",
    "浓缩丸": "丸", "滴丸": "滴丸", "滴丸剂": "滴丸",
    # external, inhaled, other
    "膏": "膏", "软膏": "软膏", "软膏剂": "软膏", "乳膏": "乳膏", "乳膏剂": "乳膏", "凝胶": "凝胶", "凝胶剂": "凝胶",
    "贴剂": "贴剂", "透皮贴剂": "贴剂", "贴膏": "贴膏", "贴膏剂": "贴膏", "栓": "栓", "栓剂": "栓",
    "滴眼液": "滴眼液", "滴眼剂": "滴眼液", "眼膏": "眼膏", "眼膏剂": "眼膏", "滴鼻液": "滴鼻液", "滴耳液": "滴耳液",
    "喷雾剂": "喷雾剂", "鼻喷雾剂": "喷雾剂", "气雾剂": "气雾剂", "吸入气雾剂": "吸入气雾剂",
    "粉吸入剂": "粉吸入剂", "吸入粉雾剂": "粉吸入剂", "吸入剂": "吸入剂", "吸入溶液": "吸入溶液",
    "搽剂": "搽剂", "洗剂": "洗剂", "酊": "酊", "酊剂": "酊", "溶液": "溶液", "外用溶液": "溶液", "液": "液",
    "水": "水",
    # English
    "tablets": "片", "tablet": "片", "film-coated tablets": "片", "capsules": "胶囊", "capsule": "胶囊",
    "sustained-release tablets": "缓释片", "extended-release tablets": "缓释片", "controlled-release tablets": "控释片",
    "enteric-coated tablets": "肠溶片", "dispersible tablets": "分散片", "chewable tablets": "咀嚼片",
    "injection": "注射液", "for injection": "注射用", "granules": "颗粒", "oral solution": "口服液",
    "syrup": "糖浆", "cream": "乳膏", "ointment": "软膏", "gel": "凝胶",
}  # fmt: skip
"""Dosage-form words (longest match wins, at the end of a name) → canonical form."""

FORM_FAMILIES: dict[str, frozenset[str]] = {
    "口服常释剂型": frozenset({"片", "胶囊", "肠溶片", "肠溶胶囊", "分散片", "咀嚼片", "泡腾片", "口崩片", "软胶囊"}),
    "缓释控释剂型": frozenset({"缓释片", "控释片", "缓释胶囊", "控释胶囊", "肠溶缓释片", "肠溶缓释胶囊", "缓释颗粒"}),
    "注射剂": frozenset({"注射液", "注射用", "眼用注射液"}),
    "颗粒剂": frozenset({"颗粒", "缓释颗粒"}),
    "口服液体剂": frozenset({"口服液", "糖浆", "合剂", "混悬液", "乳剂", "滴剂", "干混悬剂"}),
    "丸剂": frozenset({"丸", "滴丸"}),
    "吸入剂": frozenset({"吸入气雾剂", "粉吸入剂", "吸入溶液", "吸入剂"}),
    "外用液体剂": frozenset({"溶液", "搽剂", "洗剂", "酊", "液"}),
}
"""The NRDL's dosage-form classes (剂型 column): a class is compatible with each of its members."""

_FORM_WORDS = sorted(FORMS, key=len, reverse=True)


def canonical_form(dosage_form: str | None) -> str | None:
    """The canonical dosage form of a 剂型 value (``片剂`` → ``片``, ``口服常释剂型`` kept as a class), or None.

    Exists so that a Product's ``dosage_form`` field, an NRDL 剂型 and the form word at the end of a name compare.
    """
    if not dosage_form:
        return None
    s = squash(clean(dosage_form))
    s = re.sub(r"\(.*?\)", "", s)
    for family in FORM_FAMILIES:
        if s.startswith(family):
            return family
    if s in FORMS:
        return FORMS[s]
    for word in _FORM_WORDS:
        if s.endswith(word):
            return FORMS[word]
    return s or None


def forms_compatible(a: str | None, b: str | None) -> bool:
    """True when two canonical forms may name the same product: equal, unknown on one side, or class and member."""
    if a is None or b is None or a == b:
        return True
    return b in FORM_FAMILIES.get(a, ()) or a in FORM_FAMILIES.get(b, ())


# --------------------------------------------------------------------------------------------------- salts

PREFIX_SALTS: tuple[str, ...] = tuple(
    sorted(
        {
            "盐酸", "二盐酸", "硫酸", "硫酸氢", "氢溴酸", "氢碘酸", "马来酸", "甲磺酸", "苯磺酸", "苯甲酸", "甲苯磺酸",
            "对甲苯磺酸", "富马酸", "琥珀酸", "酒石酸", "重酒石酸", "枸橼酸", "磷酸", "醋酸", "乳酸", "门冬氨酸",
            "天冬氨酸", "草酸", "帕莫酸", "双羟萘酸", "乙磺酸", "萘磺酸", "羟乙磺酸", "苹果酸", "精氨酸",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
"""Acid salts written before the base (盐酸二甲双胍). Nitrates (硝酸甘油) are the drug itself and not listed."""

SUFFIX_SALTS: tuple[str, ...] = tuple(
    sorted(
        {
            "钙", "钠", "钾", "镁", "锌", "二钠", "钠盐", "钾盐", "盐酸盐", "硫酸盐", "甲磺酸盐", "马来酸盐",
            "水合物", "一水合物", "二水合物", "三水合物", "半水合物", "倍半水合物", "叔丁胺", "精氨酸", "氨丁三醇",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
"""Salts and hydrates written after the base (阿托伐他汀钙)."""

ENGLISH_SALTS = frozenset(
    {
        "hydrochloride", "dihydrochloride", "calcium", "sodium", "potassium", "magnesium", "besylate", "besilate",
        "maleate", "mesylate", "mesilate", "fumarate", "hemifumarate", "succinate", "tartrate", "citrate", "phosphate",
        "sulfate", "sulphate", "bisulfate", "hydrobromide", "oxalate", "acetate", "benzoate", "hydrate", "monohydrate",
    }
)  # fmt: skip
_ENGLISH_INORGANIC = frozenset(
    {
        "chloride", "bicarbonate", "carbonate", "citrate", "gluconate", "lactate", "sulfate", "phosphate", "acetate",
        "hydroxide", "oxide", "iodide", "bromide",
    }
)  # fmt: skip
# What is left after taking a salt off must still be a drug: not the counter-ion, not an inorganic compound.
_COUNTER_ACIDS = frozenset(
    {
        "盐酸", "硫酸", "碳酸", "碳酸氢", "磷酸", "磷酸氢", "醋酸", "乳酸", "枸橼酸", "葡萄糖酸", "门冬氨酸",
        "甘油磷酸", "草酸", "酒石酸", "硼酸", "硝酸", "亚硫酸", "硫代硫酸",
    }
)  # fmt: skip
_INORGANIC_CHARS = frozenset("钠钾钙镁锌铁铝锂钡铋铜锰硒银金铂钴钆锶亚氢碳硫磷氯溴碘氧氮酸化")
_METALS = frozenset("钠钾钙镁锌铁铝锂钡铋铜锰硒银金铂钴钆锶")


def _is_drug_base(s: str) -> bool:
    if len(s) < 2 or s in _COUNTER_ACIDS or s[-1] in "化氢" or s[-1] in _METALS:
        return False
    if all(ch in _INORGANIC_CHARS for ch in s):
        return False
    return not (s.endswith("酸") and len(s) < 3)


def _strip_salts(base: str) -> tuple[str, list[str]]:
    """Take salts off the base until none is left; each step must leave a drug name (氯化钠, 碳酸钙 stay whole)."""
    salts: list[str] = []
    if " " in base or base.isascii():
        words = base.split()
        kept = [w for w in words if w not in ENGLISH_SALTS]
        if kept and kept != words and not (len(kept) == 1 and kept[0] in _ENGLISH_INORGANIC):
            return " ".join(kept), [w for w in words if w in ENGLISH_SALTS]
        return base, salts
    changed = True
    while changed:
        changed = False
        for salt in SUFFIX_SALTS:
            if base.endswith(salt) and _is_drug_base(base[: -len(salt)]):
                base, changed = base[: -len(salt)], True
                salts.append(salt)
                break
        for salt in PREFIX_SALTS:
            if base.startswith(salt) and _is_drug_base(base[len(salt) :]):
                base, changed = base[len(salt) :], True
                salts.append(salt)
                break
    return base, salts


# --------------------------------------------------------------------------------------------------- names


class NormalizedName(BaseModel):
    """A drug name taken apart: the base compared fuzzily, the parts that decide identity compared exactly."""

    model_config = ConfigDict(frozen=True)

    raw: str = Field(description="The text as given.")
    base: str = Field(description="Base name: no salt, no dosage form, lower case, no spaces or brackets.")
    form: str | None = Field(None, description="Canonical dosage form (片, 胶囊, 缓释片, 注射液…), if named.")
    salt: str | None = Field(None, description="Salt(s) taken off the base, joined with '+' (盐酸, 钙…).")
    variant: str | None = Field(None, description="Roman-numeral variant (二甲双胍Ⅱ → 'II'): a different product.")
    strengths: tuple[str, ...] = Field((), description="Strengths found in the text, in mg/ml/μg/IU (20mg).")
    qualifiers: tuple[str, ...] = Field((), description="Other bracketed text: aliases or brands (立普妥).")

    @property
    def key(self) -> str:
        """Base, form and variant as one string: the identity of the product up to salt and strength."""
        return self.base + (self.form or "") + (f"({self.variant})" if self.variant else "")


def _strength(number: str, unit: str) -> str:
    unit = unit.lower().replace("µ", "μ")
    value = float(number)
    if unit in ("mcg", "ug"):
        unit = "μg"
    if unit == "g":
        value, unit = value * 1000, "mg"
    if unit in ("万单位", "万iu", "万u"):
        value, unit = value * 10000, "iu"
    if unit in ("单位", "u"):
        unit = "iu"
    return f"{value:g}{unit}"


def normalize_drug_name(text: str) -> NormalizedName:
    """Take a drug name apart into base, salt, dosage form, variant, strengths and bracketed qualifiers.

    ``阿托伐他汀钙片（20mg×7片）`` → base ``阿托伐他汀``, salt ``钙``, form ``片``, strengths ``('20mg',)``. It is the
    first step of every comparison, so that width, brackets, spaces and salts never count as differences.
    """
    s = clean(text)
    variants = [m.group(1) for m in _ROMAN.finditer(s)]
    s = _ROMAN.sub("", s)
    strengths = tuple(dict.fromkeys(_strength(m.group(1), m.group(2)) for m in _STRENGTH.finditer(s)))
    s = _STRENGTH.sub("", s)
    qualifiers: list[str] = []
    while True:
        groups = list(BRACKET_GROUP.finditer(s))
        if not groups:
            break
        qualifiers.extend(g for g in (squash(m.group(1)) for m in groups) if g)
        s = BRACKET_GROUP.sub("", s)
    s = squash(s)
    # separators and stray brackets gone may reveal a strength (1-g → 1g): take it too, so the base is a fixpoint
    strengths += tuple(_strength(m.group(1), m.group(2)) for m in _STRENGTH.finditer(s))
    s = join_words(_STRENGTH.sub(" ", s))
    form: str | None = None
    if s.startswith("注射用") and len(s) > 4:
        form, s = "注射用", s[3:]
    base, form = _strip_form(s, form)
    base, salts = _strip_salts(base)
    if form is None:  # 阿托伐他汀钙片: the form was behind the salt only if the salt came last (rare), try again
        base, form = _strip_form(base, form)
    while True:  # a form or salt taken off can bare another (…钙液钙): take them too, so the base is a fixpoint
        again, bared_form = _strip_form(base, None)
        again, more = _strip_salts(again)
        if again == base:
            break
        base, salts, form = again, [*salts, *more], form or bared_form
    return NormalizedName(
        raw=text,
        base=base,
        form=form,
        salt="+".join(salts) or None,
        variant=variants[-1] if variants else None,
        strengths=tuple(dict.fromkeys(strengths)),
        qualifiers=tuple(q for q in qualifiers if q != base),
    )


def _strip_form(s: str, form: str | None) -> tuple[str, str | None]:
    """Take the dosage-form word off the end of ``s`` (repeatedly, so the result has none), keep the first seen."""
    while True:
        for word in _FORM_WORDS:
            if not s.endswith(word):  # the cheap test first: ~100 form words per call, most never match
                continue
            rest = s[: -len(word)].rstrip()
            if len(rest) >= 2 and (not word.isascii() or s[: -len(word)].endswith(" ")):
                s, form = rest, form or FORMS[word]
                break
        else:
            return s, form


# --------------------------------------------------------------------------------------------------- similarity

STEMS: tuple[str, ...] = tuple(
    sorted(
        {
            # class stems (the Chinese forms of INN stems)
            "他汀", "沙坦", "地平", "普利", "拉唑", "拉生", "沙星", "洛尔", "格列汀", "列汀", "格列净", "列净",
            "格列奈", "格列", "双胍", "替尼", "珠单抗", "利单抗", "单抗", "霉素", "西林", "头孢", "司琼", "替丁",
            "噻嗪", "唑仑", "西泮", "曲坦", "格雷", "肝素", "胰岛素", "昔洛韦", "福韦", "布韦", "那韦", "韦", "昔布",
            "洛芬", "芬酸", "沙班", "加群", "巴林", "膦酸", "替康", "他滨", "比星", "地尔", "卡因", "米松", "尼松",
            "尼龙", "康唑", "硝唑", "特罗", "司特", "西汀", "西坦", "帕明", "哌酮", "培南", "唑胺", "西平", "嘧啶",
            "昔康", "沙秦", "匹坦", "鲁肽", "那肽", "瑞林", "前列素", "茶碱", "雷他定", "利嗪", "司韦", "艾司",
            # components of many combinations
            "二甲双胍", "阿司匹林", "氨氯地平", "氢氯噻嗪",
            # words many 中成药 share
            "地黄", "清热", "感冒", "牛黄", "丹参", "解毒", "口服",
            # English stems
            "statin", "sartan", "dipine", "pril", "prazole", "floxacin", "olol", "gliptin", "gliflozin", "glinide",
            "tinib", "mab", "mycin", "cillin", "cef", "setron", "tidine", "azepam", "azolam", "triptan", "parin",
            "vir", "coxib", "profen", "xaban", "gabalin", "dronate", "nidazole", "conazole", "lukast", "oxetine",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
"""Class stems shared by many drugs (and a few components of combinations): sharing one is no evidence of identity."""

STEREO_PREFIXES = frozenset({"左", "右", "艾司", "左旋", "右旋", "消旋", "精", "去甲", "地", "复方", "小儿"})
"""Prefixes that turn a drug into another one (左氨氯地平, 艾司奥美拉唑, 复方丹参): never skipped in free text."""

STEM_TYPO_PENALTY = 10.0
"""Points taken off a name whose only difference is a misspelt class stem (沙格列丁 for 沙格列汀)."""

_ALL_SALTS = tuple(sorted(set(PREFIX_SALTS + SUFFIX_SALTS), key=len, reverse=True))
_CODES = re.compile(r"[0-9a-z]+")
_NUMBERS = re.compile(r"[0-9]+")


def _only_salts(text: str) -> bool:
    """True when ``text`` is made of salt words only (钙, 钙钙, 盐酸): left over, it does not make another drug."""
    while text:
        word = next((w for w in _ALL_SALTS if text.startswith(w)), None)
        if word is None:
            return False
        text = text[len(word) :]
    return True


def name_codes(base: str) -> tuple[str, ...]:
    """Letters and numbers inside a Chinese name (维生素B12 → 'b12', 门冬胰岛素30 → '30'); numbers in an English one.

    They are codes, not spelling: two names whose codes differ are different products.
    """
    return tuple(sorted((_NUMBERS if base.isascii() else _CODES).findall(base)))


def _repair_stem(a: str, b: str) -> str | None:
    """``a`` with one misspelt class stem of ``b`` put right (沙格列丁 → 沙格列汀), or None if there is none.

    Different drugs of one class share the stem exactly and differ elsewhere; a stem one character off, at a place
    that is not itself a stem (格列奈 is not a misspelt 格列汀), is a typo.
    """
    for stem in STEMS:
        if stem not in b or stem in a or len(stem) < 2 or stem.isascii():
            continue
        # places of ``a`` taken by another stem (瑞格列奈's 格列奈 is not a misspelt 格列汀, nor 列奈 one of 列汀)
        taken = {
            p
            for other in STEMS
            if other not in stem
            for m in re.finditer(re.escape(other), a)
            for p in range(m.start(), m.end())
        }
        for i in range(len(a) - len(stem) + 1):
            window = a[i : i + len(stem)]
            if sum(x != y for x, y in zip(window, stem, strict=True)) == 1 and not taken & set(range(i, i + len(stem))):
                return a[:i] + stem + a[i + len(stem) :]
    return None


def _plain_similarity(a: str, b: str) -> float:
    if a.isascii() and b.isascii():
        return float(fuzz.token_sort_ratio(*strip_shared(a, b, STEMS)))
    return float(fuzz.ratio(*strip_shared(a, b, STEMS)))


def name_similarity(a: str, b: str) -> tuple[float, DrugReason]:
    """Score (0–100) of two normalised base names, with ``exact``, ``fuzzy``, ``contained`` or ``variant_differs``.

    Different codes (B1/B6, 门冬胰岛素30/50) or metals (氯化钾/氯化钠) score 0; a name containing the other whole is
    an isomer, derivative or combination (at most 40) unless what is left over is only salt; otherwise shared class
    stems are removed and the rest compared with rapidfuzz's character-level ``ratio``, and a misspelt stem is put
    right at a small cost.
    """
    if a == b:
        return 100.0, "exact"
    if not a or not b:
        return 0.0, "fuzzy"
    if name_codes(a) != name_codes(b):
        return 0.0, "variant_differs"
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if short in long and _is_drug_base(short) and _only_salts(long.replace(short, "", 1)):
        return 100.0 - STEM_TYPO_PENALTY, "fuzzy"  # a salt left over (瑞舒伐他汀钙钙): not another drug
    if sorted(ch for ch in a if ch in _METALS) != sorted(ch for ch in b if ch in _METALS):
        return 0.0, "salt_differs"  # a metal left in the base is the drug itself: 氯化钾 is not 氯化钠
    if short in long:
        return min(40.0, float(fuzz.ratio(a, b))), "contained"
    score = _plain_similarity(a, b)
    for x, y in ((a, b), (b, a)):
        repaired = _repair_stem(x, y)
        if repaired is not None:
            score = max(score, _plain_similarity(repaired, y) - STEM_TYPO_PENALTY)
    return score, "fuzzy"


# --------------------------------------------------------------------------------------------------- products


class Candidate(BaseModel):
    """One catalogue product considered for a mention, with its score and why."""

    model_config = ConfigDict(frozen=True)

    sku: str
    name: str = Field(description="Product name in the catalogue.")
    score: float = Field(ge=0, le=100)
    reason: DrugReason
    alias: str = Field(description="The normalised name of the product that was compared.")


class Resolution(BaseModel):
    """The outcome of resolving one drug mention against the catalogue."""

    model_config = ConfigDict(frozen=True)

    query: str = Field(description="The mention as given.")
    decision: Decision = Field(description="match (automatic), review (a person decides) or no_match.")
    skus: tuple[str, ...] = Field(description="Best SKU(s): several when they differ only in spec.")
    score: float = Field(ge=0, le=100, description="Score of the best candidate, 0–100.")
    reason: DrugReason = Field(description="Why the best candidate scored as it did, or what blocked it.")
    explanation: str = Field(description="One sentence a person can check.")
    candidates: tuple[Candidate, ...] = Field((), description="Best candidates, best first (at most 5).")
    span: tuple[int, int] | None = Field(None, description="Start and end offsets in the free text (find_mentions).")


class _Entry(BaseModel):
    """A catalogue product, normalised once."""

    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    form: str | None
    variant: str | None
    salt: str | None
    strengths: frozenset[str]


class _Alias(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    entry: int
    kind: Literal["exact", "brand", "alias"]


def _explain(reason: DrugReason, alias: str, score: float) -> str:
    return {
        "exact": f"normalised name equals '{alias}'",
        "brand": f"'{alias}' is the product's brand",
        "alias": f"'{alias}' is a bracketed alternative name of the product",
        "fuzzy": f"name similar to '{alias}' (score {score:.0f})",
        "contained": f"one name contains the other ('{alias}'): isomer, derivative or combination, not the same drug",
        "form_differs": f"name '{alias}' agrees but the dosage form differs",
        "variant_differs": f"name '{alias}' agrees but the variant (Ⅰ/Ⅱ/…) differs",
        "strength_differs": f"name '{alias}' agrees but the strength differs",
        "salt_differs": f"name '{alias}' agrees but the salt differs",
        "ambiguous": f"several products fit '{alias}' equally well",
        "empty": "nothing left to compare after normalisation",
        "no_candidate": "no product name is similar",
    }[reason]


class ProductResolver:
    """Resolves drug mentions (names, brands, typos, free text) to the SKUs of a product catalogue.

    Built once from the catalogue; ``resolve`` answers one mention, ``find_mentions`` every mention in a sentence.
    Scores are 0–100; see the module docstring for how the default thresholds were chosen.
    """

    def __init__(
        self,
        products: Iterable[Product],
        *,
        merge_threshold: float = DRUG_MERGE_THRESHOLD,
        review_threshold: float = DRUG_REVIEW_THRESHOLD,
    ) -> None:
        if not 0 <= review_threshold <= merge_threshold <= 100:
            raise ValueError(
                f"need 0 <= review_threshold <= merge_threshold <= 100, got {review_threshold}, {merge_threshold}"
            )
        self.merge_threshold = merge_threshold
        self.review_threshold = review_threshold
        self._entries: list[_Entry] = []
        self._aliases: list[_Alias] = []
        self._by_key: dict[str, list[int]] = defaultdict(list)
        self._by_sku: dict[str, int] = {}
        for product in products:
            self._add(product)
        self._keys = [a.key for a in self._aliases]
        self._surface = self._surface_forms()

    def _add(self, product: Product) -> None:
        name = normalize_drug_name(product.name)
        generic = normalize_drug_name(product.generic_name) if product.generic_name else None
        spec = normalize_drug_name(product.spec).strengths if product.spec else ()
        entry = _Entry(
            sku=product.sku,
            name=product.name,
            form=name.form or canonical_form(product.dosage_form) or (generic.form if generic else None),
            variant=name.variant,
            salt=name.salt or (generic.salt if generic else None),
            strengths=frozenset(name.strengths) | frozenset(spec),
        )
        index = len(self._entries)
        self._entries.append(entry)
        self._by_sku[entry.sku] = index
        keys: list[tuple[str, Literal["exact", "brand", "alias"]]] = [(name.base, "exact")]
        if generic:
            keys.append((generic.base, "exact"))
        if product.brand:
            keys.append((normalize_drug_name(product.brand).base, "brand"))
        keys.extend((normalize_drug_name(q).base, "alias") for q in name.qualifiers)
        seen: set[str] = set()
        for key, kind in keys:
            if len(key) >= 2 and key not in seen:
                seen.add(key)
                self._by_key[key].append(len(self._aliases))
                self._aliases.append(_Alias(key=key, entry=index, kind=kind))

    def _surface_forms(self) -> dict[str, list[str]]:
        """Alias keys by first character, longest first: the dictionary scanned by ``find_mentions``."""
        by_first: dict[str, list[str]] = defaultdict(list)
        for key in self._by_key:
            if not key.isascii():
                by_first[key[0]].append(key)
        return {ch: sorted(keys, key=len, reverse=True) for ch, keys in by_first.items()}

    # ------------------------------------------------------------------------------------------- resolve

    def decide(self, score: float) -> Decision:
        """The decision for a score under this resolver's thresholds."""
        if score >= self.merge_threshold:
            return "match"
        return "review" if score >= self.review_threshold else "no_match"

    def resolve(self, text: str, dosage_form: str | None = None) -> Resolution:
        """Resolve one drug mention (name, generic, brand, with or without salt, form, spec) to the best SKU(s).

        ``dosage_form`` (a 剂型 such as 片剂 or 口服常释剂型), when given, overrides the form in the text. A candidate
        whose form, variant or strength contradicts the mention is never matched, whatever its name score.
        """
        q = normalize_drug_name(text)
        form = canonical_form(dosage_form) if dosage_form else q.form
        queries = [q.base] + [b for b in (normalize_drug_name(x).base for x in q.qualifiers) if len(b) >= 2]
        if not q.base and len(queries) == 1:
            return Resolution(
                query=text, decision="no_match", skus=(), score=0, reason="empty", explanation=_explain("empty", "", 0)
            )
        scored: dict[int, Candidate] = {}
        support: dict[int, int] = defaultdict(int)  # how many parts of the mention (name, bracketed brand…) agree
        for base in queries:
            for cand_index, cand in self._score_base(base, q, form):
                if cand_index not in scored or cand.score > scored[cand_index].score:
                    scored[cand_index] = cand
                support[cand_index] += cand.score >= self.merge_threshold
        order = sorted(scored, key=lambda i: (-scored[i].score, -support[i], scored[i].sku))
        top = order[0] if order else None
        ranked = [scored[i] for i in order if top is None or i == top or support[i] >= support[top]]
        return self._decide(text, ranked, q, form)

    def _score_base(self, base: str, q: NormalizedName, form: str | None) -> list[tuple[int, Candidate]]:
        alias_ids = list(self._by_key.get(base, ()))
        if not alias_ids and self._keys:
            cutoff = min(self.review_threshold, 50.0)
            hits = process.extract(base, self._keys, scorer=fuzz.ratio, limit=25, score_cutoff=cutoff)
            alias_ids = [i for _, _, i in hits]
        out: list[tuple[int, Candidate]] = []
        for alias_id in alias_ids:
            alias = self._aliases[alias_id]
            entry = self._entries[alias.entry]
            reason: DrugReason
            if alias.key == base:
                score, reason = 100.0, alias.kind
            else:
                score, reason = name_similarity(base, alias.key)
                if alias.kind == "brand":  # a brand is a word, not a name built from parts: no partial credit
                    score = min(score, self.review_threshold)
            blocked = self._blocked(q, form, entry)
            if blocked and score >= self.review_threshold:
                score, reason = 0.0, blocked
            elif q.salt and entry.salt and q.salt != entry.salt and reason in ("exact", "fuzzy"):
                score, reason = min(score, self.merge_threshold - 0.5), "salt_differs"
            out.append(
                (alias.entry, Candidate(sku=entry.sku, name=entry.name, score=score, reason=reason, alias=alias.key))
            )
        return out

    @staticmethod
    def _agreement(q: NormalizedName, form: str | None, entry: _Entry) -> int:
        return (q.variant == entry.variant) + (form == entry.form) + (q.salt == entry.salt)

    @staticmethod
    def _blocked(q: NormalizedName, form: str | None, entry: _Entry) -> DrugReason | None:
        if not forms_compatible(form, entry.form):
            return "form_differs"
        if q.variant and entry.variant and q.variant != entry.variant:
            return "variant_differs"
        if q.strengths and entry.strengths and not set(q.strengths) & entry.strengths:
            return "strength_differs"
        return None

    def _decide(self, text: str, ranked: list[Candidate], q: NormalizedName, form: str | None) -> Resolution:
        if not ranked:
            return Resolution(
                query=text,
                decision="no_match",
                skus=(),
                score=0,
                reason="no_candidate",
                explanation=_explain("no_candidate", "", 0),
            )
        best = ranked[0]
        if best.score < self.review_threshold and any(c.reason.endswith("_differs") for c in ranked):
            best = next(c for c in ranked if c.reason.endswith("_differs"))  # say what blocked the name match
            return Resolution(
                query=text,
                decision="no_match",
                skus=(best.sku,),
                score=0,
                reason=best.reason,
                explanation=_explain(best.reason, best.alias, 0),
                candidates=tuple(ranked[:5]),
            )
        tied = [c for c in ranked if c.score >= best.score - 1e-9]
        # among equals, prefer the products that agree on what the mention says or leaves out (阿托伐他汀 is the
        # product without a variant, not 阿托伐他汀Ⅱ)
        agreement = {c.sku: self._agreement(q, form, self._entries[self._by_sku[c.sku]]) for c in tied}
        tied = [c for c in tied if agreement[c.sku] == max(agreement.values())]
        skus = tuple(dict.fromkeys(c.sku for c in tied))
        decision = self.decide(best.score)
        reason: DrugReason = best.reason
        products = {(e.form, e.variant, e.salt) for e in (self._entries[self._by_sku[sku]] for sku in skus)}
        if decision == "match" and len(products) > 1:
            decision, reason = "review", "ambiguous"
        runner_up = next((c for c in ranked if c.sku not in skus), None)
        if decision == "match" and best.score < 100 and runner_up and runner_up.score >= best.score - 3:
            decision, reason = "review", "ambiguous"
        return Resolution(
            query=text,
            decision=decision,
            skus=skus,
            score=best.score,
            reason=reason,
            explanation=_explain(reason, best.alias, best.score),
            candidates=tuple(ranked[:5]),
        )

    # ------------------------------------------------------------------------------------------- free text

    def find_mentions(self, free_text: str) -> list[Resolution]:
        """Every product mentioned in a sentence (a rep's note), each resolved, with its span in the text.

        Exact names, generics and brands are found by a longest-match scan (salt and form words next to them are
        taken in; a name glued to 左/右/艾司… is another drug and skipped); misspelt names of four characters or more
        by rapidfuzz ``partial_ratio`` alignment, kept only when they resolve to a ``match`` (a window cut out of a
        sentence is too uncertain for review). Mentions resolved to ``no_match`` are left out.
        """
        chars, offsets = _index_map(free_text)
        found: list[Resolution] = []
        taken: list[tuple[int, int]] = []
        i = 0
        while i < len(chars):
            key = next((k for k in self._surface.get(chars[i], ()) if chars.startswith(k, i)), None)
            if key is None:
                i += 1
                continue
            if _after_prefix(chars, i):  # 左氨氯地平 is not 氨氯地平: skip it, and keep the fuzzy pass off it too
                taken.append((max(0, i - 2), _extend(chars, i, i + len(key))[1]))
                i += len(key)
                continue
            start, end = _extend(chars, i, i + len(key))
            mention = free_text[offsets[start] : offsets[end - 1] + 1]
            res = self.resolve(mention)
            if res.decision != "no_match":
                found.append(res.model_copy(update={"span": (offsets[start], offsets[end - 1] + 1)}))
            taken.append((start, end))  # a name is there, resolved or not: no fuzzy window inside it
            i = end
        found.extend(self._fuzzy_mentions(free_text, chars, offsets, taken))
        return sorted(found, key=lambda r: r.span or (0, 0))

    def _fuzzy_mentions(
        self, free_text: str, chars: str, offsets: list[int], taken: list[tuple[int, int]]
    ) -> list[Resolution]:
        out: list[Resolution] = []
        keys = [k for k in self._by_key if len(k) >= 4 and not k.isascii()]
        if not keys or not chars:
            return out
        for key, _, _ in process.extract(
            chars, keys, scorer=fuzz.partial_ratio, limit=None, score_cutoff=self.review_threshold
        ):
            al = fuzz.partial_ratio_alignment(key, chars)
            if al is None:
                continue
            best: tuple[Resolution, int, int] | None = None
            # the alignment may cut a misspelt character off the end: try windows of the key's length around it
            for start in range(max(0, al.dest_start - 1), al.dest_start + 2):
                for length in (len(key) - 1, len(key), len(key) + 1):
                    end = min(len(chars), start + length)
                    if end - start < 2 or _after_prefix(chars, start):
                        continue
                    if not all(ch.isalnum() for ch in chars[start:end]):
                        continue
                    if any(s < end and start < e for s, e in taken):
                        continue
                    s0, e0 = _extend(chars, start, end)
                    res = self.resolve(free_text[offsets[s0] : offsets[e0 - 1] + 1])
                    better = best is None or (res.score, s0 - e0) > (best[0].score, best[1] - best[2])
                    if res.decision == "match" and better:
                        best = (res, s0, e0)
            if best is not None:
                res, s0, e0 = best
                out.append(res.model_copy(update={"span": (offsets[s0], offsets[e0 - 1] + 1)}))
                taken.append((s0, e0))
        return out


def _index_map(text: str) -> tuple[str, list[int]]:
    """Text normalised character by character (NFKC, case-folded, no whitespace) and each character's offset."""
    chars: list[str] = []
    offsets: list[int] = []
    for pos, ch in enumerate(text):
        for out in unicodedata.normalize("NFKC", ch).casefold():
            if not out.isspace():
                chars.append(out)
                offsets.append(pos)
    return "".join(chars), offsets


def _after_prefix(chars: str, i: int) -> bool:
    """True when the name at ``i`` is glued to a prefix that makes another drug (左氨氯地平 is not 氨氯地平)."""
    return any(chars.endswith(p, 0, i) for p in STEREO_PREFIXES)


def _extend(chars: str, start: int, end: int) -> tuple[int, int]:
    """Widen a name found in free text over a salt before it, and a salt and a form word after it."""
    for salt in PREFIX_SALTS:
        if chars.endswith(salt, 0, start):
            start -= len(salt)
            break
    if chars.startswith("注射用", max(0, start - 3)) and start >= 3:
        start -= 3
    for salt in SUFFIX_SALTS:
        if chars.startswith(salt, end):
            end += len(salt)
            break
    for word in _FORM_WORDS:
        if not word.isascii() and chars.startswith(word, end):
            end += len(word)
            break
    return start, end
