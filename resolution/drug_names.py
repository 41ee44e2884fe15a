"""Product-master names taken apart: brand, generic, salt, dosage form, strength, pack, maker and notes.

A distributor's ERP names a product ``<brand> <generic><salt><form> <strength>×<pack> <maker>`` in many styles:
``立普妥 阿托伐他汀钙片 20mg×7片 辉瑞``, ``拜新同(硝苯地平控释片)30mg*7片``, ``二甲双胍片 0.5g×20片×3板（格华止）``,
``施维雅·吲达帕胺缓释片·1.5mgX30片``, ``【OTC】对乙酰氨基酚片0.5g*12片/盒 中美史克``, full-width ``０．５ｇ＊２０片``.
`parse_name` finds the one token that is the drug (it ends in a dosage-form word, or opens with 注射用), and
classifies everything else: strengths and packs, bracketed notes (``【医保】``, ``(进口)``, ``(新包装)``), Roman-numeral
variants, qualifiers that belong to the name (``(TPF)``, ``(局方)``, ``(静脉输注)``), brands and makers. The drug part
is then split into generic and form, and the generic into base and salts (`salt_keys` gives every reading the list
could use: 苯磺酸氨氯地平 → 氨氯地平; 头孢哌酮钠舒巴坦钠 → 头孢哌酮舒巴坦).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from resolution.dosage_forms import FORM_WORDS, SPECS, strip_form
from resolution.lexicon import (
    FLAVOURS,
    NOTES,
    SCOPE_EXCLUDED,
    BrandLexicon,
    is_company,
)
from resolution.text import ROMAN, compact, has_cjk, is_cjk, normalize, split_roman

_NUM = r"\d+(?:\.\d+)?"
_UNIT = (
    r"(?:mg|g|μg|µg|ug|mcg|ml|l|iu|万单位|万iu|万u|单位|u|%|cm|mm|kg|克|毫克|毫升|微克|片|粒|袋|支|瓶|丸|贴|盒|板|"
    r"吸|揿|喷|张|卷|只|台|罐|条|枚|包|帖|s|p|套|人份|次|滴|听|件|桶|提|个|颗|管|剂)"
)
_OP = r"[:/×*x∶]"
SPEC = re.compile(
    rf"(?<![a-z0-9.])(?:{_NUM}\s*{_UNIT}?(?:\s*{_OP}\s*(?:{_NUM}\s*{_UNIT}?|{_UNIT}))+|{_NUM}\s*{_UNIT})"
    rf"(?:\s*/\s*{_UNIT})?",
    re.IGNORECASE,
)
"""A strength or pack: ``20mg``, ``0.5g*20片/盒``, ``10mg×7片×2板``, ``3ml:300单位×1支``, ``0.1%:10gX1支/支``."""

_COMPANY_TAIL = r"(?:制药|药业|医药|有限|生物|股份|药厂|集团|公司)"
_COMPANY_BRACKET = re.compile(rf"\(([^()]{{1,8}})\)(?=[\u3400-\u9fff]{{0,8}}{_COMPANY_TAIL})")
"""A bracket inside a company name (``诺和诺德(中国)制药有限公司``): its text is part of the maker."""
_COMPANY_DASH = re.compile(rf"[\u3400-\u9fff]+-[\u3400-\u9fff]+(?:\([^()]*\))?[\u3400-\u9fff]*{_COMPANY_TAIL}")
_SEPARATORS = re.compile(r"[\s·]+")
_DASH = re.compile(
    r"(?<=[\u3400-\u9fff])[-—–~]+(?=[\u3400-\u9fff\d])|(?<=[\u3400-\u9fff\d%a-zA-Z])[-—–]+(?=[\u3400-\u9fff])"
)

PREFIX_SALTS: tuple[str, ...] = tuple(
    sorted(
        {
            "盐酸", "二盐酸", "硫酸", "硫酸氢", "氢溴酸", "氢碘酸", "硝酸", "磷酸", "磷酸氢", "醋酸", "乳酸", "枸橼酸",
            "马来酸", "富马酸", "琥珀酸", "酒石酸", "重酒石酸", "甲磺酸", "苯磺酸", "苯甲酸", "甲苯磺酸", "对甲苯磺酸",
            "门冬氨酸", "天冬氨酸", "草酸", "帕莫酸", "双羟萘酸", "乙磺酸", "萘磺酸", "羟乙磺酸", "苹果酸", "精氨酸",
            "赖氨酸", "乳糖酸", "碳酸", "脯氨酸", "丙酸", "戊酸", "糠酸", "棕榈酸", "氨丁三醇",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
"""Acids written before the base (苯磺酸氨氯地平); each strip must leave a drug name (碳酸钙 stays whole)."""

SUFFIX_SALTS: tuple[str, ...] = tuple(
    sorted(
        {
            "钠", "钾", "钙", "镁", "锌", "二钠", "钠盐", "钾盐", "盐酸盐", "硫酸盐", "甲磺酸盐", "马来酸盐", "水合物",
            "一水合物", "二水合物", "三水合物", "半水合物", "倍半水合物", "叔丁胺", "精氨酸", "氨丁三醇", "葡甲胺",
            "琥珀酸钠", "磷酸钠", "磷酸二钠", "琥珀酸", "磷酸酯钠", "赖氨酸", "钠钾",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
"""Salts and hydrates written after the base (阿托伐他汀钙, 甲泼尼龙琥珀酸钠)."""

_METALS = frozenset("钠钾钙镁锌铁铝锂钡铋铜锰硒银金铂钴钆锶镧")
_INORGANIC = frozenset("钠钾钙镁锌铁铝锂钡铋铜锰硒银金铂钴钆锶镧亚氢碳硫磷氯溴碘氧氮酸化")
_COUNTER_ACIDS = frozenset(
    {"盐酸", "硫酸", "碳酸", "碳酸氢", "磷酸", "磷酸氢", "醋酸", "乳酸", "枸橼酸", "葡萄糖酸", "门冬氨酸", "甘油磷酸",
     "草酸", "酒石酸", "硼酸", "硝酸", "亚硫酸", "硫代硫酸", "叶酸", "琥珀酸", "富马酸", "马来酸", "苹果酸"}
)  # fmt: skip
QUALIFIER_WORDS = frozenset(
    {"局方", "京制", "静脉输注", "皮下注射", "静脉注射", "肌内注射", "儿童用", "小儿", "成人", "儿童", "无糖型",
     "含糖型", "胶囊型", "浓缩型", "无蔗糖", "低糖", "外用", "口服", "眼用", "鼻用", "吸入用", "预充式", "笔芯"}
)  # fmt: skip
"""Bracketed words that belong to a product's name, as the list writes them (``牛黄清心丸(局方)``)."""


