"""PNG plots of the combined report (matplotlib, Agg backend, English labels).

Each function takes the ``results`` dictionary of ``eval.run_all`` (or the part it needs), writes one PNG into a
folder and returns its path, or None when the data it needs is missing (the step failed or was not run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes  # noqa: E402  (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

DPI = 100
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
TARGET_STYLE: dict[str, Any] = {"color": "#d62728", "linestyle": "--", "linewidth": 1.2}


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, format="png")
    return path


def _bars(
    ax: Axes,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    horizontal: bool = False,
    value_labels: bool = False,
    fmt: str = "{:.2f}",
) -> None:
    """Grouped bars: one group per label, one bar per series."""
    n = len(series)
    width = 0.8 / max(n, 1)
    for i, (name, values) in enumerate(series.items()):
        pos = [j + (i - (n - 1) / 2) * width for j in range(len(labels))]
        if horizontal:
            bars = ax.barh(pos, values, height=width, label=name, color=COLORS[i % len(COLORS)])
        else:
            bars = ax.bar(pos, values, width=width, label=name, color=COLORS[i % len(COLORS)])
        if value_labels:
            ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=7, padding=1)
    ticks = list(range(len(labels)))
    if horizontal:
        ax.set_yticks(ticks, labels)
        ax.invert_yaxis()
    else:
        ax.set_xticks(ticks, labels)


def plot_retrieval(res: Mapping[str, Any] | None, out: Path) -> Path | None:
    """recall@1/3/5 of every retrieval configuration, best recall@3 first (aliases of the default left out)."""
    configs = (res or {}).get("configs")
    if not configs:
        return None
    items = sorted(
        ((n, m) for n, m in configs.items() if n not in ("hybrid", "hybrid+products")), key=lambda x: -x[1]["recall@3"]
    )
    default = f"hybrid-{(res or {}).get('default_embedder')}"
    labels = [n + ("  (default)" if n == default else "") for n, _ in items]
    fig = Figure(figsize=(9, 0.42 * len(items) + 1.6))
    ax = fig.add_subplot()
    _bars(ax, labels, {f"recall@{k}": [m[f"recall@{k}"] for _, m in items] for k in (1, 3, 5)}, horizontal=True)
    ax.axvline(0.9, **TARGET_STYLE, label="target recall@3 = 0.90")
    ax.set_xlim(0, 1.0)
    ax.set_xlabel("recall (share of relevant scripts in the top k)")
    ax.set_title(
        f"Retrieval: {res.get('queries') if res else '?'} rep-style Chinese queries, per configuration\n"
        "(+products: the query's products as a filter)",
        fontsize=10,
    )
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return _save(fig, out / "retrieval_recall.png")


def plot_pricing(res: Mapping[str, Any] | None, out: Path) -> Path | None:
    """Overall precision / recall / false-flag rate, and recall per anomaly type, guard against both baselines."""
    if not res or "by_type" not in res:
        return None
    methods: dict[str, Mapping[str, Any]] = {"guard": res, **res.get("baselines", {})}
    names = {"guard": "guard", "list_price_20pct": "list price ± 20 %", "peer_band": "peer band (type, 183 days)",
             "non_widening": "non-widening peers"}  # fmt: skip
    fig = Figure(figsize=(12, 4.6))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 2.5]})
    _bars(
        ax1,
        ["precision", "recall", "false-flag\nrate (clean)"],
        {names.get(n, n): [m["precision"], m["recall"], m["false_flag_rate"]] for n, m in methods.items()},
        value_labels=True,
        fmt="{:.3f}",
    )
    for i, target in enumerate((0.95, 0.90, 0.02)):
        ax1.hlines(target, i - 0.45, i + 0.45, **TARGET_STYLE)
    ax1.set_ylim(0, 1.22)
    ax1.set_title("Overall (dashed: the targets)", fontsize=10)
    ax1.grid(axis="y", alpha=0.3)
    types = [t for t in res["by_type"] if t != "clean"]
    _bars(ax2, types, {names.get(n, n): [m["by_type"][t]["recall"] for t in types] for n, m in methods.items()})
    ax2.axhline(0.9, **TARGET_STYLE, label="target recall = 0.90")
    ax2.set_ylim(0, 1.22)
    ax2.set_ylabel("recall")
    ax2.set_title("Recall per injected anomaly type", fontsize=10)
    ax2.grid(axis="y", alpha=0.3)
    ax2.legend(loc="upper center", fontsize=8, ncol=4)
    fig.suptitle(
        f"Price flags on {res.get('lines', 0):,} held-out demo order lines "
        f"({res.get('anomalies', 0):,} with an injected anomaly)",
        fontsize=11,
    )
    fig.tight_layout()
    return _save(fig, out / "pricing_flags.png")


def plot_cases(res: Mapping[str, Any] | None, out: Path) -> Path | None:
    """hit@1, hit@3 and MRR of the full ranking against text-only and graph-only, overall and per deal variant."""
    rankings = (res or {}).get("rankings")
    if not rankings:
        return None
    fig = Figure(figsize=(10, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    _bars(
        ax1,
        ["hit@1", "hit@3", "MRR"],
        {n: [m["hit@1"], m["hit@3"], m["mrr"]] for n, m in rankings.items()},
        value_labels=True,
        fmt="{:.3f}",
    )
    ax1.hlines(0.8, 0.55, 1.45, **TARGET_STYLE, label="target hit@3 = 0.80")
    ax1.set_ylim(0, 1.22)
    ax1.set_title(f"All {res.get('deals') if res else '?'} labelled deals", fontsize=10)
    ax1.legend(loc="upper center", fontsize=8, ncol=2)
    ax1.grid(axis="y", alpha=0.3)
    variants = list(rankings["full"].get("by_variant", {}))
    if variants:
        counts = [int(rankings["full"]["by_variant"][v]["n"]) for v in variants]
        _bars(
            ax2,
            [f"{v}\n(n={c})" for v, c in zip(variants, counts, strict=True)],
            {n: [m["by_variant"][v]["hit@3"] for v in variants] for n, m in rankings.items()},
            value_labels=True,
            fmt="{:.3f}",
        )
        ax2.set_ylim(0, 1.22)
        ax2.set_title("hit@3 by kind of deal", fontsize=10)
        ax2.grid(axis="y", alpha=0.3)
    fig.suptitle("Case suggestions: full ranking vs text-only vs graph-only", fontsize=11)
    fig.tight_layout()
    return _save(fig, out / "cases_hit.png")


API_TARGETS_MS = {"price_check": 15.0, "objection": 80.0}


def plot_api(res: Mapping[str, Any] | None, out: Path) -> Path | None:
    """p50 / p95 / p99 per API path in the open-loop phase (log scale), with the issue's p99 targets."""
    scales = (res or {}).get("results")
    if not scales:
        return None
    scale = scales[0]
    groups: list[tuple[str, Mapping[str, Any]]] = []
    mix = scale["copilot_mix"]["open_loop"]
    for name in ("price_check", "objection", "briefing"):
        if isinstance(mix.get(name), Mapping) and "p50" in mix[name]:
            groups.append((f"{name}\n(mix)", mix[name]))
    for target, label in (
        ("copilot_price_checks", "price_check\n(alone)"),
        ("bare_fastapi", "bare FastAPI\n(baseline)"),
    ):
        s = scale[target]["open_loop"].get("price_check")
        if isinstance(s, Mapping) and "p50" in s:
            groups.append((label, s))
    fig = Figure(figsize=(10, 4.8))
    ax = fig.add_subplot()
    _bars(
        ax,
        [g for g, _ in groups],
        {p: [s[p] for _, s in groups] for p in ("p50", "p95", "p99")},
        value_labels=True,
        fmt="{:.1f}",
    )
    ax.set_yscale("log")
    ax.set_ylabel("latency ms (log scale)")
    labelled = False
    for i, (label, _) in enumerate(groups):
        key = label.split("\n")[0]
        if key in API_TARGETS_MS:  # dashed over the p99 bar only
            ax.hlines(API_TARGETS_MS[key], i + 0.1, i + 0.45, **TARGET_STYLE,
                      label="_nolegend_" if labelled else "target p99 (under the path's name)")  # fmt: skip
            labelled = True
    ax.set_xticks(
        range(len(groups)),
        [g + (f"\ntarget p99 ≤ {API_TARGETS_MS[g.split(chr(10))[0]]:g} ms" if g.split("\n")[0] in API_TARGETS_MS
              and "(mix)" in g else "") for g, _ in groups],
    )  # fmt: skip
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend(loc="upper right", fontsize=8)
    rate, run = mix.get("offered_rps"), res or {}
    ax.set_title(
        f"API latency per path, open loop at {rate} req/s (mix 70/20/10 %), {run.get('clients')} connections, "
        f"{run.get('seconds'):g} s; server and load generator on the same {run.get('machine', {}).get('cores')} "
        "cores",
        fontsize=9,
    )
    fig.tight_layout()
    return _save(fig, out / "api_latency.png")


