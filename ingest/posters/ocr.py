"""Text lines read from a photo: the ``OcrEngine`` port, the RapidOCR adapter, and a scripted fake for tests.

RapidOCR (``rapidocr-onnxruntime``) runs PaddleOCR's PP-OCRv4 Chinese detection and recognition models on
onnxruntime; its wheel ships the models, so nothing is downloaded at run time. It is imported inside the adapter
(an optional heavy dependency), so the rest of the package, and every test with the fake, works without it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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
    from 0.960 to 0.920 (target 0.95). The detector works at the photo's own size (on the second set's dev half a
    smaller size lost precision, recall and current price even with `mend_prices`); the recogniser reads one line
    per run, which alone held every dev figure of the second set (see ``recognition_batch``). rapidocr 1.4 picks the
    detector's size by itself (the full photo, or 960/1500/2000 px in its "max" mode), so the adapter sets it when
    asked. The angle classifier is off by default: a phone photo of a poster is never upside down (the posters'
    ±15° tilt is read along each line's own rotated box), and it costs a model run per line. See
    docs/decisions/2026-12-07-ocr-latency.md.
    """

    use_angle_classifier: bool = False
    threads: int = 2
    detection_max_side: int | None = None
    """Longer side the text detector works at (None: the photo's own size, rapidocr's default)."""
    min_confidence: float = 0.5
    recognition_batch: int = 1
    """Lines the recogniser reads per model run. rapidocr reads 6, each batch padded to its widest line; one line per
    run is padded only to its own width (at least `recognition_min_width`). On the 63 `posters2` dev photos it read
    11 of 1725 lines differently (`999 感冒灵颗粒` for `999感冒灵颗粒`, `0.35gx36粒` for `0.35g×36粒`) and every dev
    figure stayed or rose (SKU 0.871 → 0.876), for 14–15 % less OCR CPU with the memory arena (8 dev photos, same
    run: 20.5 → 17.5 s at 2 threads, 19.0 → 16.3 s at 1). It was half of the first set's 1280-px setting that fell on
    that set's held-out half (current price 0.920); which half cost it is not known, so the next blind set decides."""
    spin: bool = False
    """Let onnxruntime's worker threads busy-wait between operators (its default). Off: on a machine whose cores are
    busy with other work, spinning burnt about 30 % more CPU per photo for the same lines and a longer wall time
    (8 development photos at load 9–17: CPU 57.0 → 40.8 s); see docs/decisions/2026-12-07-ocr-latency.md."""
    recognition_min_width: int = 320
    """Narrowest input the recogniser reads, in pixels at its 48-px height: every batch is padded to at least this
    (rapidocr's 320, PaddleOCR's training width); a smaller value pads short lines (prices, specs) less."""
    recognition_workers: int = 2
    """Recognition batches read at once, the ``threads`` shared among them (2: two batches at a time, one thread
    each). rapidocr reads its batches one after another, each split over all threads, which a batch of a few short
    lines uses poorly; the batches, and so the lines read, are the same either way (see `_ParallelRecognizer`)."""
    memory_arena: bool = True
    """onnxruntime's CPU memory arena: keep the buffers of one model run for the next instead of allocating and
    freeing them every time. rapidocr turns it off (its inputs change size with every photo), but with it on the
    OCR's CPU fell 16–17 % (10 `posters2` dev photos, same run, photo by photo, load 5.4: 29.5 → 24.4 s at 2 threads,
    26.9 → 22.7 s at 1) for the same lines; the price is about 220 MB more peak memory (1.11 → 1.33 GB over 20
    photos, flat after the first 5). See docs/decisions/2026-12-07-ocr-latency.md."""
    graph_optimization: str = "all"
    """onnxruntime graph optimisation level: ``disable``, ``basic``, ``extended`` or ``all`` (rapidocr's)."""
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
        batch = f" batch{self.recognition_batch}" if self.recognition_batch != 6 else ""  # noqa: PLR2004 - rapidocr's 6
        width = f" recw{self.recognition_min_width}" if self.recognition_min_width != 320 else ""  # noqa: PLR2004
        # the number of recognition workers is not in the name: it changes how the batches are run, not what they read
        return f"rapidocr-onnxruntime {v} PP-OCRv4{det}{batch}{width}{' cls' if self.use_angle_classifier else ''}"

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
            workers = max(1, self.recognition_workers)
            _set_session_options(
                self._engine, threads=self.threads, spin=self.spin, arena=self.memory_arena,
                optimization=self.graph_optimization, recognition_threads=max(1, self.threads // workers),
            )  # fmt: skip
            self._engine.text_rec.rec_batch_num = max(1, self.recognition_batch)
            channels, height, _ = self._engine.text_rec.rec_image_shape
            self._engine.text_rec.rec_image_shape = [channels, height, max(8, self.recognition_min_width)]
            _detect_at(self._engine, self.detection_max_side)
            if workers > 1:  # last: the settings above are the wrapped recogniser's
                self._engine.text_rec = _ParallelRecognizer(self._engine.text_rec, workers)
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


_OPTIMIZATION = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
                 "all": "ORT_ENABLE_ALL"}  # fmt: skip


