"""Building blocks of a stress result (docs/results.md#stress-result): the scenario table, drawdown
bars, equity
paths rebased to 100, the Monte Carlo fan chart and histogram, and the plain-words summary.

Every function takes the stored result document (plain JSON data), so the stress page, a run's
result page and tests can all use them.
"""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html
from plotly.subplots import make_subplots

from components.theme import ACCENT, DOWN, MUTED
from engine.stress import describe

PANELS_PER_ROW = 4


def _pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "–"
    if round(value * 100, 1) == 0:
        return "0.0 %"
    return f"{value * 100:+.1f} %" if signed else f"{value * 100:.1f} %"


def _better(mine: float | None, market: float | None) -> str:
    """Bootstrap text class: green when the strategy did better than buy-and-hold."""
    if mine is None or market is None or mine == market:
        return ""
    return "text-success" if mine > market else "text-danger"


def scenario_table(document: dict[str, Any]) -> dbc.Table:
    """One row per scenario, strategy against buy-and-hold; green where the strategy did
    better (a higher return, a shallower drawdown), red where it did worse."""
    benchmark = document["spec"]["benchmark"]
    header = html.Thead(html.Tr([html.Th(h) for h in (
        "Scenario", "Window", "Return", f"{benchmark} return", "Max drawdown",
        f"{benchmark} drawdown", "Worst day", "Days to recover", "Trades", "In market")]))
    rows = []
    for s in document["scenarios"]:
        mine, market = s["strategy"], s["benchmark"] or {}
        recover = mine["days_to_recover"]
        rows.append(html.Tr([
            html.Td([html.Span(s["name"], title=s.get("description", "")),
                     html.Small(" your window" if s.get("custom") else f" {s['kind']}",
                                className="text-muted")
                     if s["kind"] != "historical" or s.get("custom") else None]),
            html.Td(f"{s['start']} → {s['end']}", className="text-nowrap"),
            html.Td(_pct(mine["return"]), className=_better(mine["return"],
                                                            market.get("return"))),
            html.Td(_pct(market.get("return"))),
            html.Td(_pct(mine["max_drawdown"]),
                    className=_better(mine["max_drawdown"], market.get("max_drawdown"))),
            html.Td(_pct(market.get("max_drawdown"))),
            html.Td(_pct(mine["worst_day"])),
            html.Td("not recovered" if recover is None else str(recover)),
            html.Td(str(mine["num_trades"])),
            html.Td(_pct(mine["exposure"], signed=False)),
        ], id={"type": "stress-row", "index": s["id"]}))
    return dbc.Table([header, html.Tbody(rows)], hover=True, responsive=True, size="sm",
                     id="stress-table", className="align-middle text-nowrap")


def drawdown_figure(document: dict[str, Any]) -> go.Figure:
    """Grouped bars: the deepest drawdown of the strategy and of buy-and-hold per scenario."""
    names = [s["name"] for s in document["scenarios"]]
    figure = go.Figure([
        go.Bar(name="strategy", x=names, marker_color=ACCENT,
               y=[s["strategy"]["max_drawdown"] * 100 for s in document["scenarios"]]),
        go.Bar(name=f"buy & hold {document['spec']['benchmark']}", x=names, marker_color=MUTED,
               y=[(s["benchmark"] or {}).get("max_drawdown", math.nan) * 100
                  for s in document["scenarios"]]),
    ])
    figure.update_layout(title="Max drawdown per scenario", barmode="group",
                         yaxis_title="drawdown (%)", legend={"orientation": "h", "y": -0.35},
                         height=380)
    return figure


def equity_figure(document: dict[str, Any]) -> go.Figure:
    """One small panel per scenario: strategy and buy-and-hold, rebased to 100 at the start."""
    scenarios = document["scenarios"]
    rows = max(1, math.ceil(len(scenarios) / PANELS_PER_ROW))
    figure = make_subplots(rows=rows, cols=PANELS_PER_ROW, vertical_spacing=0.3 / rows,
                           horizontal_spacing=0.05,
                           subplot_titles=[s["name"] for s in scenarios])
    for i, s in enumerate(scenarios):
        row, col = i // PANELS_PER_ROW + 1, i % PANELS_PER_ROW + 1
        dates = [r["date"] for r in s["equity"]]
        figure.add_trace(go.Scatter(x=dates, y=[r["strategy"] for r in s["equity"]],
                                    name="strategy", legendgroup="strategy", showlegend=i == 0,
                                    line={"color": ACCENT, "width": 1.5}), row=row, col=col)
        if s["benchmark"] is not None:
            figure.add_trace(go.Scatter(x=dates, y=[r["benchmark"] for r in s["equity"]],
                                        name="buy & hold", legendgroup="benchmark",
                                        showlegend=i == 0,
                                        line={"color": MUTED, "width": 1, "dash": "dot"}),
                             row=row, col=col)
    figure.update_annotations(font_size=11)
    figure.update_xaxes(showticklabels=False)
    figure.update_layout(title="Equity through each scenario (start = 100)",
                         height=190 * rows + 120, margin={"t": 80, "b": 50},
                         legend={"orientation": "h", "y": 0, "yanchor": "top", "x": 0})
    return figure


