"""Geometry of the OCR lines: undo the photo's rotation and measure where each line sits relative to the others.

A phone photo of a poster is rotated (±15°) and tilted; reading order from the OCR is not the poster's structure.
The text angle is estimated from the lines themselves (the median slope of the longer lines), every box is rotated
back by it, and the grouping in `ingest.posters.items` then works with upright boxes: the same row, the column
below, the caption to the left.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.posters.ocr import OcrLine, Point


@dataclass(frozen=True)
class Box:
    """An upright box in the deskewed frame."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def h(self) -> float:
        """Height."""
        return self.y1 - self.y0

    @property
    def w(self) -> float:
        """Width."""
        return self.x1 - self.x0

    @property
    def cx(self) -> float:
        """Centre x."""
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        """Centre y."""
        return (self.y0 + self.y1) / 2

    def union(self, other: Box) -> Box:
        """The smallest box holding both."""
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def x_overlap(self, other: Box) -> float:
        """Horizontal overlap as a share of the narrower box (0 … 1)."""
        inter = min(self.x1, other.x1) - max(self.x0, other.x0)
        return max(0.0, inter) / max(1.0, min(self.w, other.w))

    def y_overlap(self, other: Box) -> float:
        """Vertical overlap as a share of the lower box's height (0 … 1): 1 when the two sit on one row."""
        inter = min(self.y1, other.y1) - max(self.y0, other.y0)
        return max(0.0, inter) / max(1.0, min(self.h, other.h))

    def x_gap(self, other: Box) -> float:
        """Horizontal distance between the boxes (0 when they overlap)."""
        return max(0.0, max(self.x0, other.x0) - min(self.x1, other.x1))


def text_angle(lines: Sequence[OcrLine]) -> float:
    """The rotation of the text in radians (positive: lines rise to the left), from the lines' top edges.

    Only lines at least twice as wide as high count (a short number's box says little about its slope); the median
    is robust to the odd slanted sticker.
    """
    angles: list[float] = []
    weights: list[float] = []
    for ln in lines:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ln.quad
        top = math.hypot(x1 - x0, y1 - y0)
        side = math.hypot(x3 - x0, y3 - y0)
        if top < 2 * side or top < 10:
            continue
        a_top = math.atan2(y1 - y0, x1 - x0)
        a_bottom = math.atan2(y2 - y3, x2 - x3)
        angles.append((a_top + a_bottom) / 2)
        weights.append(top)
    if not angles:
        return 0.0
    return statistics.median(angles)


def upright_box(points: Sequence[Point], angle: float) -> Box:
    """The upright box around ``points`` after rotating them by ``-angle`` about the photo's origin."""
    cos, sin = math.cos(-angle), math.sin(-angle)
    pts = [(x * cos - y * sin, x * sin + y * cos) for x, y in points]
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return Box(min(xs), min(ys), max(xs), max(ys))


def deskew(lines: Sequence[OcrLine], angle: float | None = None) -> list[Box]:
    """Upright boxes of the lines after rotating every corner by ``-angle`` (estimated when not given)."""
    a = text_angle(lines) if angle is None else angle
    return [upright_box(ln.quad, a) for ln in lines]