def _set_session_options(
    engine: Any, *, threads: int, spin: bool, arena: bool = False, optimization: str = "all",
    recognition_threads: int | None = None,
) -> None:  # fmt: skip
    """Reopen RapidOCR's onnxruntime sessions with our options (rapidocr 1.4 offers only the thread counts).

    The same model files and graph optimisation (all levels) as rapidocr's own sessions, sequential execution, at most
    ``threads`` intra-op threads, and worker threads that sleep instead of spinning unless ``spin``.
    """
    import onnxruntime as ort  # noqa: PLC0415 - optional heavy dependency (comes with rapidocr-onnxruntime)

    for holder, n in ((engine.text_det.infer, threads), (engine.text_cls.infer, threads),
                      (engine.text_rec.session, recognition_threads or threads)):  # fmt: skip
        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, _OPTIMIZATION[optimization])
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = max(1, n)
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = arena  # off in rapidocr (inputs change size with every photo); ours on
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        path = holder.session._model_path  # noqa: SLF001 - the file rapidocr opened
        holder.session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def _detect_at(engine: Any, max_side: int | None) -> None:
    """Give RapidOCR's detector our pre-processing: its size rule, normalised in float32.

    With ``max_side`` the detector scales every image so its longer side is at most that (never up): rapidocr 1.4's
    ``TextDetector.get_preprocess`` ignores the configured size in its "max" mode. Without it, rapidocr's own rule
    stands (the photo's own size, as rapidocr has already brought it to at most 2000 px). The boxes come back in the
    given image's pixels either way, and the recogniser crops its lines from that image, not the detector's smaller
    one. rapidocr normalises the pixels in float64 (its mean and std are float64 arrays) and then casts to float32:
    the same values computed in float32 cost about a third of the time on a 2000-px photo.
    """
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess  # noqa: PLC0415 - optional heavy dependency

    det = engine.text_det
    own = det.get_preprocess

    class Float32DetPreProcess(DetPreProcess):  # type: ignore[misc]
        def normalize(self, img: Any) -> Any:
            scale = np.float32(self.scale)
            return (img.astype(np.float32) * scale - self.mean.astype(np.float32)) / self.std.astype(np.float32)

    def preprocess(max_wh: int) -> Any:
        if max_side:
            return Float32DetPreProcess(max_side, "max", det.mean, det.std)
        chosen = own(max_wh)
        return Float32DetPreProcess(chosen.limit_side_len, chosen.limit_type, det.mean, det.std)

    det.get_preprocess = preprocess


class _ParallelRecognizer:
    """rapidocr's recogniser with its batches read by several threads at once.

    The lines are put in rapidocr's own order (by width / height) and cut into its batches, so every batch holds the
    same lines, padded to the same width, as when rapidocr reads them one after another: the text read is the same.
    onnxruntime runs a session from several threads at once and releases the GIL while it computes.
    """

    def __init__(self, recognizer: Any, workers: int) -> None:
        self._recognizer = recognizer
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr-rec")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recognizer, name)

    def __call__(self, img_list: Any, return_word_box: bool = False) -> tuple[list[Any], float]:
        images = [img_list] if isinstance(img_list, np.ndarray) else list(img_list)
        order = np.argsort(np.array([im.shape[1] / float(im.shape[0]) for im in images]))
        size = max(1, int(self._recognizer.rec_batch_num))
        batches = [order[i : i + size] for i in range(0, len(order), size)]
        futures = [self._pool.submit(self._recognizer, [images[j] for j in b], return_word_box) for b in batches]
        results: list[Any] = [("", 0.0)] * len(images)
        elapsed = 0.0
        for batch, future in zip(batches, futures, strict=True):
            read, seconds = future.result()
            elapsed += seconds
            for j, r in zip(batch, read, strict=True):
                results[int(j)] = r
        return results, elapsed


_SPLIT_INSIDE = re.compile(r"[¥￥Y*×?] ?\d{1,3}\.?( )(?=\d{1,3}(?:\.\d{1,2})?(?:元|/|\s|$))|\d\.( )\d{1,2}(?!\d)")
"""A space the recogniser put inside a price: ``￥1 7``, ``促销价× 1 3.9`` (after a currency mark), ``11. 9``."""
_YUAN_MISREAD = re.compile(
    r"(?<=价)( ?)[*×]( ?)(?=\d{1,4}(?:\.\d{1,2})?(?:元|/|\s|$|[^\w]))|^( ?)[*×]( ?)(?=\d{1,4}\.\d{1,2}\s*$)"
)
"""The ¥ sign read as ``*`` or ``×``: between a price word and its number (``售价*37.5``), or before a lone price."""
_HEAD = re.compile(r"\d{1,4}\.?$")
_TAIL = re.compile(r"^[.·]?\d{1,2}$")


