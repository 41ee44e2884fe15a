"""The RapidOCR adapter: a smaller detection size is applied to the detector only, and lines are still read; the
onnxruntime sessions get our options (threads, no spinning) and the recogniser its batch size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.posters.ocr import RapidOcrEngine

pytest.importorskip("rapidocr_onnxruntime")
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@pytest.mark.slow
@pytest.mark.skipif(not FONT.exists(), reason="needs the Noto CJK font to draw a poster line")
def test_the_detector_works_at_its_own_size_and_the_line_is_still_read() -> None:
    image = Image.new("RGB", (1600, 500), "white")
    draw = ImageDraw.Draw(image)
    draw.text((80, 180), "云南白药气雾剂 ¥45.8", font=ImageFont.truetype(str(FONT), 72), fill="black")
    engine = RapidOcrEngine(detection_max_side=640, recognition_batch=1)
    assert engine.name.endswith("det640 batch1")
    lines = engine.read(np.asarray(image, dtype=np.uint8))
    text = "".join(ln.text for ln in lines)
    assert "45.8" in text and "气雾剂" in text
    x0, y0, x1, y1 = min(lines, key=lambda ln: ln.box[0]).box
    assert x0 < 200 and 100 < y0 < 300  # corners in the photo's pixels, not the detector's smaller ones
    preprocess = engine._engine.text_det.get_preprocess(1600)
    assert (preprocess.limit_side_len, preprocess.limit_type) == (640, "max")
    assert "det" not in RapidOcrEngine(detection_max_side=None).name  # the photo's own size


@pytest.mark.slow
def test_sessions_are_reopened_with_our_threads_and_without_spinning() -> None:
    engine = RapidOcrEngine(threads=1, recognition_batch=3)
    rapid = engine._load()
    sessions = [rapid.text_det.infer.session, rapid.text_cls.infer.session, rapid.text_rec.session.session]
    for session in sessions:
        options = session.get_session_options()
        assert options.intra_op_num_threads == 1
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert rapid.text_rec.rec_batch_num == 3
    spinning = RapidOcrEngine(spin=True)._load().text_rec.session.session.get_session_options()
    assert spinning.get_session_config_entry("session.intra_op.allow_spinning") == "1"


CJK_FONTS = [FONT, Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")]


def _poster() -> np.ndarray:
    font_path = next((f for f in CJK_FONTS if f.exists()), None)
    if font_path is None:
        pytest.skip("needs a CJK font (Noto CJK or WenQuanYi) to draw poster lines")
    image = Image.new("RGB", (1200, 1400), "white")
    draw = ImageDraw.Draw(image)
    texts = ["云南白药气雾剂", "¥45.8", "原价¥59.00", "第二件半价", "阿莫西林胶囊 0.25g×24粒", "会员价 39.9",
             "两盒39.8", "999感冒灵颗粒", "¥12.5", "满100减20"]  # fmt: skip
    for i, text in enumerate(texts):
        draw.text((60 + (i % 2) * 560, 60 + (i // 2) * 260), text, font=ImageFont.truetype(str(font_path), 56),
                  fill="black")  # fmt: skip
    return np.asarray(image, dtype=np.uint8)


@pytest.mark.slow
def test_batches_read_by_two_workers_give_the_same_lines_as_one() -> None:
    pixels = _poster()
    one = RapidOcrEngine(recognition_batch=2, recognition_workers=1).read(pixels)
    two = RapidOcrEngine(recognition_batch=2, recognition_workers=2).read(pixels)
    assert [(ln.text, ln.quad, ln.chars) for ln in two] == [(ln.text, ln.quad, ln.chars) for ln in one]
    assert any("45.8" in ln.text for ln in one)
    assert [ln.confidence for ln in two] == pytest.approx([ln.confidence for ln in one], abs=1e-6)


@pytest.mark.slow
def test_detector_input_is_normalised_exactly_as_rapidocr_does() -> None:
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess  # noqa: PLC0415 - optional dependency

    pixels = _poster()
    rapid = RapidOcrEngine()._load()
    ours = rapid.text_det.get_preprocess(max(pixels.shape[:2]))(pixels)
    theirs = DetPreProcess(736, "min", [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])(pixels)
    assert ours.dtype == theirs.dtype == np.float32
    assert np.array_equal(ours, theirs)


@pytest.mark.slow
def test_a_smaller_recognition_width_is_applied_and_named() -> None:
    engine = RapidOcrEngine(recognition_min_width=96)
    assert engine._load().text_rec.rec_image_shape == [3, 48, 96]
    assert engine.name.endswith("recw96")
    assert "45.8" in "".join(ln.text for ln in engine.read(_poster()))


@pytest.mark.slow
def test_the_memory_arena_is_on_and_reads_the_same_lines_as_without() -> None:
    pixels = _poster()
    with_arena = RapidOcrEngine()
    rapid = with_arena._load()
    for session in (rapid.text_det.infer.session, rapid.text_rec.session.session):
        assert session.get_session_options().enable_cpu_mem_arena
    without = RapidOcrEngine(memory_arena=False)
    assert not without._load().text_det.infer.session.get_session_options().enable_cpu_mem_arena
    first, again = with_arena.read(pixels), with_arena.read(pixels)  # the second run reuses the arena's buffers
    reference = without.read(pixels)
    for lines in (first, again):
        assert [(ln.text, ln.quad, ln.chars) for ln in lines] == [(ln.text, ln.quad, ln.chars) for ln in reference]
    assert any("45.8" in ln.text for ln in reference)
