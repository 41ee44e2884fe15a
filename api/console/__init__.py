"""The web console: static pages (HTML, CSS, JavaScript modules) served by the API's own app.

``/`` is the console's single page and ``/console/…`` its assets; the pages call only the public ``/v1`` API with the
key the user logs in with, so the role and tenant rules are the API's. No build step: the files under ``static/`` are
served as they are.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
"""Folder of the console's files."""

ASSETS_PREFIX = "/console"

_HEADERS = {
    # Only this origin's scripts, styles and API; a key typed into the console never leaves for another host.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


class _Assets(StaticFiles):
    """Static files that the browser revalidates on every load (ETag), so an upgrade never runs stale scripts."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:  # fmt: skip
        """The file, with ``Cache-Control: no-cache`` and ``nosniff``."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


async def console_page() -> FileResponse:
    """The console's single HTML page (its router lives in the URL fragment, so one page serves every view)."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=_HEADERS)


async def favicon() -> FileResponse:
    """The console's icon, also at ``/favicon.ico`` where browsers ask for it unprompted (an SVG: one small file)."""
    headers = {"Cache-Control": "max-age=86400", "X-Content-Type-Options": "nosniff"}
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml", headers=headers)


def mount_console(app: FastAPI) -> None:
    """Serve the console at ``/`` and its assets under ``/console``, leaving every other path to the API.

    Only these paths and ``/favicon.ico`` are taken (no catch-all mount at ``/``), so unknown ``/v1`` paths keep the
    API's own 404 and 405 answers, and the console stays out of the OpenAPI document.
    """
    app.add_api_route("/", console_page, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route("/favicon.ico", favicon, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount(ASSETS_PREFIX, _Assets(directory=STATIC_DIR), name="console")
