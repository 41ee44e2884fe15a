"""The feed benchmark's reading of B's log: when each worker applied a publish (the feed's own lag)."""

from __future__ import annotations

import datetime as dt

from eval.bench_feed import applied_lags

LOG = """\
2026-12-07 17:58:25,072 INFO api.services change feed applied tenant=t1 pid=12 seq=3-4 records=2 behind_s=1.0
2026-12-07 17:58:25,100 INFO api.access request request_id=x tenant=t1 method=POST route=/v1/objection-answers
2026-12-07 17:58:25,500 INFO api.services change feed applied tenant=t1 pid=13 seq=3-3 records=1 behind_s=0.5
2026-12-07 17:58:26,000 INFO api.services change feed applied tenant=t2 pid=13 seq=4-9 records=6 behind_s=0.5
2026-12-07 17:58:26,250 INFO api.services change feed applied tenant=t1 pid=13 seq=4-5 records=2 behind_s=0.5
"""


def test_the_slowest_worker_s_first_pass_at_or_after_the_publish_counts() -> None:
    published = dt.datetime(2026, 12, 7, 17, 58, 25).timestamp()
    found = applied_lags(LOG, "t1", [(4, published), (5, published), (6, published)])
    assert found[0] == {"seq": 4, "workers": 2, "lag_ms": 1250.0}  # pid 13 at 26.25 (t2's line is another tenant)
    assert found[1] == {"seq": 5, "workers": 1, "lag_ms": 1250.0}  # pid 12 never applied 5: one worker only
    assert found[2] == {"seq": 6, "workers": 0, "lag_ms": None}
