"""``salescopilot``: the command line. It parses arguments, calls the packages and prints; the work lives below."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from api import cli_service, local_admin
from api.cli_output import CliConsole, Table, make_console, terminal_of
from api.cli_service import register as register_service_commands
from api.services import TenantServices, services_for
from api.settings import Settings, get_settings
from api.stores import StoreInUseError, open_store
from copilot.briefing import build_briefing
from copilot.cases import WEAK_LABEL, CustomerProfile, suggest_cases
from copilot.errors import CaseProfileError
from copilot.faq import ALGORITHMS, DEFAULT_THRESHOLD, CatalogueNames, propose_faqs
from copilot.render import to_markdown, to_pdf
from copilot.safety import list_reports as list_safety_reports
from graph.errors import BackendUnavailableError, InvalidRowError, NotFoundError, SalesCopilotError
from graph.model import Customer, Rep
from graph.ports import GraphStore
from graph.transfer import export_jsonl, import_jsonl
from ingest.csv_out import csv_cell
from ingest.errors import IngestError, UnknownFileTypeError, ValidationFailed
from ingest.formats import FILE_TYPES_BY_NAME
from ingest.formulary import apply_edition, diff_as_json, diff_files, formulary_states, load_edition
from ingest.posters.photo_store import PhotoStore
from pricing_guard.guard import QuoteLine, check_quote
from retrieval.embedders import CachedEmbedder, make_embedder
from retrieval.hybrid import SearchFilters

if TYPE_CHECKING:  # the ingest pipeline (pandas) is imported by the commands that ingest, not by every start
    from ingest.pipeline import IngestReport


class _Commands(TyperGroup):
    """The root group: keeps the arguments as typed, for a command that goes through the running service."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        """Record ``args`` in ``ctx.meta`` before click consumes them."""
        ctx.meta[local_admin.ARGV] = list(args)
        return super().parse_args(ctx, args)


app = typer.Typer(
    name="salescopilot",
    cls=_Commands,
    help="Sales knowledge graph and copilot: manage the graph store.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = make_console()
err_console = make_console(stderr=True)

EXIT_CODES: dict[type[SalesCopilotError], int] = {InvalidRowError: 2, NotFoundError: 4, BackendUnavailableError: 3}


def _exit_code(error: SalesCopilotError) -> int:
    for cls, code in EXIT_CODES.items():
        if isinstance(error, cls):
            return code
    return 1


@app.callback()
def _global(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data folder (default: SKG_DATA_DIR or ./data).")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="Graph backend: embedded or neo4j (default: SKG_BACKEND).")
    ] = None,
) -> None:
    """Options shared by every command."""
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if backend is not None:
        if backend not in ("embedded", "neo4j"):
            raise typer.BadParameter("must be 'embedded' or 'neo4j'", param_hint="--backend")
        overrides["backend"] = backend
    session = local_admin.current_session()
    if session is not None:  # run by the service for a CLI beside it: the service's settings, the CLI's data dir
        overrides.pop("backend", None)
        ctx.obj = session.settings.model_copy(update=overrides)
        return
    ctx.obj = get_settings().model_copy(update=overrides)


def _print_error(error: SalesCopilotError) -> None:
    message = local_admin.as_typed(error.message)  # a file named as typed, also through the service
    err_console.print(f"[red]error[/red] {escape(f'[{error.code}] {message}')}", soft_wrap=True)


@contextmanager
def _store(ctx: typer.Context, *, needs_stop: str | None = None) -> Iterator[GraphStore]:
    """The graph store for one command, closed after it.

    When a running service holds the embedded store, the whole command line is run by that service instead
    (``api.local_admin``) and its output printed here; ``needs_stop`` is the reason a command may not go through
    the service (the CLI then says that the service must be stopped, and why).
    In the service (a session), the service's own open store is used and left open.
    """
    session = local_admin.current_session()
    if session is not None:
        if needs_stop is not None:
            _refuse_in_service(ctx, needs_stop)
        try:
            yield session.state.store
        except SalesCopilotError as e:
            _print_error(e)
            raise typer.Exit(_exit_code(e)) from e
        return
    settings: Settings = ctx.obj
    try:
        store = open_store(settings)
    except StoreInUseError as e:
        _through_service(ctx, e, needs_stop)
    except SalesCopilotError as e:
        _print_error(e)
        raise typer.Exit(_exit_code(e)) from e
    if store.backend == "embedded":
        local_admin.remove_stale(settings.data_dir)  # this process holds the store: no service runs on it
    try:
        yield store
    except SalesCopilotError as e:
        _print_error(e)
        raise typer.Exit(_exit_code(e)) from e
    finally:
        store.close()


def _command_line(ctx: typer.Context) -> str:
    return " ".join(ctx.command_path.split()[1:]) or "this command"


def _refuse_in_service(ctx: typer.Context, why: str) -> None:
    err_console.print(
        f"[red]error[/red] [store_in_use] `salescopilot {escape(_command_line(ctx))}` needs the service stopped: "
        f"{escape(why)}. Stop `salescopilot serve` for this data folder and run the command again.",
        soft_wrap=True,
    )
    raise typer.Exit(3)


def _through_service(ctx: typer.Context, error: StoreInUseError, needs_stop: str | None) -> None:
    """Run the command line in the service that holds the store and print its output; always exits."""
    settings: Settings = ctx.obj
    if needs_stop is not None:
        _refuse_in_service(ctx, needs_stop)
    argv = ctx.find_root().meta.get(local_admin.ARGV)
    if argv is None:  # not parsed by this application's group (cannot happen through the console script)
        _print_error(error)
        raise typer.Exit(_exit_code(error))
    try:
        result = local_admin.forward(
            settings.data_dir,
            argv,
            holder_pid=error.pid,
            terminal=terminal_of(console, err_console),
            command=ctx.find_root().command,
            sink=echo,
        )
    except local_admin.ServiceUnreachableError as e:
        _print_error(error)
        err_console.print(f"(not sent to a service: {escape(str(e))})", soft_wrap=True)
        raise typer.Exit(_exit_code(error)) from e
    raise typer.Exit(result.exit_code)


def echo(which: str, text: str) -> None:
    """Write a command's output as the service streams it (``out``: stdout, else stderr), at once."""
    stream = sys.stdout if which == "out" else sys.stderr
    stream.write(text)
    stream.flush()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console
    )


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the graph store (schema included) if it does not exist, and say where it is."""
    with _store(ctx) as store:
        where = ctx.obj.graph_dir if store.backend == "embedded" else ctx.obj.neo4j_uri
        console.print(f"graph store ready: backend={store.backend} at {where}")


@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
) -> None:
    """Count nodes and relationships per type and tenant."""
    with _store(ctx) as store:
        counts = store.counts(tenant)
        if as_json:
            print(json.dumps({"backend": store.backend, "counts": counts}, ensure_ascii=False, indent=2))
            return
        table = Table(title=f"graph store ({store.backend})")
        table.add_column("tenant")
        table.add_column("type")
        table.add_column("count", justify="right")
        for t, per_type in counts.items():
            for name, n in per_type.items():
                table.add_row(t, name, f"{n:,}")
        if not counts:
            table.add_row("—", "(empty)", "0")
        console.print(table)


def _tracked(progress: Progress) -> Callable[[str, int], None]:
    tasks: dict[str, Any] = {}

    def on_rows(type_name: str, n: int) -> None:
        if type_name not in tasks:
            tasks[type_name] = progress.add_task(type_name, total=None)
        progress.advance(tasks[type_name], n)

    return on_rows


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder to write nodes/*.jsonl and edges/*.jsonl into.")],
    tenant: Annotated[list[str] | None, typer.Option(help="Only these tenants (repeatable).")] = None,
    neo4j_import: Annotated[
        bool,
        typer.Option(
            "--neo4j-import",
            help="Write the CSV files of `neo4j-admin database import` instead (a new or empty folder), for "
            "`salescopilot --backend neo4j bulk-load`: the fast first load of an empty Neo4j database.",
        ),
    ] = False,
) -> None:
    """Export the graph as JSON Lines, one file per type (backup, or to move between backends)."""
    if neo4j_import:
        from graph.neo4j_bulk import COMMAND_FILE, write_import_files  # the Neo4j driver, only for this option

        with _store(ctx) as store, _progress() as progress:
            files = write_import_files(store, directory, tenants=tenant or None, progress=_tracked(progress))
        total = sum(sum(v.values()) for v in files.rows.values())
        console.print(
            f"wrote {total:,} nodes and relationships as neo4j-admin import files to {directory} "
            f"(command: {directory / COMMAND_FILE}); load them into an EMPTY database with "
            f"`salescopilot --backend neo4j bulk-load {directory} --neo4j-home NEO4J_HOME`",
            soft_wrap=True,
        )
        return
    with _store(ctx) as store, _progress() as progress:
        report = export_jsonl(store, directory, tenants=tenant or None, progress=_tracked(progress))
    total = sum(sum(v.values()) for v in report.rows.values())
    console.print(f"exported {total:,} rows to {local_admin.as_typed(str(directory))}")


@app.command("bulk-load")
def bulk_load_cmd(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder written by `salescopilot export --neo4j-import`.")],
    neo4j_home: Annotated[
        Path, typer.Option("--neo4j-home", help="The Neo4j installation of the server (run on its machine).")
    ],
    neo4j_cmd: Annotated[
        Path | None, typer.Option("--neo4j", help="Its `neo4j` launcher (default: NEO4J_HOME/bin/neo4j).")
    ] = None,
    neo4j_admin: Annotated[
        Path | None,
        typer.Option("--neo4j-admin", help="Its `neo4j-admin` launcher (default: NEO4J_HOME/bin/neo4j-admin)."),
    ] = None,
) -> None:
    """Load import files into the EMPTY Neo4j database of the settings (refused otherwise).

    Stops the server, runs `neo4j-admin database import full`, starts it, builds the schema and checks the counts.
    """
    from graph.neo4j_bulk import bulk_load  # the Neo4j driver, only for this command
    from graph.neo4j_store import Neo4jGraphStore

    settings: Settings = ctx.obj
    if not (settings.neo4j_uri and settings.neo4j_user and settings.neo4j_password):
        err_console.print("[red]error[/red] bulk-load needs SKG_NEO4J_URI, SKG_NEO4J_USER and SKG_NEO4J_PASSWORD")
        raise typer.Exit(3)
    uri, user, password = settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password.get_secret_value()

    def connect() -> Neo4jGraphStore:
        return Neo4jGraphStore(uri, user, password, database=settings.neo4j_database)

    try:
        report = bulk_load(
            directory,
            connect=connect,
            home=neo4j_home,
            neo4j=neo4j_cmd or neo4j_home / "bin" / "neo4j",
            neo4j_admin=neo4j_admin or neo4j_home / "bin" / "neo4j-admin",
            database=settings.neo4j_database,
        )
    except SalesCopilotError as e:
        _print_error(e)
        raise typer.Exit(_exit_code(e)) from e
    total = sum(sum(v.values()) for v in report.counts.values())
    steps = ", ".join(f"{k} {v} s" for k, v in report.seconds.items())
    console.print(
        f"loaded {total:,} nodes and relationships into '{settings.neo4j_database}' ({steps}; the importer's own "
        f"time {report.importer_time or '?'}); counts and change-feed heads match the files",
        soft_wrap=True,
    )


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder written by `salescopilot export`.")],
) -> None:
    """Import a JSON Lines export; validates every file before writing, re-running changes nothing."""
    if not directory.is_dir():
        err_console.print(f"[red]error[/red] {local_admin.as_typed(str(directory))} is not a folder")
        raise typer.Exit(2)
    with _store(ctx) as store, _progress() as progress:
        report = import_jsonl(store, directory, progress=_tracked(progress))
    total = sum(sum(v.values()) for v in report.rows.values())
    console.print(f"imported {total:,} rows from {local_admin.as_typed(str(directory))}")


def _summary(report: IngestReport) -> Table:
    table = Table(title=f"ingest summary ({report.seconds:.1f} s)")
    for name in ("file", "type", "rows read", "loaded", "skipped", "merged", "seconds"):
        table.add_column(name, justify="left" if name in ("file", "type") else "right")
    for f in report.files:
        table.add_row(
            local_admin.as_typed(f.file),
            f.file_type,
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_skipped:,}",
            f"{f.merged:,}",
            f"{f.seconds:.2f}",
        )
    return table


def _writes(report: IngestReport) -> Table:
    table = Table(title="graph writes")
    for name in ("type", "received", "created", "updated", "unchanged"):
        table.add_column(name, justify="left" if name == "type" else "right")
    for name, w in report.writes.items():
        table.add_row(name, f"{w.received:,}", f"{w.created:,}", f"{w.updated:,}", f"{w.unchanged:,}")
    return table


TenantOption = Annotated[str, typer.Option(help="Tenant (company of the group) that owns the data.")]


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (CSV, XLSX, JSON, JSON Lines, PDF).")],
    tenant: TenantOption,
    file_type: Annotated[
        str | None,
        typer.Option(
            "--type", help=f"File type, inferred from the header when omitted: {', '.join(FILE_TYPES_BY_NAME)}."
        ),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option(help="Load the good rows; write the rejected ones with reasons to --rejects.")
    ] = False,
    rejects: Annotated[Path, typer.Option(help="Folder for <file>.rejects.csv.")] = Path("rejects"),
) -> None:
    """Validate and load company files; a file with any error is rejected whole and nothing is written."""
    if file_type is not None and file_type not in FILE_TYPES_BY_NAME:
        raise typer.BadParameter(f"must be one of {', '.join(FILE_TYPES_BY_NAME)}", param_hint="--type")
    with _store(ctx) as store, _progress() as progress:
        task = progress.add_task("ingest", total=None)

        def on_step(step: str, done: int, total: int) -> None:
            if done < total:  # a step before the write (all or nothing): where a cancel from the CLI stops it
                local_admin.checkpoint()
            progress.update(task, description=step, completed=done, total=total)
            if not err_console.is_terminal:  # no live display: one line per step (a log, or the CLI beside a service)
                err_console.print(f"ingest: {escape(local_admin.as_typed(step))} ({done}/{total})", soft_wrap=True)

        try:
            report = _services(ctx, store, tenant).ingest(
                paths,
                file_type=file_type,
                skip_invalid=skip_invalid,
                rejects_dir=rejects,
                progress=on_step,
            )
        except ValidationFailed as e:
            progress.stop()
            _print_error(e)
            raise typer.Exit(2) from e
        except UnknownFileTypeError as e:
            progress.stop()
            _print_error(e)
            err_console.print(f"改正表头，或用 --type 指定文件类型（{'、'.join(FILE_TYPES_BY_NAME)}）")
            raise typer.Exit(2) from e
    console.print(_summary(report))
    console.print(_writes(report))
    for f in report.files:
        f = dataclasses.replace(f, file=local_admin.as_typed(f.file),
                                rejects_file=f.rejects_file and local_admin.as_typed(f.rejects_file))  # fmt: skip
        if f.rejects_file:
            console.print(
                f"[yellow]{f.rows_skipped:,} rejected row(s) of {f.file} written to {f.rejects_file}[/yellow]"
            )
        if f.ignored_columns:
            console.print(f"[yellow]{f.file}: ignored unknown column(s): {', '.join(f.ignored_columns)}[/yellow]")
        if f.mentions_linked:
            console.print(f"{f.file}: {f.mentions_linked:,} product mention(s) found in the summaries and linked")
        if f.unconvertible_units:
            console.print(
                f"[yellow]{f.file}: {f.unconvertible_units:,} order line(s) in a unit the product cannot convert "
                f"(loaded, but left out of price checks until the product file gives its case or pack size): "
                f"{escape('; '.join(f.unit_examples))}[/yellow]",
                soft_wrap=True,
            )
    if report.duplicates is not None:
        _print_duplicates(tenant, report.duplicates)


def _print_duplicates(tenant: str, dupes: Any) -> None:
    console.print(
        f"{tenant}: {len(dupes.merges)} likely duplicate customer pair(s), {len(dupes.review)} pair(s) to review "
        "(reported, never merged automatically: customer ids are the company's keys)"
    )
    for m in dupes.merges[:10]:
        console.print(
            f"  [yellow]duplicate?[/yellow] {m.kept_id} ~ {m.merged_id}: {escape(m.explanation)}", soft_wrap=True
        )


@app.command()
def demo(
    ctx: typer.Context,
    scale: Annotated[int, typer.Option(min=1, help="Multiplies customers and orders (20 ≈ 2M order lines).")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, scale and date give the same data.")] = 7,
    as_of: Annotated[
        str | None,
        typer.Option(help="Date the demo is 'today' (YYYY-MM-DD); default: the last demo load's date, else today."),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the demo tenants (with every change made to them) and reload.")
    ] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Load only into empty demo tenants; leave the others as they are.")
    ] = False,
) -> None:
    """Load the Chinese demo dataset (two tenants) into empty tenants; never overwrites what a user changed.

    Re-running with the same parameters changes nothing. A tenant holding later changes (curation edits, uploads,
    a formulary apply) or other data is refused unless --reset (which deletes it first) or --if-empty (left as is).
    """
    if reset and if_empty:
        raise typer.BadParameter("--reset and --if-empty exclude each other", param_hint="--reset")
    try:
        date = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError as e:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--as-of") from e
    needs_stop = (
        "--reset deletes the demo tenants with their change log, which the running service follows: its indexes "
        "would not see the reload"
    )
    with _store(ctx, needs_stop=needs_stop if reset else None) as store, _progress() as progress:
        task = progress.add_task("demo", total=None)

        def on_step(step: str, done: int, total: int) -> None:
            if done < total:  # a step before the write (all or nothing): where a cancel from the CLI stops it
                local_admin.checkpoint()
            progress.update(task, description=step, completed=done, total=total)
            if not err_console.is_terminal:  # no live display: one line per step (a log, or the CLI beside a service)
                err_console.print(f"ingest: {escape(local_admin.as_typed(step))} ({done}/{total})", soft_wrap=True)

        from demo.load import load_demo  # the generator and pandas: only this command needs them

        report = load_demo(store, seed=seed, scale=scale, as_of=date, reset=reset, if_empty=if_empty, progress=on_step)
    for tenant, n in report.deleted.items():
        console.print(f"[yellow]{tenant}: deleted {n:,} nodes (--reset)[/yellow]")
    for tenant, why in report.skipped.items():
        console.print(f"{tenant}: {why}")
    if report.writes:
        table = Table(
            title=f"demo data as of {report.as_of} (generated {report.generate_s:.1f} s, loaded {report.load_s:.1f} s)"
        )
        for name in ("tenant", "type", "rows", "created", "updated", "unchanged"):
            table.add_column(name, justify="left" if name in ("tenant", "type") else "right")
        for tenant, writes in report.writes.items():
            for name, w in writes.items():
                table.add_row(tenant, name, f"{w.received:,}", f"{w.created:,}", f"{w.updated:,}", f"{w.unchanged:,}")
        console.print(table)
    for tenant, dupes in report.duplicates.items():
        _print_duplicates(tenant, dupes)


def _services(ctx: typer.Context, store: GraphStore, tenant: str) -> TenantServices:
    """The tenant's services over the open store, from the API's factory (the model loads only if retrieval is used).

    In the service (a command line sent by the CLI), the service's own: its indexes take the command's writes at once.
    """
    session = local_admin.current_session()
    if session is not None:
        return session.state.tenant(tenant)
    return services_for(ctx.obj, store).tenant(tenant)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What the rep would type, e.g. 店长嫌立普妥太贵.")],
    tenant: TenantOption,
    kind: Annotated[str, typer.Option(help="Entry kind.")] = "objection_script",
    product: Annotated[list[str] | None, typer.Option("--product", help="Only entries about these SKUs.")] = None,
    k: Annotated[int, typer.Option(min=1, max=50, help="Number of results.")] = 5,
    rebuild: Annotated[bool, typer.Option(help="Rebuild the index from the graph first.")] = False,
) -> None:
    """Hybrid search of published knowledge entries (index kept next to the graph, built on first use)."""
    with _store(ctx) as store:
        services = _services(ctx, store, tenant)
        if rebuild:
            services.rebuild_retrieval()
        with services.searching() as index:
            hits = index.search(query, k=k, filters=SearchFilters(kinds=(kind,), skus=tuple(product or ())))
    table = Table(title=f"{query} — {len(hits)} result(s)")
    for name in ("entry", "title", "score", "vector rank", "keyword rank", "product rank", "products named"):
        table.add_column(name)
    for h in hits:
        table.add_row(
            h.entry_id,
            escape(h.title),
            f"{h.score:.4f}",
            str(h.vector_rank or "–"),
            str(h.keyword_rank or "–"),
            str(h.graph_rank or "–"),
            ", ".join(h.matched_products),
        )
    console.print(table)


@app.command()
def objection(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The objection in the customer's words.")],
    tenant: TenantOption,
    product: Annotated[list[str] | None, typer.Option("--product", help="SKUs at hand (repeatable).")] = None,
    k: Annotated[int, typer.Option(min=1, max=10, help="Number of scripts.")] = 3,
) -> None:
    """The best published scripts for an objection (product, indication and general side by side), or 无匹配话术."""
    with _store(ctx) as store:
        services = _services(ctx, store, tenant)
        answerer = services.answerer
        with services.lock:
            result = answerer.answer(text, skus=product or (), k=k)
    if result.reading.fixes:
        console.print("读作：" + escape(result.reading.corrected), soft_wrap=True)
    if result.status == "no_match":
        console.print(f"[bold]{escape(result.message or '')}[/bold]", soft_wrap=True)
    for a in result.answers or result.nearest_general:
        label = f"{a.badge}{'·最接近' if a.nearest else ''}"
        console.print(f"[bold]{escape(a.title)}[/bold]  [{a.entry_id} v{a.version}, {label}]", soft_wrap=True)
        console.print(escape(a.script), soft_wrap=True)
        console.print()


@app.command()
def cases(
    ctx: typer.Context,
    tenant: TenantOption,
    product: Annotated[list[str] | None, typer.Option("--product", help="SKUs of the deal (repeatable).")] = None,
    customer: Annotated[str | None, typer.Option(help="Customer of the deal being created.")] = None,
    customer_type: Annotated[
        str | None,
        typer.Option("--type", help="A new customer's type (chain, single_pharmacy, hospital, clinic, dtp)."),
    ] = None,
    tier: Annotated[str | None, typer.Option(help="A new customer's tier (A/B/C).")] = None,
    region: Annotated[str | None, typer.Option(help="A new customer's region (大区).")] = None,
    stores: Annotated[int | None, typer.Option(min=0, help="A new customer's store count.")] = None,
    text: Annotated[str, typer.Option(help="The rep's description of the situation.")] = "",
    k: Annotated[int, typer.Option(min=1, max=10, help="Number of cases.")] = 3,
) -> None:
    """The past success cases that best match a deal draft, each with why it matched.

    The customer is an existing one (--customer) or a new one described by --type (and --tier, --region, --stores).
    """
    if (customer is None) == (customer_type is None):
        raise typer.BadParameter(
            "give --customer (an existing customer) or --type (a new one), not both", param_hint="--customer"
        )
    profile = None
    if customer_type is not None:
        try:
            profile = CustomerProfile.parse(
                {"type": customer_type, "tier": tier, "region": region, "store_count": stores}
            )
        except CaseProfileError as e:
            raise typer.BadParameter(str(e), param_hint="--type") from e
    with _store(ctx) as store, _services(ctx, store, tenant).searching() as index:
        if customer is not None and store.get_node(tenant, Customer, customer) is None:
            raise typer.BadParameter(f"unknown customer {customer}", param_hint="--customer")
        found = suggest_cases(store, tenant, customer_id=customer, profile=profile, skus=product or [], text=text,
                              index=index, k=k)  # fmt: skip
    if found and found[0].weak:
        console.print(f"[yellow]{WEAK_LABEL}：没有与这个情况很相符的成功案例，以下仅供参考。[/yellow]", soft_wrap=True)
    for s in found:
        console.print(f"[bold]{escape(s.title)}[/bold]  [{s.entry_id}, score {s.score:.2f}]", soft_wrap=True)
        console.print(f"  {escape(s.summary)}", soft_wrap=True)
        console.print(f"  为什么匹配：{escape('；'.join(s.why))}", soft_wrap=True)


@app.command()
def brief(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="Customer id.")],
    tenant: TenantOption,
    fmt: Annotated[str, typer.Option("--format", help="json, md or pdf.")] = "md",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file (PDF needs it).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Visit date (YYYY-MM-DD); default today.")] = None,
) -> None:
    """A visit briefing pack for a customer: profile, health, interactions, doctors, gaps, formulary, scripts, cases."""
    if fmt not in ("json", "md", "pdf"):
        raise typer.BadParameter("must be json, md or pdf", param_hint="--format")
    if fmt == "pdf" and output is None:
        raise typer.BadParameter("a PDF needs -o FILE", param_hint="--output")
    today = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    with _store(ctx) as store:
        prices = _services(ctx, store, tenant).prices(today)
        pack = build_briefing(store, tenant, customer, today=today, price_index=prices)
    if fmt == "pdf":
        assert output is not None
        output.write_bytes(to_pdf(pack))
        console.print(f"briefing written to {local_admin.as_typed(str(output))}")
        return
    text = pack.model_dump_json(indent=2) if fmt == "json" else to_markdown(pack)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        console.print(f"briefing written to {local_admin.as_typed(str(output))}")
    else:
        print(text)


@app.command("tasks")
def tasks_cmd(
    ctx: typer.Context,
    rep: Annotated[str, typer.Option("--rep", help="Rep id (R-HZ-001): whose list.")],
    tenant: Annotated[str | None, typer.Option(help="Tenant; default: the one that has this rep.")] = None,
    as_of: Annotated[str | None, typer.Option(help="The day (YYYY-MM-DD); default today.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Tasks shown in the table.")] = 50,
) -> None:
    """A rep's task list (今日待办): the tasks of its customers with reasons, due dates and scripts to use."""
    if fmt not in ("table", "json"):
        raise typer.BadParameter("must be table or json", param_hint="--format")
    try:
        today = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {as_of!r}", param_hint="--as-of") from None
    with _store(ctx) as store:
        holders = [tenant] if tenant else [t for t in store.tenants() if store.get_node(t, Rep, rep) is not None]
        if not holders or (tenant and store.get_node(tenant, Rep, rep) is None):
            raise NotFoundError(f"unknown rep {rep}", details={"rep_id": rep})
        if len(holders) > 1:
            raise typer.BadParameter(f"rep {rep} is in tenants {', '.join(holders)}: name one", param_hint="--tenant")
        found = _services(ctx, store, holders[0]).task_list(rep, as_of=today)
    if fmt == "json":
        print(found.model_dump_json(indent=2))
        return
    counts = "，".join(f"{n} {s}" for s, n in found.counts.items() if n)
    table = Table(title=f"今日待办 {rep} {today}（{found.customers} 个客户；{counts or '无任务'}）")
    for name in ("#", "优先级", "截止", "类型", "客户", "原因", "建议话术/案例", "状态", "任务 id"):
        table.add_column(name)
    for n, t in enumerate(found.items[:limit], 1):
        suggestion = f"{t.suggestion.entry_id} {t.suggestion.title}" if t.suggestion else "–"
        table.add_row(str(n), str(t.priority), f"{t.due:%m-%d}", t.trigger_name, escape(t.customer_name),
                      escape(t.reason), escape(suggestion), t.state, t.id)  # fmt: skip
    console.print(table)
    if len(found.items) > limit:
        console.print(f"… {len(found.items) - limit} more (--limit)")


