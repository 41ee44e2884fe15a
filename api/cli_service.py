"""``salescopilot serve`` and ``salescopilot keys``: running the API and managing its keys."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from api import local_admin
from api.cli_output import Table, make_console, terminal_of
from api.keys import ROLES, KeyStore
from api.local_admin import LocalAdmin
from api.logs import configure_logging
from api.settings import Settings, export_for_workers
from graph.errors import BackendUnavailableError, SalesCopilotError
from retrieval.threads import limit_blas_threads

console = make_console()
err_console = make_console(stderr=True)
keys_app = typer.Typer(
    help="API keys: each carries a tenant and a role (rep, trainer, admin, service, safety); a rep key its rep."
)


@contextmanager
def _keys(ctx: typer.Context) -> Iterator[KeyStore]:
    """The key store for one command.

    While a service runs on the data folder, the command goes through it (``api.local_admin``), so that a new or
    revoked key counts in the service at once rather than after its key cache expires; in the service, the service's
    own key store is used.
    """
    session = local_admin.current_session()
    if session is not None:
        yield session.state.keys
        return
    from api.stores import open_keys, open_store

    settings: Settings = ctx.obj
    _through_running_service(ctx, settings)
    try:
        store = open_store(settings)
    except SalesCopilotError as e:
        err_console.print(f"[red]error[/red] {escape(f'[{e.code}] {e.message}')}", soft_wrap=True)
        raise typer.Exit(3 if isinstance(e, BackendUnavailableError) else 1) from e
    try:
        try:
            keys = open_keys(settings, store)
        except SalesCopilotError as e:
            err_console.print(f"[red]error[/red] {escape(f'[{e.code}] {e.message}')}", soft_wrap=True)
            raise typer.Exit(1) from e
        yield keys
    finally:
        store.close()


def _through_running_service(ctx: typer.Context, settings: Settings) -> None:
    """Run the command line in the service recorded in the data folder, if one answers, and exit with its code."""
    argv = ctx.find_root().meta.get(local_admin.ARGV)
    if settings.backend != "embedded" or argv is None or local_admin.read(settings.data_dir) is None:
        return
    try:
        result = local_admin.forward(
            settings.data_dir,
            argv,
            holder_pid=None,
            terminal=terminal_of(console, err_console),
            command=ctx.find_root().command,
            sink=_echo,
        )
    except local_admin.ServiceUnreachableError:
        return  # no service (a stale file): the store is opened directly
    raise typer.Exit(result.exit_code)


def _echo(which: str, text: str) -> None:
    """Write a command's output as the service streams it (``out``: stdout, else stderr), at once."""
    stream = sys.stdout if which == "out" else sys.stderr
    stream.write(text)
    stream.flush()


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Option(help="Tenant the key may read and write.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option(help="Who or what holds it, e.g. 张三 or 报价屏-杭州.")],
    rep: Annotated[str | None, typer.Option("--rep", help="Rep keys: the rep's id (代表编码).")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Also append 'role tenant key' to this file (mode 600).")
    ] = None,
) -> None:
    """Create a key and print it once; only its SHA-256 digest is stored."""
    with _keys(ctx) as store:
        try:
            record, text = store.create(tenant, role, name, rep_id=rep)
        except SalesCopilotError as e:
            err_console.print(f"[red]error[/red] {e.message}")
            raise typer.Exit(2) from e
    if output is not None:
        output.touch(mode=0o600, exist_ok=True)
        with output.open("a", encoding="utf-8") as f:
            f.write(f"{record.role}\t{record.tenant}\t{text}\n")
    bound = f", rep {record.rep_id}" if record.rep_id else ""
    console.print(f"key {record.id} ({record.role}, {record.tenant}{bound}) — shown once, store it now:")
    print(text)


