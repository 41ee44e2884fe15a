"""Formulary impact on the demo: which entries a real NRDL change (2022 → 2024) makes wrong, measured against people.

Three steps, each a sub-command of ``python -m eval formulary-impact``:

``dump``
    Loads the demo (two tenants, the real 2022 and 2024 rows of its products), takes every entry the old rule would
    have marked (it is ABOUT a changed product or names one) and samples 40 of them deterministically (by a digest of
    the id, no seed, no verdict of the detector involved). For each it writes the entry's text and links and, for
    every changed product it touches, the product's formulary facts in both editions — and nothing of what the
    detector thinks — to ``to_label.jsonl``, for a person to label blind: is the entry affected, and with which
    severity (``withdraw``: it now states something false; ``review``: still true but incomplete; ``none``).

``score``
    Reads the labels (``{entry_id, affected, severity}`` per line), runs the detector on the same demo, and reports
    precision and recall of "affected" and the agreement on severity, on the whole sample and on its two halves (the
    half whose digest is odd is held out: no rule change may be made after reading its misses).

``measure``
    Applies the change to the demo with the detector and counts the entries marked, by severity and status, next to
    the number the old rule (every entry naming a changed product) marked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from copilot import formulary_impact as fi
from demo.load import load_demo
from graph.embedded import EmbeddedGraphStore
from graph.model import Entry, FormularyStatus, ListedIn, Product
from graph.ports import GraphStore

TENANT = "hz-pharma"
TENANTS = ("hz-pharma", "sh-pharma")
TODAY = dt.date(2026, 11, 25)
OLD, NEW = "NRDL-2022", "NRDL-2024"
SAMPLE = 40
DEFAULT_DIR = Path("/work/evalsets/formulary_impact")
REPORT = Path(__file__).resolve().parent / "reports" / "formulary_impact" / "measure.json"


def _digest(entry_id: str) -> str:
    return hashlib.sha256(f"formulary-impact:{entry_id}".encode()).hexdigest()


def held_out(entry_id: str) -> bool:
    """The held-out half: entries whose digest ends in an odd hex digit."""
    return int(_digest(entry_id)[-1], 16) % 2 == 1


def _demo_store(folder: Path) -> EmbeddedGraphStore:
    store = EmbeddedGraphStore(folder, buffer_pool_mb=512)
    load_demo(store, as_of=TODAY)
    return store


def old_rule(store: GraphStore, tenant: str = TENANT) -> dict[str, tuple[Entry, set[str]]]:
    """Entries (not retired) ABOUT a changed product or naming one: what the old rule marked, with the SKUs."""
    changes = {c.sku: c for c in fi.edition_changes(store, tenant, OLD, NEW)}
    return {e.id: (e, hit) for e, hit in fi.entries_touching(store, tenant, changes)}


def _facts(store: GraphStore, skus: list[str], tenant: str = TENANT) -> dict[str, dict[str, dict[str, Any]]]:
    """SKU → edition → the product's status in that edition as printed."""
    out: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in skus}
    editions = {e.id: e for e in store.formulary_editions(tenant)}
    for edition in (OLD, NEW):
        for s in skus:
            ed = editions[edition]
            out[s][edition] = {"edition": ed.name, "effective_date": str(ed.effective_date), "listed": False}
    for e in store.edges_of(tenant, ListedIn, sources=skus, targets=[OLD, NEW]):
        out[e.sku][e.edition_id] |= {
            "listed": True, "category": e.category, "restriction": e.restriction,
            "payment_standard": e.payment_standard, "section": e.section, "number": e.code,
        }  # fmt: skip
    for st in store.edges_of(tenant, FormularyStatus, sources=skus, targets=[OLD, NEW]):
        out[st.sku][st.edition_id] |= {"state": st.state, "reason": st.reason}
    return out


INSURANCE_WORDS = ("医保", "报销", "自费", "甲类", "乙类", "支付", "目录")
"""Words of a reimbursement topic: the sample takes most of its entries from texts that use one (neutral to the
detector's verdicts, and where claims are made at all; an entry that never speaks of insurance is rarely affected)."""
TOPICAL_SHARE = 0.75