def mend_prices(lines: Sequence[OcrLine]) -> list[OcrLine]:
    """The lines with the prices the OCR cut apart joined again, and a ¥ it read as ``*`` or ``×`` put back.

    A price is printed as one run of digits, but the OCR cuts it where a poster's display type leaves a wide gap: the
    detector, at a reduced size, finds ``25.`` and ``.90`` as two boxes, and the recogniser reads a space into a
    large, widely spaced number (``￥1 7``, ``促销价× 1 3.9``, ``11. 9``). Two boxes are one price when the second
    holds only one or two digits (the cents, with or without their point), a point separates them (the first ends
    with it or the second starts with it), and the second starts within about half a character of the first's end,
    on its baseline or raised, no taller than it (the cents are often printed smaller and higher). Inside a line a
    space is dropped between digits that follow a currency mark, or between a decimal point and one or two digits.
    The ¥ sign's strokes read as ``*`` or ``×`` at phone-photo resolution (``售价*37.5``, ``活动价 *86.5``); between
    a price word (``…价``) and a number, or in front of a lone number with decimals, it is put back as ``￥``, so the
    number is read as the price it is (a spec's ``×``, ``10ml*10支``, follows a unit, never ``价``). Cents printed
    small and raised without a point (``¥44`` + ``50``) are joined by the parser (`ingest.posters.items`), which
    knows which number is a price.
    """
    out = [_join_inside(ln) for ln in lines]
    used: set[int] = set()
    joined: list[OcrLine] = []
    for i, a in enumerate(out):
        if i in used:
            continue
        if _HEAD.search(a.text.rstrip()):
            j = next((j for j, b in enumerate(out) if j != i and j not in used and _continues(a, b)), None)
            if j is not None:
                used.add(j)
                a = _joined(a, out[j])
        joined.append(a)
    return joined


def _join_inside(ln: OcrLine) -> OcrLine:
    """``ln`` with the spaces inside a price dropped and a ¥ read as ``*`` or ``×`` put back."""
    text = ln.text
    for m in _YUAN_MISREAD.finditer(text):
        star = m.end() - len(m.group(2) if m.group(2) is not None else m.group(4)) - 1
        text = text[:star] + "￥" + text[star + 1 :]
    keep = [True] * len(text)
    for m in _SPLIT_INSIDE.finditer(text):
        keep[m.start(1) if m.group(1) is not None else m.start(2)] = False
    if all(keep) and text == ln.text:
        return ln
    text = "".join(ch for ch, k in zip(text, keep, strict=True) if k)
    chars = tuple(q for q, k in zip(ln.chars, keep, strict=True) if k) if ln.chars is not None else None
    return OcrLine(text, ln.quad, ln.confidence, chars)


def _frame(a: OcrLine) -> tuple[Point, Point, Point, float, float]:
    """Line ``a``'s origin (top-left), unit vectors along and across it, its length and its height."""
    (x0, y0), (x1, y1), _, (x3, y3) = a.quad
    length = max(1e-6, ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    height = abs((x3 - x0) * -uy + (y3 - y0) * ux)
    return (x0, y0), (ux, uy), (-uy, ux), length, max(height, 1.0)


def _continues(a: OcrLine, b: OcrLine) -> bool:
    """True when ``b`` holds the cents of the price that ``a`` ends with (see `mend_prices`)."""
    head, tail = a.text.rstrip(), b.text.strip()
    if _TAIL.match(tail) is None or not (head.endswith(".") or tail[0] in ".·"):
        return False
    (ox, oy), (ux, uy), (vx, vy), length, h = _frame(a)
    xs = [(x - ox) * ux + (y - oy) * uy for x, y in b.quad]
    ys = [(x - ox) * vx + (y - oy) * vy for x, y in b.quad]
    return (
        length - 0.6 * h <= min(xs) <= length + 0.5 * h
        and max(xs) - min(xs) <= 2.0 * h
        and min(ys) >= -0.3 * h
        and max(ys) <= 1.2 * h
        and max(ys) - min(ys) <= 1.1 * h
    )


def _joined(a: OcrLine, b: OcrLine) -> OcrLine:
    """``a`` and ``b`` as one line: ``25.`` + ``.90`` → ``25.90`` over both boxes."""
    head = a.text.rstrip()
    tail = b.text.strip()
    drop_head = head.endswith(".") and tail[0] in ".·"
    head_part = head[:-1] if drop_head else head
    sep = "" if head_part.endswith(".") or tail[0] in ".·" else "."
    text = head_part + sep + ("." + tail[1:] if tail[0] == "·" else tail)
    (ox, oy), (ux, uy), (vx, vy), length, h = _frame(a)
    right = max((x - ox) * ux + (y - oy) * uy for x, y in b.quad)
    quad: Quad = (
        a.quad[0],
        (ox + ux * right, oy + uy * right),
        (ox + ux * right + vx * h, oy + uy * right + vy * h),
        a.quad[3],
    )
    chars = None
    if a.chars is not None and b.chars is not None and len(a.chars) == len(a.text) and len(b.chars) == len(b.text):
        ca = list(a.chars[: len(head_part)])
        cb = list(b.chars[len(b.text) - len(b.text.lstrip()) :][: len(tail)])
        if sep:
            cb.insert(0, cb[0])
        chars = tuple(ca + cb) if len(ca) + len(cb) == len(text) else None
    return OcrLine(text, quad, min(a.confidence, b.confidence), chars)


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
