"""Timestamps on the wire: RFC 3339 with an offset, as OpenAPI's ``date-time`` requires.

The graph stores timestamps without a zone, in UTC (curation writes, audit, keys); responses mark them as UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


UtcDatetime = Annotated[dt.datetime, AfterValidator(_utc)]
"""A timestamp that serialises with its UTC offset (naive values are UTC)."""