@keys_app.command("list")
def keys_list(
    ctx: typer.Context,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Key records (never the secrets), newest first."""
    with _keys(ctx) as store:
        found = store.list(tenant)
    if as_json:
        rows = [{**dataclasses.asdict(k), "created_at": k.created_at.isoformat(),
                 "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None} for k in found]  # fmt: skip
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(found)} API key(s)")
    for column in ("id", "tenant", "role", "rep", "name", "created", "revoked"):
        table.add_column(column)
    for k in found:
        table.add_row(k.id, k.tenant, k.role, k.rep_id or "", k.name, f"{k.created_at:%Y-%m-%d %H:%M}",
                      f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "")  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="The key's id (see keys list).")]
) -> None:
    """Revoke a key; requests with it are refused from now on."""
    with _keys(ctx) as store:
        try:
            record = store.revoke(key_id)
        except SalesCopilotError as e:
            err_console.print(f"[red]error[/red] {e.message}")
            raise typer.Exit(4) from e
    console.print(f"revoked {record.id} ({record.role}, {record.tenant})")


WORKER_HEALTHCHECK_S = 120
"""How long uvicorn waits for a worker's answer before it kills and restarts it (its default, 5 s, restarted workers
forever on a busy machine while they were still importing the models)."""


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Listen address (default: SKG_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: SKG_PORT or 8000).")] = None,
    log_level: Annotated[str, typer.Option(help="Log level of the service and uvicorn.")] = "info",
    log_json: Annotated[bool, typer.Option("--log-json", help="One JSON object per log line.")] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="API worker processes on one Neo4j database (the embedded store allows one process: 1).",
        ),
    ] = 1,
) -> None:
    """Run the API (OpenAPI at /docs): the store and models opened once per process.

    ``/v1/health`` answers at once; ``/v1/ready`` says 503 ``starting`` until the indexes are built (from the saved
    snapshot plus the change log since it) and caught up with the change log. With ``--workers N`` a worker accepts
    connections only once its indexes are built (no request waits on a worker that is starting). Each process
    follows the log every ``SKG_FEED_POLL_S`` seconds, so a write made through any worker (or the CLI) reaches every
    worker's answers.

    Logs go to stderr, one record per request (``api.access``: request id, tenant, route, status, duration) and the
    service's own records with the same request id.
    """
    import uvicorn

    from api.app import create_app

    configure_logging(log_level, json_lines=log_json)
    settings: Settings = ctx.obj
    if workers > 1 and settings.backend != "neo4j":
        err_console.print(
            f"[red]error[/red] --workers {workers} needs the Neo4j backend (SKG_BACKEND=neo4j): the embedded store "
            "can be open in one process at a time, which is its only writer. Run one worker (the default), or "
            "move the data to a Neo4j server (salescopilot export, then import with SKG_BACKEND=neo4j).",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    host, port = host or settings.host, port or settings.port
    channel = None
    if settings.backend == "embedded":
        # the CLI beside the service runs its commands here, in the CLI's working directory: make this process's
        # own paths independent of it; and open the local admin channel when a loopback address reaches the service
        settings = settings.model_copy(update={
            "data_dir": settings.data_dir.resolve(),
            "keys_file": settings.keys_file.resolve() if settings.keys_file else None,
        })  # fmt: skip
        channel = LocalAdmin.for_listener(host, port)
        if channel is None:
            err_console.print(
                f"note: listening on {host} only, not on loopback: the CLI cannot run its commands through this "
                "service (they need it stopped while it holds the embedded store)",
                soft_wrap=True,
            )
    plural = f", {workers} workers" if workers > 1 else ""
    console.print(
        f"serving on http://{host}:{port} (docs: http://{host}:{port}/docs, data: {settings.data_dir}{plural})"
    )
    # The event loop answers price checks while worker threads run curation writes and ingests in Python; a
    # shorter switch interval (SKG_SWITCH_INTERVAL_MS, 0.5 ms) hands the GIL back to the loop sooner than Python's 5 ms.
    sys.setswitchinterval(settings.switch_interval_ms / 1000)
    limit_blas_threads(settings.blas_threads)  # small matrix products: one BLAS thread each (SKG_BLAS_THREADS)
    if workers > 1:
        export_for_workers(settings, log_level=log_level, log_json=log_json)  # the workers log alike
        uvicorn.run(
            "api.app:worker_app", factory=True, workers=workers, host=host, port=port, log_level=log_level,
            access_log=False, timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )  # fmt: skip
        return
    app = create_app(settings, background=True, local_admin=channel)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``keys`` to the command line."""
    app.command()(serve)
    app.add_typer(keys_app, name="keys")