Series = dict[str, tuple[list[float], list[float]]]


def _human(value: float, _pos: Any = None) -> str:
    """Tick label: 1000 → 1k, 2000000 → 2M, 0.5 → 0.5."""
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:g}{suffix}"
    return f"{value:g}"


def _cost_panel(
    ax: Axes, title: str, xlabel: str, ylabel: str, series: Series, target: tuple[float, str] | None = None
) -> bool:
    """One log-log panel of cost against size; False (panel hidden) when it has no data."""
    series = {k: v for k, v in series.items() if v[0]}
    if not series:
        ax.set_visible(False)
        return False
    ax.set_xscale("log")
    ax.set_yscale("log")
    for i, (name, (xs, ys)) in enumerate(series.items()):
        ax.plot(xs, ys, marker="o", label=name, color=COLORS[i % len(COLORS)])
    if target:
        ax.axhline(target[0], **TARGET_STYLE, label=target[1])
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(_human))
        axis.set_minor_formatter(NullFormatter())
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    return True


def _xy(
    rows: Any, x: Callable[[Mapping[str, Any]], float], y: Callable[[Mapping[str, Any]], float]
) -> tuple[list[float], list[float]]:
    pts = sorted((float(x(r)), float(y(r))) for r in rows or [] if isinstance(r, Mapping))
    return [p[0] for p in pts], [p[1] for p in pts]


