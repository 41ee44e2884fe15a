"""Text lines read from a photo: the ``OcrEngine`` port, the RapidOCR adapter, and a scripted fake for tests.

RapidOCR (``rapidocr-onnxruntime``) runs PaddleOCR's PP-OCRv4 Chinese detection and recognition models on
onnxruntime; its wheel ships the models, so nothing is downloaded at run time. It is imported inside the adapter
(an optional heavy dependency), so the rest of the package, and every test with the fake, works without it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ingest.posters.errors import OcrUnavailableError

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class OcrLine:
    """One line of text the OCR found: its text, its 4 corners (tl, tr, br, bl, pixels) and the model's confidence."""

    text: str
    quad: tuple[Point, Point, Point, Point]
    confidence: float
    chars: tuple[Quad, ...] | None = None
    """One quad per character of ``text`` when the engine gives them (table cells read as one line are split by
    where each character is, not by an estimate); None otherwise."""

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Axis-aligned box ``(x0, y0, x1, y1)`` around the quad."""
        xs = [p[0] for p in self.quad]
        ys = [p[1] for p in self.quad]
        return min(xs), min(ys), max(xs), max(ys)

    def scaled(self, factor: float) -> OcrLine:
        """The same line with its corners multiplied by ``factor`` (back to the original photo's pixels)."""
        chars = tuple(_scale(q, factor) for q in self.chars) if self.chars is not None else None
        return OcrLine(self.text, _scale(self.quad, factor), self.confidence, chars)


def _scale(q: Quad, factor: float) -> Quad:
    a, b, c, d = ((x * factor, y * factor) for x, y in q)
    return (a, b, c, d)


def _quad(points: Any) -> Quad | None:
    pts = [(float(x), float(y)) for x, y in points]
    return (pts[0], pts[1], pts[2], pts[3]) if len(pts) == 4 else None


class OcrEngine(Protocol):
    """Reads text lines from an RGB image (height × width × 3)."""

    @property
    def name(self) -> str:
        """Engine and model names with the settings that change its output (recorded with each result)."""
        ...

    def read(self, pixels: NDArray[np.uint8]) -> list[OcrLine]:
        """The text lines of the image, in reading order as the engine gives them."""
        ...


@dataclass
class RapidOcrEngine:
    """`OcrEngine` on RapidOCR with PP-OCRv4 (Chinese + digits + Latin), CPU only.

    Detection (which finds the text lines) and recognition (which reads each line) may see different sizes: with
    ``detection_max_side`` set, the detector runs on the photo scaled so its longer side is at most that, and the
    recogniser still reads each line cut from the photo at its own resolution (at most
    `ingest.posters.photo.OCR_MAX_SIDE`). Detecting at 1280 px and reading one line per model run cut the OCR's CPU
    by about 64 % and met every target on the development half, but on the held-out half current price exact fell
    from 0.960 to 0.920 (target 0.95), so neither is the default: the detector works at the photo's own size and
    the recogniser reads rapidocr's 6 lines per run, as before. rapidocr 1.4 picks the detector's size by itself
    (the full photo, or 960/1500/2000 px in its "max" mode), so the adapter sets it when asked. The angle classifier
    is off by default: a phone photo of a poster is never upside down (the posters' ±15° tilt is read along each
    line's own rotated box), and it costs a model run per line. See docs/decisions/2026-12-07-ocr-latency.md.
    """

    use_angle_classifier: bool = False
    threads: int = 2
    detection_max_side: int | None = None
    """Longer side the text detector works at (None: the photo's own size, rapidocr's default)."""
    min_confidence: float = 0.5
    recognition_batch: int = 6
    """Lines the recogniser reads per model run (rapidocr's 6, each batch padded to its widest line). One line per run
    cost about a third less recognition CPU (3 development photos, 96 lines: 4.9–5.5 s at 1 against 6.7–9.8 s at 6,
    2 threads, load 11–13) and read 1 line in 96 differently; with 1280-px detection it was part of the setting that
    lowered held-out current price exact, so it is not the default."""
    spin: bool = False
    """Let onnxruntime's worker threads busy-wait between operators (its default). Off: on a machine whose cores are
    busy with other work, spinning burnt about 30 % more CPU per photo for the same lines and a longer wall time
    (8 development photos at load 9–17: CPU 57.0 → 40.8 s); see docs/decisions/2026-12-07-ocr-latency.md."""
    _engine: Any = field(default=None, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        """``rapidocr-onnxruntime <version> PP-OCRv4``."""
        try:
            from importlib.metadata import version  # noqa: PLC0415

            v = version("rapidocr-onnxruntime")
        except Exception:  # noqa: BLE001 - the name is informative only
            v = "?"
        det = f" det{self.detection_max_side}" if self.detection_max_side else ""
        batch = f" batch{self.recognition_batch}" if self.recognition_batch != 6 else ""  # 6: rapidocr's own
        return f"rapidocr-onnxruntime {v} PP-OCRv4{det}{batch}{' cls' if self.use_angle_classifier else ''}"

    def _load(self) -> Any:
        if self._engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR  # noqa: PLC0415 - optional heavy dependency
            except ImportError as e:
                raise OcrUnavailableError(
                    "OCR 组件未安装：pip install rapidocr-onnxruntime", details={"package": "rapidocr-onnxruntime"}
                ) from e
            self._engine = RapidOCR(
                intra_op_num_threads=self.threads,
                inter_op_num_threads=1,
                text_score=self.min_confidence,
                print_verbose=False,
            )
            _set_session_options(self._engine, threads=self.threads, spin=self.spin)
            self._engine.text_rec.rec_batch_num = max(1, self.recognition_batch)
            if self.detection_max_side:
                _limit_detection(self._engine, self.detection_max_side)
        return self._engine

    def warm_up(self) -> None:
        """Load the models and run them once on a small image, so the first real photo is not slower."""
        engine = self._load()
        blank = np.full((64, 256, 3), 255, dtype=np.uint8)
        with self._lock:
            engine(blank, use_cls=False)

    def read(self, pixels: NDArray[np.uint8]) -> list[OcrLine]:
        """Lines found in the RGB image, with corners in the image's pixels."""
        engine = self._load()
        bgr = np.ascontiguousarray(pixels[:, :, ::-1])
        with self._lock:  # one onnxruntime session set; calls from several request threads take turns
            result, _ = engine(bgr, use_cls=self.use_angle_classifier, return_word_box=True)
        lines: list[OcrLine] = []
        for row in result or []:
            box, text, score = row[0], str(row[1]), float(row[2])
            quad = _quad(box)
            if quad is None or not text.strip():
                continue
            chars: tuple[Quad, ...] | None = None
            if len(row) >= 5 and "".join(str(w) for w in row[4]) == text and len(row[4]) == len(text):
                found = [_quad(q) for q in row[3]]
                if all(q is not None for q in found) and len(found) == len(text):
                    chars = tuple(q for q in found if q is not None)
            lines.append(OcrLine(text, quad, score, chars))
        return lines


def _set_session_options(engine: Any, *, threads: int, spin: bool) -> None:
    """Reopen RapidOCR's onnxruntime sessions with our options (rapidocr 1.4 offers only the thread counts).

    The same model files and graph optimisation (all levels) as rapidocr's own sessions, sequential execution, at most
    ``threads`` intra-op threads, and worker threads that sleep instead of spinning unless ``spin``.
    """
    import onnxruntime as ort  # noqa: PLC0415 - optional heavy dependency (comes with rapidocr-onnxruntime)

    for holder in (engine.text_det.infer, engine.text_cls.infer, engine.text_rec.session):
        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False  # as rapidocr: inputs change size with every photo
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        path = holder.session._model_path  # noqa: SLF001 - the file rapidocr opened
        holder.session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def _limit_detection(engine: Any, max_side: int) -> None:
    """Make RapidOCR's detector scale every image so its longer side is at most ``max_side`` (never up).

    rapidocr 1.4's ``TextDetector.get_preprocess`` ignores the configured size in its "max" mode; the boxes it
    returns are in the given image's pixels either way, so recognition still crops the full-size photo.
    """
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess  # noqa: PLC0415 - optional heavy dependency

    det = engine.text_det

    def preprocess(_max_wh: int) -> Any:
        return DetPreProcess(max_side, "max", det.mean, det.std)

    det.get_preprocess = preprocess


@dataclass
class ScriptedOcrEngine:
    """A real `OcrEngine` for tests and demos: returns the lines it was given, whatever the image.

    Lets the parsing and storage be tested without the OCR models; ``by_shape`` maps an image's (height, width) to
    its lines when a test uploads several photos.
    """

    lines: Sequence[OcrLine] = ()
    by_shape: dict[tuple[int, int], Sequence[OcrLine]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """``scripted``."""
        return "scripted"

    def read(self, pixels: NDArray[np.uint8]) -> list[OcrLine]:
        """The scripted lines (those for this image's shape when given)."""
        shape = (int(pixels.shape[0]), int(pixels.shape[1]))
        return list(self.by_shape.get(shape, self.lines))


def line(text: str, x0: float, y0: float, x1: float, y1: float, confidence: float = 0.99) -> OcrLine:
    """An axis-aligned `OcrLine` (tests and fakes write lines this way)."""
    return OcrLine(text, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), confidence)
