"""Benchmark: a competitor photo to an updated price matrix, end to end, on this machine.

For each photo: the upload path of the service (`ingest.competitor_prices.record_photo`: decode, OCR, layout,
parsing, SKU resolution, photo file and graph write in one transaction) and then the matrix as the API builds it
(observations of the tenant, our prices, cells). The OCR engine is loaded and warmed once first, as the service
does on its first photo. Wall-clock and process CPU seconds per photo, with percentiles, the share spent in OCR and
the load average (the 2 cores of this machine are shared: wall time includes waiting for them). Per stage, wall and
CPU seconds: OCR (the engine's read, timed around it), layout + parsing (the reader's own timing), and the rest of
the upload — decode, SKU resolution, photo file and graph write — then the matrix. Process CPU time does not grow
with other work on the machine the way wall time does, so it is the figure to compare between runs. Usage::

    python -m eval.bench_posters --set DIR [--photos 24] [--split dev] [--detection-side PX]
        [--variant "before:…" --variant "after:…"]

Writes ``eval/reports/posters/bench_posters.{json,md}``. The target is p95 ≤ 3 s per photo on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.ab_posters_ocr import parse_variant
from eval.eval_posters import load_catalog
from eval.stats import percentiles
from graph.embedded import EmbeddedGraphStore
from graph.model import CompetitorObservation, Product
from ingest.competitor_prices import record_photo
from ingest.posters.errors import NotAnImageError, PhotoTooLargeError
from ingest.posters.ocr import OcrLine, RapidOcrEngine
from ingest.posters.photo import decode_photo
from ingest.posters.photo_store import PhotoStore
from pricing_guard.competitor_matrix import OurPrice, competitor_matrix
from resolution.sku_match import SkuMatcher

TENANT = "bench"
REPORTS = Path(__file__).resolve().parent / "reports" / "posters"


class _TimedEngine:
    """The OCR engine with the wall and CPU seconds of its last read kept (a stage of the benchmark)."""

    def __init__(self, engine: RapidOcrEngine) -> None:
        self.engine = engine
        self.wall = self.cpu = 0.0

    @property
    def name(self) -> str:
        return self.engine.name

    def read(self, pixels: Any) -> list[OcrLine]:
        t, c = time.perf_counter(), time.process_time()
        lines = self.engine.read(pixels)
        self.wall, self.cpu = time.perf_counter() - t, time.process_time() - c
        return lines


class _Run:
    """One engine setting's store, timings and engine, uploaded to in turn with the others (same photos, same load)."""

    def __init__(self, name: str, engine: RapidOcrEngine, root: Path, products: list[Product]) -> None:
        self.name = name
        self.base = engine
        engine.warm_up()
        self.engine = _TimedEngine(engine)
        self.store = EmbeddedGraphStore(root / "graph", buffer_pool_mb=1024)  # the service default
        self.store.upsert_nodes(TENANT, products)
        self.photo_store = PhotoStore(root / "photos")
        self.t: dict[str, list[float]] = {
            k: [] for k in ("wall", "cpu", "ocr", "ocr_cpu", "parse", "rest_wall", "rest_cpu", "matrix_wall",
                            "matrix_cpu", "lines")
        }  # fmt: skip