def is_drug_base(s: str) -> bool:
    """True when ``s`` can be a drug on its own, not a counter-ion or an inorganic compound left by a salt strip."""
    if len(s) < 2 or s in _COUNTER_ACIDS or s[-1] in "化氢" or s[-1] in _METALS or s[0] in _METALS:
        return False
    if all(ch in _INORGANIC for ch in s):
        return False
    return not (s.endswith("酸") and len(s) < 3)


def salt_keys(generic: str) -> list[str]:
    """Every reading of a generic without (some of) its salts, most written first: the keys a list could use.

    ``苯磺酸左旋氨氯地平`` → [苯磺酸左旋氨氯地平, 左旋氨氯地平]; ``头孢哌酮钠舒巴坦钠`` → [… 头孢哌酮钠舒巴坦,
    头孢哌酮舒巴坦]. A strip is taken only when what is left is still a drug (``碳酸钙``, ``氯化钠``,
    ``葡萄糖酸钙锌`` stay whole), so no key is another drug's name by accident of salt arithmetic.
    """
    keys = [generic]
    frontier = [generic]
    while frontier:
        s = frontier.pop(0)
        nxt: list[str] = []
        for salt in SUFFIX_SALTS:
            if s.endswith(salt) and is_drug_base(s[: -len(salt)]):
                nxt.append(s[: -len(salt)])
                break
        for salt in PREFIX_SALTS:
            if s.startswith(salt) and is_drug_base(s[len(salt) :]):
                nxt.append(s[len(salt) :])
                break
        for m in re.finditer("[钠钾钙镁]", s):  # a salt inside a combination: 头孢哌酮钠舒巴坦, 氯沙坦钾氢氯噻嗪
            i = m.start()
            before, after = s[:i], s[i + 1 :]
            if len(after) >= 2 and after[0] not in _METALS and is_drug_base(before) and not before.endswith("酸"):
                nxt.append(before + after)
        for k in nxt:
            if k not in keys:
                keys.append(k)
                frontier.append(k)
    return keys