_VERDICT_STYLE = {"ok": "green", "no_history": "dim", "low": "yellow", "high": "yellow",
                  "below_floor": "red", "above_payment_standard": "red", "unknown_customer": "magenta",
                  "unknown_product": "magenta", "unknown_unit": "magenta"}  # fmt: skip


@app.command("price-check")
def price_check(
    ctx: typer.Context,
    tenant: TenantOption,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="Quote lines (CSV, XLSX or JSON): customer_id, sku, unit_price[, qty][, unit][, date]; Chinese "
            "headers 客户编码, 商品编码, 单价, 数量, 单位, 日期 work too (docs/formats.md, quote lines).",
        ),
    ] = None,
    customer: Annotated[str | None, typer.Option(help="One line: the customer id.")] = None,
    sku: Annotated[str | None, typer.Option(help="One line: the SKU.")] = None,
    price: Annotated[float | None, typer.Option(help="One line: the quoted unit price.")] = None,
    qty: Annotated[float, typer.Option(help="One line: the quantity.")] = 1.0,
    unit: Annotated[
        str | None, typer.Option(help="One line: unit of price and quantity (default: selling unit).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Date of the quote (YYYY-MM-DD), for lines without their own; default today.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every verdict with its evidence as JSON.")] = False,
) -> None:
    """Check quote prices: per line the verdict, the reference that decided, the band and the evidence.

    References: the customer's own agreed price, the 集采 award, its level, its segment; a running promotion widens
    the band; history left out (clearance, unit mistakes, free goods) is counted.
    """
    on = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    lines: list[QuoteLine] = []
    if csv_file is not None:
        try:
            from ingest.quotes import read_quote_lines  # pandas: only a quote file needs it

            rows = read_quote_lines(csv_file)
        except IngestError as e:
            _print_error(e)
            raise typer.Exit(2) from e
        lines = [QuoteLine(r.customer_id, r.sku, r.unit_price, r.qty, r.date or on, r.unit) for r in rows]
    elif customer and sku and price is not None:
        lines.append(QuoteLine(customer, sku, price, qty, on, unit))
    else:
        raise typer.BadParameter("give --csv FILE, or --customer, --sku and --price")
    with _store(ctx) as store:
        index = _services(ctx, store, tenant).prices(max([on, *(line.at or on for line in lines)]))
        try:
            results = check_quote(index, lines, today=on)
        except SalesCopilotError as e:
            _print_error(e)
            raise typer.Exit(_exit_code(e)) from e
    if as_json:
        console.print_json(data={"tenant": tenant, "lines": [_check_json(r) for r in results]})
        return
    table = Table(title=f"price check ({tenant}, {on})")
    for name in ("customer", "sku", "price", "verdict", "band", "reference", "explanation"):
        table.add_column(name)
    for r in results:
        style = _VERDICT_STYLE[r.verdict]
        band = f"{r.band_low:.2f}–{r.band_high:.2f}" if r.band_low is not None and r.band_high is not None else "–"
        table.add_row(
            r.line.customer_id, r.line.sku, f"{r.line.unit_price:g}", f"[{style}]{r.verdict}[/{style}]", band,
            r.level_name or "–", escape(r.explanation),
        )  # fmt: skip
    console.print(table)
    for r in results:
        for ev in r.evidence:
            console.print(
                f"  {r.line.sku} evidence: {escape(ev.customer_name)} {ev.at} qty {ev.qty:g} @ {ev.unit_price:g}"
            )


