"""The poster evaluation runs on the blind set when it is there (SKG_EVAL_POSTERS=<folder>), and says so when not;
the OCR A/B takes its variants as the engine's own fields."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from eval.ab_posters_ocr import parse_variant
from eval.eval_posters import load_catalog, main
from ingest.posters.ocr import RapidOcrEngine

SET = os.environ.get("SKG_EVAL_POSTERS")
NO_SET = "set SKG_EVAL_POSTERS to the poster evaluation set's folder (labels.jsonl, images/, catalog.csv, score.py)"


def test_without_the_set_it_says_so_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--set", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "no evaluation set" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.skipif(not SET, reason=NO_SET)
def test_three_photos_through_the_whole_path(tmp_path: Path) -> None:
    """Three dev photos, real OCR: the report has every figure and finds most items (a smoke test, not the figure)."""
    assert SET is not None
    src = Path(SET)
    small = tmp_path / "set"
    (small / "images").mkdir(parents=True)
    labels = [json.loads(x) for x in (src / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    chosen = [lab for lab in labels if lab["split"] == "dev"][:3]
    for lab in chosen:
        shutil.copy(src / lab["image"], small / lab["image"])
    (small / "labels.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in chosen), "utf-8")
    for name in ("catalog.csv", "score.py"):
        shutil.copy(src / name, small / name)
    assert len(load_catalog(small / "catalog.csv")) > 50
    assert main(["--set", str(small), "--split", "dev", "--out", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "posters_dev.json").read_text(encoding="utf-8"))
    overall = report["score"]["all"]
    # The scorer leaves out items its labels mark occluded (posters2 onwards), so they are not counted here either.
    assert overall["gold_items"] == sum(not it.get("occluded", False) for lab in chosen for it in lab["items"])
    assert overall["item_recall"] >= 0.6 and overall["item_precision"] >= 0.6
    assert report["stats"]["images"] == 3
    assert report["stats"]["ocr_cpu_seconds"]["p95"] > 0  # CPU per photo recorded next to the quality


def test_an_ab_variant_names_engine_fields_and_nothing_else() -> None:
    name, engine = parse_variant("before:detection_max_side=0,recognition_batch=6,spin=1,threads=1")
    assert name == "before"
    assert (engine.detection_max_side, engine.recognition_batch, engine.spin, engine.threads) == (None, 6, True, 1)
    _, default = parse_variant("after:")
    assert default == RapidOcrEngine()
    with pytest.raises(SystemExit, match="unknown engine field 'batch'"):
        parse_variant("x:batch=2")
