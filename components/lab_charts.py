"""Building blocks of the strategy lab: a sweep's heatmap over two grid keys and its stability
around the best cell, the walk-forward chart and folds table, and the overfitting verdict.

Every function takes stored result documents (plain JSON data: a sweep's
docs/results.md#sweep-result with its
``overfitting``, a walk-forward result, docs/results.md), so the Lab page and tests use them
alike. Grid keys are spec paths; a key's values are read from the document's ``grid``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

from components.theme import ACCENT, DOWN, MUTED, UP
from engine.overfitting import describe

#: Metrics a heatmap can colour by (docs/results.md#backtest-result keys), with their labels;
#: percentages flagged.
HEATMAP_METRICS: dict[str, tuple[str, bool]] = {
    "sharpe": ("Sharpe", False), "sortino": ("Sortino", False), "cagr": ("CAGR", True),
    "total_return": ("Total return", True), "max_drawdown": ("Max drawdown", True),
    "calmar": ("Calmar", False), "win_rate": ("Win rate", True),
    "profit_factor": ("Profit factor", False), "num_trades": ("Trades", False),
    "exposure": ("Time in market", True)}
#: The neighbourhood keeps at least this share of the best cell's metric: a plateau.
PLATEAU_SHARE = 0.75
_SWEEPABLE_TOP_LEVEL = ("initial_cash", "fees_bps", "slippage_bps", "stop_loss_pct",
                        "take_profit_pct", "trailing_stop_pct")


def numeric_paths(spec: dict[str, Any]) -> list[str]:
    """Paths (validation-error notation) of the spec's numeric fields a grid may sweep: the
    numbers in the rule trees (indicator params, thresholds) and the execution settings (the
    stop/target fields even when null)."""
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{path}.{key}")
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, f"{path}[{i}]")
        elif isinstance(node, int | float) and not isinstance(node, bool):
            found.append(path)

    for side in ("entry", "exit"):
        walk(spec.get(side), side)
    return found + [key for key in _SWEEPABLE_TOP_LEVEL if key in spec]


def parse_values(text: str | None) -> list[float | int]:
    """Grid values from the page's text box: ``10, 20, 30`` or ``START:STOP:STEP`` (STOP
    included). ValueError saying the expected form otherwise."""
    text = (text or "").strip()
    if not text:
        raise ValueError("write values as 10, 20, 30 or as start:stop:step, e.g. 5:50:5")
    if ":" in text:
        try:
            start, stop, step = (float(part) for part in text.split(":"))
        except ValueError:
            raise ValueError(f"{text!r}: write start:stop:step, e.g. 5:50:5") from None
        if step <= 0 or stop < start:
            raise ValueError(f"{text!r}: the step must be positive and stop >= start")
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        values = [start + i * step for i in range(count)]
    else:
        try:
            values = [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            raise ValueError(f"{text!r}: write numbers separated by commas") from None
    return [int(v) if float(v).is_integer() else round(v, 10) for v in values]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _fmt(value: Any, percent: bool) -> str:
    if value is None:
        return "–"
    if percent:
        return f"{value * 100:.1f} %"
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def cell_grid(document: dict[str, Any], x_key: str, y_key: str, metric: str,
              fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The metric on the (y, x) grid of two grid keys, the other keys held at ``fixed``
    (default: their first value). Returns ``x``, ``y`` (the grid values), ``z`` (rows of
    metric values, None where the combination is missing, invalid or has no value) and
    ``index`` (rows of result indices, None where missing)."""
    xs, ys = document["grid"][x_key], document["grid"][y_key]
    held = {key: values[0] for key, values in document["grid"].items()
            if key not in (x_key, y_key)} | (fixed or {})
    where = {(_key(row["params"][x_key]), _key(row["params"][y_key])): i
             for i, row in enumerate(document["results"])
             if all(_key(row["params"].get(k)) == _key(v) for k, v in held.items())}
    z: list[list[Any]] = []
    index: list[list[Any]] = []
    for y in ys:
        z.append([])
        index.append([])
        for x in xs:
            i = where.get((_key(x), _key(y)))
            metrics = document["results"][i]["metrics"] if i is not None else None
            z[-1].append((metrics or {}).get(metric))
            index[-1].append(i)
    return {"x": xs, "y": ys, "z": z, "index": index}


