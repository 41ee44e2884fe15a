"""The quote screen's price check answered on the event loop without FastAPI's request machinery.

A quote screen checks a price on every keystroke. Measured with ``eval/bench_api.py`` (server CPU per request),
FastAPI's per-request work around the check — solving the route's dependencies, parsing the body into a dict and
validating it, the response machinery — cost more than the check itself. This ASGI layer answers the common case
directly: a ``POST /v1/price-checks`` with a JSON body, a live key of a pricing role, the tenant's indexes built and
the caller's territory known. The body is validated by the same ``PriceCheckRequest`` model (pydantic's JSON mode)
and the answer is made by the same function as the route's (``api.routes.pricing.answer``), so the bytes are the
same. Anything else — a bad or missing key, a role that may not check prices, a body that does not validate, indexes
still to build, a territory to read — goes to the FastAPI route unchanged, with the body replayed, so every error is
the route's own (status, code, message). It sits inside the request-id and body-limit middlewares, so requests keep
their id, access record and size limit.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import PRICING, cached_territory
from api.keys import InvalidKeyError
from api.logs import set_tenant
from api.routes.pricing import PriceCheckRequest, answer
from api.state import ServiceState
from graph.errors import SalesCopilotError

PATH = "/v1/price-checks"
_JSON = b"application/json"


class PriceCheckFastPath:
    """ASGI middleware: answers a well-formed price check of a known caller itself, passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, or hand it to the app (the body replayed when it was read)."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if not headers.get(b"content-type", b"").startswith(_JSON):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left, or the body limit cut it off
                await self.app(scope, _replay([], message, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        body = self._answer(scope, headers, raw)
        if body is None:
            await self.app(scope, _replay([raw], None, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", _JSON), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _answer(scope: Scope, headers: dict[bytes, bytes], raw: bytes) -> bytes | None:
        """The answer's bytes, or None when the route must answer (an error, or work off the event loop)."""
        state: ServiceState | None = getattr(scope["app"].state, "service", None)
        token = headers.get(b"x-api-key")
        if state is None or token is None:
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
        except SalesCopilotError:
            return None  # the route answers it again and turns the error into its HTTP answer


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
