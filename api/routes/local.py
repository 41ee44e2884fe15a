"""The local admin channel: the CLI's commands run by the service that holds the embedded store (``api.local_admin``).

Not part of the public API (left out of the OpenAPI document): it admits only the token of the data folder's
``local-admin.json``, only from a loopback address, and never through a proxy.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Header, Request

from api import local_admin
from api.auth import State, WriteSlot
from api.errors import ApiError
from api.local_admin import CliRequest, CliResult, LocalAdmin

router = APIRouter(include_in_schema=False)


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


@router.post(local_admin.ROUTE.removeprefix("/v1"), dependencies=[WriteSlot])
def run_cli(
    body: CliRequest,
    request: Request,
    state: State,
    token: Annotated[str | None, Header(alias=local_admin.TOKEN_HEADER)] = None,
) -> CliResult:
    """Run a command line of the CLI over the service's store; answer its exit code, stdout and stderr."""
    check_caller(request, token)
    return local_admin.run_command(state, body)