def run(
    set_dir: Path, photos: int, split: str, detection_side: int | None = None, variants: list[str] | None = None
) -> dict[str, Any]:
    """Upload ``photos`` photos of the split one after another and time photo → matrix for each.

    With several ``variants`` (``name:field=value,…`` over `RapidOcrEngine`, as `eval.ab_posters_ocr`), each photo
    is uploaded with every variant in turn, each into its own store, so that all of them see the same load; the
    first variant's figures are the report's headline and every variant's are under ``variants``.
    """
    labels = [json.loads(x) for x in (set_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    images = [lab["image"] for lab in labels if split == "all" or lab["split"] == split][:photos]
    catalog = load_catalog(set_dir / "catalog.csv")
    if variants:
        engines = [parse_variant(v) for v in variants]
    else:
        base = RapidOcrEngine() if detection_side is None else RapidOcrEngine(detection_max_side=detection_side or None)
        engines = [("product", base)]
    loads: list[float] = []
    refused: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-posters-") as tmp:
        products = [
            Product(tenant=TENANT, sku=e.sku, name=e.name, generic_name=e.generic, brand=e.brand, spec=e.spec,
                    list_price=20.0)
            for e in catalog
        ]  # fmt: skip
        runs = [_Run(name, engine, Path(tmp) / str(i), products) for i, (name, engine) in enumerate(engines)]
        matcher = SkuMatcher(catalog)
        names = {p.sku: p.name for p in products}
        load_before = os.getloadavg()[0]
        for image in images:
            data = (set_dir / image).read_bytes()
            try:
                decode_photo(data)
            except (NotAnImageError, PhotoTooLargeError) as e:  # the service refuses it before any work (413 / 415)
                refused.append({"image": image, "reason": e.message})
                continue
            for r in runs:
                engine, t = r.engine, r.t
                t0, c0 = time.perf_counter(), time.process_time()
                recorded = record_photo(r.store, r.photo_store, TENANT, data, engine=engine, uploaded_by="bench",
                                        taken_on=dt.date(2026, 12, 1), matcher_=matcher)  # fmt: skip
                t1, c1 = time.perf_counter(), time.process_time()
                obs: list[CompetitorObservation] = r.store.competitor_observations(TENANT, limit=100_000)
                competitor_matrix(
                    obs, product_names=names, our_price=lambda _s: OurPrice(20.0, "list"), today=dt.date(2026, 12, 1)
                )
                t["wall"].append(time.perf_counter() - t0)
                t["cpu"].append(time.process_time() - c0)
                t["matrix_wall"].append(time.perf_counter() - t1)
                t["matrix_cpu"].append(time.process_time() - c1)
                t["ocr"].append(engine.wall)
                t["ocr_cpu"].append(engine.cpu)
                seconds_parse = recorded.reading.seconds_parse if recorded.reading else 0.0
                t["parse"].append(seconds_parse)
                t["rest_wall"].append(t1 - t0 - engine.wall - seconds_parse)
                t["rest_cpu"].append(c1 - c0 - engine.cpu - seconds_parse)  # parsing is pure Python: wall ≈ CPU
                t["lines"].append(len(recorded.reading.reading.lines) if recorded.reading else 0)
            loads.append(os.getloadavg()[0])
        for r in runs:
            r.store.close()
    results = {r.name: _summary(r) for r in runs}
    first = results[runs[0].name]
    return {
        **first,
        "photos": len(images) - len(refused),
        "refused_uploads": refused,
        "split": split,
        "load_avg_1m_during": percentiles(loads, (50, 95)) if loads else None,
        "load_avg_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "cpu_count": os.cpu_count(),
        "target_p95_s": 3.0,
        "variants": results if len(runs) > 1 else None,
    }


def _summary(r: _Run) -> dict[str, Any]:
    t = r.t
    return {
        "ocr_engine": r.engine.name,
        "threads": r.base.threads,
        "recognition_workers": r.base.recognition_workers,
        "wall_s": percentiles(t["wall"], (50, 95, 99)),
        "cpu_s": percentiles(t["cpu"], (50, 95, 99)),
        "ocr_wall_s": percentiles(t["ocr"], (50, 95)),
        "lines": int(sum(t["lines"])),
        "stages": {
            "ocr": {"wall": percentiles(t["ocr"], (50, 95)), "cpu": percentiles(t["ocr_cpu"], (50, 95))},
            "layout_parse": {"wall": percentiles(t["parse"], (50, 95))},
            "decode_resolve_file_graph": {
                "wall": percentiles(t["rest_wall"], (50, 95)),
                "cpu": percentiles(t["rest_cpu"], (50, 95)),
            },
            "matrix": {"wall": percentiles(t["matrix_wall"], (50, 95)), "cpu": percentiles(t["matrix_cpu"], (50, 95))},
        },  # fmt: skip
        "ocr_share_of_wall": round(sum(t["ocr"]) / sum(t["wall"]), 3) if t["wall"] else None,
    }


def markdown(r: dict[str, Any]) -> str:
    """The benchmark as Markdown."""
    return (
        "# Competitor photo → matrix benchmark\n\n"
        f"{r['photos']} photos of the `{r['split']}` split uploaded one after another (OCR {r['ocr_engine']}, "
        f"{r['threads']} threads, {r['cpu_count']} cores shared with other work; load average "
        f"{r['load_avg_1m']['before']} before, {r['load_avg_1m']['after']} after).\n\n"
        "| | p50 | p95 | p99 |\n|---|---|---|---|\n"
        f"| wall-clock s (photo → matrix) | {r['wall_s']['p50']} | {r['wall_s']['p95']} | {r['wall_s']['p99']} |\n"
        f"| process CPU s | {r['cpu_s']['p50']} | {r['cpu_s']['p95']} | {r['cpu_s']['p99']} |\n"
        f"| OCR wall-clock s | {r['ocr_wall_s']['p50']} | {r['ocr_wall_s']['p95']} | |\n\n"
        f"OCR is {r['ocr_share_of_wall']:.0%} of the wall-clock time. Target: p95 ≤ {r['target_p95_s']} s.\n\n"
        + "".join(
            f"Refused before any work, not timed: `{x['image']}` ({x['reason']}).\n\n"
            for x in r.get("refused_uploads") or []
        )
        + "Per stage (p50 / p95 seconds; load average during the run "
        f"p50 {r['load_avg_1m_during']['p50']}, p95 {r['load_avg_1m_during']['p95']}):\n\n"
        "| stage | wall p50 | wall p95 | CPU p50 | CPU p95 |\n|---|---|---|---|---|\n"
        + "".join(
            f"| {name} | {st['wall']['p50']} | {st['wall']['p95']} | "
            f"{st.get('cpu', st['wall'])['p50']} | {st.get('cpu', st['wall'])['p95']} |\n"
            for name, st in r["stages"].items()
        )
        + _variants_markdown(r)
    )


def _variants_markdown(r: dict[str, Any]) -> str:
    if not r.get("variants"):
        return ""
    rows = "".join(
        f"| {name} | {v['ocr_engine']}, {v['threads']} threads, {v['recognition_workers']} recognition worker(s) | "
        f"{v['wall_s']['p50']} / {v['wall_s']['p95']} | {v['cpu_s']['p50']} / {v['cpu_s']['p95']} | "
        f"{v['stages']['ocr']['cpu']['p50']} / {v['stages']['ocr']['cpu']['p95']} | {v['lines']} |\n"
        for name, v in r["variants"].items()
    )
    return (
        "\nEvery variant in the same run, photo by photo (the first one is the headline above):\n\n"
        "| variant | engine | wall p50 / p95 s | CPU p50 / p95 s | OCR CPU p50 / p95 s | lines |\n"
        "|---|---|---|---|---|---|\n" + rows
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: run the benchmark and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="set_dir", type=Path, required=True)
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--split", default="dev", choices=["dev", "heldout", "all"])
    parser.add_argument("--out", type=Path, default=REPORTS)
    parser.add_argument("--detection-side", type=int, default=None, help="0: detect at the photo's own size")
    parser.add_argument(
        "--variant", action="append", default=None,
        help="name:field=value,… over RapidOcrEngine (repeatable; each photo is uploaded with every one in turn)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not (args.set_dir / "labels.jsonl").exists():
        print(f"no evaluation set at {args.set_dir}: nothing to do", file=sys.stderr)
        return 2
    report = run(args.set_dir, args.photos, args.split, args.detection_side, args.variant)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_posters.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (args.out / "bench_posters.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
