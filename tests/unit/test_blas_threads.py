"""One BLAS thread per serving process (retrieval/threads.py) and USE vectors that do not depend on it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits  # type: ignore[import-untyped]

from retrieval.embedders import UniversalSentenceEncoder
from retrieval.threads import limit_blas_threads


@pytest.fixture
def restored() -> Iterator[None]:
    """Whatever a test sets, the process's BLAS limits are restored afterwards."""
    with threadpool_limits(limits=None):
        yield


def _blas_threads() -> set[int]:
    return {int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"}


@pytest.mark.usefixtures("restored")
def test_limit_applies_to_numpy_blas_for_the_whole_process() -> None:
    limit_blas_threads(1)
    assert _blas_threads() == {1}


@pytest.mark.usefixtures("restored")
def test_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        limit_blas_threads(0)


def test_use_default_is_one_thread_and_vectors_match_two_threads() -> None:
    """The thread count changes the speed, not the vectors: only the order of the sums differs (≤ 1e-5)."""
    texts = ["太贵了", "这个药医院进不去，药事会没过怎么办", "刷医保卡失败", "账期能不能延长到90天？", "MOQ太高了"]
    one, two = UniversalSentenceEncoder(), UniversalSentenceEncoder(threads=2)
    assert one._model.threads == 1
    a = np.stack([one.embed_query(t) for t in texts])
    b = two.embed_documents(texts)
    assert a.shape == (5, 512) and float(np.abs(a - b).max()) <= 1e-5
