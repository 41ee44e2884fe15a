"""Errors of reading a competitor photo: each one names what was wrong with the upload so a person can fix it."""

from __future__ import annotations

from ingest.errors import IngestError


class PhotoError(IngestError):
    """Root of photo failures (bad upload, unreadable image, OCR engine missing)."""

    code = "photo_error"


class NotAnImageError(PhotoError):
    """The bytes are not a JPEG, PNG or HEIC image (or the image is damaged)."""

    code = "not_an_image"


class PhotoTooLargeError(PhotoError):
    """The file exceeds the upload limit, or the image has more pixels than a phone photo has."""

    code = "too_large"


class NoTextError(PhotoError):
    """OCR found no text in the photo (a blank wall, a blurred or black frame): nothing to read prices from."""

    code = "no_text"


class OcrUnavailableError(PhotoError):
    """The OCR engine package is not installed (``pip install rapidocr-onnxruntime``)."""

    code = "ocr_unavailable"
