"""Latency summaries shared by the benchmarks and evaluations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def percentiles(samples: Sequence[float], qs: Sequence[int] = (50, 95, 99), digits: int = 3) -> dict[str, float]:
    """``{"p50": …, "p95": …}`` of ``samples`` (milliseconds, usually), rounded to ``digits``."""
    a = np.asarray(samples, dtype=float)
    return {f"p{q}": round(float(np.percentile(a, q)), digits) for q in qs}
