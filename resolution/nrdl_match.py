"""Products matched to the rows of an NRDL edition by the list's own rules (2024 凡例), each in exactly one state.

`FormularyMatcher` is built once from an edition's rows; `match` answers for one product:

* ``matched`` — the one row the product belongs to (section, number, name, form group, category, restriction,
  payment standard);
* ``not_listed`` — with the reason: ``not_a_drug`` (health food, device, cosmetic, food, disinfectant),
  ``generic_not_listed`` (no row names this drug), ``form_excluded`` (the drug is listed, but not in this form or
  with this variant), ``scope_excluded`` (凡例 十七: natural musk or bezoar stated);
* ``review`` — a person decides, with the candidate rows and why (several rows fit equally; a name one typo away
  that no rule explains; no dosage form to decide by).

The rules, each a sentence of the 凡例 or a fact of how the list is written:

1. *Generic, not string.* A product belongs to a 西药 row when its main component is the row's name, whatever the
   salt (凡例 七: 苯磺酸氨氯地平 → 氨氯地平), and never because its name merely contains the row's name: an isomer
   (左氨氯地平), a derivative (沙库巴曲缬沙坦) or a combination is another drug. Names are compared exactly after
   normalisation (salt readings from `resolution.drug_names.salt_keys`), rapidfuzz only proposes candidates.
2. *Form groups.* A 西药 row's 剂型 is a group (凡例 八); release and special oral forms (缓释, 咀嚼, 口崩, 泡腾 …)
   belong only to rows naming them; exclusions in the cell (``口服常释剂型(不含分散片)``) are honoured.
3. *Rows with the approved name* (西药 rows without 剂型, 中成药, negotiated and bidding parts) are matched on
   the whole name and the same form; 中成药 forms are not merged except 丸 (凡例 九), and a row covers the forms in its
   brackets (``六味地黄片(胶囊、颗粒)``).
4. *Roman numerals* name separate products (凡例 七): a numbered product only matches a row naming that numeral.
5. *Qualifiers* the list writes (``(皮下注射)``, ``(3M)``, ``(局方)``, ``(TPF)``) must be on the product.
6. *Class rows* (◇, 凡例 十) cover exactly the products the 凡例 lists.
7. *Negotiated first*: when a product fits an ordinary row and a negotiated or bidding row, the negotiated row holds
   (its payment standard applies), then the row naming the exact form beats a group, then the name as written
   beats a salt reading.
8. *Typos*: an ERP name that differs from a list name only by homophones (硝苯低平/硝苯地平, 板兰根/板蓝根, typed
   through a pinyin input method) is that name; other near names go to review.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from rapidfuzz import fuzz, process

from graph.model import Product
from resolution.dosage_forms import FORM_WORDS, Fit, row_form_fit, same_form, strip_form, tcm_form_fit
from resolution.drug_names import ParsedName, parse_name, salt_keys
from resolution.lexicon import NOT_A_DRUG_BRANDS, BrandLexicon, not_a_drug
from resolution.text import compact, has_cjk, normalize, row_identity, split_roman

State = Literal["matched", "not_listed", "review"]
SECTION_WESTERN = "西药部分"
SECTION_TCM = "中成药部分"
NEGOTIATED_SECTIONS = frozenset({"协议西药", "协议中成药", "竞价药品部分"})
"""Parts of the list whose rows carry a payment standard (凡例 十二); they take precedence (rule 7)."""
TCM_SECTIONS = frozenset({SECTION_TCM, "协议中成药"})

CLASS_ROWS: dict[str, tuple[str, ...]] = {
    "缓解消化道不适症状的复方OTC制剂": (
        "复方颠茄氢氧化铝片", "复方嗜酸乳杆菌片", "复方消化酶胶囊", "复方胰酶散", "复合乳酸菌肠溶胶囊", "铝镁颠茄片",
    ),
    "缓解感冒症状的复方OTC制剂": (
        "氨酚伪麻胶囊", "氨酚伪麻美芬胶囊", "氨酚伪麻美芬片(Ⅱ)", "氨酚伪麻美芬片(Ⅱ)/苯酚伪麻片", "氨酚伪麻美芬片(Ⅲ)",
        "氨酚伪麻那敏胶囊", "氨酚伪麻美芬片Ⅲ/氨麻美敏片Ⅲ", "氨酚伪麻那敏溶液", "氨咖麻敏胶囊", "氨咖愈敏溶液",
        "氨麻美敏片", "氨麻美敏片(Ⅱ)", "氨麻美敏片(Ⅲ)", "贝敏伪麻片", "布洛伪麻分散片", "布洛伪麻颗粒剂", "布洛伪麻片",
        "酚咖麻敏胶囊", "酚咖片", "酚麻美敏胶囊", "酚麻美敏片", "复方氨酚美沙糖浆", "复方氨酚那敏颗粒", "复方氨酚葡锌片",
        "复方酚咖伪麻胶囊", "复方氢溴酸右美沙芬糖浆", "复方锌布颗粒剂", "复方盐酸伪麻黄碱缓释胶囊",
        "复方愈创木酚磺酸钾口服溶液", "复方愈酚喷托那敏糖浆", "咖酚伪麻片", "美酚伪麻片", "美敏伪麻口服液",
        "美愈伪麻胶囊", "美愈伪麻口服溶液", "喷托维林氯化铵片", "喷托维林氯化铵糖浆", "扑尔伪麻片", "伪麻那敏胶囊",
        "右美沙芬愈创甘油醚糖浆", "愈创维林那敏片", "愈酚喷托异丙嗪颗粒", "愈酚维林片", "愈酚伪麻片", "愈美胶囊",
        "愈美颗粒剂", "愈美片",
    ),
}  # fmt: skip
"""The products the 2024 凡例 (十) lists under the two ◇ class rows it enumerates (西药 197 and 1256)."""

REVIEW_SIMILARITY = 88.0
"""Name similarity (rapidfuzz ratio of the generic, 0–100) from which an unexplained near name goes to review."""


class ListRow(Protocol):
    """One drug row of a formulary edition (``ingest.nrdl.NrdlDrug`` has this shape)."""

    @property
    def edition(self) -> str: ...  # noqa: D102
    @property
    def section(self) -> str: ...  # noqa: D102
    @property
    def number(self) -> str | None: ...  # noqa: D102
    @property
    def name(self) -> str: ...  # noqa: D102
    @property
    def alternative_names(self) -> tuple[str, ...]: ...  # noqa: D102
    @property
    def dosage_form(self) -> str | None: ...  # noqa: D102
    @property
    def category(self) -> str | None: ...  # noqa: D102
    @property
    def restriction(self) -> str | None: ...  # noqa: D102
    @property
    def payment_standard(self) -> str | None: ...  # noqa: D102
    @property
    def payment_standard_confidential(self) -> bool: ...  # noqa: D102


@dataclass(frozen=True)
class RowRef:
    """What a decision says about a row: enough to show it, store it and find it again in another edition."""

    edition: str
    section: str
    number: str | None
    name: str
    dosage_form: str | None
    category: str | None
    restriction: str | None
    payment_standard: str | None
    """As published; ``*`` when confidential; None for ordinary rows."""

    @property
    def identity(self) -> str:
        """Section + number + name + form, normalised (`resolution.text.row_identity`)."""
        return row_identity(self.section, self.number, self.name, self.dosage_form)

    @property
    def negotiated(self) -> bool:
        """True for a row of the negotiated or bidding part (it has a payment standard)."""
        return self.section in NEGOTIATED_SECTIONS

    def label(self) -> str:
        """``西药部分 455 阿托伐他汀 口服常释剂型 乙``: how a person reads the row."""
        parts = [self.section, self.number or "", self.name, self.dosage_form or "", self.category or ""]
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Candidate:
    """A row considered for a product, and why (shown in the review queue)."""

    row: RowRef
    why: str
    score: float = 100.0


@dataclass(frozen=True)
class Decision:
    """A product's state in an edition, with the row (matched), the reason, and the candidates a person may pick."""

    state: State
    reason: str
    explanation: str
    row: RowRef | None = None
    candidates: tuple[Candidate, ...] = ()
    parsed: ParsedName | None = field(default=None, compare=False)


