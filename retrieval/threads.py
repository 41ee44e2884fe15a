"""How many threads NumPy's BLAS may use in this process.

The matrix products of a request are small: a query embedding multiplies ~12 token rows by 512–1280-wide weights, and
an answer scores one query vector against a level's few hundred to few thousand script vectors. A second OpenBLAS
thread costs more than it saves on them (hand-over, and spin-waiting for a core that another request or process
holds). Measured on the 2-core machine at load ~7 (eval/reports/answers/embedder_speed.md): a 5,000 × 512
matrix-vector product 7.5 ms CPU with two threads, 0.8 ms with one; a USE query embedding 23 ms against 4 ms.
A serving process therefore runs its BLAS on one thread and gets its parallelism from concurrent requests.
"""

from __future__ import annotations

import numpy  # noqa: F401  (loads NumPy's BLAS, which the limit acts on)
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]


def limit_blas_threads(threads: int) -> None:
    """Let NumPy's BLAS use at most ``threads`` threads from now on, for the whole process.

    It acts on the BLAS libraries loaded so far: NumPy's is (imported here); one loaded later keeps its default.
    """
    if threads < 1:
        raise ValueError(f"BLAS threads must be at least 1, got {threads}")
    threadpool_limits(limits=threads, user_api="blas")
