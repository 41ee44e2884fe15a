"""The quote screen's price check answered on the event loop in front of FastAPI's request machinery.

A quote screen checks a price on every keystroke. Measured with ``eval/bench_api.py`` (server CPU per request),
FastAPI's per-request work around the check — solving the route's dependencies, parsing the body into a dict and
validating it, the response machinery — cost more than the check itself; and before any route, FastAPI asks on every
request whether OpenTelemetry is configured (about 28 µs: three environment reads), Starlette wraps the request in
its error and body-limit layers, and the service's own layers (request id, access record, body limit) each wrap the
channels again. ``ServiceApp`` (the service's FastAPI app) hands a ``POST /v1/price-checks`` to this handler before
any of that; the handler answers the common case directly: a JSON body within the JSON size limit, a live key of a
pricing role, the tenant's indexes built and the caller's territory known. It does itself what the layers it skips
do for such a request: the request id (the client's plausible ``X-Request-ID`` or a new one, sent back in the header
and carried by the request's log records), the tenant on the log records, and one access record. The body is
validated by the same ``PriceCheckRequest`` model (pydantic's JSON mode) and the answer is made by the same function
as the route's (``api.routes.pricing.answer``), so the bytes are the same.

Anything else goes to the full application unchanged, with the body replayed, so every error is the route's own
(status, code, message, request id): a bad or missing key, a role that may not check prices, a body that does not
validate or is too large, indexes still to build, a rep's territory to read, a check that raises, a browser's
cross-origin request when CORS is configured (the CORS layer adds its headers), and every request when FastAPI's
OpenTelemetry tracing was configured at start (traced by FastAPI).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import PRICING, cached_territory
from api.keys import InvalidKeyError
from api.logs import REQUEST_ID, TENANT, log_access, request_id, set_tenant
from api.routes.pricing import PriceCheckRequest, answer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.state import ServiceState

PATH = "/v1/price-checks"
ROUTE = PATH
"""The route template of the access record (the path has no parameters)."""
_JSON = b"application/json"


class PriceCheckFastPath:
    """Answers a well-formed price check of a known caller itself, passes everything else to ``app``."""

    def __init__(self, service: FastAPI, app: ASGIApp, *, json_bytes: int, cors: bool) -> None:
        """``service``: the app whose state holds the service; ``app``: the full application, for everything else.

        ``json_bytes``: the JSON body limit (a larger body goes to ``app``, which answers 413); ``cors``: whether a
        CORS layer is configured (then requests with an ``Origin`` go to ``app``).
        """
        self.service = service
        self.app = app
        self.json_bytes = json_bytes
        self.cors = cors
        self.enabled = True
        """False when FastAPI traces requests (set at start): every request then goes through FastAPI."""

    def takes(self, scope: Scope) -> bool:
        """Whether the request is one this handler tries (a POST to the price-check path)."""
        return self.enabled and scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, or hand it to the app (the body replayed when it was read)."""
        started = time.perf_counter()
        content_type = token = given_id = length = None
        origin = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"x-api-key":
                token = value
            elif name == b"x-request-id":
                given_id = value
            elif name == b"content-length":
                length = value
            elif name == b"origin":
                origin = True
        if (
            token is None
            or content_type is None
            or not content_type.startswith(_JSON)
            or (origin and self.cors)
            or (length is not None and (not length.isdigit() or int(length) > self.json_bytes))
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                await self.app(scope, _replay(chunks, message, receive), send)
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self.json_bytes:  # the app's body limit answers 413 on the bytes replayed
                await self.app(scope, _replay(chunks, None, receive), send)
                return
            if not message.get("more_body", False):
                break
        rid = request_id(given_id)
        id_token, tenant_token = REQUEST_ID.set(rid), TENANT.set(None)
        try:
            body = self._answer(token, b"".join(chunks))
            if body is not None:
                await _respond(send, body, rid, started)
        finally:  # the app's request layer makes the request's context itself
            TENANT.reset(tenant_token)
            REQUEST_ID.reset(id_token)
        if body is None:
            await self.app(scope, _replay(chunks, None, receive), send)

    def _answer(self, token: bytes, raw: bytes) -> bytes | None:
        """The answer's bytes, or None when the app must answer (an error, or work off the event loop)."""
        state: ServiceState | None = getattr(self.service.state, "service", None)
        if state is None:
            return None
        try:
            key = state.keys.verify(token.decode("latin-1"))
        except InvalidKeyError:
            return None
        if key.role not in PRICING:
            return None
        if not state.tenant(key.tenant).is_current():
            return None
        area = cached_territory(state, key)
        if area is None:
            return None
        try:
            body = PriceCheckRequest.model_validate_json(raw)
        except ValidationError:
            return None
        set_tenant(key.tenant)  # the request's log records carry it, as through the route
        try:
            return answer(state, key, body, area)
        except Exception:  # noqa: BLE001 - the route answers it again: its own error, or a 500 with the request id
            return None


async def _respond(send: Send, body: bytes, rid: str, started: float) -> None:
    """Send the answer with the request id, and write the access record (status 500 if sending failed)."""
    status = 500
    try:
        headers = [
            (b"content-type", _JSON),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", rid.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        status = 200
        await send({"type": "http.response.body", "body": body})
    finally:
        log_access(rid, "POST", ROUTE, status, started)


def _replay(chunks: list[bytes], then: Message | None, receive: Receive) -> Receive:
    """A receive channel that gives the body already read, then ``then``, then what the client sends next."""
    pending: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}] if chunks else []
    if then is not None:
        pending.append(then)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