def sample(candidates: dict[str, tuple[Entry, set[str]]], n: int = SAMPLE) -> list[str]:
    """``n`` entry ids chosen by digest: the same on every run, whatever the detector says.

    Three quarters come from entries that speak of reimbursement, the rest from the others.
    """
    topical = [i for i, (e, _) in candidates.items() if any(w in f"{e.title}\n{e.body}" for w in INSURANCE_WORDS)]
    other = [i for i in candidates if i not in set(topical)]
    k = min(len(topical), round(n * TOPICAL_SHARE))
    chosen = sorted(topical, key=_digest)[:k] + sorted(other, key=_digest)[: n - k]
    return sorted(chosen)


def _rows(store: GraphStore, tenant: str, candidates: dict[str, tuple[Entry, set[str]]], ids: list[str]) -> list[str]:
    """The labelling rows of ``ids`` (entry text, links, both editions' facts of its changed products; no verdict)."""
    touched = sorted({s for i in ids for s in candidates[i][1]})
    products = {p.sku: p for p in store.nodes_by_keys(tenant, Product, touched)}
    facts = _facts(store, sorted(products), tenant)
    links = store.entry_links(tenant, ids)
    rows = []
    for eid in ids:
        entry, skus = candidates[eid]
        link = links.get(eid)
        row = {
            "entry_id": eid, "tenant": tenant, "kind": entry.kind, "title": entry.title, "body": entry.body,
            "about_skus": sorted(link.skus) if link else [],
            "products": [
                {"sku": s, "name": products[s].name, "brand": products[s].brand,
                 "generic_name": products[s].generic_name, OLD: facts[s][OLD], NEW: facts[s][NEW]}
                for s in sorted(skus)
            ],
            "question": "Does the 2024 edition make this entry state something false (withdraw), or leave it "
            "true but incomplete (review), or not touch its claims (none)?",
        }  # fmt: skip
        rows.append(json.dumps(row, ensure_ascii=False))
    return rows


def dump(out: Path, work: Path) -> int:
    """Write the blind labelling file; returns the number of entries written."""
    with _demo_store(work) as store:
        candidates = old_rule(store)
        ids = sample(candidates)
        rows = _rows(store, TENANT, candidates, ids)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    return len(rows)


def dump_more(out: Path, first: Path, work: Path) -> int:
    """A second blind file: the entries the detector marks (both tenants) that ``first`` lacks, mixed with others.

    As many entries it does not mark (chosen by digest) come with them, all ordered by digest, so that the file does
    not tell which is which.

    The first sample (40 by digest, drawn before the detector existed) holds few marked entries, too few for a
    precision; labels of both files go into one labels file.
    """
    done = {json.loads(line)["entry_id"] for line in first.read_text(encoding="utf-8").splitlines() if line.strip()}
    rows: list[tuple[str, str]] = []
    with _demo_store(work) as store:
        for tenant in TENANTS:
            candidates = old_rule(store, tenant)
            report = fi.formulary_impact(store, tenant, old=OLD, new=NEW, today=TODAY, dry_run=True)
            marked = sorted(i for i in report.impacts if i not in done)
            others = sorted((i for i in candidates if i not in done and i not in report.impacts), key=_digest)
            ids = marked + others[: len(marked)]
            rows += [(_digest(i), r) for i, r in zip(ids, _rows(store, tenant, candidates, ids), strict=True)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(r + "\n" for _, r in sorted(rows)), encoding="utf-8")
    return len(rows)


