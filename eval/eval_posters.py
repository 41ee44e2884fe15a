"""Competitor posters and price tags: items, prices and SKUs read from photos, against a blind labelled set.

The set (160 synthetic phone photos of posters and shelf tags with labelled items, our SKU catalogue and a reference
scorer; see its README) was written by a helper session that never read the parser. It lives outside the repository:
pass its folder with ``--set`` (``salescopilot eval posters --set DIR``); without it nothing runs. Half of it
(``heldout``) is never used for tuning: develop on ``dev``, report ``heldout``.

For each photo of the split the whole product path runs — decode, OCR (RapidOCR), layout grouping, parsing, SKU
resolution against the set's ``catalog.csv`` — and only the image is read; ``labels.jsonl`` gives the list of images
of the split and is then used by the set's own ``score.py``. Reported: item precision / recall, price exact match on
found items (current, original, member), SKU resolution accuracy (in-catalogue and not-in-catalogue items), effective
per-box price, the share of items sent to review, and seconds per photo. Usage::

    python -m eval.eval_posters --set DIR [--split dev|heldout|all] [--ocr-cache DIR] [--detection-side PX]
        [--variant "name:field=value,…"] [--json]

``--ocr-cache`` keeps each photo's OCR lines (keyed by the file's hash and the engine's settings) so a parser change
can be measured again without re-running the OCR. Writes ``eval/reports/posters/posters_{split}.{json,md}``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from eval.ab_posters_ocr import parse_variant
from eval.stats import percentiles
from ingest.competitor_prices import known_names
from ingest.posters.errors import NotAnImageError, PhotoTooLargeError
from ingest.posters.items import read_items
from ingest.posters.ocr import OcrLine, Quad, RapidOcrEngine
from ingest.posters.photo import decode_photo, for_ocr
from resolution.sku_match import CatalogEntry, SkuMatcher

REPORTS = Path(__file__).resolve().parent / "reports" / "posters"


def load_catalog(path: Path) -> list[CatalogEntry]:
    """The set's ``catalog.csv`` (our SKUs) as catalogue entries."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [
        CatalogEntry(
            sku=r["sku"],
            name=r["name"],
            generic=r["generic"],
            brand=r["brand"] or None,
            aliases=tuple(a for a in r.get("generic_aliases", "").split("|") if a),
            spec=r["spec"] or None,
        )
        for r in rows
    ]


def _quad(points: list[list[float]]) -> Quad:
    a, b, c, d = ((float(x), float(y)) for x, y in points)
    return (a, b, c, d)


def _cached_lines(
    cache: Path | None, data: bytes, engine: RapidOcrEngine
) -> tuple[list[OcrLine], float, float | None] | None:
    if cache is None:
        return None
    key = hashlib.sha256(data + engine.name.encode()).hexdigest()[:32]
    path = cache / f"{key}.json"
    if not path.exists():
        return None
    rec = json.loads(path.read_text(encoding="utf-8"))
    lines = [OcrLine(t, _quad(q), c, tuple(_quad(x) for x in ch) if ch else None) for t, q, c, ch in rec["lines"]]
    return lines, float(rec["seconds"]), rec.get("cpu_seconds")


def _store_lines(
    cache: Path | None, data: bytes, engine: RapidOcrEngine, lines: list[OcrLine], seconds: float, cpu: float
) -> None:
    if cache is None:
        return
    cache.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(data + engine.name.encode()).hexdigest()[:32]
    rec = {
        "engine": engine.name,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "lines": [[ln.text, ln.quad, ln.confidence, ln.chars] for ln in lines],
    }
    (cache / f"{key}.json").write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")


def _num(v: Decimal | None) -> float | None:
    return float(v) if v is not None else None