@dataclass(frozen=True)
class _Name:
    """One individual name a row covers, prepared for matching."""

    row: int
    generic: str
    form: str | None
    form_word: str | None
    variant: str | None
    qualifiers: frozenset[str]
    kind: Literal["group", "full", "tcm", "class"]
    alias: bool = False


@dataclass(frozen=True)
class _Hit:
    name: _Name
    quality: int
    """3: the name as written; 2: a salt reading; 1: a homophone of the name."""
    via: str


Tier = tuple[int, int, int, int]


class FormularyMatcher:
    """Matches products to one edition's rows (see the module docstring for the rules); build once, call `match`."""

    def __init__(self, rows: Iterable[ListRow], *, lexicon: BrandLexicon | None = None) -> None:
        self.lexicon = lexicon or BrandLexicon.default()
        self.rows: list[RowRef] = []
        self._names: list[_Name] = []
        self._index: dict[str, list[tuple[int, int]]] = defaultdict(list)
        """key → (name index, rank of the key among the name's salt readings: 0 = as written)."""
        self._by_identity: dict[str, int] = {}
        self._pinyin: dict[str, list[str]] | None = None
        for row in rows:
            self._add_row(row)
        self._keys = [k for k in self._index if len(k) >= 2]

    # ------------------------------------------------------------------------------------------------ building

    def _add_row(self, row: ListRow) -> None:
        ref = RowRef(
            edition=row.edition,
            section=row.section,
            number=row.number,
            name=row.name,
            dosage_form=row.dosage_form,
            category=row.category,
            restriction=row.restriction,
            payment_standard="*" if row.payment_standard_confidential else row.payment_standard,
        )
        if ref.identity in self._by_identity:
            return  # the same row printed under a second class
        index = len(self.rows)
        self.rows.append(ref)
        self._by_identity[ref.identity] = index
        if (row.restriction or "").startswith("◇"):
            members = next((m for name, m in CLASS_ROWS.items() if compact(name) == compact(row.name)), ())
            for member in members:
                p = parse_name(member, lexicon=self.lexicon)
                self._add_name(_Name(index, compact(p.generic), p.form, p.form_word, p.variant, frozenset(), "class"))
            return
        tcm = row.section in TCM_SECTIONS
        group = row.section == SECTION_WESTERN and row.dosage_form is not None
        for alt in _expand(row.alternative_names or (row.name,)):
            if group:
                self._add_group_name(index, alt)
            else:
                self._add_full_name(index, alt, "tcm" if tcm else "full")

    def _add_group_name(self, index: int, alt: str) -> None:
        """A 西药 row with a 剂型: its name has no salt or form; brackets hold aliases or qualifiers."""
        text = normalize(alt)
        qualifiers: set[str] = set()
        aliases: list[str] = []
        for inner in re.findall(r"\(([^()]*)\)", text):
            if not has_cjk(inner) or re.fullmatch(r"[\d/A-Za-z.\-]+", inner):
                qualifiers.add(compact(inner))
            else:
                aliases.append(inner)
        outer = re.sub(r"\([^()]*\)", "", text)
        for alias_flag, name in [(False, outer), *((True, a) for a in aliases)]:
            upper, variant = split_roman(re.sub(r"[\s、·]", "", normalize(name)))
            generic = upper.lower()
            self._add_name(_Name(index, generic, None, None, variant, frozenset(qualifiers), "group", alias_flag))
            if generic.endswith("剂") and len(generic) >= 4:  # 肠内营养剂(TPF): products say 肠内营养混悬液
                self._add_name(
                    _Name(index, generic[:-1], None, None, variant, frozenset(qualifiers), "group", alias_flag)
                )

    def _add_full_name(self, index: int, alt: str, kind: Literal["full", "tcm"]) -> None:
        """A name with its form (中成药, negotiated, 西药 without 剂型): parsed like a product name."""
        text = re.sub(r"(.)\(\1\)", r"\1", normalize(alt))  # 雷公藤多苷[甙]片 → 雷公藤多苷片
        p = parse_name(text, lexicon=self.lexicon)
        generic = compact(p.generic) if p.generic else compact(text)
        quals = frozenset(compact(q) for q in p.qualifiers if compact(q) not in FORM_WORDS)
        self._add_name(_Name(index, generic, p.form, p.form_word, p.variant, quals, kind))
        for a in p.alternatives:  # 法维拉韦片(又称:法匹拉韦片)
            a = re.sub(r"^(又称|又名|曾用名)[:：]?", "", a)
            q = parse_name(a, lexicon=self.lexicon)
            if q.generic and q.form:
                self._add_name(_Name(index, compact(q.generic), q.form, q.form_word, q.variant, quals, kind, True))

    def _add_name(self, name: _Name) -> None:
        if not name.generic:
            return
        n = len(self._names)
        self._names.append(name)
        readings = [name.generic] if name.kind in ("tcm", "class") else salt_keys(name.generic)
        for rank, key in enumerate(readings):
            self._index[key.lower()].append((n, min(rank, 1)))

    # ------------------------------------------------------------------------------------------------ lookup

    def row(self, identity: str) -> RowRef | None:
        """The row with this identity (`RowRef.identity`), if the edition has it."""
        i = self._by_identity.get(identity)
        return self.rows[i] if i is not None else None

    def find_row(self, section: str, name: str, dosage_form: str | None) -> RowRef | None:
        """The row with this section, name and form (any number): how a decision is found again in a new edition."""
        want = (compact(section), compact(name), compact(dosage_form or ""))
        for r in self.rows:
            if (compact(r.section), compact(r.name), compact(r.dosage_form or "")) == want:
                return r
        return None

    def _hits(self, keys: Sequence[str], quality_written: int = 3) -> list[_Hit]:
        hits: list[_Hit] = []
        for prank, key in enumerate(keys):
            for n, rrank in self._index.get(key, ()):
                quality = quality_written if prank == 0 and rrank == 0 else quality_written - 1
                hits.append(_Hit(self._names[n], quality, key))
        return hits

    # ------------------------------------------------------------------------------------------------ matching

    def match_name(
        self,
        name: str,
        *,
        spec: str | None = None,
        manufacturer: str | None = None,
        brand: str | None = None,
        generic_name: str | None = None,
        dosage_form: str | None = None,
    ) -> Decision:
        """The decision for one product given by its columns (name, 规格, 生产企业, brand, generic, 剂型)."""
        parsed = parse_name(name, spec=spec, manufacturer=manufacturer, brand=brand, lexicon=self.lexicon)
        if generic_name and not parsed.generic:
            parsed = parse_name(generic_name, lexicon=self.lexicon)
        if parsed.form is None and dosage_form:
            _, word, form = strip_form("x" + normalize(dosage_form).replace("剂型", ""))
            if form is not None:
                parsed = _with_form(parsed, word, form)
        return self.match(parsed, raw_dosage_form=dosage_form)

    def match_product(self, product: Product) -> Decision:
        """The decision for a catalogue product: its name, with spec, maker, brand, generic and form columns."""
        return self.match_name(
            product.name,
            spec=product.spec,
            manufacturer=product.manufacturer,
            brand=product.brand,
            generic_name=product.generic_name,
            dosage_form=product.dosage_form,
        )

    def match(self, p: ParsedName, *, raw_dosage_form: str | None = None) -> Decision:
        """The decision for one parsed product (see the module docstring)."""
        found = self._not_a_drug(p)
        if found and found[0] != "health_food":
            return _not_a_drug_decision(p, *found)
        decision = self._match_names(p, raw_dosage_form)
        if found and not (decision.state == "matched" and decision.reason == "name"):
            return _not_a_drug_decision(p, *found)  # a supplement's name, unless it is a list name as written
        return decision

    def _match_names(self, p: ParsedName, raw_dosage_form: str | None) -> Decision:
        generic = compact(p.generic)
        keys = [k.lower() for k in salt_keys(generic)] if generic else []
        drug = compact(p.drug)
        if drug and drug not in keys:
            keys.append(drug)
        hits = self._hits(keys)
        if not hits and generic and (code := _TRAILING_CODE.search(generic)):
            # 聚乙二醇4000: a grade written after the name; the list names the substance (凡例七: 不区分规格)
            hits = [_Hit(h.name, 2, h.via) for h in self._hits(salt_keys(generic[: code.start()]))]
        if not hits:
            for alt in p.alternatives:
                q = parse_name(alt, lexicon=self.lexicon)
                alt_keys = [k.lower() for k in salt_keys(compact(q.generic))] if q.generic else []
                hits = self._hits(alt_keys)
                if hits:
                    if p.form is None and q.form is not None:
                        p = _with_form(p, q.form_word, q.form)
                    break
        if not hits and generic:
            hits = self._homophone_hits(keys[: max(1, len(keys) - 1)] if len(keys) > 1 else keys)
        if hits:
            return self._decide(p, hits, raw_dosage_form)
        return self._no_name(p, keys)

    def _not_a_drug(self, p: ParsedName) -> tuple[str, str] | None:
        for token in (p.brand, p.manufacturer, *p.tokens):
            if token and any(compact(b) in compact(token) for b in NOT_A_DRUG_BRANDS):
                return "brand", token
        text = " ".join([p.drug, *p.tokens, *p.qualifiers, p.brand or ""])
        return not_a_drug(text)

    def _fit(self, p: ParsedName, name: _Name, raw_dosage_form: str | None) -> tuple[Fit, str]:
        """How the product's form fits one row name, and a note when it does not."""
        row = self.rows[name.row]
        if name.kind == "group":
            assert row.dosage_form is not None
            if p.form is None:
                return Fit.NONE, "no_form"
            return row_form_fit(p.form, row.dosage_form), "form"
        if name.kind == "tcm":
            if name.form is None and p.form is None:
                return Fit.SPECIFIC, ""
            if tcm_form_fit(p.form_word, p.form, name.form) or (
                name.form is not None and name.form == "丸" and any(q in _PILLS for q in p.qualifiers)
            ):
                return Fit.SPECIFIC, ""
            return Fit.NONE, "no_form" if p.form is None else "form"
        if name.form is None and p.form is None:
            return Fit.SPECIFIC, ""
        if same_form(p.form, name.form):
            return Fit.SPECIFIC, ""
        del raw_dosage_form
        return Fit.NONE, "no_form" if p.form is None else "form"

    def _decide(self, p: ParsedName, hits: list[_Hit], raw_dosage_form: str | None) -> Decision:
        fitting: list[tuple[Tier, _Hit]] = []
        blocked: dict[str, list[_Hit]] = defaultdict(list)
        pq = {compact(q) for q in p.qualifiers}
        for h in hits:
            name = h.name
            row = self.rows[name.row]
            if (name.variant or None) != (p.variant or None):
                blocked["variant"].append(h)
                continue
            if not name.qualifiers <= pq:
                blocked["qualifier"].append(h)
                continue
            fit, why = self._fit(p, name, raw_dosage_form)
            if fit == Fit.NONE:
                blocked[why].append(h)
                continue
            tier: Tier = (int(row.negotiated), int(fit), len(name.qualifiers & pq), h.quality)
            fitting.append((tier, h))
        if fitting:
            best = max(t for t, _ in fitting)
            top = [h for t, h in fitting if t == best]
            rows = list(dict.fromkeys(h.name.row for h in top))
            if len(rows) == 1:
                ref = self.rows[rows[0]]
                if p.scope and ref.section in TCM_SECTIONS:
                    return Decision(
                        "not_listed", "scope_excluded",
                        f"含{'、'.join(p.scope)}：凡例十七，含天然麝香和天然牛黄的药品不予支付（{ref.label()}）",
                        candidates=(Candidate(ref, "名称与剂型相符"),), parsed=p,
                    )  # fmt: skip
                why = _why(top[0], ref)
                others = tuple(Candidate(self.rows[h.name.row], "同名的其他目录行") for _, h in fitting
                               if h.name.row != rows[0])  # fmt: skip
                return Decision("matched", _REASON[top[0].quality], why, ref, _unique(others), p)
            cands = tuple(Candidate(self.rows[r], "名称与剂型都相符") for r in rows)
            return Decision(
                "review", "ambiguous", f"多个目录行同样相符：{'；'.join(c.row.label() for c in cands[:4])}",
                candidates=_unique(cands), parsed=p,
            )  # fmt: skip
        cands = _unique(tuple(Candidate(self.rows[h.name.row], _BLOCK_ZH[k]) for k, hs in blocked.items() for h in hs))
        if blocked.get("no_form") and not blocked.get("form"):
            return Decision(
                "review", "no_form", "名称在目录中，但看不出剂型，无法判断属于哪一行", candidates=cands, parsed=p
            )
        if blocked.get("variant") and not p.variant and not blocked.get("form"):
            return Decision(
                "review", "variant_missing", "目录只收载带罗马数字编号的品种，品名未写编号", candidates=cands, parsed=p
            )
        forms = "、".join(dict.fromkeys(self._row_form_text(h.name) for hs in blocked.values() for h in hs))
        if blocked.get("variant") and p.variant and not blocked.get("form"):
            return Decision(
                "not_listed", "form_excluded", f"目录收载该通用名，但不含（{p.variant}）这一品种（目录：{forms}）",
                candidates=cands, parsed=p,
            )  # fmt: skip
        if blocked.get("qualifier") and not blocked.get("form"):
            return Decision("review", "qualifier", f"目录行带限定（{forms}），品名未写明", candidates=cands, parsed=p)
        return Decision(
            "not_listed", "form_excluded",
            f"通用名在目录中，但{p.form_word or p.form or '该剂型'}不在所列剂型内（目录：{forms}）",
            candidates=cands, parsed=p,
        )  # fmt: skip

    def _row_form_text(self, name: _Name) -> str:
        row = self.rows[name.row]
        return f"{row.section}{row.number or ''} {row.name} {row.dosage_form or ''}".strip()

    # ------------------------------------------------------------------------------------------------ typos

    def _pinyin_index(self) -> dict[str, list[str]]:
        if self._pinyin is None:
            from pypinyin import lazy_pinyin

            index: dict[str, list[str]] = defaultdict(list)
            for key in self._keys:
                if has_cjk(key) and len(key) >= 3:
                    index["".join(lazy_pinyin(key))].append(key)
            self._pinyin = dict(index)
        return self._pinyin

    def _homophone_hits(self, keys: Sequence[str]) -> list[_Hit]:
        """Hits for a name that sounds like a list name (one or two characters typed as homophones)."""
        from pypinyin import Style, pinyin

        index = self._pinyin_index()
        hits: list[_Hit] = []
        for key in keys:
            if len(key) < 3 or not has_cjk(key):
                continue
            readings = pinyin(key, style=Style.NORMAL, heteronym=True, errors="default")
            for combo in itertools.islice(itertools.product(*readings), 32):
                for found in index.get("".join(combo), ()):
                    if found != key and sum(a != b for a, b in zip(found, key, strict=False)) <= 2:
                        hits.extend(_Hit(self._names[n], 1, f"{key}≈{found}") for n, _ in self._index[found])
        return hits

    def _no_name(self, p: ParsedName, keys: list[str]) -> Decision:
        """No row has the product's name: not listed, unless a near name that no rule explains asks for a person."""
        if not keys:
            return Decision("not_listed", "generic_not_listed", "品名中没有可识别的药品名称", parsed=p)
        near: list[Candidate] = []
        for key in keys[:2]:
            for found, score, _ in process.extract(key, self._keys, scorer=fuzz.ratio, limit=5, score_cutoff=60):
                relation = _relation(key, found)
                for n, _ in self._index[found][:3]:
                    near.append(Candidate(self.rows[self._names[n].row], relation or f"名称相近（{score:.0f}）", score))
                if relation is None and score >= REVIEW_SIMILARITY:
                    return Decision(
                        "review", "similar_name", f"目录中有相近的名称：{found}（相似度 {score:.0f}），请确认是否同一药品",
                        candidates=_unique(tuple(near)), parsed=p,
                    )  # fmt: skip
        return Decision(
            "not_listed", "generic_not_listed", f"目录中没有“{p.generic or p.drug}”这一通用名",
            candidates=_unique(tuple(near))[:5], parsed=p,
        )  # fmt: skip


