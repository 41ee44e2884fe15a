"""Where a competitor photo's time goes, stage by stage: wall and process CPU seconds per photo, at 1 and 2 threads.

`eval.bench_posters` times the whole upload (photo → matrix); this splits it. Each photo runs the product's own path
— `decode_photo`, `for_ocr`, the `RapidOcrEngine` read, `read_items`, SKU resolution, then the photo file and graph
write of `ingest.competitor_prices.record_photo` — and the OCR's parts are timed inside rapidocr by wrapping its own
steps (no copy of its code): rapidocr's resize to 2000 px, the detector's resize + normalise, its model run, its box
post-processing, the line crops, the angle classifier (when on), the recogniser's batches (model runs, and the
resize / pad / CTC decode around them), and the word boxes. Process CPU time counts every onnxruntime thread; wall
time includes waiting for a core on a shared machine. Usage::

    python -m eval.profile_posters --set DIR [--photos 12] [--split dev] [--threads 1 --threads 2]
        [--variant "name:field=value,…"] [--json FILE]

A variant changes `RapidOcrEngine` fields as in `eval.ab_posters_ocr` (default: the product's settings). Prints a
Markdown table per thread count: p50 / p95 over the photos of each stage's wall and CPU seconds, and the per-line
and per-batch recognition cost.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eval.ab_posters_ocr import parse_variant
from eval.eval_posters import load_catalog
from eval.stats import percentiles
from graph.embedded import EmbeddedGraphStore
from graph.model import Product
from ingest.competitor_prices import known_names, record_photo
from ingest.posters.items import read_items
from ingest.posters.ocr import OcrLine, RapidOcrEngine, ScriptedOcrEngine
from ingest.posters.photo import decode_photo, for_ocr
from ingest.posters.photo_store import PhotoStore
from resolution.sku_match import SkuMatcher

TENANT = "profile"
STAGES = (
    "decode_exif",
    "resize_for_ocr",
    "rapidocr_resize",
    "det_preprocess",
    "det_model",
    "det_postprocess",
    "crops",
    "angle_classifier",
    "rec_model",
    "rec_pre_post",
    "word_boxes",
    "ocr_other",
    "parse",
    "resolve",
    "store",
)


class _Clock:
    """Wall and process CPU seconds per stage name, for the photo being timed."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.rec_batches: list[tuple[int, float, float]] = []  # (lines in the batch, wall, cpu) of each model run
        self.rec_spans: list[tuple[float, float]] = []  # (start, end) of each recognition model run

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t, c = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - t
            self.cpu[name] += time.process_time() - c