def strip_salts(generic: str) -> tuple[str, tuple[str, ...]]:
    """The base without any salt (the last key of `salt_keys` by length) and the salts taken off, in order."""
    keys = salt_keys(generic)
    base = min(keys, key=len)
    salts: list[str] = []
    rest = generic
    for salt in PREFIX_SALTS:
        if rest.startswith(salt) and base in rest[len(salt) :]:
            salts.append(salt)
            rest = rest[len(salt) :]
            break
    tail = rest.replace(base, "", 1) if base in rest else ""
    if tail:
        salts.append(tail)
    return base, tuple(salts)


@dataclass(frozen=True)
class ParsedName:
    """A product-master name taken apart; every field is normalised (half-width, one bracket style)."""

    raw: str
    drug: str = ""
    """The drug as named, without brand, maker, strength, pack or notes: ``苯磺酸氨氯地平片``."""
    generic: str = ""
    """The drug without its form word: ``苯磺酸氨氯地平`` (``注射用奥美拉唑钠`` → ``奥美拉唑钠``)."""
    base: str = ""
    """The generic without salts: ``氨氯地平``."""
    salts: tuple[str, ...] = ()
    form_word: str | None = None
    """The form as written: ``缓释片``, ``注射用``, ``浓缩丸``."""
    form: str | None = None
    """The canonical specific form (`resolution.dosage_forms.SPECS`)."""
    release: str | None = None
    """Release or special form: 缓释, 控释, 肠溶, 分散, 咀嚼, 口崩, 泡腾 …"""
    variant: str | None = None
    """Roman-numeral variant, ASCII (``II``): a different product from the un-numbered one."""
    qualifiers: tuple[str, ...] = ()
    """Bracketed words that belong to the name: ``TPF``, ``局方``, ``静脉输注``, ``浓缩丸``."""
    brand: str | None = None
    manufacturer: str | None = None
    strength: str | None = None
    pack: str | None = None
    notes: tuple[str, ...] = ()
    """ERP marks that are not part of the name: ``OTC``, ``医保``, ``进口``, ``新包装``."""
    imported: bool = False
    scope: tuple[str, ...] = ()
    """Stated ingredients that change the payment scope (``天然牛黄``, ``天然麝香``)."""
    alternatives: tuple[str, ...] = ()
    """Other readings of the drug: a bracketed name when the outer one is a drug too, a brand's generic."""
    tokens: tuple[str, ...] = field(default=(), repr=False)
    """Every text token left after specs and brackets, in order (for explanations)."""

    @property
    def keys(self) -> list[str]:
        """Lower-case lookup keys of the generic, salt readings included (see `salt_keys`)."""
        return [k.lower() for k in salt_keys(self.generic)] if self.generic else []


@dataclass
class _Bracket:
    content: str
    glued: bool
    """Directly after the text before it (no space): ``混悬液(TPF)``, not ``20mg×7片 (立普妥)``."""
    position: int
    """Index of the outer token it follows (-1: before every token)."""


