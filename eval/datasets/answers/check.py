#!/usr/bin/env python3
"""Validate the evaluation set: references, label consistency, minimum counts, split balance.

Reads only the files written by build.py.  Exit status 1 on any failure.  Run:  python3 check.py
"""
import csv
import json
import os
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
CATEGORIES = {"price", "formulary", "efficacy", "side_effects", "stock", "payment_terms", "insurance_card",
              "compliance", "dtp_prescription", "vbp", "margin_display", "incumbent_supplier"}
CTYPES = {"chain", "single_pharmacy", "hospital", "clinic", "dtp"}
QUERY_TAGS = {"short", "productless", "typo", "english_jargon", "idiom", "no_match", "product_typo", "brand_generic",
              "long"}
errors = []


def fail(msg):
    errors.append(msg)


def load_csv(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_jsonl(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


products = load_csv("products.csv")
customers = load_csv("customers.csv")
indications = {r["适应症"] for r in load_csv("indications.csv")}
entries = json.load(open(os.path.join(HERE, "entries.json"), encoding="utf-8"))
queries = load_jsonl("queries.jsonl")
deals = load_jsonl("deals.jsonl")

skus = {p["商品编码"]: set(p["适应症"].split("|")) for p in products}
cust = {c["客户编码"]: c["客户类型"] for c in customers}
ent = {e["id"]: e for e in entries}
for name, rows, key in (("products", products, "商品编码"), ("customers", customers, "客户编码"),
                        ("entries", entries, "id"), ("queries", queries, "id"), ("deals", deals, "id")):
    ids = [r[key] for r in rows]
    if len(ids) != len(set(ids)):
        fail("%s: duplicate ids" % name)
for s, inds in skus.items():
    if not inds <= indications:
        fail("product %s: indication not in indications.csv: %s" % (s, inds - indications))
if set(cust.values()) - CTYPES:
    fail("customers: bad type")

# ---- entries
scripts = [e for e in entries if e["kind"] == "objection_script"]
cases = [e for e in entries if e["kind"] == "case_study"]
level = {}
for e in entries:
    if e["status"] != "published":
        fail("%s not published" % e["id"])
    for s in e["skus"]:
        if s not in skus:
            fail("%s: unknown sku %s" % (e["id"], s))
    for i in e["indications"]:
        if i not in indications:
            fail("%s: unknown indication %s" % (e["id"], i))
    if e["skus"] and e["indications"] and not set(e["indications"]) <= set().union(*[skus[s] for s in e["skus"]]):
        fail("%s: indication not of its products" % e["id"])
    if set(e["customer_types"]) - CTYPES:
        fail("%s: bad customer_types" % e["id"])
    if e["kind"] == "objection_script":
        if e["category"] not in CATEGORIES:
            fail("%s: bad category" % e["id"])
        level[e["id"]] = "product" if e["skus"] else "indication" if e["indications"] else "general"
    else:
        if e.get("customer_id") not in cust:
            fail("%s: case customer missing" % e["id"])
        if e["category"] is not None and e["category"] not in CATEGORIES:
            fail("%s: bad category" % e["id"])
lv = Counter(level.values())
scripted = {s for e in scripts for s in e["skus"]}
no_script_products = sorted(set(skus) - scripted)

# ---- queries
for q in queries:
    for s in q["skus"]:
        if s not in skus:
            fail("%s: unknown sku" % q["id"])
    for k, g in q["relevant"].items():
        if k not in ent or ent[k]["kind"] != "objection_script":
            fail("%s: relevant %s is not an objection script" % (q["id"], k))
        if g not in (1, 2):
            fail("%s: bad grade" % q["id"])
    if q["no_match"] != (not q["relevant"]):
        fail("%s: no_match inconsistent with relevant" % q["id"])
    if not q["no_match"] and 2 not in q["relevant"].values():
        fail("%s: no grade-2 script" % q["id"])
    if set(q["tags"]) - QUERY_TAGS:
        fail("%s: unknown tag %s" % (q["id"], set(q["tags"]) - QUERY_TAGS))
    if ("short" in q["tags"]) != (len(q["text"]) <= 6):
        fail("%s: short tag" % q["id"])
    if ("no_match" in q["tags"]) != q["no_match"]:
        fail("%s: no_match tag" % q["id"])
    if "productless" in q["tags"] and q["skus"]:
        fail("%s: productless with skus" % q["id"])
    if q["split"] not in ("dev", "heldout"):
        fail("%s: split" % q["id"])
    # a product-less query never has a product script graded 2
    if "productless" in q["tags"]:
        for k, g in q["relevant"].items():
            if g == 2 and level[k] == "product":
                fail("%s: product-less query answered by a product script" % q["id"])

# ---- deals
for d in deals:
    if d["customer_id"] is not None and d["customer_id"] not in cust:
        fail("%s: unknown customer" % d["id"])
    if d["customer_id"] is None:
        p = d["profile"] or {}
        if p.get("type") not in CTYPES or not {"tier", "region"} <= set(p) or not ({"store_count", "size"} & set(p)):
            fail("%s: bad profile" % d["id"])
    for s in d["skus"]:
        if s not in skus:
            fail("%s: unknown sku" % d["id"])
    for k, g in d["relevant"].items():
        if k not in ent or ent[k]["kind"] != "case_study":
            fail("%s: relevant %s is not a case" % (d["id"], k))
        if g not in (1, 2):
            fail("%s: bad grade" % d["id"])
    if d["no_good_case"] != (2 not in d["relevant"].values()):
        fail("%s: no_good_case inconsistent" % d["id"])
    if d["split"] not in ("dev", "heldout"):
        fail("%s: split" % d["id"])


def tag_table(items):
    t = defaultdict(Counter)
    for it in items:
        for tag in it["tags"] + ["(all)"]:
            t[tag][it["split"]] += 1
    return t


qt = tag_table(queries)
dt = tag_table(deals)
n_new = sum(d["customer_id"] is None for d in deals)
n_nogood_empty = sum(d["no_good_case"] and not d["relevant"] for d in deals)
minima = [
    ("products ~25", len(products), 24),
    ("customers ~60", len(customers), 60),
    ("product-level scripts", lv["product"], 120),
    ("indication-level scripts", lv["indication"], 30),
    ("general scripts", lv["general"], 24),
    ("products without scripts", len(no_script_products), 1),
    ("case studies", len(cases), 60),
    ("queries", len(queries), 420),
    ("queries short", sum(qt["short"].values()), 80),
    ("queries productless", sum(qt["productless"].values()), 60),
    ("queries typo", sum(qt["typo"].values()), 60),
    ("queries english_jargon", sum(qt["english_jargon"].values()), 40),
    ("queries no_match", sum(qt["no_match"].values()), 40),
    ("queries product_typo", sum(qt["product_typo"].values()), 1),
    ("queries brand_generic", sum(qt["brand_generic"].values()), 1),
    ("deals", len(deals), 160),
    ("deals new-customer profiles", n_new, 25),
    ("deals no_good_case", sum(d["no_good_case"] for d in deals), 20),
    ("deals empty text", sum(dt["empty_text"].values()), 1),
    ("deals sibling_better", sum(dt["sibling_better"].values()), 1),
    ("deals indication_specific", sum(dt["indication_specific"].values()), 1),
]
print("== minimum counts")
for name, n, m in minima:
    ok = n >= m
    if not ok:
        fail("count %s = %d < %d" % (name, n, m))
    print("  %-32s %4d  (>= %d) %s" % (name, n, m, "ok" if ok else "FAIL"))
print("  products without any script: %s" % ", ".join(no_script_products))
print("  no_good_case deals with no related case at all: %d" % n_nogood_empty)
print("  script categories: %s" % dict(sorted(Counter(e["category"] for e in scripts).items())))
for title, t in (("queries", qt), ("deals", dt)):
    print("== %s by tag and split" % title)
    for tag in sorted(t, key=lambda x: (x != "(all)", x)):
        c = t[tag]
        print("  %-20s dev %4d  heldout %4d  total %4d" % (tag, c["dev"], c["heldout"], c["dev"] + c["heldout"]))
        if c["dev"] + c["heldout"] >= 4 and abs(c["dev"] - c["heldout"]) > max(2, 0.15 * (c["dev"] + c["heldout"])):
            fail("%s tag %s unbalanced across splits" % (title, tag))
if errors:
    print("\nFAILED (%d):" % len(errors))
    for e in errors[:50]:
        print("  " + e)
    sys.exit(1)
print("\nall checks passed: every referenced id exists, labels are consistent, minima are met")
