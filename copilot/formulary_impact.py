"""What a new formulary edition changes for the business: products, customers, and knowledge entries to review.

After a new edition is applied (`salescopilot formulary apply`), this finds the products whose status changed, the
customers who buy them or whose doctors prescribe them, and the entries whose *claims* the change touches — not every
entry that names a changed product. An entry's sentences about a product (naming it, or any sentence of an entry
linked to it that names no other product) are read for present-tense claims: listed or not, 甲/乙 category,
restriction, payment standard. A claim the new edition makes false gives ``withdraw`` (reps stop seeing the entry);
a listing claim still true but silent on a new restriction or category gives ``review`` (it stays live, marked 待复核).
Each note names the sentence that triggered it, keeps the previous version and leaves an audit record; re-running
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from copilot import curation
from copilot.errors import CopilotError
from graph.errors import VersionConflictError
from graph.model import (
    AboutProduct,
    Entry,
    FormularyEdition,
    ImpactSeverity,
    ListedIn,
    Prescribes,
    Product,
    WorksAt,
)
from graph.ports import GraphStore, PriceHistoryFilter

BUYERS_WINDOW_DAYS = 365
"""A customer who bought a changed product within this many days is affected."""
MIN_NAME_CHARS = 2
"""Shorter product names are not looked for in entry texts (one character names too much)."""
REASON_CHARS = 500
"""Longest list of changes a note quotes (after the edition's name)."""
SENTENCE_CHARS = 300
"""Longest triggering sentence kept with a note."""


class Change(BaseModel):
    """A formulary change of one product."""

    sku: str
    name: str
    old_edition: str | None
    new_edition: str
    detail: str


def _same_text(text: str | None) -> str:
    """Text compared without whitespace and a trailing full stop (cosmetic edits are not changes)."""
    return "".join((text or "").split()).rstrip("。.")


def latest_editions(store: GraphStore, tenant: str) -> tuple[FormularyEdition | None, FormularyEdition | None]:
    """The previous and the latest edition by effective date."""
    editions = store.formulary_editions(tenant)
    if not editions:
        return None, None
    return (editions[-2] if len(editions) > 1 else None), editions[-1]


def edition_changes(
    store: GraphStore, tenant: str, old: str | None, new: str, *, skus: set[str] | None = None
) -> list[Change]:
    """Products added, removed, re-categorised, or with a changed restriction or payment standard from old to new."""
    listed: dict[str, dict[str, ListedIn]] = defaultdict(dict)
    sources = sorted(skus) if skus is not None else None
    for e in store.edges_of(tenant, ListedIn, sources=sources, targets=[x for x in (old, new) if x]):
        listed[e.sku][e.edition_id] = e
    found: list[tuple[str, str]] = []
    for sku in sorted(listed):
        a = listed[sku].get(old) if old else None
        b = listed[sku].get(new)
        if a is None and b is None:
            continue
        if a is None:
            if old is None:
                continue
            detail = f"新进入目录（{b.category or ''}类）" if b else ""
        elif b is None:
            detail = "已调出目录"
        elif a.category != b.category:
            detail = f"{a.category}类 → {b.category}类"
        elif _same_text(a.restriction) != _same_text(b.restriction):
            detail = f"限定支付范围变化：{a.restriction or '无'} → {b.restriction or '无'}"
        elif _same_text(a.payment_standard) != _same_text(b.payment_standard):
            detail = f"支付标准变化：{a.payment_standard or '无'} → {b.payment_standard or '无'}"
        else:
            continue
        found.append((sku, detail))
    products = {p.sku: p for p in store.nodes_by_keys(tenant, Product, [sku for sku, _ in found])}
    out = []
    for sku, detail in found:
        p = products.get(sku)
        name = ((p.brand + " ") if p and p.brand else "") + (p.name if p else sku)
        out.append(Change(sku=sku, name=name, old_edition=old, new_edition=new, detail=detail))
    return out


@dataclass(frozen=True)
class Facts:
    """A product's status in one edition: listed or not, category, restriction and payment standard as printed."""

    listed: bool
    category: str | None = None
    restriction: str | None = None
    payment_standard: str | None = None


@dataclass(frozen=True)
class Impact:
    """What a change does to one entry: the severity, the sentence whose claim it touches, the products, the note."""

    entry_id: str
    severity: ImpactSeverity
    sentence: str
    skus: tuple[str, ...]
    reason: str


@dataclass
class ImpactReport:
    """What the edition change touches."""

    old_edition: str | None
    new_edition: str
    changes: list[Change] = field(default_factory=list)
    customers: dict[str, list[str]] = field(default_factory=dict)
    impacts: dict[str, Impact] = field(default_factory=dict)
    """Entries whose claims the change touches (new notes and renewed ones)."""
    already_marked: int = 0
    mentioning: int = 0
    """Entries that name or are about a changed product (what the old rule marked), for comparison."""
    conflicts: list[str] = field(default_factory=list)
    seconds: float = 0.0


def formulary_impact(
    store: GraphStore,
    tenant: str,
    *,
    old: str | None = None,
    new: str | None = None,
    today: dt.date,
    actor: str = "formulary-impact",
    dry_run: bool = False,
    at: dt.datetime | None = None,
) -> ImpactReport:
    """Changed products, affected customers, and the entries whose claims the change touches, with the sentence.

    Customers: buyers in the last year, or via their doctors. Entries: a claim the change contradicts gives
    ``withdraw``, one it leaves incomplete ``review``.

    Applying writes one versioned note per entry (`copilot.curation.mark_impact`): a published entry with a false
    claim leaves reps (``stale``), one that is only incomplete stays live with the note, a draft or an entry in
    review keeps its state and gets the note its reviewer must clear. ``at`` is the time stamped on the notes (default
    now). Re-running changes nothing.
    """
    t0 = time.perf_counter()
    if new is None:
        prev, latest = latest_editions(store, tenant)
        if latest is None:
            raise CopilotError("no formulary edition in the graph: apply one first")
        old, new = (prev.id if prev else None), latest.id
    changes = edition_changes(store, tenant, old, new)
    report = ImpactReport(old, new, changes)
    changed = {c.sku: c for c in changes}
    report.customers = _affected_customers(store, tenant, sorted(changed), today)
    when = at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    touching = entries_touching(store, tenant, changed)
    report.mentioning = len(touching)
    facts = edition_facts(store, tenant, sorted(changed), [x for x in (old, new) if x])
    about = store.entry_links(tenant, [e.id for e, _ in touching])
    names = _product_names(store, tenant, sorted({s for link in about.values() for s in link.skus} | set(changed)))
    for e, hit in touching:
        link = about.get(e.id)
        impact = assess(
            e, sorted(hit), changed=changed, old=facts.get(old or "", {}), new=facts.get(new, {}),
            about=sorted(link.skus) if link else [], names=names, edition=new,
        )  # fmt: skip
        if impact is None:
            continue
        if e.impact_edition == new and e.stale_reason == impact.reason and e.impact_severity == impact.severity:
            report.already_marked += 1
            continue
        report.impacts[e.id] = impact
        if dry_run:
            continue
        try:  # one versioned write per entry: a trainer's concurrent edit is never overwritten
            curation.mark_impact(store, tenant, e, impact=impact, edition=new, actor=actor, at=when)
        except VersionConflictError:
            report.conflicts.append(e.id)
    report.seconds = time.perf_counter() - t0
    return report


def edition_facts(store: GraphStore, tenant: str, skus: list[str], editions: list[str]) -> dict[str, dict[str, Facts]]:
    """Edition → SKU → the product's facts (a product without a row in an edition is not listed in it)."""
    out: dict[str, dict[str, Facts]] = {ed: {s: Facts(listed=False) for s in skus} for ed in editions}
    if skus and editions:
        for e in store.edges_of(tenant, ListedIn, sources=skus, targets=editions):
            out[e.edition_id][e.sku] = Facts(True, e.category, e.restriction, e.payment_standard)
    return out


def _product_names(store: GraphStore, tenant: str, skus: list[str]) -> dict[str, set[str]]:
    return {
        p.sku: {n for n in (p.name, p.generic_name, p.brand) if n and len(n) >= MIN_NAME_CHARS}
        for p in store.nodes_by_keys(tenant, Product, skus)
    }


# ---------------------------------------------------------------------------------------------- claims in text
#
# Real-world rules encoded here (a reimbursement list is read like a regulator reads a promotional claim):
# - a claim is what a sentence says about a product's reimbursement *now*: listed or not, 甲/乙 category, the
#   restriction (限…), the payment standard; naming the product is no claim;
# - a clause that places itself in the old edition (2022年版…, 原来, 此前) is history and stays true; a clause in
#   the new edition or in the present is compared with the new edition;
# - a customer's words (【客户异议】, questions) are not claims; conditional self-pay (不符合的话需要自费, 超出限定
#   范围…自付) is not a claim that the product is not listed;
# - false now → withdraw; still true but silent on what changed (a listing claim without the new restriction or the
#   new category) → review.

_QUOTES = {"“": "”", "「": "」", "『": "』", "(": ")", "（": "）", '"': '"'}
QUOTE_CHARS = 120
"""Longest quote or bracket kept whole when splitting sentences and clauses."""
_SENTENCE_END = set("。！？!?\n")
_CLAUSE_END = set("，,；;：:")
OLD_YEAR = re.compile(r"20(?:1\d|2[0-3])年?版")
NEW_YEAR = re.compile(r"20(?:2[4-9])年?版|自20\d\d年")
OLD_FRAME = re.compile(
    r"20(?:1\d|2[0-3])年?版|旧版|旧目录|老目录|原来|原先|原本|以前|此前|之前|过去|曾经|调整前|上一版|上版"
)
NEW_FRAME = re.compile(r"20(?:2[4-9])年?版?|新版|新目录|现已|现在|目前|调整后|执行后|今年|自\d{4}年")
NOT_CLAIM_SECTION = re.compile(r"^【(?:客户异议|顾客异议|异议|客户问题|顾客问题|刷不了医保的常见原因|常见原因)】")
CONDITIONAL = re.compile(r"不符合|超出|超过|范围外|否则|如果|若|的话|部分需")
NOT_LISTED = re.compile(
    r"不在医保|未纳入医保|没有纳入医保|没进医保|不能报|报不了|不可报销|不予报销|医保不报|不能用医保|刷不了医保|"
    r"全额自费|需自费|需要自费|纯自费|属于自费|自费药|未列入|未收录|没有收录|不再收录|未再收录|调出|不再纳入|"
    r"不属于医保|不是医保(?:药|目录)"
)
LISTED = re.compile(
    r"医保[甲乙]类|[甲乙]类(?:药|医保)?|医保目录内|目录内|纳入医保|进入医保|进了医保|列入.{0,12}目录|收录于|"
    r"可以报销|能报销|可报销|可以报|能报|可按规定由医保支付|医保支付|医保结算|按医保结算|刷医保|医保报销|报销比例"
)
CATEGORY = re.compile(r"([甲乙])类")
RESTRICTION = re.compile(r"(?:医保支付|限定支付范围为?|医保规定|支付范围)[“\"「]?(限[^，。；;“”\"」]{2,80})")
UNRESTRICTED = re.compile(r"不限|没有限制|没有限定|无限制|无限定|取消了.{0,60}限定|按适应症使用|均可按规定由医保支付")
REMOVAL = re.compile(r"取消|去掉|删除|放开|解除|不再限")
PAYMENT = re.compile(r"支付标准[为是：:]?\s*([0-9]+(?:\.[0-9]+)?)")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _matching_close(text: str, start: int) -> int:
    """Index of the character closing the quote or bracket at ``start`` within ``QUOTE_CHARS``, else -1.

    A quote holding a full stop is speech (“阿姨，…。”), not a quoted term: -1.
    """
    opening, closing = text[start], _QUOTES[text[start]]
    depth = 0
    for j in range(start + 1, min(len(text), start + 1 + QUOTE_CHARS)):
        if text[j] in "。！？\n":
            return -1
        if text[j] == closing and (depth == 0 or opening == closing):
            return j
        if text[j] == closing:
            depth -= 1
        elif text[j] == opening:
            depth += 1
    return -1


def _split(text: str, ends: set[str]) -> list[str]:
    """Split after the end characters outside short quotes and brackets (a quoted restriction stays whole).

    A quote longer than ``QUOTE_CHARS`` (a script's spoken part: “阿姨，…。”) is split like plain text.
    """
    out: list[str] = []
    cur: list[str] = []
    inside_until = -1  # index of the closing character of the short quotes opened so far
    for i, ch in enumerate(text):
        cur.append(ch)
        if ch in _QUOTES and i >= inside_until:
            inside_until = max(inside_until, _matching_close(text, i))
        elif ch in ends and i > inside_until:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return [s for s in (x.strip() for x in out) if s.strip('“”"」）)')]


def sentences(text: str) -> list[str]:
    """Sentences of a text (after 。！？ and line ends outside quotes)."""
    return _split(text, _SENTENCE_END)


def _norm(text: str | None) -> str:
    return re.sub(r"[\s“”\"「」，,。；;：:、()（）]", "", text or "").removeprefix("限")


def _states_restriction(core: str, text: str) -> bool:
    """Whether ``text`` states the restriction whose core is ``core``.

    It must read 限 + the core: the bare words may be an indication (骨质疏松 in 骨质疏松诊疗指南).
    """
    return len(core) >= 4 and "限" + core in re.sub(r"[\s“”\"「」，,。；;：:、()（）]", "", text)


def _same_restriction(a: str | None, b: str | None) -> bool:
    x, y = _norm(a), _norm(b)
    if not x or not y:
        return x == y
    return x in y or y in x or difflib.SequenceMatcher(a=x, b=y, autojunk=False).ratio() >= 0.8


@dataclass
class _Claims:
    """What the present-tense clauses of an entry say about one product."""

    listed: str | None = None
    not_listed: str | None = None
    category: tuple[str, str] | None = None
    restriction: tuple[str, str] | None = None
    unrestricted: str | None = None
    payment: tuple[str, str] | None = None


def _claims(sentences_about: list[str], old: Facts, new: Facts) -> _Claims:
    found = _Claims()
    old_core, new_core = _norm(old.restriction), _norm(new.restriction)
    for sentence in sentences_about:
        if NOT_CLAIM_SECTION.match(sentence) or sentence.rstrip('”"」').endswith(("？", "?", "吗")):
            continue
        frame = "present"
        for clause in _split(sentence, _CLAUSE_END):
            old_year, new_year = bool(OLD_YEAR.search(clause)), bool(NEW_YEAR.search(clause))
            if old_year or new_year:  # an edition named by its year decides the frame
                is_old, is_new = old_year and not new_year, new_year
            else:
                is_old, is_new = bool(OLD_FRAME.search(clause)), bool(NEW_FRAME.search(clause))
            if is_old and not is_new:
                frame = "old"
            elif is_new:
                frame = "new"
            if frame == "old":
                continue
            removal = bool(REMOVAL.search(clause))
            if NOT_LISTED.search(clause) and not CONDITIONAL.search(clause):
                found.not_listed = found.not_listed or sentence
            elif LISTED.search(clause):
                found.listed = found.listed or sentence
            if (m := CATEGORY.search(clause)) and "不" not in clause[max(0, m.start() - 2) : m.start()]:
                found.category = found.category or (m.group(1), sentence)
            if _states_restriction(new_core, sentence):
                found.restriction = found.restriction or (new.restriction or "", sentence)
            elif UNRESTRICTED.search(clause) or (removal and _states_restriction(old_core, clause)):
                found.unrestricted = found.unrestricted or sentence
            elif m2 := RESTRICTION.search(clause):
                found.restriction = found.restriction or (m2.group(1), sentence)
            elif _states_restriction(old_core, clause) and not removal:
                found.restriction = found.restriction or (old.restriction or "", sentence)
            if m3 := PAYMENT.search(clause):
                found.payment = found.payment or (m3.group(1), sentence)
    return found


def _sentences_about(text: str, names: set[str], others: set[str], linked: bool) -> list[str]:
    """The claim-making sentences that speak of the product.

    A sentence speaks of it when it names it, or (for an entry linked to it) names no other product; the sentences
    of a customer's-words section (【客户异议】 up to the next 【…】) are left out.
    """
    out = []
    quoting = False
    for s in sentences(text):
        if s.startswith("【"):
            quoting = bool(NOT_CLAIM_SECTION.match(s))
        if quoting:
            continue
        if any(n in s for n in names) or (linked and not any(n in s for n in others)):
            out.append(s)
    return out


def _verdict(claims: _Claims, old: Facts, new: Facts) -> tuple[ImpactSeverity, str] | None:
    """Withdraw when a present claim is false under the new edition, review when a listing claim is silent.

    Silent: it says the product is reimbursed but not the restriction or the category the change introduced.
    """
    if new.listed:
        if claims.not_listed:
            return "withdraw", claims.not_listed
        if claims.category and new.category and claims.category[0] != new.category:
            return "withdraw", claims.category[1]
        if claims.restriction and not _same_restriction(claims.restriction[0], new.restriction):
            return "withdraw", claims.restriction[1]
        if claims.unrestricted and new.restriction and not claims.restriction:
            return "withdraw", claims.unrestricted
        if claims.payment and new.payment_standard and claims.payment[0] not in _NUMBER.findall(new.payment_standard):
            return "withdraw", claims.payment[1]
        if claims.listed and old.listed:
            restriction_new = bool(new.restriction) and not _same_restriction(old.restriction, new.restriction)
            if restriction_new and not claims.restriction:
                return "review", claims.listed
            if old.category != new.category and not claims.category:
                return "review", claims.listed
        return None
    for claim in (
        claims.listed,
        claims.category[1] if claims.category else None,
        claims.restriction[1] if claims.restriction else None,
        claims.payment[1] if claims.payment else None,
    ):
        if claim:  # fmt: skip
            return "withdraw", claim
    return None


def assess(
    entry: Entry,
    skus: list[str],
    *,
    changed: Mapping[str, Change],
    old: Mapping[str, Facts],
    new: Mapping[str, Facts],
    about: list[str],
    names: Mapping[str, set[str]],
    edition: str,
) -> Impact | None:
    """The impact of a formulary change on one entry, or ``None`` when no claim of its text is touched."""
    text = f"{entry.title}\n{entry.body}"
    worst: tuple[ImpactSeverity, str] | None = None
    hit: list[str] = []
    for sku in skus:
        others = {n for s, ns in names.items() if s != sku for n in ns}
        mine = names.get(sku, set())
        about_me = _sentences_about(text, mine, others - mine, sku in about)
        o, n = old.get(sku, Facts(False)), new.get(sku, Facts(False))
        verdict = _verdict(_claims(about_me, o, n), o, n)
        if verdict is None:
            continue
        hit.append(sku)
        if worst is None or (verdict[0] == "withdraw" and worst[0] == "review"):
            worst = verdict
    if worst is None:
        return None
    touched = "；".join(f"{changed[s].name} {changed[s].detail}" for s in hit)
    reason = f"医保目录 {edition}：" + touched[:REASON_CHARS]
    return Impact(entry.id, worst[0], worst[1][:SENTENCE_CHARS], tuple(hit), reason)


def _affected_customers(store: GraphStore, tenant: str, skus: list[str], today: dt.date) -> dict[str, list[str]]:
    """Customer → the changed SKUs it bought within the window or its doctors prescribe (sorted)."""
    customers: dict[str, set[str]] = defaultdict(set)
    since = today - dt.timedelta(days=BUYERS_WINDOW_DAYS)
    for sku in skus:
        for line in store.price_history(tenant, sku, PriceHistoryFilter(date_from=since)):
            customers[line.customer_id].add(sku)
    prescriptions = store.edges_of(tenant, Prescribes, targets=skus) if skus else []
    doctors = sorted({pr.doctor_id for pr in prescriptions})
    works_at = {w.doctor_id: w.customer_id for w in store.edges_of(tenant, WorksAt, sources=doctors)} if doctors else {}
    for pr in prescriptions:
        if pr.doctor_id in works_at:
            customers[works_at[pr.doctor_id]].add(pr.sku)
    return {c: sorted(s) for c, s in sorted(customers.items())}


def entries_touching(store: GraphStore, tenant: str, changed: Mapping[str, Change]) -> list[tuple[Entry, set[str]]]:
    """Entries (not retired) about a changed product or naming one in their text, with the SKUs each touches."""
    if not changed:
        return []
    skus = sorted(changed)
    about: dict[str, set[str]] = defaultdict(set)
    for ab in store.edges_of(tenant, AboutProduct, targets=skus):
        about[ab.entry_id].add(ab.sku)
    names = {
        p.sku: {n for n in (p.name, p.generic_name, p.brand) if n and len(n) >= MIN_NAME_CHARS}
        for p in store.nodes_by_keys(tenant, Product, skus)
    }
    found = {e.id: e for e in store.nodes_by_keys(tenant, Entry, sorted(about))}
    found.update((e.id, e) for e in store.entries_naming(tenant, sorted({n for ns in names.values() for n in ns})))
    out = []
    for e in sorted(found.values(), key=lambda e: e.id):
        if e.status == "retired":
            continue
        text = f"{e.title}\n{e.body}"
        hit = set(about.get(e.id, set())) | {sku for sku, ns in names.items() if any(n in text for n in ns)}
        if hit:
            out.append((e, hit))
    return out


@dataclass(frozen=True)
class StatusChange:
    """A product's reimbursement status before and after the latest formulary change, in words a rep can say."""

    sku: str
    name: str
    old_edition: str
    new_edition: str
    effective_date: dt.date | None
    old_status: str
    new_status: str
    detail: str

    @property
    def text(self) -> str:
        """One sentence: the change, the edition and the date it takes effect."""
        d = self.effective_date
        when = f"，自{d.year}年{d.month}月{d.day}日起执行" if d else ""
        change = f"{self.name} {self.old_status} → {self.new_status}"
        return f"医保目录变化（{self.old_edition} → {self.new_edition}{when}）：{change}。"


def status_words(facts: Facts) -> str:
    """A product's status in one edition as a rep says it: 乙类，限… / 未列入目录."""
    if not facts.listed:
        return "未列入目录"
    parts = [f"{facts.category}类" if facts.category else "已列入目录"]
    parts.append(facts.restriction.rstrip("。") if facts.restriction else "无限定支付范围")
    if facts.payment_standard and facts.payment_standard != "*":
        parts.append(f"支付标准{facts.payment_standard}")
    return "，".join(parts)


def status_changes(store: GraphStore, tenant: str, skus: list[str]) -> list[StatusChange]:
    """The latest formulary change of each of ``skus`` whose status changed (none when no two editions exist)."""
    prev, latest = latest_editions(store, tenant)
    if prev is None or latest is None or not skus:
        return []
    changes = edition_changes(store, tenant, prev.id, latest.id, skus=set(skus))
    facts = edition_facts(store, tenant, [c.sku for c in changes], [prev.id, latest.id])
    return [
        StatusChange(
            sku=c.sku,
            name=c.name,
            old_edition=prev.id,
            new_edition=latest.id,
            effective_date=latest.effective_date,
            old_status=status_words(facts[prev.id][c.sku]),
            new_status=status_words(facts[latest.id][c.sku]),
            detail=c.detail,
        )  # fmt: skip
        for c in changes
    ]