def plot_cost(results: Mapping[str, Any], out: Path) -> Path | None:
    """Six log-log panels of time against data size: ingest, graph load, index build, search, price check, briefing."""
    ingest = (results.get("ingest") or {}).get("results")
    graph = [r for r in (results.get("graph") or {}).get("results", []) if r.get("backend", "embedded") == "embedded"]
    hybrid = (results.get("retrieval_bench") or {}).get("hybrid")
    pricing = results.get("pricing_bench")
    briefing = [r for r in results.get("briefing") or [] if "order_lines" in r]
    fig = Figure(figsize=(12, 8.6))
    axes = fig.subplots(2, 3).ravel()
    lines = "order lines"
    shown = [
        _cost_panel(
            axes[0],
            "CSV ingest, end to end",
            lines,
            "seconds",
            {
                "ingest": _xy(ingest, lambda r: r["order_lines"], lambda r: r["ingest_s"]),
                "re-ingest (unchanged)": _xy(ingest, lambda r: r["order_lines"], lambda r: r["reingest_unchanged_s"]),
            },
            (30.0, "target 30 s at 2M"),
        ),
        _cost_panel(
            axes[1],
            "Graph bulk load and price history",
            lines,
            "seconds / ms",
            {
                "bulk load s": _xy(graph, lambda r: r["purchase_lines"], lambda r: r["bulk_load_s"]),
                "peer history p99 ms": _xy(
                    graph, lambda r: r["purchase_lines"], lambda r: r["price_history_peer_filter_ms"]["p99"]
                ),
                "whole-SKU history p99 ms": _xy(
                    graph, lambda r: r["purchase_lines"], lambda r: r["price_history_full_sku_ms"]["p99"]
                ),
            },
            (20.0, "target p99 20 ms"),
        ),
        _cost_panel(
            axes[2],
            "Retrieval index build",
            "knowledge entries",
            "seconds",
            {
                "build, excl. embedding": _xy(
                    hybrid, lambda r: r["entries"], lambda r: r["index_build_s_excluding_embedding"]
                ),
                "USE embedding (≤ 10k real entries)": _xy(hybrid, lambda r: r["entries"], lambda r: r["use_embed_s"]),
            },
        ),
        _cost_panel(
            axes[3],
            "Hybrid search and one-entry update",
            "knowledge entries",
            "ms",
            {
                "query p50": _xy(hybrid, lambda r: r["entries"], lambda r: r["hybrid_query_ms"]["p50"]),
                "query p95": _xy(hybrid, lambda r: r["entries"], lambda r: r["hybrid_query_ms"]["p95"]),
                "update p95": _xy(hybrid, lambda r: r["entries"], lambda r: r["update_one_entry_ms"]["p95"]),
            },
            (30.0, "query target p95 30 ms at 10k"),
        ),
        _cost_panel(
            axes[4],
            "Price check (in process) and index build",
            lines,
            "ms",
            {
                "check p50": _xy(pricing, lambda r: r["order_lines"], lambda r: r["check_first_time_ms"]["p50"]),
                "check p99": _xy(pricing, lambda r: r["order_lines"], lambda r: r["check_first_time_ms"]["p99"]),
                "index build": _xy(pricing, lambda r: r["order_lines"], lambda r: r["index_build_s"] * 1000),
                "+1,000 lines": _xy(pricing, lambda r: r["order_lines"], lambda r: r["update_1000_lines_ms"]),
            },
            (1.0, "check target p99 1 ms"),
        ),
        _cost_panel(
            axes[5],
            "Visit briefing pack",
            "demo order lines (scale 1, 5, 20…)",
            "ms",
            {
                "JSON p50": _xy(briefing, lambda r: r["order_lines"], lambda r: r["json_ms"]["p50"]),
                "JSON p95": _xy(briefing, lambda r: r["order_lines"], lambda r: r["json_ms"]["p95"]),
                "PDF p95": _xy(briefing, lambda r: r["order_lines"], lambda r: r["pdf_ms"]["p95"]),
            },
            (300.0, "JSON target p95 300 ms"),
        ),
    ]
    if not any(shown):
        return None
    fig.suptitle("Cost against data size (log-log)", fontsize=12)
    fig.tight_layout()
    return _save(fig, out / "cost_vs_size.png")


def make_plots(results: Mapping[str, Any], out: Path) -> dict[str, str]:
    """Every plot that has data; returns ``{plot key: file name}`` (files written into ``out``)."""
    out.mkdir(parents=True, exist_ok=True)
    made = {
        "retrieval": plot_retrieval(results.get("retrieval"), out),
        "pricing": plot_pricing(results.get("pricing"), out),
        "cases": plot_cases(results.get("cases"), out),
        "api": plot_api(results.get("api"), out),
        "cost": plot_cost(results, out),
    }
    return {key: path.name for key, path in made.items() if path is not None}
