"""The base of every request body: a field the API does not know is an error, never silently dropped.

A client that sends ``situation`` where the API reads ``text`` should hear so (422 naming ``body.situation``), not get
an answer computed without its input.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    """A request body model: unknown fields are refused (``extra="forbid"``)."""

    model_config = ConfigDict(extra="forbid")
