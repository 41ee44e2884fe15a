"""``python -m eval`` (or ``salescopilot-eval`` from a checkout with the ``eval`` extra): the evaluation commands.

Not part of the product: the ``salescopilot`` command line has no evaluation commands, and no product package
imports ``eval`` (checked by the import contracts in ``pyproject.toml``). Each command runs one module's ``main``;
``all`` runs every evaluation and benchmark into one report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Quality evaluations and benchmarks (reports under eval/reports/).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command("retrieval")
def eval_retrieval(
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    embedders: Annotated[
        list[str] | None, typer.Option("--embedder", help="Embedders to compare (repeatable): use, minilm, hashing.")
    ] = None,
) -> None:
    """Recall@1/3/5, MRR, nDCG@5 and latency of every retrieval configuration on the rep-style query set."""
    from eval.eval_retrieval import main as run_eval

    argv = ["--json"] if as_json else []
    if embedders:
        argv += ["--embedders", *embedders]
    run_eval(argv)


@app.command("adverse-events")
def eval_adverse_events(
    labelled: Annotated[
        list[Path] | None,
        typer.Option(
            "--set",
            help="A labelled set: sentences.jsonl or a folder with dev.jsonl + heldout.jsonl (repeatable; default "
            "both independent sets; an absent one is skipped).",
        ),
    ] = None,
) -> None:
    """Precision and recall of the adverse-event detector on the independent sets, held-out next to dev."""
    from eval.eval_adverse_events import main as run_eval

    run_eval([arg for path in labelled or [] for arg in ("--set", str(path))])


@app.command("pricing")
def eval_pricing(
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    world: Annotated[
        list[Path] | None,
        typer.Option(help="Folder of the pricing world's seedN folders (repeatable; skipped when absent)."),
    ] = None,
    seed: Annotated[list[str] | None, typer.Option(help="Seed to run (repeatable; default every seed).")] = None,
    no_world: Annotated[bool, typer.Option("--no-world", help="Only the demo evaluation.")] = False,
) -> None:
    """Price flags on the independent pricing world and on the demo, each beside the peer-band baseline."""
    from eval.eval_pricing import main as run_eval

    argv = ["--json"] if as_json else []
    for w in world or []:
        argv += ["--world", str(w)]
    for s in seed or []:
        argv += ["--seed", s]
    if no_world:
        argv.append("--no-world")
    run_eval(argv)


@app.command("formulary")
def eval_formulary(
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    split: Annotated[str, typer.Option(help="dev, heldout or all.")] = "all",
    nrdl: Annotated[Path | None, typer.Option(help="Folder with the official nrdl-2024.xlsx.")] = None,
) -> None:
    """Formulary status of 760 blind-labelled ERP names: accuracy, precision of matched, review rate, baseline."""
    from eval.eval_formulary import main as run_eval

    run_eval((["--json"] if as_json else []) + ["--split", split] + (["--nrdl", str(nrdl)] if nrdl else []))


@app.command("posters")
def eval_posters(
    set_dir: Annotated[Path, typer.Option("--set", help="Folder of the poster evaluation set.")],
    split: Annotated[str, typer.Option(help="dev, heldout or all.")] = "heldout",
    ocr_cache: Annotated[Path | None, typer.Option(help="Keep OCR lines here (re-measure quickly).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Competitor posters and price tags: item precision/recall, prices, SKU resolution, on a blind labelled set."""
    from eval.eval_posters import main as run_eval

    argv = ["--set", str(set_dir), "--split", split] + (["--ocr-cache", str(ocr_cache)] if ocr_cache else [])
    code = run_eval(argv + (["--json"] if as_json else []))
    if code:
        raise typer.Exit(code)


@app.command("cases")
def eval_cases(
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    embedder: Annotated[str, typer.Option(help="Embedder of the text part: use, minilm or hashing.")] = "use",
) -> None:
    """Hit@1/3, MRR and latency of case suggestions on labelled demo deals, against text-only and graph-only."""
    from eval.eval_cases import main as run_eval

    run_eval(["--json", "--embedder", embedder] if as_json else ["--embedder", embedder])


@app.command(
    "formulary-impact",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def eval_formulary_impact(ctx: typer.Context) -> None:
    """Formulary impact on the demo's NRDL 2022 → 2024 change: dump (blind sample), score (labels), measure."""
    from eval.eval_formulary_impact import main as run_eval

    run_eval(list(ctx.args))


@app.command("all")
def eval_all(
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes and a short API run (a few minutes).")] = False,
    out: Annotated[Path | None, typer.Option(help="Report folder (default eval/reports/<date>[-quick]).")] = None,
) -> None:
    """Every evaluation and benchmark, one report: REPORT.md (headline targets first), results.json, PNG plots."""
    from eval.run_all import failed_steps
    from eval.run_all import main as run_all

    report = run_all((["--quick"] if quick else []) + (["--out", str(out)] if out else []))
    if failed_steps(report):
        raise typer.Exit(1)


def main() -> None:
    """Entry point of ``python -m eval``."""
    app()
