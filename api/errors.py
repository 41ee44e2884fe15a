"""Errors at the HTTP edge: one JSON shape, a stable code per domain error, no stack traces to clients.

``{"error": {"code": "version_conflict", "message": "…", "details": {…}}}`` — the code is the domain error's
``code`` attribute, so a client can branch on it; the status comes from the error class (table below).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.keys import InvalidKeyError, KeyRequestError
from api.logs import current_request_id
from copilot.curation import FourEyesError, InvalidTransitionError
from copilot.errors import CopilotError
from copilot.safety import ReportClosedError
from copilot.script_requests import RequestClosedError
from graph.errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidRowError,
    NotFoundError,
    SalesCopilotError,
    VersionConflictError,
)
from ingest.errors import IngestError
from ingest.formulary import ReviewStateError
from ingest.posters.errors import NotAnImageError, NoTextError, OcrUnavailableError, PhotoTooLargeError
from pricing_guard.errors import PricingError
from resolution.errors import ResolutionError
from retrieval.errors import EmbedderUnavailableError

log = logging.getLogger(__name__)

STATUS: list[tuple[type[SalesCopilotError], int]] = [
    (InvalidKeyError, 401),
    (NotFoundError, 404),
    (VersionConflictError, 409),
    (ConflictError, 409),
    (FourEyesError, 403),
    (InvalidTransitionError, 409),
    (ReviewStateError, 409),
    (RequestClosedError, 409),
    (ReportClosedError, 409),
    (KeyRequestError, 422),
    (InvalidRowError, 422),
    (PhotoTooLargeError, 413),
    (NotAnImageError, 415),
    (NoTextError, 422),
    (OcrUnavailableError, 503),
    (IngestError, 422),
    (ResolutionError, 422),
    (PricingError, 422),
    (CopilotError, 422),
    (BackendUnavailableError, 503),
    (EmbedderUnavailableError, 503),
]
"""HTTP status of each domain error class (first match wins); anything else is a 500 with code ``internal``."""


class ErrorBody(BaseModel):
    """What went wrong, for a program (``code``) and for a person (``message``)."""

    code: str = Field(description="Stable machine-readable code, e.g. not_found, version_conflict, validation_failed.")
    message: str = Field(description="What went wrong and what to do, in words.")
    details: dict[str, Any] = Field(default_factory=dict, description="Structured context: field paths, rows, ids.")


class ErrorResponse(BaseModel):
    """The one error shape of the API."""

    error: ErrorBody


class ApiError(SalesCopilotError):
    """An error raised by the HTTP layer itself (auth, roles, upload size) with its status."""

    def __init__(self, status: int, code: str, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.code = code


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The JSON response of an error."""
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details or {}))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def status_of(error: SalesCopilotError) -> int:
    """HTTP status for a domain error."""
    if isinstance(error, ApiError):
        return error.status
    return next((status for cls, status in STATUS if isinstance(error, cls)), 500)


def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SalesCopilotError)
    status = status_of(exc)
    details = dict(exc.details)
    if status >= 500:
        log.error("request failed: %s", exc.code, exc_info=exc)
        details["request_id"] = current_request_id()
    if isinstance(exc, VersionConflictError):
        details["current"] = exc.current.model_dump(mode="json", exclude={"tenant"})
    return error_response(status, exc.code, exc.message, details)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    """422 for well-formed JSON that fails the model (naming each field path); 400 for a body that is not JSON."""
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    unparsed = next((e for e in raw if e.get("type") == "json_invalid"), None)
    if unparsed is not None:
        position = (unparsed.get("loc") or ("body", "?"))[-1]
        reason = (unparsed.get("ctx") or {}).get("error", "invalid JSON")
        return error_response(400, "invalid_request", f"the body is not valid JSON: {reason} (at character {position})")
    if any(tuple(e.get("loc", ())) == ("body",) and isinstance(e.get("input"), bytes) for e in raw):
        return error_response(400, "invalid_request", "the body must be JSON (Content-Type: application/json)")
    errors = [
        {"path": ".".join(str(p) for p in e.get("loc", ())), "message": _message(e), "type": e.get("type", "")}
        for e in raw
    ]
    first = errors[0] if errors else {"path": "", "message": "invalid request"}
    return error_response(422, "invalid_request", f"{first['path']}: {first['message']}", {"errors": errors})


def _message(error: Any) -> str:
    """Pydantic's message, with an unknown field said in words a client developer acts on."""
    if error.get("type") == "extra_forbidden":
        return "unknown field: this request has no such field (check its name against the API documentation)"
    return str(error.get("msg", ""))


def _allowed_methods(request: Request) -> str:
    """Every method the OpenAPI document lists for the request's path (routers report only their own)."""
    for template, operations in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            return ", ".join(sorted(m.upper() for m in operations))
    return ""


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    code = codes.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    message = str(exc.detail)
    if exc.status_code == 400 and message == "There was an error parsing the body":  # FastAPI's words for bad bytes
        message = "the body could not be read: it is not UTF-8 JSON (or not a well-formed multipart form)"
    return error_response(exc.status_code, code, message, headers=headers)


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    return unexpected(exc)


def unexpected(exc: Exception) -> JSONResponse:
    """A 500 for an error no handler took: logged with its traceback; the client gets only the request id."""
    log.error("unexpected error", exc_info=exc)
    request_id = current_request_id()
    return error_response(
        500,
        "internal",
        f"internal error; it has been logged (request id {request_id})",
        {"request_id": request_id} if request_id else None,
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one JSON shape."""
    app.add_exception_handler(SalesCopilotError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
