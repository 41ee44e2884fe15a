"""One photo in, items out: decode, OCR, group and parse — the library entry point of `ingest.posters`."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Collection
from dataclasses import dataclass

from ingest.posters.errors import NoTextError
from ingest.posters.items import PosterReading, has_text, read_items
from ingest.posters.ocr import OcrEngine, OcrLine
from ingest.posters.photo import MAX_PHOTO_BYTES, Photo, decode_photo, for_ocr


@dataclass(frozen=True)
class PhotoReading:
    """A decoded photo, what was read from it, and how long each step took (seconds)."""

    photo: Photo
    reading: PosterReading
    ocr_engine: str
    seconds_decode: float
    seconds_ocr: float
    seconds_parse: float

    @property
    def seconds(self) -> float:
        """Total time from bytes to items."""
        return self.seconds_decode + self.seconds_ocr + self.seconds_parse


def read_photo(
    data: bytes,
    engine: OcrEngine,
    *,
    today: dt.date | None = None,
    known_names: Collection[str] = (),
    max_bytes: int = MAX_PHOTO_BYTES,
) -> PhotoReading:
    """Read a poster or price-tag photo into items (see `ingest.posters.items`).

    Raises `NotAnImageError` / `PhotoTooLargeError` for an unusable upload and `NoTextError` when the OCR finds no
    text at all (nothing to read prices from); a photo with text but no recognisable item gives an empty reading.
    ``today`` resolves year-less validity dates (the photo's EXIF date wins when it has one).
    """
    t0 = time.perf_counter()
    photo = decode_photo(data, max_bytes=max_bytes)
    t1 = time.perf_counter()
    pixels, scale = for_ocr(photo)
    lines: list[OcrLine] = [ln.scaled(1 / scale) if scale != 1.0 else ln for ln in engine.read(pixels)]
    t2 = time.perf_counter()
    if not has_text(lines):
        raise NoTextError("照片中没有识别到文字：请对准海报或价签，拍清楚后再上传", details={"lines": len(lines)})
    day = photo.taken_at.date() if photo.taken_at else (today or dt.date.today())
    reading = read_items(lines, today=day, known_names=known_names)
    t3 = time.perf_counter()
    return PhotoReading(photo, reading, engine.name, t1 - t0, t2 - t1, t3 - t2)
