"""Logging of the service: a request id for every request, and structured fields on every record.

Each module logs to ``logging.getLogger(__name__)`` and passes its facts as ``extra`` fields (``tenant``,
``duration_ms``, counts), never formatted into the message, so a log pipeline can filter on them. While a request
runs, every record — from any package, in any worker thread — also carries the request's ``request_id`` and, once
the API key is known, its ``tenant`` (context variables, copied into the threads that serve the request). The id
comes from the client's ``X-Request-ID`` when that is a plausible id, else it is made here, and it is sent back in
the response's ``X-Request-ID`` header and in the details of a 500, so a person can quote it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
TENANT: ContextVar[str | None] = ContextVar("tenant", default=None)

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode()
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
FIELDS = ("request_id", "tenant", "method", "route", "status", "duration_ms")
"""The structured fields, in the order the text format prints them (a module's own ``extra`` fields follow)."""
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

access_log = logging.getLogger("api.access")


def current_request_id() -> str | None:
    """The id of the request being served in this context (None outside a request)."""
    return REQUEST_ID.get()


def set_tenant(tenant: str) -> None:
    """Record the caller's tenant for the rest of the request (its log records carry it)."""
    TENANT.set(tenant)


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``tenant`` of the request being served to every record that lacks them."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record; only adds fields."""
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        if getattr(record, "tenant", None) is None:
            record.tenant = TENANT.get()
        return True


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record: the known ones first, then the module's own ``extra`` fields."""
    extra = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
    ordered = {k: extra.pop(k) for k in FIELDS if k in extra}
    return {k: v for k, v in {**ordered, **extra}.items() if v is not None}


class FieldsFormatter(logging.Formatter):
    """``time level logger message key=value …``; or one JSON object per line (``json_lines``)."""

    def __init__(self, *, json_lines: bool = False) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        """The record with its fields; a traceback, if any, follows on its own lines."""
        fields = fields_of(record)
        if self.json_lines:
            body: dict[str, Any] = {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                **fields,
            }
            if record.exc_info:
                body["exception"] = self.formatException(record.exc_info)
            return json.dumps(body, ensure_ascii=False, default=str)
        text = super().format(record)
        head, _, tail = text.partition("\n")
        pairs = " ".join(f"{k}={v}" for k, v in fields.items())
        return f"{head} {pairs}".rstrip() + (f"\n{tail}" if tail else "")


def configure_logging(level: str = "info", *, json_lines: bool = False) -> logging.Handler:
    """One stderr handler on the root logger with the request fields (``salescopilot serve`` and each of its workers).

    Called again, it replaces the handler it added before (a test that makes several workers' apps in one process).
    """
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(FieldsFormatter(json_lines=json_lines))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h.formatter, FieldsFormatter)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def request_id(given: bytes | None) -> str:
    """The client's ``X-Request-ID`` when it is a plausible id, else a new random one (32 hex digits).

    ``os.urandom(16).hex()``, not ``uuid.uuid4().hex``: the same form, 128 random bits, without the UUID object: a
    fifth of the CPU (a quote screen sends a request per keystroke).
    """
    text = given.decode("latin-1") if given else ""
    return text if _VALID_ID.fullmatch(text) else os.urandom(16).hex()


def log_access(request_id: str, method: str | None, route: str, status: int, started: float) -> None:
    """The request's access record (``api.access``): method, route template, status, tenant and duration in ms."""
    access_log.info(
        "request",
        extra={
            "request_id": request_id,
            "tenant": TENANT.get(),
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


ROUTE_CACHE_SIZE = 4096
"""Paths whose route template is remembered (paths with ids vary; the cache is emptied when full)."""


class RequestContext:
    """ASGI middleware: a request id per request, echoed in ``X-Request-ID``, and one access record per request.

    The access record (``api.access``) carries method, route template (``/v1/entries/{entry_id}``, not the path
    with its ids), status, tenant and duration in milliseconds.
    """

    def __init__(self, app: ASGIApp, on_error: Callable[[Exception], ASGIApp] | None = None) -> None:
        self.app = app
        self.on_error = on_error
        """The response to an exception no handler took (else it propagates to the server)."""
        self._templates: list[tuple[re.Pattern[str], str]] | None = None
        self._routes: dict[str, str] = {}
        """Paths seen, with their template: a quote screen's calls all take one path, matched once, not per call."""

    def route_of(self, scope: Scope) -> str:
        """The OpenAPI path template the request matched (``/v1/entries/{entry_id}``), else its path as sent.

        Read from the OpenAPI document (built once), so it is the full template whatever the routers' prefixes.
        """
        path: str = scope.get("path", "")
        known = self._routes.get(path)
        if known is not None:
            return known
        if self._templates is None:
            openapi = getattr(scope.get("app"), "openapi", None)
            paths: dict[str, Any] = openapi().get("paths", {}) if callable(openapi) else {}
            by_literal_first = sorted(paths, key=lambda t: (t.count("{"), t))
            self._templates = [
                (re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t))), t) for t in by_literal_first
            ]
        template = next((t for pattern, t in self._templates if pattern.fullmatch(path)), path)
        if len(self._routes) >= ROUTE_CACHE_SIZE:
            self._routes.clear()
        self._routes[path] = template
        return template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request inside its context."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == _HEADER_KEY), None)
        rid = request_id(given)
        id_token = REQUEST_ID.set(rid)
        tenant_token = TENANT.set(None)
        started = time.perf_counter()
        status = 500
        started_response = False

        async def with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message["headers"] = [*message.get("headers", []), (_HEADER_KEY, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        except Exception as e:  # answered here, inside the request's context, so the 500 names the request id
            if self.on_error is None or started_response:
                raise
            await self.on_error(e)(scope, receive, with_id)
        finally:
            log_access(rid, scope.get("method"), self.route_of(scope), status, started)
            TENANT.reset(tenant_token)
            REQUEST_ID.reset(id_token)