def fan_figure(monte_carlo: dict[str, Any]) -> go.Figure:
    """The Monte Carlo fan: the 5-95 % and 25-75 % bands of equity (start = 100), the median."""
    fan = monte_carlo["fan"]
    days = [row["day"] for row in fan]

    def band(low: str, high: str, name: str, opacity: float) -> list[go.Scatter]:
        fill = f"rgba(52, 152, 219, {opacity})"
        return [go.Scatter(x=days, y=[r[high] for r in fan], line={"width": 0},
                           showlegend=False, hoverinfo="skip"),
                go.Scatter(x=days, y=[r[low] for r in fan], line={"width": 0}, fill="tonexty",
                           fillcolor=fill, name=name, hoverinfo="skip")]

    figure = go.Figure([
        *band("p5", "p95", "5–95 % of paths", 0.18),
        *band("p25", "p75", "25–75 % of paths", 0.35),
        go.Scatter(x=days, y=[r["p50"] for r in fan], name="median", line={"color": ACCENT}),
    ])
    figure.add_hline(y=100, line={"color": MUTED, "dash": "dot", "width": 1})
    figure.update_layout(
        title=f"Monte Carlo: {monte_carlo['paths']:,} paths over {monte_carlo['horizon_days']}"
              " trading days", xaxis_title="trading days ahead", yaxis_title="equity (start 100)",
        legend={"orientation": "h", "y": -0.25}, height=380)
    return figure


def histogram_figure(monte_carlo: dict[str, Any]) -> go.Figure:
    """Final returns of the paths: the strategy against buy-and-hold on the same paths."""
    histogram = monte_carlo["histogram"]
    edges = histogram["edges"]
    centres = [(a + b) / 2 * 100 for a, b in zip(edges[:-1], edges[1:], strict=True)]
    width = (edges[1] - edges[0]) * 100 if len(edges) > 1 else 1.0
    figure = go.Figure([
        go.Bar(x=centres, y=histogram["strategy"], width=width, name="strategy",
               marker_color=ACCENT, opacity=0.8),
        go.Bar(x=centres, y=histogram["buy_and_hold"], width=width, name="buy & hold",
               marker_color=MUTED, opacity=0.5),
    ])
    figure.add_vline(x=0, line={"color": DOWN, "width": 1})
    figure.update_layout(title="Outcomes", barmode="overlay",
                         xaxis_title="final return after the horizon (%)", yaxis_title="paths",
                         legend={"orientation": "h", "y": -0.25}, height=380)
    return figure


def monte_carlo_table(monte_carlo: dict[str, Any]) -> dbc.Table:
    """Percentiles of final return, drawdown and Sharpe, and the chances of large losses."""
    quantiles = ("p5", "p25", "p50", "p75", "p95")
    rows = [html.Tr([html.Th(label)] + [html.Td(fmt(monte_carlo[key][q])) for q in quantiles])
            for key, label, fmt in (
                ("final_return", "Final return", _pct), ("max_drawdown", "Max drawdown", _pct),
                ("sharpe", "Sharpe", lambda v: "–" if v is None else f"{v:.2f}"))]
    losses = ", ".join(f"worse than −{float(x) * 100:g} %: {p * 100:.1f} %"
                       for x, p in monte_carlo["prob_loss_worse_than"].items())
    return html.Div([
        dbc.Table([html.Thead(html.Tr([html.Th("")] + [html.Th(q) for q in quantiles])),
                   html.Tbody(rows)], size="sm", id="stress-mc-table"),
        html.P(f"Probability of a loss {losses}.", className="text-muted small"),
    ])


def summary(document: dict[str, Any]) -> html.Div:
    """The plain-words summary (``engine.stress.describe``); the first sentence stands out."""
    return html.Div([html.P(sentence, className="lead" if i == 0 else "mb-1")
                     for i, sentence in enumerate(describe(document))], id="stress-summary")
