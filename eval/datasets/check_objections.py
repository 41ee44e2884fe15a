"""Checks ``objections_zh.jsonl`` against the demo dataset and reports its make-up.

Usage::

    python -m eval.datasets.check_objections            # report; exit status 1 on any error
    python -m eval.datasets.check_objections --verbose  # also list every query's overlap with its labelled entries

Errors (exit status 1):

- a line that is not a query object (``id``, ``query``, ``relevant``, ``skus``, ``style``, ``note``), a duplicate id or
  query, an unknown style or SKU, an empty ``relevant``;
- a relevant id that is not a *published* objection script of tenant ``hz-pharma``;
- a query with ``skus`` whose relevant entry is ABOUT none of them (a product-filtered search could never find it);
- a query sharing a substring of more than ``MAX_OVERLAP`` (6) characters with one of its relevant entries (title and
  body), product names excluded (see `overlap`). Overlaps of 5 or 6 characters are listed as warnings: the queries
  were written to share at most 4.

Reported: counts per style and per objection type (a query counts once for every type among its relevant entries),
products covered, label-set sizes, queries labelled with a legacy script (written under the 2022 list) and the
longest-overlap distribution.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

DATASET = Path(__file__).parent / "objections_zh.jsonl"
TENANT = "hz-pharma"
STYLES = ("colloquial", "abbreviation", "brand", "typo", "mixed_en", "long", "short")
FIELDS = {"id", "query", "relevant", "skus", "style", "note"}
MAX_OVERLAP = 6
"""An overlap longer than this (characters, product names excluded) is an error."""
WARN_OVERLAP = 4
"""An overlap longer than this is a warning."""
_QUERY_MASK, _ENTRY_MASK = "\ue000", "\ue001"


def product_names(products: list[dict[str, Any]], competitors: list[dict[str, Any]]) -> list[str]:
    """Every way the demo writes a product: name, generic name, brand, brand + name of a TCM, competitor names."""
    names: set[str] = set()
    for p in products:
        for n in (p["name"], p["generic_name"], p["brand"]):
            if n:
                names.add(n)
        if p["brand"]:
            names.add(p["brand"] + p["name"])
        if "(" in p["name"]:
            names.add(p["name"].split("(")[0])
    for c in competitors:
        names.add(c["name"].split(" ")[0])
    return sorted((n.lower() for n in names if len(n) >= 2), key=len, reverse=True)


def mask(text: str, names: list[str], placeholder: str) -> str:
    """``text`` lower-cased with every product name (longest first) replaced by one ``placeholder`` character."""
    out = text.lower()
    for n in names:
        if n in out:
            out = out.replace(n, placeholder)
    return out


def longest_common_substring(a: str, b: str) -> str:
    """The longest substring of ``a`` that occurs in ``b`` (first found of that length)."""
    best = ""
    for i in range(len(a)):
        j = i + len(best) + 1
        while j <= len(a) and a[i:j] in b:
            best = a[i:j]
            j += 1
    return best


def overlap(query: str, entry_text: str, names: list[str]) -> str:
    """Longest common substring of a query and an entry, product names excluded (masked differently on each side)."""
    return longest_common_substring(mask(query, names, _QUERY_MASK), mask(entry_text, names, _ENTRY_MASK))


def check(path: Path, verbose: bool = False) -> int:
    """Print the report; return the number of errors."""
    from demo import build_demo

    demo = build_demo(seed=7, scale=1, as_of=dt.date(2026, 11, 25))
    tables = demo.tenants[TENANT]
    entries = {e["id"]: e for e in tables["Entry"].to_pylist()}
    products = tables["Product"].to_pylist()
    skus_known = {p["sku"] for p in products}
    about: dict[str, set[str]] = {}
    for a in tables["AboutProduct"].to_pylist():
        about.setdefault(a["entry_id"], set()).add(a["sku"])
    legacy = {str(x[0] if isinstance(x, tuple) else x) for x in demo.truth[TENANT]["legacy_scripts"]}
    names = product_names(products, tables["CompetitorProduct"].to_pylist())
    published = {i for i, e in entries.items() if e["kind"] == "objection_script" and e["status"] == "published"}

    errors: list[str] = []
    warnings: list[str] = []
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: not JSON ({exc})")
            continue
        if not isinstance(row, dict) or set(row) != FIELDS:
            errors.append(f"line {n}: fields must be {sorted(FIELDS)}")
            continue
        rows.append(row)

    ids = Counter(r["id"] for r in rows)
    queries = Counter(r["query"] for r in rows)
    errors += [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    errors += [f"duplicate query {q!r}" for q, c in queries.items() if c > 1]

    by_style: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    sizes: Counter[int] = Counter()
    longest: Counter[int] = Counter()
    covered_skus: set[str] = set()
    covered_scripts: set[str] = set()
    with_legacy = legacy_only = 0
    for r in rows:
        rid, query, relevant, skus = r["id"], r["query"], r["relevant"], r["skus"]
        if not isinstance(query, str) or not query.strip():
            errors.append(f"{rid}: empty query")
            continue
        if r["style"] not in STYLES:
            errors.append(f"{rid}: unknown style {r['style']!r}")
        by_style[r["style"]] += 1
        if not isinstance(relevant, list) or not relevant:
            errors.append(f"{rid}: no relevant id")
            continue
        if not isinstance(skus, list) or set(skus) - skus_known:
            errors.append(f"{rid}: unknown SKUs {sorted(set(skus) - skus_known)}")
            continue
        sizes[len(relevant)] += 1
        types: set[str] = set()
        worst = ""
        for eid in relevant:
            if eid not in entries:
                errors.append(f"{rid}: {eid} does not exist in {TENANT}")
                continue
            e = entries[eid]
            if eid not in published:
                errors.append(f"{rid}: {eid} is a {e['status']} {e['kind']}, not a published objection script")
                continue
            types.add(e["tags"][0])
            covered_scripts.add(eid)
            covered_skus |= about.get(eid, set())
            if skus and not about.get(eid, set()) & set(skus):
                errors.append(f"{rid}: {eid} is about {sorted(about.get(eid, set()))}, none of the query's SKUs {skus}")
            common = overlap(query, e["title"] + "\n" + e["body"], names)
            if len(common) > len(worst):
                worst = common
            if verbose:
                print(f"{rid} {eid} overlap {len(common)} {common!r}")
        for t in types:
            by_type[t] += 1
        longest[len(worst)] += 1
        if len(worst) > MAX_OVERLAP:
            errors.append(f"{rid}: shares {worst!r} ({len(worst)} characters) with a relevant entry: {query}")
        elif len(worst) > WARN_OVERLAP:
            warnings.append(f"{rid}: shares {worst!r} ({len(worst)} characters) with a relevant entry: {query}")
        hit = set(relevant) & legacy
        if hit:
            with_legacy += 1
            legacy_only += not set(relevant) - legacy

    total = len(rows)
    print(f"{path.name}: {total} queries")
    print("\nper style:")
    for s in STYLES:
        print(f"  {s:<13} {by_style[s]:>4}  {by_style[s] / max(total, 1):6.1%}")
    print("\nper objection type (a query counts for each type among its relevant entries):")
    all_types = sorted({entries[i]["tags"][0] for i in published})
    for t in all_types:
        scripts = sum(1 for i in published if entries[i]["tags"][0] == t)
        print(f"  {t:<12} {by_type[t]:>4} queries  ({scripts} published scripts)")
    print(f"\nrelevant ids per query: {dict(sorted(sizes.items()))}")
    print(f"published objection scripts labelled at least once: {len(covered_scripts)} of {len(published)}")
    pub_skus = set().union(*(about.get(i, set()) for i in published))
    print(f"products with a published script covered: {len(covered_skus & pub_skus)} of {len(pub_skus)}")
    print(f"queries labelled with a legacy (2022-list) script: {with_legacy} ({legacy_only} with nothing else)")
    print(
        f"longest overlap with a relevant entry, product names excluded (characters: queries): "
        f"{dict(sorted(longest.items()))}"
    )
    for w in warnings:
        print(f"warning: {w}")
    for e in errors:
        print(f"error: {e}")
    print("\nOK" if not errors else f"\n{len(errors)} error(s)")
    return len(errors)


def main(argv: list[str] | None = None) -> int:
    """Run the check; exit status 1 on errors."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DATASET)
    parser.add_argument("--verbose", action="store_true", help="print every (query, entry) overlap")
    args = parser.parse_args(argv)
    return 1 if check(args.path, args.verbose) else 0


if __name__ == "__main__":
    sys.exit(main())