def _top_level_brackets(s: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The text with top-level ``(…)`` groups replaced by NUL markers, and the groups (start, end, content)."""
    out: list[str] = []
    groups: list[tuple[int, int, str]] = []
    depth, start = 0, -1
    for i, ch in enumerate(s):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                groups.append((start, i, s[start + 1 : i]))
                out.append("\x00")
            continue
        if depth == 0 and ch != ")":
            out.append(ch)
    if depth > 0:  # an unclosed bracket: keep its text as outer text
        out.append(s[start + 1 :])
    return "".join(out), groups


def _is_spec(text: str) -> bool:
    t = text.replace(" ", "")
    m = SPEC.match(t)
    return m is not None and m.end() == len(t)


def _drug_like(token: str) -> bool:
    """A token that names a drug with its form: it ends in a form word (or opens with 注射用)."""
    if not has_cjk(token):
        return False
    rest, word, _ = strip_form(token)
    return word is not None and len(rest) >= 1 and any(is_cjk(c) or c.isalnum() for c in rest)


def parse_name(
    name: str,
    *,
    spec: str | None = None,
    manufacturer: str | None = None,
    brand: str | None = None,
    lexicon: BrandLexicon | None = None,
) -> ParsedName:
    """Take a product-master name apart (see the module docstring); the other product columns help when given.

    ``spec`` (规格), ``manufacturer`` (生产企业) and ``brand`` fill the fields the name leaves out and tell which
    tokens of the name they are. Never raises: a name with no recognisable drug gives a `ParsedName` whose ``drug``
    is its most name-like token.
    """
    lex = lexicon or _DEFAULT_LEXICON
    s = _COMPANY_BRACKET.sub(r"\1", normalize(name))
    s = _COMPANY_DASH.sub(lambda m: m.group(0).replace("-", ""), s)
    outer, groups = _top_level_brackets(s)
    specs: list[str] = []

    def take_spec(m: re.Match[str]) -> str:
        specs.append(m.group(0).strip())
        return " "

    outer = _DASH.sub(" ", outer)
    outer_no_spec = SPEC.sub(take_spec, outer)
    # tokens, remembering where each bracket group sat
    tokens: list[str] = []
    brackets: list[_Bracket] = []
    group_iter = iter(groups)
    for piece in re.split(r"(\x00)", outer_no_spec):
        if piece == "\x00":
            _, _, content = next(group_iter)
            brackets.append(_Bracket(content.strip(), False, len(tokens) - 1))
            continue
        for tok in _SEPARATORS.split(piece):
            tok = tok.strip("*×xX/:,，;；、-")
            if tok:
                tokens.append(tok)
    brackets = _glue(outer_no_spec, brackets)

    notes: list[str] = []
    qualifiers: list[str] = []
    scope: list[str] = []
    variant: str | None = None
    inner_drugs: list[str] = []
    bracket_brands: list[str] = []
    imported = False
    for b in brackets:
        kind, value = _classify_bracket(b, lex)
        content = b.content
        for word in SCOPE_EXCLUDED:
            if word in content:
                scope.append(word)
        if kind == "note":
            notes.append(value)
            imported = imported or value == "进口"
        elif kind == "variant":
            variant = value
        elif kind == "spec":
            specs.append(value)
        elif kind == "drug":
            inner_drugs.append(value)
        elif kind == "qualifier":
            qualifiers.append(value)
        elif kind == "brand":
            bracket_brands.append(value)

    makers: list[str] = []
    brands: list[str] = []
    candidates: list[tuple[int, str]] = []
    maker_key = compact(manufacturer or "")
    brand_key = compact(brand or "")
    for i, tok in enumerate(tokens):
        key = compact(tok)
        if key in ("进口", "otc", "rx") or key in NOTES:
            notes.append(tok)
            imported = imported or key == "进口"
            continue
        if brand_key and key == brand_key:
            brands.append(tok)
            continue
        if _drug_like(tok) and not is_company(tok):
            candidates.append((i, tok))
            continue
        if (maker_key and (key == maker_key or (len(key) >= 2 and (key in maker_key or maker_key in key)))) or (
            lex.is_maker(tok) and not lex.is_brand(tok)
        ):
            makers.append(tok)
            continue
        if not has_cjk(tok) and not re.search(r"[A-Za-z]{2,}", tok):
            continue  # stray digits or symbols
        if not has_cjk(tok):
            makers.append(tok)  # a foreign maker written in Latin letters (AstraZeneca AB)
            continue
        brands.append(tok)

    drug = ""
    alternatives: list[str] = []
    if candidates:
        # prefer a token that is not a known brand, then the one before any strength, then the longest
        candidates.sort(key=lambda c: (lex.is_brand(c[1]), -len(c[1])))
        drug = candidates[0][1]
        alternatives.extend(c[1] for c in candidates[1:])
        alternatives.extend(inner_drugs)
        brands.extend(bracket_brands)
    elif inner_drugs:
        drug = inner_drugs[0]
        alternatives.extend(inner_drugs[1:])
        brands.extend(bracket_brands)
    else:
        plain = [t for t in brands if not lex.is_brand(t)]
        known = [t for t in brands if lex.generic_of(t)]
        if plain:
            drug = max(plain, key=len)
            brands = [t for t in brands if t != drug]
        elif known:  # a name that is only a brand: 立普妥 20mg×7片 is 阿托伐他汀钙, in the form its pack counts
            brands = known + [t for t in brands if t not in known]
            drug = lex.generic_of(known[0]) or ""
            if strip_form(drug)[1] is None and re.search(r"\d\s*片", " ".join(specs)):
                drug += "片"
        elif brands:
            drug = max(brands, key=len)
            brands = [t for t in brands if t != drug]
        brands.extend(bracket_brands)
    for token in brands:
        generic_of = lex.generic_of(token)
        if generic_of:
            alternatives.append(generic_of)

    generic, form_word, form = drug, None, None
    if drug:
        drug_core, glued_variant = split_roman(drug)
        if glued_variant and variant is None:
            variant, drug = glued_variant, drug_core
        generic, form_word, form = strip_form(drug)
        generic, inner_variant = split_roman(generic)
        if inner_variant and variant is None:
            variant = inner_variant
    for q in list(qualifiers):  # a bracketed form word refines the form: 六味地黄丸(浓缩丸)
        if q in FORM_WORDS and form is not None and FORM_WORDS[q] == form:
            form_word = q
    base, salts = strip_salts(generic) if generic else ("", ())
    release = SPECS[form].release if form in SPECS else None
    strength, pack = _split_spec(specs, spec)
    return ParsedName(
        raw=name,
        drug=drug,
        generic=generic,
        base=base,
        salts=salts,
        form_word=form_word,
        form=form,
        release=release,
        variant=variant,
        qualifiers=tuple(dict.fromkeys(qualifiers)),
        brand=brand or (brands[0] if brands else None),
        manufacturer=manufacturer or (" ".join(makers) if makers else None),
        strength=strength,
        pack=pack,
        notes=tuple(dict.fromkeys(notes)),
        imported=imported,
        scope=tuple(dict.fromkeys(scope)),
        alternatives=tuple(dict.fromkeys(a for a in alternatives if a and a != drug)),
        tokens=tuple(tokens),
    )


def _glue(outer: str, brackets: list[_Bracket]) -> list[_Bracket]:
    """Mark each bracket group glued when no whitespace or strength separates it from the name before it."""
    out: list[_Bracket] = []
    parts = re.split(r"(\x00)", outer)
    k = 0
    prev_text = ""
    for part in parts:
        if part == "\x00":
            b = brackets[k]
            k += 1
            glued = bool(prev_text) and not prev_text[-1].isspace()
            out.append(_Bracket(b.content, glued, b.position))
            # a bracket glued to a glued bracket stays glued: 牛黄清心丸(局方)(天然牛黄)
            prev_text = prev_text if glued else " "
            continue
        prev_text = part if part else prev_text
    return out


def _classify_bracket(b: _Bracket, lex: BrandLexicon) -> tuple[str, str]:
    """What a bracketed group is: note, variant, spec, drug (a name with its form), qualifier or brand."""
    content = b.content
    key = compact(content)
    if not key:
        return "empty", ""
    if key in NOTES or key.endswith("otc") or re.fullmatch(r"(甲类|乙类)?(otc|rx)", key) or FLAVOURS.search(content):
        return "note", content
    if any(w in content for w in ("体外培育", "人工牛黄", "人工麝香", "培植牛黄")):
        return "note", content
    if any(w in content for w in SCOPE_EXCLUDED) or content.startswith("含"):
        return "note", content
    if content.upper() in ROMAN:
        return "variant", content.upper()
    if _is_spec(content):
        return "spec", content
    if key in FORM_WORDS:
        return "qualifier", content
    if _drug_like(content) and len(content) >= 3 and not lex.is_brand(content):
        return "drug", content
    if lex.is_brand(content):
        return "brand", content
    if b.glued and (not has_cjk(content) or content in QUALIFIER_WORDS or len(content) <= 4):
        return "qualifier", content
    if not has_cjk(content) and lex.is_maker(content):
        return "note", content
    return "brand", content


def _split_spec(specs: list[str], spec_column: str | None) -> tuple[str | None, str | None]:
    """Strength and pack from the spec pieces of the name (or the 规格 column): ``10mg`` and ``7片×2板``."""
    text = " ".join(specs) or normalize(spec_column or "")
    if not text:
        return None, None
    m = re.match(rf"({_NUM}\s*(?:mg|g|μg|µg|ug|mcg|ml|iu|万单位|单位|u|%)(?:\s*[:/]\s*{_NUM}\s*\w*)*)", text, re.I)
    if not m:
        return None, text
    rest = text[m.end() :].strip(" *×xX/")
    return m.group(1), rest or None


_DEFAULT_LEXICON = BrandLexicon.default()