def predict(
    set_dir: Path, split: str, *, ocr_cache: Path | None = None, engine: RapidOcrEngine | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Predictions for every image of the split (``score.py``'s format) and run statistics."""
    catalog = load_catalog(set_dir / "catalog.csv")
    matcher = SkuMatcher(catalog)
    names = known_names(catalog)
    engine = engine or RapidOcrEngine()
    images = [
        json.loads(line)["image"]
        for line in (set_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip() and (split == "all" or json.loads(line)["split"] == split)
    ]
    preds: list[dict[str, Any]] = []
    ocr_seconds: list[float] = []
    ocr_cpu: list[float] = []
    cached_photos = 0
    refused: list[dict[str, str]] = []
    parse_seconds: list[float] = []
    review = items_total = 0
    for image in images:
        data = (set_dir / image).read_bytes()
        cached = _cached_lines(ocr_cache, data, engine)
        try:
            photo = decode_photo(data)
        except (NotAnImageError, PhotoTooLargeError) as e:  # the upload would be refused (415 / 413): no items
            refused.append({"image": image, "reason": e.message})
            preds.append({"image": image, "items": []})
            continue
        if cached is None:
            t, c = time.perf_counter(), time.process_time()
            pixels, scale = for_ocr(photo)
            lines = [ln.scaled(1 / scale) if scale != 1.0 else ln for ln in engine.read(pixels)]
            seconds, cpu = time.perf_counter() - t, time.process_time() - c
            _store_lines(ocr_cache, data, engine, lines, seconds, cpu)
        else:
            lines, seconds, cached_cpu = cached
            cpu = cached_cpu if cached_cpu is not None else float("nan")
            cached_photos += 1
        ocr_seconds.append(seconds)
        ocr_cpu.append(cpu)
        t = time.perf_counter()
        reading = read_items(
            lines, today=photo.taken_at.date() if photo.taken_at else dt.date.today(), known_names=names
        )
        items = []
        for it in reading.items:
            r = matcher.resolve(it.text, ocr_confidence=it.confidence)
            review += r.needs_review
            items_total += 1
            items.append(
                {
                    "text": it.text,
                    "prices": {"original": _num(it.original), "current": _num(it.current), "member": _num(it.member)},
                    "effective_unit_price": _num(it.effective_member_price),  # the lowest a walk-in customer reaches
                    "sku": r.sku,
                    "bbox": [round(v, 1) for v in it.bbox],
                    "resolution": r.outcome,
                }
            )  # fmt: skip
        parse_seconds.append(time.perf_counter() - t)
        preds.append({"image": image, "items": items})
    stats = {
        "images": len(images),
        "items_predicted": items_total,
        "review_rate": round(review / items_total, 4) if items_total else 0.0,
        "ocr_seconds_median": round(sorted(ocr_seconds)[len(ocr_seconds) // 2], 3) if ocr_seconds else None,
        "ocr_cpu_seconds": percentiles(timed, (50, 95)) if (timed := [c for c in ocr_cpu if c == c]) else None,
        "ocr_threads": engine.threads,
        "parse_seconds_median": round(sorted(parse_seconds)[len(parse_seconds) // 2], 4) if parse_seconds else None,
        "ocr_engine": engine.name,
        "ocr_lines_from_cache": cached_photos,
        "refused_uploads": refused,
    }
    return preds, stats


def score(set_dir: Path, preds: list[dict[str, Any]], split: str) -> dict[str, Any]:
    """Run the set's own scorer on the predictions; returns its JSON report."""
    # predictions stay out of the repository: what was read from held-out photos must not become tuning material
    with tempfile.TemporaryDirectory(prefix="posters-eval-") as tmp:
        pred_path = Path(tmp) / f"predictions_{split}.jsonl"
        pred_path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in preds), encoding="utf-8")
        report_path = Path(tmp) / f"score_{split}.json"
        subprocess.run(
            [sys.executable, str(set_dir / "score.py"), str(pred_path), "--split", split, "--json", str(report_path)],
            check=True,
            capture_output=True,
            text=True,
        )
        result: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    return result


MUST = {"item_recall": 0.90, "item_precision": 0.95, "price_current_exact": 0.95, "sku_accuracy": 0.95}
"""The issue's held-out targets."""


def _cpu(stats: dict[str, Any]) -> str:
    cpu = stats.get("ocr_cpu_seconds")
    return f"{cpu['p50']} / {cpu['p95']} s, {stats.get('ocr_threads')} threads" if cpu else "not recorded"


def markdown(split: str, scored: dict[str, Any], stats: dict[str, Any]) -> str:
    """The report as Markdown: the headline figures against the targets, then by kind and hardness."""
    overall = scored.get("all", scored)
    lines = [f"# Competitor posters and price tags — split `{split}`", "",
             f"{stats['images']} photos, {stats['items_predicted']} items predicted; OCR {stats['ocr_engine']}; "
             f"median OCR {stats['ocr_seconds_median']} s (CPU p50 / p95 {_cpu(stats)}), "
             f"parse + resolve {stats['parse_seconds_median']} s per photo "
             f"(this machine, 2 shared cores; {stats['ocr_lines_from_cache']} photos' OCR lines from the cache, timed "
             "when they were read; eval/reports/posters/bench_posters.md has the end-to-end timing).", "",
             *(["Refused as the service would (no items predicted): "
                + "; ".join(f"`{r['image']}` ({r['reason']})" for r in stats["refused_uploads"]), ""]
               if stats.get("refused_uploads") else []),
             "| metric | value | target |", "|---|---|---|"]  # fmt: skip
    for k in ("item_precision", "item_recall", "item_f1", "price_current_exact", "price_original_exact",
              "price_member_exact", "sku_accuracy", "sku_accuracy_in_catalog", "sku_null_accuracy",
              "effective_price_exact", "effective_price_exact_mechanic_items"):  # fmt: skip
        v = overall.get(k)
        target = f"≥ {MUST[k]:.2f}" if k in MUST else ""
        lines.append(f"| {k} | {v if v is not None else '—'} | {target} |")
    lines.append(f"| review_rate (items sent to a person) | {stats['review_rate']} | |")
    lines += [
        "",
        "By group:",
        "",
        "| group | items | precision | recall | current price | SKU |",
        "|---|---|---|---|---|---|",
    ]
    for group, m in scored.items():
        if group == "all" or not isinstance(m, dict):
            continue
        lines.append(f"| {group} | {m.get('gold_items')} | {m.get('item_precision')} | {m.get('item_recall')} | "
                     f"{m.get('price_current_exact')} | {m.get('sku_accuracy')} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: run one split and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="set_dir", type=Path, required=True, help="the evaluation set's folder")
    parser.add_argument("--split", default="heldout", choices=["dev", "heldout", "all"])
    parser.add_argument("--ocr-cache", type=Path, default=None)
    parser.add_argument(
        "--detection-side", type=int, default=None,
        help="longer side the text detector works at (0: the photo's own size; default: the product's setting)",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=int, default=None,
        help="onnxruntime threads (the lines read do not depend on it; 1 costs the least CPU on a busy machine)",
    )  # fmt: skip
    parser.add_argument(
        "--variant", default=None,
        help="name:field=value,… over RapidOcrEngine (as eval.ab_posters_ocr), applied before the options above",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=REPORTS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.set_dir / "labels.jsonl").exists():
        print(f"no evaluation set at {args.set_dir} (labels.jsonl missing): nothing to do", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    engine = parse_variant(args.variant)[1] if args.variant else RapidOcrEngine()
    if args.detection_side is not None:
        engine = dataclasses.replace(engine, detection_max_side=args.detection_side or None)
    if args.threads is not None:
        engine = dataclasses.replace(engine, threads=args.threads)
    preds, stats = predict(args.set_dir, args.split, ocr_cache=args.ocr_cache, engine=engine)
    scored = score(args.set_dir, preds, args.split)
    report = {"split": args.split, "stats": stats, "score": scored}
    (args.out / f"posters_{args.split}.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (args.out / f"posters_{args.split}.md").write_text(markdown(args.split, scored, stats), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else markdown(args.split, scored, stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
