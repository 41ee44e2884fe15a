"""The copilot's clock: the time its writes stamp (audit events, states, requests, safety reports)."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    """Now in UTC, naive and to the second: the stores keep naive UTC timestamps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