def heatmap_figure(document: dict[str, Any], x_key: str, y_key: str, metric: str,
                   fixed: dict[str, Any] | None = None) -> go.Figure:
    """Heatmap of ``metric`` over two grid keys; hovering a cell shows every metric of its
    combination, and each cell's ``customdata`` is its index in ``results`` (the page opens
    that variant on a click)."""
    cells = cell_grid(document, x_key, y_key, metric, fixed)
    label, percent = HEATMAP_METRICS.get(metric, (metric, False))
    hover = []
    for row in cells["index"]:
        hover.append([])
        for i in row:
            result = document["results"][i] if i is not None else None
            if result is None:
                hover[-1].append("not run")
            elif not result.get("metrics"):
                hover[-1].append(f"invalid: {result.get('error', '')}")
            else:
                m = result["metrics"]
                hover[-1].append("<br>".join(f"{name}: {_fmt(m.get(key), pct)}"
                                             for key, (name, pct) in HEATMAP_METRICS.items()))
    scale = 100 if percent else 1
    z = [[None if v is None else v * scale for v in row] for row in cells["z"]]
    figure = go.Figure(go.Heatmap(
        x=[str(v) for v in cells["x"]], y=[str(v) for v in cells["y"]], z=z,
        customdata=cells["index"], text=hover, colorscale="RdYlGn",
        hovertemplate="%{x} × %{y}<br>%{text}<extra></extra>",
        colorbar={"title": label + (" %" if percent else "")}))
    figure.update_layout(title=f"{label} by parameter", xaxis_title=_short(x_key),
                         yaxis_title=_short(y_key), xaxis_type="category",
                         yaxis_type="category", height=460)
    return figure


def _short(key: str) -> str:
    """A grid key for an axis title: the first linked path."""
    return key.split(",")[0]