_TRAILING_CODE = re.compile(r"(?<=[\u3400-\u9fff])\d{3,}$")
_PILLS = frozenset({"浓缩丸", "水丸", "蜜丸", "大蜜丸", "小蜜丸", "水蜜丸", "糊丸", "微丸"})
_KIND_ZH = {"device": "医疗器械", "disinfectant": "消毒用品", "cosmetic": "化妆品", "food": "食品",
            "health_food": "保健食品",
            "brand": "只做非药品的品牌"}  # fmt: skip
_REASON = {3: "name", 2: "salt", 1: "homophone"}
_BLOCK_ZH = {
    "variant": "罗马数字编号不同",
    "qualifier": "目录行带限定词，品名未写",
    "form": "剂型不在该行所列范围",
    "no_form": "品名没有剂型",
}


def _not_a_drug_decision(p: ParsedName, kind: str, word: str) -> Decision:
    return Decision("not_listed", "not_a_drug", f"不是药品（{_KIND_ZH[kind]}：{word}）", parsed=p)


def _relation(a: str, b: str) -> str | None:
    """Why two different names are different drugs, when a rule says so (containment: isomer, derivative, combination)."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if short in long:
        extra = long.replace(short, "", 1)
        if long.startswith(extra) and extra in ("左", "右", "艾司", "左旋", "右旋", "消旋", "氘", "精", "去甲"):
            return f"异构体或衍生物（{extra}{short}）不是同一药品"
        if extra.startswith("复方") or long.startswith("复方"):
            return "复方制剂与单方不是同一药品"
        return f"名称包含另一药品（{short}）：复方、衍生物或另一药品"
    return None


def _why(hit: _Hit, row: RowRef) -> str:
    how = {3: "通用名一致", 2: "通用名一致（盐基/酸根不同，凡例七）", 1: f"同音错字（{hit.via}）"}[hit.quality]
    form = f"，剂型属于{row.dosage_form}" if row.dosage_form else ""
    first = "；谈判/竞价药品优先" if row.negotiated else ""
    return f"{how}{form}{first}"


def _unique(cands: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
    seen: set[str] = set()
    out: list[Candidate] = []
    for c in cands:
        if c.row.identity not in seen:
            seen.add(c.row.identity)
            out.append(c)
    return tuple(out)


def _with_form(p: ParsedName, word: str | None, form: str) -> ParsedName:
    from dataclasses import replace

    return replace(p, form_word=word, form=form)


def _expand(names: Iterable[str]) -> list[str]:
    """Each name, and the names a bracket of alternative forms stands for (``青鹏膏剂(软膏)`` → 青鹏软膏 too)."""
    out: list[str] = []
    for name in names:
        text = normalize(name)
        out.append(text)
        m = re.search(r"\(([^()]*)\)", text)
        if not m:
            continue
        items = [i for i in re.split(r"[、，,]", m.group(1)) if i]
        if not items or not all(i in FORM_WORDS for i in items):
            continue
        before = text[: m.start()]
        stem, word, _ = strip_form(before)
        if word is None:
            continue
        suffix = text[m.end() :]
        out.append(before + suffix)
        out.extend(stem + i + suffix for i in items)
    return list(dict.fromkeys(out))
