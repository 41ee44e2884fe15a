"""The local admin channel: the CLI's commands run by the service that holds the embedded store (``api.local_admin``).

Not part of the public API (left out of the OpenAPI document): it admits only the token of the data folder's
``local-admin.json``, only from a loopback address, and never through a proxy.
"""

from __future__ import annotations

import json
import queue
import secrets
import threading
from collections.abc import AsyncIterator
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from api import local_admin
from api.auth import State, WriteSlot
from api.errors import ApiError
from api.local_admin import CliRequest, CliResult, LocalAdmin
from api.state import ServiceState

router = APIRouter(include_in_schema=False)

STREAM_FLUSH_S = 0.05
"""How long a streamed command's output is gathered before it is sent (a progress display writes many small bits)."""


def check_caller(request: Request, token: str | None) -> None:
    """Refuse a caller of the channel: off in this service (404), not on loopback (403), a wrong token (401)."""
    admin: LocalAdmin | None = getattr(request.app.state, "local_admin", None)
    if admin is None:
        raise ApiError(404, "not_found", "this service has no local admin channel (not an embedded store on loopback)")
    if not local_admin.admits(request.client.host if request.client else None, request.scope["headers"]):
        raise ApiError(403, "forbidden", "the local admin channel answers only to a client on this machine's "
                       "loopback address, not through a proxy")  # fmt: skip
    if token is None or not secrets.compare_digest(token.encode(), admin.token.encode()):
        raise ApiError(401, "invalid_local_token", f"no or wrong {local_admin.TOKEN_HEADER} token (see "
                       f"{local_admin.FILE_NAME} in the data folder)")  # fmt: skip


@router.post(local_admin.ROUTE.removeprefix("/v1"), dependencies=[WriteSlot], response_model=None)
def run_cli(
    body: CliRequest,
    request: Request,
    state: State,
    token: Annotated[str | None, Header(alias=local_admin.TOKEN_HEADER)] = None,
) -> Response:
    """Run a command line of the CLI over the service's store; answer its exit code, stdout and stderr.

    With ``stream``, the output goes out as it is written, one JSON object per line, and the last line is the
    result; a cancel (``/v1/local/cli/cancel``) or a closed connection stops the command at its next step.
    """
    check_caller(request, token)
    if not body.stream:
        return JSONResponse(local_admin.run_command(state, body).model_dump())
    return StreamingResponse(_streamed(state, body), media_type="application/x-ndjson")


@router.post(local_admin.CANCEL_ROUTE.removeprefix("/v1"))
def cancel_cli(
    request: Request, token: Annotated[str | None, Header(alias=local_admin.TOKEN_HEADER)] = None
) -> dict[str, bool]:
    """Cancel the command line the service is running for the CLI (it stops at its next step, before it writes)."""
    check_caller(request, token)
    return {"cancelled": local_admin.cancel_running()}


async def _streamed(state: ServiceState, body: CliRequest) -> AsyncIterator[bytes]:
    """Run the command in a thread of its own and send its output as it comes; cancel it if the CLI goes away."""
    events: queue.SimpleQueue[tuple[str, str] | CliResult] = queue.SimpleQueue()
    session = local_admin.new_session(state, body, lambda which, text: events.put((which, text)))

    def run() -> None:
        try:
            result = local_admin.run_command(state, body, session=session)
        except Exception as e:  # noqa: BLE001 - answered as the command's failure
            result = CliResult(exit_code=1, stdout="", stderr=f"the service could not run the command: {e}\n")
        events.put(result)

    threading.Thread(target=run, name="local-cli", daemon=True).start()
    finished = False
    try:
        while True:
            first = await anyio.to_thread.run_sync(events.get, abandon_on_cancel=True)
            batch = [first]
            await anyio.sleep(STREAM_FLUSH_S)  # gather what follows at once (a progress bar writes in bits)
            while True:
                try:
                    batch.append(events.get_nowait())
                except queue.Empty:
                    break
            runs: list[list[str]] = []  # consecutive writes to one stream joined, in the order written
            for item in batch:
                if isinstance(item, CliResult):
                    finished = True
                    yield _lines(runs) + _line({"result": item.model_dump()})
                    return
                which, text = item
                if runs and runs[-1][0] == which:
                    runs[-1][1] += text
                else:
                    runs.append([which, text])
            yield _lines(runs)
    finally:
        if not finished:
            session.cancelled.set()  # the CLI went away (closed the connection): stop at the next step


def _line(record: dict[str, object]) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode()


def _lines(runs: list[list[str]]) -> bytes:
    return b"".join(_line({which: text}) for which, text in runs)
