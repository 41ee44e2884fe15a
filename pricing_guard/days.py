"""Dates as day numbers: the price index keeps dates as integers (days since 2000-01-01) in its arrays."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

EPOCH = dt.date(2000, 1, 1)
EPOCH_UNIX = (EPOCH - dt.date(1970, 1, 1)).days
"""The epoch as days since 1970-01-01 (Arrow's date32)."""
_EPOCH_UNIX = EPOCH_UNIX


def day(d: dt.date) -> int:
    """Days since 2000-01-01 (dates as integers in the arrays)."""
    return (d - EPOCH).days


def days_of(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Day numbers of an Arrow date column, without a Python object per row."""
    return np.asarray(column.cast(pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64) - _EPOCH_UNIX