def _read_labels(path: Path) -> dict[str, dict[str, Any]]:
    labels: dict[str, dict[str, Any]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("severity") not in ("withdraw", "review", "none") or not isinstance(row.get("affected"), bool):
            raise SystemExit(f"{path}:{n}: needs entry_id, affected (bool) and severity (withdraw|review|none)")
        labels[str(row["entry_id"])] = row
    return labels


def _scores(labels: dict[str, dict[str, Any]], found: Mapping[str, str]) -> dict[str, Any]:
    tp = sum(1 for i, lab in labels.items() if lab["affected"] and i in found)
    fp = sum(1 for i, lab in labels.items() if not lab["affected"] and i in found)
    fn = sum(1 for i, lab in labels.items() if lab["affected"] and i not in found)
    both = [i for i, lab in labels.items() if lab["affected"] and i in found]
    same = sum(1 for i in both if labels[i]["severity"] == found[i])
    return {
        "n": len(labels), "marked": tp + fp, "labelled_affected": tp + fn, "true_positives": tp,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "severity_agreement": round(same / len(both), 3) if both else None,
        "false_positives": sorted(i for i, lab in labels.items() if not lab["affected"] and i in found),
        "misses": sorted(i for i, lab in labels.items() if lab["affected"] and i not in found),
    }  # fmt: skip


def detect(store: GraphStore) -> dict[str, fi.Impact]:
    """The detector's verdicts on the demo's 2022 → 2024 change in both tenants (nothing written)."""
    found: dict[str, fi.Impact] = {}
    for tenant in TENANTS:
        found |= fi.formulary_impact(store, tenant, old=OLD, new=NEW, today=TODAY, dry_run=True).impacts
    return found


def score(labels_path: Path, work: Path) -> dict[str, Any]:
    """Precision / recall of the detector against the labels, whole sample and per half."""
    labels = _read_labels(labels_path)
    with _demo_store(work) as store:
        found = {i: imp.severity for i, imp in detect(store).items()}
    dev = {i: lab for i, lab in labels.items() if not held_out(i)}
    held = {i: lab for i, lab in labels.items() if held_out(i)}
    return {"all": _scores(labels, found), "dev": _scores(dev, found), "heldout": _scores(held, found)}


def measure(work: Path) -> dict[str, Any]:
    """Entries marked by the detector (by severity and status) and by the old rule, on the demo's change.

    Per demo tenant: the old rule marked every entry naming or about a changed product (and put drafts and entries in
    review to ``stale`` too); the detector marks the entries whose claims the change touches.
    """
    out: dict[str, Any] = {"change": f"{OLD} → {NEW}", "tenants": {}}
    with _demo_store(work) as store:
        for tenant in TENANTS:
            changes = {c.sku: c for c in fi.edition_changes(store, tenant, OLD, NEW)}
            old = {e.id: e for e, _ in fi.entries_touching(store, tenant, changes)}
            report = fi.formulary_impact(store, tenant, old=OLD, new=NEW, today=TODAY, dry_run=True)
            by = Counter((imp.severity, old[i].status) for i, imp in report.impacts.items())
            out["tenants"][tenant] = {
                "published_entries": len(store.entries(tenant, status="published")),
                "changed_products": len(changes),
                "old_rule_marked": len(old),
                "old_rule_marked_published": sum(1 for e in old.values() if e.status == "published"),
                "old_rule_by_status": dict(Counter(e.status for e in old.values())),
                "marked": len(report.impacts),
                "by_severity": dict(Counter(imp.severity for imp in report.impacts.values())),
                "by_severity_and_status": {f"{s}/{st}": n for (s, st), n in sorted(by.items())},
                "withdrawn_from_reps": by.get(("withdraw", "published"), 0),
                "entries": {i: {"severity": imp.severity, "status": old[i].status, "sentence": imp.sentence}
                            for i, imp in sorted(report.impacts.items())},
            }  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    """``python -m eval formulary-impact {dump,score,measure}``."""
    parser = argparse.ArgumentParser(prog="python -m eval formulary-impact")
    sub = parser.add_subparsers(dest="step", required=True)
    d = sub.add_parser("dump", help="Write the blind labelling sample.")
    d.add_argument("--out", type=Path, default=DEFAULT_DIR / "to_label.jsonl")
    m = sub.add_parser("dump-more", help="Write a second blind sample: the marked entries the first lacks, mixed.")
    m.add_argument("--out", type=Path, default=DEFAULT_DIR / "to_label_more.jsonl")
    m.add_argument("--first", type=Path, default=DEFAULT_DIR / "to_label.jsonl")
    s = sub.add_parser("score", help="Precision of the detector against a labels file.")
    s.add_argument("--labels", type=Path, default=DEFAULT_DIR / "labels.jsonl")
    sub.add_parser("measure", help="Entries marked on the demo, by severity, and by the old rule.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "graph"
        if args.step == "dump":
            n = dump(args.out, work)
            sys.stdout.write(f"{n} entries written to {args.out}\n")
        elif args.step == "dump-more":
            n = dump_more(args.out, args.first, work)
            sys.stdout.write(f"{n} entries written to {args.out}\n")
        elif args.step == "score":
            sys.stdout.write(json.dumps(score(args.labels, work), ensure_ascii=False, indent=2) + "\n")
        else:
            result = measure(work)
            REPORT.parent.mkdir(parents=True, exist_ok=True)
            REPORT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