def _check_json(r: Any) -> dict[str, Any]:
    """One verdict as plain data (the same fields as the API's)."""
    out = asdict(r)
    line = out.pop("line")
    line["date"] = line.pop("at").isoformat() if line.get("at") else None
    line["profile"] = line.get("profile")
    out.update(line=line, evidence=[{**e, "at": e["at"].isoformat()} for e in out["evidence"]])
    out["suggestions"] = list(out["suggestions"])
    return out


formulary_app = typer.Typer(help="National reimbursement formulary (医保目录) editions: diff and apply.")
app.add_typer(formulary_app, name="formulary")

KindOption = Annotated[str, typer.Option("--kind", help="western, tcm or all drugs.")]


def _kind(kind: str) -> Any:
    if kind not in ("western", "tcm", "all"):
        raise typer.BadParameter("must be western, tcm or all", param_hint="--kind")
    return kind


@formulary_app.command("diff")
def formulary_diff(
    old: Annotated[list[Path], typer.Option("--old", help="Files of the old edition (official .xlsx or .pdf).")],
    new: Annotated[list[Path], typer.Option("--new", help="Files of the new edition.")],
    kind: KindOption = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print every change as JSON.")] = False,
) -> None:
    """Compare two editions: added, removed, category 甲/乙, restriction and payment standard changes."""
    try:
        diff = diff_files(old, new, kind=_kind(kind))
    except SalesCopilotError as e:
        _print_error(e)
        raise typer.Exit(_exit_code(e)) from e
    if as_json:
        print(json.dumps(diff_as_json(diff), ensure_ascii=False, indent=2))
        return
    table = Table(title=f"formulary diff ({kind})")
    table.add_column("change")
    table.add_column("drug rows", justify="right")
    for name, n in diff.counts().items():
        table.add_row(name, f"{n:,}")
    console.print(table)
    for label, changes in (("category", diff.category_changed), ("restriction", diff.restriction_changed)):
        for c in changes[:5]:
            console.print(
                f"[cyan]{label}[/cyan] {c.new.name} {c.new.dosage_form or ''}: "
                f"{escape(_shown(getattr(c.old, label)))} → {escape(_shown(getattr(c.new, label)))}",
                soft_wrap=True,
            )


