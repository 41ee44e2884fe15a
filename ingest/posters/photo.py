"""Decode and check an uploaded photo: format, size, orientation and the date it was taken.

A store manager's phone sends JPEG (HEIC on iPhones, PNG for a forwarded screenshot). The bytes are checked before
any work: a file that is not one of those formats, or larger than the limit, is refused with a clear error and
nothing else happens. The EXIF orientation is applied so that boxes drawn later sit on the picture as the person saw
it, and the EXIF capture date, when present, dates the observation.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from ingest.posters.errors import NotAnImageError, PhotoTooLargeError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
"""The upload limit the issue names (10 MB); the API may pass a smaller one from its settings."""
MAX_PIXELS = 50_000_000
"""More pixels than any phone camera gives (a decompression bomb otherwise): refused before decoding."""
OCR_MAX_SIDE = 2048
"""Longer side the OCR works on: larger photos are scaled down first (more pixels cost time, not accuracy)."""

FORMATS: dict[str, str] = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic"}
"""Formats accepted and their media type (MPO is the JPEG some phones write with a depth map)."""

_EXIF_IFD = 0x8769
_DATE_TAGS = (0x9003, 0x9004, 0x0132)  # DateTimeOriginal, DateTimeDigitized, DateTime


def _register_heif() -> bool:
    """Teach Pillow to open HEIC when ``pillow-heif`` is installed; False when it is not."""
    try:
        from pillow_heif import register_heif_opener  # noqa: PLC0415 - optional dependency
    except ImportError:
        return False
    register_heif_opener()
    return True


HEIC_SUPPORTED = _register_heif()


@dataclass(frozen=True)
class Photo:
    """A decoded photo, upright, as RGB pixels, with what its file said about it."""

    pixels: NDArray[np.uint8]
    """Height × width × 3, RGB, EXIF orientation applied."""
    media_type: str
    taken_at: dt.datetime | None
    """EXIF capture time (DateTimeOriginal), None when the file has none (screenshots, messenger copies)."""
    size_bytes: int

    @property
    def width(self) -> int:
        """Width in pixels (upright)."""
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels (upright)."""
        return int(self.pixels.shape[0])


def decode_photo(data: bytes, *, max_bytes: int = MAX_PHOTO_BYTES) -> Photo:
    """Decode an upload into an upright RGB `Photo`, or raise why it cannot be used.

    Raises `PhotoTooLargeError` past ``max_bytes`` or `MAX_PIXELS`, and `NotAnImageError` for anything that is not
    a whole JPEG, PNG or HEIC image (HEIC only with ``pillow-heif`` installed).
    """
    if len(data) > max_bytes:
        raise PhotoTooLargeError(
            f"照片 {len(data) / 1_048_576:.1f} MB，超过上限 {max_bytes / 1_048_576:.0f} MB",
            details={"size_bytes": len(data), "max_bytes": max_bytes},
        )
    if not data:
        raise NotAnImageError("文件是空的，不是照片", details={"size_bytes": 0})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format or ""
            if fmt not in FORMATS:
                raise NotAnImageError(
                    f"不支持的图片格式 {fmt or '未知'}：请上传 JPEG、PNG" + ("或 HEIC" if HEIC_SUPPORTED else ""),
                    details={"format": fmt or None},
                )
            if image.width * image.height > MAX_PIXELS:
                raise PhotoTooLargeError(
                    f"照片 {image.width}×{image.height} 像素，超过上限 {MAX_PIXELS // 1_000_000} 百万像素",
                    details={"width": image.width, "height": image.height},
                )
            taken_at = _exif_date(image)
            upright = ImageOps.exif_transpose(image)
            rgb = upright.convert("RGB")
            rgb.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as e:  # fmt: skip
        raise NotAnImageError("文件不是可读取的照片（JPEG、PNG 或 HEIC），或已损坏", details={"reason": str(e)}) from e
    return Photo(
        pixels=np.asarray(rgb, dtype=np.uint8),
        media_type=FORMATS[fmt],
        taken_at=taken_at,
        size_bytes=len(data),
    )


def _exif_date(image: Image.Image) -> dt.datetime | None:
    """The EXIF capture time of the image, or None (missing, or not a date)."""
    try:
        exif = image.getexif()
    except (AttributeError, OSError, ValueError, SyntaxError):
        return None
    sub = exif.get_ifd(_EXIF_IFD) if exif else {}
    for tag in _DATE_TAGS:
        value = sub.get(tag) or exif.get(tag)
        if isinstance(value, bytes):
            value = value.decode("ascii", "ignore")
        if isinstance(value, str):
            try:
                return dt.datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
            except ValueError:
                continue
    return None


def for_ocr(photo: Photo, max_side: int = OCR_MAX_SIDE) -> tuple[NDArray[np.uint8], float]:
    """The pixels the OCR reads (scaled so the longer side is at most ``max_side``) and the scale applied."""
    longest = max(photo.width, photo.height)
    if longest <= max_side:
        return photo.pixels, 1.0
    scale = max_side / longest
    size = (round(photo.width * scale), round(photo.height * scale))
    small = Image.fromarray(photo.pixels).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.uint8), scale
