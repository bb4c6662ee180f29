"""The "How robust is this?" panel of a robustness result (docs/results.md#robustness-result): the
fill table, the
cost curve with the break-even costs marked, the trade-order Monte Carlo fan and
drawdown-probability bars, the conventions table, data warnings and the verdict.

Every function is a pure function of the stored result document (plain JSON data), so the
Results page, other pages and tests can call them without a browser.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from components.theme import ACCENT, DOWN, MUTED

FILL_COLUMNS = (("total_return", "Total return", True), ("cagr", "CAGR", True),
                ("sharpe", "Sharpe", False), ("max_drawdown", "Max drawdown", True),
                ("num_trades", "Trades", False))


def _pct(value: float | None) -> str:
    if value is None:
        return "–"
    return "0.0 %" if round(value * 100, 1) == 0 else f"{value * 100:+.1f} %"


def _num(value: float | int | None) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) else f"{value:.3f}"


def fill_table(document: dict[str, Any]) -> dbc.Table:
    """One row per fill assumption (the spec's own in bold), key metrics as text."""
    head = html.Thead(html.Tr([html.Th("Fill assumption")]
                              + [html.Th(label) for _, label, _ in FILL_COLUMNS]))
    rows = []
    for row in document["fills"]:
        metrics = row["metrics"]
        label = row["label"] + (" (the spec's)" if row["is_spec"] else "")
        cells = [html.Td(_pct(metrics[key]) if percent else _num(metrics[key]))
                 for key, _, percent in FILL_COLUMNS]
        rows.append(html.Tr([html.Td(label)] + cells,
                            className="fw-bold" if row["is_spec"] else ""))
    return dbc.Table([head, html.Tbody(rows)], size="sm", bordered=False, hover=True,
                     className="robustness-fills")


def cost_curve_figure(document: dict[str, Any]) -> go.Figure:
    """CAGR against the per-side cost, with buy-and-hold's CAGR and the break-even costs."""
    costs = [row["cost_bps"] for row in document["costs"]]
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=costs, y=[row["metrics"]["cagr"] for row in document["costs"]], name="strategy CAGR",
        mode="lines+markers", line={"color": ACCENT}))
    benchmark = [row.get("benchmark_cagr") for row in document["costs"]]
    if any(value is not None for value in benchmark):
        figure.add_trace(go.Scatter(x=costs, y=benchmark, name="buy-and-hold CAGR",
                                    mode="lines", line={"color": MUTED, "dash": "dot"}))
    for key, text, color in (("vs_benchmark", "edge gone", MUTED), ("vs_zero", "CAGR 0", DOWN)):
        value = document["breakeven_bps"].get(key)
        if value is not None:
            figure.add_vline(x=value, line={"color": color, "dash": "dash"},
                             annotation_text=f"{text}: {value:.1f} bps")
    figure.update_layout(title="CAGR as costs rise (fees + slippage per side)",
                         xaxis_title="cost per side (bps)", yaxis_title="CAGR",
                         yaxis_tickformat=".1%", height=340)
    return figure


def trade_fan_figure(document: dict[str, Any]) -> go.Figure:
    """Equity (start = 100) after k resampled trades: the 5-95 and 25-75 % bands and median."""
    figure = go.Figure()
    monte_carlo = document.get("trade_monte_carlo")
    if not monte_carlo:
        figure.update_layout(title="Trade-order Monte Carlo: too few closed trades", height=340)
        return figure
    fan = monte_carlo["fan"]
    trades = [row["trade"] for row in fan]
    for low, high, opacity in (("p5", "p95", 0.15), ("p25", "p75", 0.3)):
        figure.add_trace(go.Scatter(x=trades, y=[row[high] for row in fan], mode="lines",
                                    line={"width": 0}, showlegend=False, hoverinfo="skip"))
        figure.add_trace(go.Scatter(x=trades, y=[row[low] for row in fan], mode="lines",
                                    line={"width": 0}, fill="tonexty",
                                    fillcolor=f"rgba(52,152,219,{opacity})",
                                    name=f"{low[1:]}-{high[1:]} %"))
    figure.add_trace(go.Scatter(x=trades, y=[row["p50"] for row in fan], mode="lines",
                                name="median", line={"color": ACCENT}))
    figure.update_layout(title=f"Trade-order Monte Carlo: {monte_carlo['paths']:,} orders of "
                               f"{monte_carlo['trades']} trades",
                         xaxis_title="trades", yaxis_title="equity (start = 100)", height=340)
    return figure


def drawdown_probability_figure(document: dict[str, Any]) -> go.Figure:
    """P(max drawdown worse than 10/20/30/50 %) over the resampled orders."""
    figure = go.Figure()
    monte_carlo = document.get("trade_monte_carlo")
    if monte_carlo:
        levels = monte_carlo["prob_drawdown_worse_than"]
        figure.add_trace(go.Bar(x=[f"worse than -{float(x) * 100:g} %" for x in levels],
                                y=list(levels.values()), marker_color=DOWN,
                                text=[f"{p * 100:.1f} %" for p in levels.values()],
                                textposition="outside"))
    figure.update_layout(title="Probability of a maximum drawdown", yaxis_tickformat=".0%",
                         yaxis_range=[0, 1.1], height=340)
    return figure


def conventions_table(document: dict[str, Any]) -> dbc.Table:
    """Each metric under another tool's convention, beside ours, with who uses it."""
    head = html.Thead(html.Tr([html.Th(h) for h in
                               ("Metric", "Convention", "Their value", "Ours", "Used by")]))
    rows = [html.Tr([html.Td(row["metric"]), html.Td(row["label"], title=row.get("formula")),
                     html.Td(_num(row["value"])), html.Td(_num(row["ours"])),
                     html.Td(row["used_by"])])
            for row in document["conventions"]]
    return dbc.Table([head, html.Tbody(rows)], size="sm", bordered=False,
                     className="robustness-conventions")


def warnings_list(document: dict[str, Any]) -> html.Div:
    """The data warnings, one line each, or a line saying there are none."""
    if not document["warnings"]:
        return html.Div(html.P("No data warnings.", className="text-success"))
    return html.Div(html.Ul([html.Li(f"{w['date']} {w['kind']}: {w['message']}")
                             for w in document["warnings"]]), className="text-warning")


def robustness_panel(document: dict[str, Any]) -> html.Div:
    """The whole "How robust is this?" panel of a robustness result document."""
    def graph(figure: go.Figure, name: str) -> dcc.Graph:
        return dcc.Graph(figure=figure, id=f"robustness-{name}",
                         config={"displayModeBar": False})

    return html.Div([
        html.H4("How robust is this?"),
        html.P(document.get("verdict", ""), className="lead robustness-verdict"),
        html.H5("Fill timing"), fill_table(document),
        html.H5("Costs"), graph(cost_curve_figure(document), "costs"),
        dbc.Row([dbc.Col(graph(trade_fan_figure(document), "fan"), md=8),
                 dbc.Col(graph(drawdown_probability_figure(document), "drawdown-odds"), md=4)]),
        html.H5("Conventions: our numbers as other tools compute them"),
        conventions_table(document),
        html.H5("Data"), warnings_list(document),
    ], className="robustness-panel")