def stability(document: dict[str, Any], x_key: str, y_key: str, metric: str,
              fixed: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """How far ``metric`` falls around the best cell of the heatmap: ``best`` (value, x, y),
    ``neighbours`` (the metric of the up to 8 adjacent cells that ran), their ``mean``, the
    ``share`` of the best it keeps (mean / best) and the ``kind``: ``plateau`` when the share
    is at least PLATEAU_SHARE, ``spike`` otherwise (a best cell with no neighbour, or a
    best value ≤ 0, is a spike). None when no cell has a value."""
    cells = cell_grid(document, x_key, y_key, metric, fixed)
    scored = [(value, r, c) for r, row in enumerate(cells["z"]) for c, value in enumerate(row)
              if value is not None]
    if not scored:
        return None
    best, r0, c0 = max(scored, key=lambda item: item[0])
    around = [cells["z"][r][c] for r in range(r0 - 1, r0 + 2) for c in range(c0 - 1, c0 + 2)
              if (r, c) != (r0, c0) and 0 <= r < len(cells["y"]) and 0 <= c < len(cells["x"])]
    around = [v for v in around if v is not None]
    mean = sum(around) / len(around) if around else None
    share = mean / best if mean is not None and best > 0 else None
    kind = "plateau" if share is not None and share >= PLATEAU_SHARE else "spike"
    return {"best": best, "x": cells["x"][c0], "y": cells["y"][r0], "neighbours": around,
            "mean": mean, "share": share, "kind": kind}


def stability_text(info: dict[str, Any] | None, metric: str) -> str:
    """:func:`stability` in one sentence."""
    if info is None:
        return "No cell of this view has a value."
    label, percent = HEATMAP_METRICS.get(metric, (metric, False))
    best = _fmt(info["best"], percent)
    if info["mean"] is None:
        return f"The best cell ({label} {best}) has no neighbour that ran: a lone spike."
    fall = "" if info["share"] is None else f", {info['share'] * 100:.0f} % of the best"
    word = ("a plateau: nearby parameters do almost as well" if info["kind"] == "plateau"
            else "a spike: nearby parameters do much worse, so the best cell may be luck")
    return (f"The best cell ({label} {best}) is {word} (its neighbours average "
            f"{_fmt(info['mean'], percent)}{fall}).")


def verdict(document: dict[str, Any]) -> dbc.Alert:
    """The sweep's overfitting odds in plain words, coloured by the PBO."""
    report = document.get("overfitting") or {}
    pbo = report.get("pbo")
    color = "secondary" if pbo is None else ("danger" if pbo >= 0.5 else
                                            "warning" if pbo >= 0.2 else "success")
    return dbc.Alert(describe(report), color=color, id="lab-verdict")


def walkforward_figure(document: dict[str, Any]) -> go.Figure:
    """The stitched out-of-sample equity, each fold's in-sample window shaded before its
    out-of-sample start (a dotted line marks each fold boundary), and the in-sample CAGR of
    each fold's chosen parameters against its out-of-sample CAGR as a step line."""
    points = document["oos_equity"]
    figure = go.Figure(go.Scatter(x=[p["date"] for p in points], y=[p["equity"] for p in points],
                                  name="stitched out of sample", line={"color": ACCENT}))
    for fold in document["folds"]:
        start = fold["out_of_sample"]["start"]
        figure.add_vline(x=start, line={"dash": "dot", "color": MUTED, "width": 1})
        figure.add_annotation(x=start, y=1, yref="paper", text=f"fold {fold['fold'] + 1}",
                              showarrow=False, xanchor="left", font={"size": 10})
    first = document["folds"][0] if document["folds"] else None
    if first:
        figure.add_vrect(x0=first["in_sample"]["start"], x1=first["in_sample"]["end"],
                         fillcolor=MUTED, opacity=0.12, line_width=0,
                         annotation_text="first in-sample window",
                         annotation_position="top left")
    figure.update_layout(title="Walk-forward: out-of-sample equity, folds marked",
                         yaxis_title="equity", height=420)
    return figure


def fold_returns_figure(document: dict[str, Any]) -> go.Figure:
    """Per fold, the annualised return in sample (of the chosen parameters) and out of sample."""
    folds = document["folds"]
    names = [f"fold {f['fold'] + 1}" for f in folds]

    def pct(metrics: dict[str, Any]) -> float:
        value = metrics.get("cagr")
        return math.nan if value is None else value * 100

    figure = go.Figure([
        go.Bar(name="in sample", x=names, y=[pct(f["in_sample_metrics"]) for f in folds],
               marker_color=MUTED),
        go.Bar(name="out of sample", x=names,
               y=[pct(f["out_of_sample_metrics"]) for f in folds],
               marker_color=[UP if pct(f["out_of_sample_metrics"]) >= 0 else DOWN
                             for f in folds])])
    figure.update_layout(title="Annualised return: in sample vs out of sample",
                         yaxis_title="CAGR %", barmode="group", height=320)
    return figure


def folds_table(document: dict[str, Any]) -> dbc.Table:
    """One row per fold: windows, chosen parameters, IS and OOS CAGR and Sharpe."""
    header = html.Thead(html.Tr([html.Th(h) for h in (
        "Fold", "In sample", "Out of sample", "Chosen parameters", "IS CAGR", "OOS CAGR",
        "IS Sharpe", "OOS Sharpe")]))
    rows = []
    for fold in document["folds"]:
        ins, oos = fold["in_sample_metrics"], fold["out_of_sample_metrics"]
        params = "; ".join(f"{_short(k)} = {v}" for k, v in fold["params"].items())
        rows.append(html.Tr([
            html.Td(str(fold["fold"] + 1)),
            html.Td(f"{fold['in_sample']['start']} → {fold['in_sample']['end']}"),
            html.Td(f"{fold['out_of_sample']['start']} → {fold['out_of_sample']['end']}"),
            html.Td([params, html.Small(f" ({fold['note']})", className="text-muted")
                     if fold.get("note") else None]),
            html.Td(_fmt(ins.get("cagr"), True)), html.Td(_fmt(oos.get("cagr"), True)),
            html.Td(_fmt(ins.get("sharpe"), False)), html.Td(_fmt(oos.get("sharpe"), False)),
        ]))
    return dbc.Table([header, html.Tbody(rows)], hover=True, responsive=True, size="sm",
                     id="lab-folds-table", className="align-middle")


def walkforward_summary(document: dict[str, Any]) -> html.Div:
    """Efficiency and parameter stability in words."""
    efficiency = document.get("efficiency")
    metrics = document["oos_metrics"]
    lines = [html.P(
        f"Out of sample, stitched over {len(document['folds'])} folds: CAGR "
        f"{_fmt(metrics.get('cagr'), True)}, Sharpe {_fmt(metrics.get('sharpe'), False)}, max "
        f"drawdown {_fmt(metrics.get('max_drawdown'), True)}. Walk-forward efficiency "
        f"(out-of-sample / in-sample annualised return): "
        f"{'–' if efficiency is None else f'{efficiency:.2f}'}"
        " (around 0.5 or more is usually taken as robust). Positions are "
        f"{document['settings']['positions_at_boundaries']} at each fold boundary.")]
    for key, entry in document["stability"].items():
        lines.append(html.P(
            f"{_short(key)}: {entry['distinct']} different values chosen; {entry['mode']} in "
            f"{entry['mode_share'] * 100:.0f} % of folds.", className="mb-1"))
    return html.Div(lines, id="lab-walkforward-summary")