def _shown(value: Any) -> str:
    """A value as the CLI prints it: a missing one (None, empty) as （无）, never as Python's ``None``."""
    return "（无）" if value is None or value == "" else str(value)


@formulary_app.command("apply")
def formulary_apply(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Files of the edition (official .xlsx or .pdf).")],
    tenant: TenantOption,
    edition: Annotated[str, typer.Option(help="Edition id, e.g. NRDL-2024.")],
    name: Annotated[str | None, typer.Option(help="Edition name (default: the id).")] = None,
    effective_date: Annotated[str | None, typer.Option(help="Date the edition takes effect, YYYY-MM-DD.")] = None,
    kind: KindOption = "all",
) -> None:
    """Tag the tenant's products with their status in an edition (re-running changes nothing)."""
    try:
        effective = dt.date.fromisoformat(effective_date) if effective_date else None
    except ValueError as e:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--effective-date") from e
    with _store(ctx) as store:
        drugs = load_edition(files, edition, kind=_kind(kind))
        report = apply_edition(store, tenant, drugs, edition_id=edition, name=name or edition, effective_date=effective)
    table = Table(title=f"formulary apply {edition} ({report.seconds:.1f} s)")
    table.add_column("")
    table.add_column("count", justify="right")
    for label, n in (
        ("drug rows in the edition", report.drugs),
        ("products of the tenant", report.products),
        ("matched to a row (LISTED_IN)", report.states.get("matched", 0)),
        ("not listed (with the reason)", report.states.get("not_listed", 0)),
        ("left for review", report.states.get("review", 0)),
        ("decisions of a person reused", report.reused_decisions),
        ("listed before, not matched now", report.untagged),
    ):
        table.add_row(label, f"{n:,}")
    console.print(table)
    for r in report.review[:10]:
        console.print(
            f"[yellow]review[/yellow] {escape(r['sku'])} {escape(r['name'])}: {escape(r['explanation'])}",
            soft_wrap=True,
        )