def _timed(clock: _Clock, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        with clock.stage(name):
            return fn(*args, **kwargs)

    return call


class _TimedSession:
    """An onnxruntime session holder of rapidocr whose calls are timed under ``name``."""

    def __init__(self, inner: Any, clock: _Clock, name: str, batches: bool = False, parallel: bool = False) -> None:
        self._inner, self._clock, self._name, self._batches = inner, clock, name, batches
        self._parallel = parallel
        self._lock = threading.Lock()

    def __call__(self, x: Any) -> Any:
        # Batches read by several recognition workers overlap in time: the process's CPU clock would count the other
        # worker's work too. Each worker's session has one thread, which runs the model in the calling thread, so
        # that thread's own CPU clock is the model's CPU; the stage's wall time is the union of the runs' spans.
        cpu_clock = time.thread_time if self._parallel else time.process_time
        t, c = time.perf_counter(), cpu_clock()
        out = self._inner(x)
        end, cpu = time.perf_counter(), cpu_clock() - c
        wall = end - t
        with self._lock:
            if not self._parallel:
                self._clock.wall[self._name] += wall
            self._clock.cpu[self._name] += cpu
            if self._batches:
                self._clock.rec_batches.append((int(x.shape[0]), wall, cpu))
                self._clock.rec_spans.append((t, end))
        return out

    def __getattr__(self, item: str) -> Any:
        return getattr(self._inner, item)


def instrument(engine: RapidOcrEngine, clock: _Clock) -> None:
    """Wrap the steps of the engine's rapidocr pipeline so that each is timed on ``clock``."""
    rapid = engine._load()  # noqa: SLF001 - the profiler looks inside the adapter on purpose
    det, rec, cls = rapid.text_det, rapid.text_rec, rapid.text_cls
    rapid.preprocess = _timed(clock, "rapidocr_resize", rapid.preprocess)
    get_preprocess = det.get_preprocess

    def timed_preprocess(max_wh: int) -> Any:
        op = get_preprocess(max_wh)
        return _timed(clock, "det_preprocess", op)

    det.get_preprocess = timed_preprocess
    det.infer = _TimedSession(det.infer, clock, "det_model")
    det.postprocess_op = _timed(clock, "det_postprocess", det.postprocess_op)
    rapid.get_crop_img_list = _timed(clock, "crops", rapid.get_crop_img_list)
    rapid.text_cls = _timed(clock, "angle_classifier", cls)
    inner = getattr(rec, "_recognizer", rec)  # with several recognition workers: their batches overlap in time
    inner.session = _TimedSession(inner.session, clock, "rec_model", batches=True, parallel=inner is not rec)
    rapid.text_rec = _timed(clock, "rec_all", rec)
    rapid.cal_rec_boxes = _timed(clock, "word_boxes", rapid.cal_rec_boxes)


def run(set_dir: Path, photos: int, split: str, threads: int, engine: RapidOcrEngine) -> dict[str, Any]:
    """Profile ``photos`` photos of the split with the engine at ``threads`` threads."""
    labels = [json.loads(x) for x in (set_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    images = [lab["image"] for lab in labels if split == "all" or lab["split"] == split][:photos]
    catalog = load_catalog(set_dir / "catalog.csv")
    matcher = SkuMatcher(catalog)
    names = known_names(catalog)
    engine = dataclasses.replace(engine, threads=threads)
    engine.warm_up()
    clock = _Clock()
    instrument(engine, clock)
    per_stage_wall: dict[str, list[float]] = defaultdict(list)
    per_stage_cpu: dict[str, list[float]] = defaultdict(list)
    total_wall: list[float] = []
    total_cpu: list[float] = []
    lines_per_photo: list[int] = []
    batches: list[tuple[int, float, float]] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="profile-posters-") as tmp:
        store = EmbeddedGraphStore(Path(tmp) / "graph", buffer_pool_mb=1024)
        store.upsert_nodes(
            TENANT,
            [Product(tenant=TENANT, sku=e.sku, name=e.name, generic_name=e.generic, brand=e.brand, spec=e.spec,
                     list_price=20.0) for e in catalog],
        )  # fmt: skip
        photo_store = PhotoStore(Path(tmp) / "photos")
        for image in images:
            data = (set_dir / image).read_bytes()
            clock.wall.clear()
            clock.cpu.clear()
            clock.rec_batches.clear()
            clock.rec_spans.clear()
            with clock.stage("decode_exif"):
                photo = decode_photo(data)
            with clock.stage("resize_for_ocr"):
                pixels, scale = for_ocr(photo)
            with clock.stage("ocr"):
                lines = [ln.scaled(1 / scale) if scale != 1.0 else ln for ln in engine.read(pixels)]
            with clock.stage("parse"):
                reading = read_items(lines, today=dt.date(2026, 12, 1), known_names=names)
            with clock.stage("resolve"):
                for it in reading.items:
                    matcher.resolve(it.text, ocr_confidence=it.confidence)
            # the photo file and graph write: the upload path again with the lines just read (its decode, parse and
            # resolution timed above are taken off, so what remains is storing)
            scripted = ScriptedOcrEngine(by_shape={(pixels.shape[0], pixels.shape[1]): _unscaled(lines, scale)})
            t, c = time.perf_counter(), time.process_time()
            record_photo(store, photo_store, TENANT, data, engine=scripted, uploaded_by="profile",
                         taken_on=dt.date(2026, 12, 1), matcher_=matcher)  # fmt: skip
            known = sum(clock.wall[s] for s in ("decode_exif", "resize_for_ocr", "parse", "resolve"))
            known_cpu = sum(clock.cpu[s] for s in ("decode_exif", "resize_for_ocr", "parse", "resolve"))
            clock.wall["store"] = max(0.0, time.perf_counter() - t - known)
            clock.cpu["store"] = max(0.0, time.process_time() - c - known_cpu)
            top = ("decode_exif", "resize_for_ocr", "ocr", "parse", "resolve", "store")
            total_wall.append(sum(clock.wall[s] for s in top))
            total_cpu.append(sum(clock.cpu[s] for s in top))
            inner = ("rapidocr_resize", "det_preprocess", "det_model", "det_postprocess", "crops",
                     "angle_classifier", "rec_all", "word_boxes")  # fmt: skip
            if engine.recognition_workers > 1:
                clock.wall["rec_model"] = _union(clock.rec_spans)
            clock.wall["rec_pre_post"] = clock.wall["rec_all"] - clock.wall["rec_model"]
            clock.cpu["rec_pre_post"] = clock.cpu["rec_all"] - clock.cpu["rec_model"]
            clock.wall["ocr_other"] = clock.wall["ocr"] - sum(clock.wall[s] for s in inner)
            clock.cpu["ocr_other"] = clock.cpu["ocr"] - sum(clock.cpu[s] for s in inner)
            for s in (*STAGES, "ocr"):
                per_stage_wall[s].append(clock.wall[s])
                per_stage_cpu[s].append(clock.cpu[s])
            lines_per_photo.append(len(lines))
            batches.extend(clock.rec_batches)
            loads.append(os.getloadavg()[0])
        store.close()
    n_lines = sum(b[0] for b in batches)
    return {
        "photos": len(images),
        "threads": threads,
        "engine": engine.name,
        "stages": {
            s: {"wall": percentiles(per_stage_wall[s], (50, 95)), "cpu": percentiles(per_stage_cpu[s], (50, 95))}
            for s in (*STAGES, "ocr")
        },
        "total": {"wall": percentiles(total_wall, (50, 95)), "cpu": percentiles(total_cpu, (50, 95))},
        "lines_per_photo": percentiles(lines_per_photo, (50, 95), 0),
        "recognition": {
            "batches": len(batches),
            "lines": n_lines,
            "model_cpu_per_line_ms": round(1000 * sum(b[2] for b in batches) / n_lines, 1) if n_lines else None,
            "model_wall_per_line_ms": round(1000 * sum(b[1] for b in batches) / n_lines, 1) if n_lines else None,
            "model_cpu_per_batch_ms": percentiles([1000 * b[2] for b in batches], (50, 95), 1) if batches else None,
            "model_wall_per_batch_ms": percentiles([1000 * b[1] for b in batches], (50, 95), 1) if batches else None,
        },
        "load_avg_1m": percentiles(loads, (50, 95)) if loads else None,
        "cpu_count": os.cpu_count(),
    }


def _union(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one of the (start, end) spans."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def _unscaled(lines: list[OcrLine], scale: float) -> list[OcrLine]:
    return [ln.scaled(scale) for ln in lines] if scale != 1.0 else lines


def markdown(results: list[dict[str, Any]]) -> str:
    """The profiles side by side: one wall and one CPU column pair per thread count."""
    head = "| stage | " + " | ".join(
        f"wall p50 / p95 ({r['threads']} thr) | CPU p50 / p95 ({r['threads']} thr)" for r in results
    )
    sep = "|---|" + "---|---|" * len(results)
    rows = []
    for s in (*STAGES, "ocr"):
        cells = " | ".join(
            f"{r['stages'][s]['wall']['p50']} / {r['stages'][s]['wall']['p95']} | "
            f"{r['stages'][s]['cpu']['p50']} / {r['stages'][s]['cpu']['p95']}"
            for r in results
        )
        rows.append(f"| {s if s != 'ocr' else '**OCR in all**'} | {cells} |")
    cells = " | ".join(
        f"**{r['total']['wall']['p50']} / {r['total']['wall']['p95']}** | "
        f"**{r['total']['cpu']['p50']} / {r['total']['cpu']['p95']}**"
        for r in results
    )
    rows.append(f"| **photo in all** | {cells} |")
    notes = "".join(
        f"- {r['threads']} thread(s): {r['engine']}; {r['photos']} photos, lines per photo p50 / p95 "
        f"{r['lines_per_photo']['p50']} / {r['lines_per_photo']['p95']}; recognition {r['recognition']['lines']} "
        f"lines in {r['recognition']['batches']} model runs, model CPU {r['recognition']['model_cpu_per_line_ms']} ms "
        f"per line (wall {r['recognition']['model_wall_per_line_ms']}), per run p50 / p95 "
        f"{_pq(r['recognition']['model_cpu_per_batch_ms'])} ms CPU; load average p50 / p95 "
        f"{_pq(r['load_avg_1m'])} ({r['cpu_count']} cores)\n"
        for r in results
    )
    return f"{head} |\n{sep}\n" + "\n".join(rows) + "\n\n" + notes


def _pq(p: dict[str, float] | None) -> str:
    return f"{p['p50']} / {p['p95']}" if p else "—"


def main(argv: list[str] | None = None) -> int:
    """Command line: profile at each thread count and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="set_dir", type=Path, required=True)
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--split", default="dev", choices=["dev", "all"])
    parser.add_argument("--threads", type=int, action="append", default=None)
    parser.add_argument("--variant", default="product:", help="name:field=value,… (as eval.ab_posters_ocr)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not (args.set_dir / "labels.jsonl").exists():
        print(f"no evaluation set at {args.set_dir}: nothing to do", file=sys.stderr)
        return 2
    _, engine = parse_variant(args.variant)
    results = [run(args.set_dir, args.photos, args.split, t, engine) for t in (args.threads or [1, 2])]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
