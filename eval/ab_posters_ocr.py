"""A/B of OCR engine settings on the same photos in the same run: CPU seconds per photo and the lines read.

The machine this project is developed on is shared (2 cores, load 10–20), so wall time of two runs made minutes
apart says little; this reads each photo with every variant in turn, photo by photo, so that every variant sees the
same load, and reports process CPU seconds (all of onnxruntime's threads) per photo with percentiles, the wall
seconds for reference, and how many lines each variant reads differently from the first one. Quality on the whole
split is `eval.eval_posters`'s job (the lines read decide it; CPU does not). Usage::

    python -m eval.ab_posters_ocr --set DIR [--photos 12] [--split dev]
        --variant "before:detection_max_side=0,recognition_batch=6,spin=1" --variant "after:"

A variant is ``name:field=value,…`` over `RapidOcrEngine`'s fields (an empty list: the product's defaults;
``detection_max_side=0``: the photo's own size). Prints a Markdown table; ``--json FILE`` keeps the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from eval.stats import percentiles
from ingest.posters.ocr import RapidOcrEngine
from ingest.posters.photo import decode_photo, for_ocr


def parse_variant(text: str) -> tuple[str, RapidOcrEngine]:
    """``name:field=value,…`` → (name, engine with those fields changed from the product's defaults)."""
    name, _, spec = text.partition(":")
    fields = {f.name: f for f in dataclasses.fields(RapidOcrEngine) if f.init}
    changes: dict[str, Any] = {}
    for item in (x for x in spec.split(",") if x.strip()):
        key, _, value = item.partition("=")
        key = key.strip()
        if key not in fields:
            raise SystemExit(f"unknown engine field {key!r} in variant {text!r} (known: {', '.join(sorted(fields))})")
        default = getattr(RapidOcrEngine(), key)
        if key == "detection_max_side":
            changes[key] = int(value) or None
        elif isinstance(default, bool):
            changes[key] = value.strip() in ("1", "true", "yes")
        elif isinstance(default, int):
            changes[key] = int(value)
        elif isinstance(default, str):
            changes[key] = value.strip()
        else:
            changes[key] = float(value)
    return name.strip() or f"v{len(text)}", dataclasses.replace(RapidOcrEngine(), **changes)


def run(set_dir: Path, variants: list[tuple[str, RapidOcrEngine]], photos: int, split: str) -> dict[str, Any]:
    """Read ``photos`` photos of the split (spread over it) with every variant, photo by photo."""
    labels = [json.loads(x) for x in (set_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    images = [lab["image"] for lab in labels if split == "all" or lab["split"] == split]
    step = max(1, len(images) // photos)
    images = images[::step][:photos]
    for _, engine in variants:
        engine.warm_up()
    cpu: dict[str, list[float]] = {name: [] for name, _ in variants}
    wall: dict[str, list[float]] = {name: [] for name, _ in variants}
    lines: dict[str, int] = {name: 0 for name, _ in variants}
    differ: dict[str, int] = {name: 0 for name, _ in variants}
    loads: list[float] = []
    for image in images:
        pixels, _ = for_ocr(decode_photo((set_dir / image).read_bytes()))
        first: list[str] | None = None
        for name, engine in variants:
            t, c = time.perf_counter(), time.process_time()
            texts = [ln.text for ln in engine.read(pixels)]
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - t)
            lines[name] += len(texts)
            if first is None:
                first = texts
            differ[name] += len(set(texts) ^ set(first))
        loads.append(os.getloadavg()[0])
        progress = ", ".join(f"{name} {cpu[name][-1]:.2f}" for name, _ in variants)
        print(f"{image}: CPU s {progress}; load {loads[-1]:.1f}", file=sys.stderr, flush=True)
    return {
        "photos": len(images),
        "split": split,
        "variants": {
            name: {
                "engine": engine.name,
                "threads": engine.threads,
                "cpu_s": percentiles(cpu[name], (50, 95)),
                "cpu_s_total": round(sum(cpu[name]), 2),
                "wall_s": percentiles(wall[name], (50, 95)),
                "lines": lines[name],
                "lines_differing_from_first": differ[name],
            }
            for name, engine in variants
        },
        "load_avg_1m": percentiles(loads, (50, 95)) if loads else None,
        "cpu_count": os.cpu_count(),
    }


def markdown(r: dict[str, Any]) -> str:
    """The A/B as a Markdown table."""
    rows = "".join(
        f"| {name} | {v['engine']}, {v['threads']} threads | {v['cpu_s']['p50']} | {v['cpu_s']['p95']} | "
        f"{v['cpu_s_total']} | {v['wall_s']['p50']} | {v['lines']} | {v['lines_differing_from_first']} |\n"
        for name, v in r["variants"].items()
    )
    load = r["load_avg_1m"] or {"p50": "?", "p95": "?"}
    return (
        f"{r['photos']} photos of `{r['split']}`, each read by every variant in turn "
        f"(load average p50 {load['p50']}, p95 {load['p95']}; {r['cpu_count']} cores):\n\n"
        "| variant | engine | CPU p50 s | CPU p95 s | CPU total s | wall p50 s | lines | lines ≠ first |\n"
        "|---|---|---|---|---|---|---|---|\n" + rows
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: run the A/B and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="set_dir", type=Path, required=True)
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--split", default="dev", choices=["dev", "heldout", "all"])
    parser.add_argument("--variant", action="append", required=True, help="name:field=value,… (repeatable)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not (args.set_dir / "labels.jsonl").exists():
        print(f"no evaluation set at {args.set_dir}: nothing to do", file=sys.stderr)
        return 2
    report = run(args.set_dir, [parse_variant(v) for v in args.variant], args.photos, args.split)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