_CSV_COLUMNS = (
    "sku", "product_name", "edition_id", "state", "section", "number", "nrdl_name", "dosage_form", "category",
    "restriction", "payment_standard", "reason", "explanation", "decided_by",
)  # fmt: skip


@formulary_app.command("status")
def formulary_status(
    ctx: typer.Context,
    tenant: TenantOption,
    edition: Annotated[str | None, typer.Option(help="Edition id (default: the latest).")] = None,
    state: Annotated[str | None, typer.Option(help="Only this state: matched, not_listed, review, unchecked.")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (one row per product) instead of a table.")] = False,
) -> None:
    """Every product's state in an edition: the row (section, number, name, form, category), or why not, or review."""
    with _store(ctx) as store:
        try:
            states = formulary_states(store, tenant, edition_id=edition)
        except SalesCopilotError as e:
            _print_error(e)
            raise typer.Exit(_exit_code(e)) from e
    if state is not None:
        states = [s for s in states if s.state == state]
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(_CSV_COLUMNS)
        for s in states:
            writer.writerow([csv_cell(getattr(s, c)) for c in _CSV_COLUMNS])
        return
    counts: dict[str, int] = {}
    for s in states:
        counts[s.state] = counts.get(s.state, 0) + 1
    table = Table(title=f"formulary status ({tenant}, {states[0].edition_id if states else edition or '–'}): {counts}")
    for name in ("sku", "product", "state", "row / reason"):
        table.add_column(name)
    colour = {"matched": "green", "not_listed": "dim", "review": "yellow", "unchecked": "magenta"}
    for s in states:
        if s.state == "matched":
            detail = " ".join(str(v) for v in (s.section, s.number, s.nrdl_name, s.dosage_form, s.category) if v)
        else:
            detail = f"{s.reason or ''}: {s.explanation or ''}"
        c = colour[s.state]
        table.add_row(s.sku, escape(s.product_name), f"[{c}]{s.state}[/{c}]", escape(detail))
    console.print(table)


@formulary_app.command("impact")
def formulary_impact_cmd(
    ctx: typer.Context,
    tenant: TenantOption,
    old: Annotated[str | None, typer.Option(help="Old edition id (default: the one before the latest).")] = None,
    new: Annotated[str | None, typer.Option(help="New edition id (default: the latest by effective date).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Report only; write no note.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Products whose status changed, affected customers, and the entries whose claims the change touches.

    A published entry with a claim now false is withdrawn from reps; one only incomplete stays live with a note;
    drafts and entries in review keep their state and get the note.
    """
    with _store(ctx) as store:
        report = _services(ctx, store, tenant).formulary_impact(
            old=old, new=new, today=dt.date.today(), actor="formulary-impact (cli)", apply=not dry_run
        )
    if as_json:
        data = dataclasses.asdict(report)
        data["changes"] = [c.model_dump() for c in report.changes]
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    table = Table(title=f"formulary impact {report.old_edition} → {report.new_edition} ({report.seconds:.2f} s)")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("products whose status changed", f"{len(report.changes):,}")
    table.add_row("customers affected", f"{len(report.customers):,}")
    severities = [i.severity for i in report.impacts.values()]
    suffix = " (dry run)" if dry_run else ""
    table.add_row("entries naming or about a changed product", f"{report.mentioning:,}")
    table.add_row("entries to withdraw (a claim is now false)" + suffix, f"{severities.count('withdraw'):,}")
    table.add_row("entries to review (true but incomplete)" + suffix, f"{severities.count('review'):,}")
    table.add_row("entries already noted for this change", f"{report.already_marked:,}")
    console.print(table)
    for c in report.changes[:10]:
        console.print(f"  {escape(c.name)} ({c.sku}): {escape(c.detail)}", soft_wrap=True)
    for i in list(report.impacts.values())[:10]:
        console.print(f"  {i.entry_id} [{i.severity}] {escape(i.sentence)}", soft_wrap=True)


@formulary_app.command("notes")
def formulary_notes_cmd(
    ctx: typer.Context,
    tenant: TenantOption,
    action: Annotated[str, typer.Argument(help="confirm (the text is still right) or withdraw (reps stop seeing it).")],
    sku: Annotated[str | None, typer.Option(help="Every noted entry of this product.")] = None,
    edition: Annotated[
        str | None, typer.Option(help="Every noted entry of this change (the new edition's id).")
    ] = None,
    actor: Annotated[str, typer.Option(help="Who decides (recorded in the audit trail).")] = "cli",
) -> None:
    """Confirm or withdraw, in one step, the entries a formulary change noted (one audit record per entry)."""
    if action not in ("confirm", "withdraw"):
        raise typer.BadParameter("confirm or withdraw", param_hint="ACTION")
    if sku is None and edition is None:
        raise typer.BadParameter("give --sku or --edition", param_hint="--sku / --edition")
    with _store(ctx) as store:
        result = _services(ctx, store, tenant).bulk_note_action(
            "confirm" if action == "confirm" else "withdraw", actor=actor, sku=sku, edition=edition
        )
    console.print(f"{action}: {len(result.done)} entries; skipped {len(result.skipped)}")
    for entry_id, why in result.skipped.items():
        console.print(f"  {entry_id}: {escape(why)}", soft_wrap=True)


photos_app = typer.Typer(help="Competitor photos kept in the data folder (data/photos/<tenant>/).")
app.add_typer(photos_app, name="photos")


@photos_app.command("prune")
def photos_prune(ctx: typer.Context) -> None:
    """Delete photo files older than the retention period (SKG_PHOTO_RETENTION_DAYS); the prices read stay."""
    settings: Settings = ctx.obj
    store = PhotoStore(settings.photo_dir, max_bytes=settings.photo_max_mb << 20,
                       retention_days=settings.photo_retention_days)  # fmt: skip
    removed = store.prune()
    console.print(f"{removed} photo file(s) older than {settings.photo_retention_days} days deleted from {store.root}")


faq_app = typer.Typer(help="FAQ clustering: customers' recurring questions in interaction summaries, as draft FAQs.")
app.add_typer(faq_app, name="faq")

FaqMinSize = Annotated[int, typer.Option("--min-size", min=1, help="Least interactions a proposal must come from.")]
FaqThreshold = Annotated[
    float | None, typer.Option(min=0.01, max=2.0, help="Cosine distance at which clusters stop merging (default 0.4).")
]
FaqAlgorithm = Annotated[str, typer.Option(help="agglomerative (average linkage, cosine) or hdbscan.")]
FaqSince = Annotated[str | None, typer.Option(help="Only interactions on or after this date (YYYY-MM-DD).")]
FaqSkipAnswered = Annotated[
    bool, typer.Option("--skip-answered", help="Leave out proposals a published FAQ or objection script answers.")
]


def _faq_report(
    ctx: typer.Context, store: GraphStore, tenant: str, *, min_size: int, threshold: float | None,
    algorithm: str, since: str | None, skip_answered: bool,
) -> Any:  # fmt: skip
    """Proposals from the tenant's interactions, embedded with the configured embedder (cached next to the index)."""
    chosen = next((a for a in ALGORITHMS if a == algorithm), None)
    if chosen is None:
        raise typer.BadParameter(f"must be one of {', '.join(ALGORITHMS)}", param_hint="--algorithm")
    try:
        start = dt.datetime.combine(dt.date.fromisoformat(since), dt.time()) if since else None
    except ValueError as e:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--since") from e
    settings: Settings = ctx.obj
    session = local_admin.current_session()
    embedder = CachedEmbedder(
        session.state.embedder
        if session
        else make_embedder(settings.embedder, model_dir=settings.embedder_model_dir, cache_dir=settings.index_root),
        settings.index_dir(tenant) / "embeddings.sqlite",
    )
    return propose_faqs(
        store, tenant, embedder, since=start, algorithm=chosen,
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold, min_size=min_size,
        skip_answered=skip_answered,
    )  # fmt: skip


@faq_app.command("propose")
def faq_propose(
    ctx: typer.Context,
    tenant: TenantOption,
    min_size: FaqMinSize = 5,
    threshold: FaqThreshold = None,
    algorithm: FaqAlgorithm = "agglomerative",
    since: FaqSince = None,
    skip_answered: FaqSkipAnswered = False,
    examples: Annotated[int, typer.Option(min=0, max=20, help="Example questions shown per proposal.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print every proposal as JSON.")] = False,
) -> None:
    """Cluster what customers asked or objected in visits into proposed FAQs, largest first (nothing is written)."""
    with _store(ctx) as store:
        report = _faq_report(
            ctx, store, tenant, min_size=min_size, threshold=threshold, algorithm=algorithm, since=since,
            skip_answered=skip_answered,
        )  # fmt: skip
    if as_json:
        data = {**report.summary(), "proposals": [dataclasses.asdict(p) for p in report.proposals]}
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    s = report.summary()
    table = Table(
        title=f"FAQ proposals for {tenant}: {s['proposals']} from {s['questions']:,} questions in "
        f"{s['interactions']:,} interactions ({report.seconds.get('total', 0.0):.1f} s)"
    )
    table.add_column("#", justify="right")
    table.add_column("draft id", no_wrap=True, min_width=22)
    table.add_column("size", justify="right")
    for name in ("proposed title (medoid question)", "products", "closest published", "draft"):
        table.add_column(name)
    for k, p in enumerate(report.proposals, 1):
        products = "、".join(f"{c.name.split(' ')[0]}×{c.count}" for c in p.products[:2])
        if len(p.products) > 2:
            products += f" 等{len(p.products)}个"
        m = p.closest_published
        closest = f"{m.entry_id} ({m.similarity:.2f}{', answered' if p.answered else ''})" if m else "–"
        table.add_row(str(k), p.id, str(p.size), escape(p.title), escape(products), escape(closest), p.draft_status)
    console.print(table)
    if s["skipped_answered"]:
        console.print(f"{s['skipped_answered']} proposal(s) left out: answered by a published entry")
    for k, p in enumerate(report.proposals, 1):
        for e in p.examples[:examples]:
            more = f", worded so {e.same_wording} times" if e.same_wording > 1 else ""
            console.print(f"  #{k} {escape(e.text)}  ({e.interaction_id}{more})", soft_wrap=True)


@faq_app.command("draft")
def faq_draft(
    ctx: typer.Context,
    tenant: TenantOption,
    top: Annotated[int, typer.Option(min=1, help="Write the N largest proposals.")] = 5,
    proposal: Annotated[
        list[str] | None, typer.Option("--id", help="Write these proposals (draft ids from `faq propose`) instead.")
    ] = None,
    min_size: FaqMinSize = 5,
    threshold: FaqThreshold = None,
    algorithm: FaqAlgorithm = "agglomerative",
    since: FaqSince = None,
    skip_answered: FaqSkipAnswered = False,
) -> None:
    """Write proposals as draft FAQ entries for trainers (re-running updates untouched drafts, never duplicates)."""
    with _store(ctx) as store:
        report = _faq_report(
            ctx, store, tenant, min_size=min_size, threshold=threshold, algorithm=algorithm, since=since,
            skip_answered=skip_answered,
        )  # fmt: skip
        if proposal:
            chosen = [p for p in report.proposals if p.id in set(proposal)]
            missing = sorted(set(proposal) - {p.id for p in chosen})
            if missing:
                raise typer.BadParameter(f"no such proposal: {', '.join(missing)}", param_hint="--id")
        else:
            chosen = report.proposals[:top]
        now = dt.datetime.now().replace(microsecond=0)
        result = _services(ctx, store, tenant).write_faq_drafts(
            chosen, now=now, author="faq-cluster", names=CatalogueNames.from_store(store, tenant)
        )
    table = Table(title=f"FAQ drafts for {tenant}")
    table.add_column("")
    table.add_column("count", justify="right")
    for label, ids in (
        ("created", result.created),
        ("updated (untouched drafts)", result.updated),
        ("unchanged", result.unchanged),
        ("skipped: a trainer has taken it over", result.skipped_curated),
    ):
        table.add_row(label, str(len(ids)))
    table.add_row("ABOUT edges created", str(result.about_edges))
    console.print(table)
    for eid in result.created + result.updated:
        console.print(f"  {eid}")


safety_app = typer.Typer(help="The drug-safety queue: suspected adverse reactions in interactions and queries.")
app.add_typer(safety_app, name="safety")


@safety_app.command("scan")
def safety_scan(ctx: typer.Context, tenant: TenantOption) -> None:
    """Queue the suspected adverse reactions of every interaction not queued yet (a store made before the queue).

    Ingest and the demo queue them as they load; reports already queued keep their status.
    """
    with _store(ctx) as store:
        made = _services(ctx, store, tenant).scan_safety(actor="cli")
    console.print(f"{len(made)} new safety report(s) for {tenant}")
    for r in made[:20]:
        console.print(f"  {r.id}  {r.customer_id or ''}  {'、'.join(r.symptoms)}  {escape(r.sentence)}", soft_wrap=True)


@safety_app.command("list")
def safety_list(
    ctx: typer.Context,
    tenant: TenantOption,
    status: Annotated[str, typer.Option(help="new, forwarded, closed or all.")] = "new",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """The queue: id, date, customer, symptoms and the words that report them."""
    if status not in ("new", "forwarded", "closed", "all"):
        raise typer.BadParameter("one of new, forwarded, closed, all", param_hint="--status")
    with _store(ctx) as store:
        total, page = list_safety_reports(store, tenant, status=None if status == "all" else status, limit=limit)  # type: ignore[arg-type]
    console.print(f"{total} report(s) ({status})")
    for r in page:
        console.print(f"  {r.id}  {r.at:%Y-%m-%d}  {r.customer_id or ''}  {r.status}  {'、'.join(r.symptoms)}  "
                      f"{escape(r.sentence)}", soft_wrap=True)  # fmt: skip


register_service_commands(app)


def _run_for_service(argv: list[str], out: CliConsole, err: CliConsole) -> None:
    """Run a command line in the service (``api.local_admin``), printing to ``out`` and ``err`` (then put back)."""
    global console, err_console  # noqa: PLW0603 - the commands print to the module's consoles
    before = (console, err_console, cli_service.console, cli_service.err_console)
    console, err_console, cli_service.console, cli_service.err_console = out, err, out, err
    try:
        app(args=argv, prog_name="salescopilot", standalone_mode=True)
    finally:
        console, err_console, cli_service.console, cli_service.err_console = before


local_admin.register_runner(_run_for_service)


def main() -> None:
    """Console-script entry point; every file the product writes (store, keys, indexes, rejects) is owner-only."""
    os.umask(0o077)
    app()
