"""Building blocks of the Live page: the controls, the price chart and the PnL panel.

They are filled in the browser by ``app/assets/live_socket.js`` (the socket client and the
renderer of the page's state); the element ids here are the ones it writes.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

PNL_FIELDS = (("Position", "live-position"), ("Entry price", "live-entry"),
              ("Unrealized PnL", "live-unrealized"), ("Realized PnL", "live-realized"),
              ("Equity", "live-equity-value"), ("Last signal", "live-signal"),
              ("As of bar", "live-pnl-ts"))


def controls(strategies: list[dict[str, Any]], symbols: list[str]) -> dbc.Card:
    """Strategy to follow (optional), symbols to stream, and the Start button."""
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([dbc.Label("Follow a saved strategy", html_for="live-strategy"),
                 dcc.Dropdown(id="live-strategy", options=strategies, clearable=True,
                              placeholder="none: prices only",
                              value=strategies[0]["value"] if strategies else None)], md=5),
        dbc.Col([dbc.Label("Symbols", html_for="live-symbols"),
                 dcc.Dropdown(id="live-symbols", options=symbols, multi=True,
                              value=[s for s in ("SPY", "QQQ", "AAPL") if s in symbols]
                              or symbols[:3])], md=5),
        dbc.Col(dbc.Button("Start", id="live-start", color="primary", className="mt-4"),
                md=2),
    ], className="g-2")), className="mb-3")


def status_line() -> html.Div:
    """Connection indicator, the source label and the ticker strip."""
    return html.Div([
        dbc.Badge("idle", id="live-status", color="secondary", className="me-2"),
        html.Span("Source: ", className="text-muted"),
        html.Span("—", id="live-source", className="me-3"),
        html.Span("ticks: ", className="text-muted small"),
        html.Span("0", id="live-tick-count", className="small"),
        html.Div("waiting for prices…", id="live-ticker", className="font-monospace mt-2"),
        html.Div(id="live-error", className="text-warning small"),
    ], className="mb-3")


def pnl_panel() -> dbc.Card:
    """The followed strategy's position and PnL, and its equity curve growing live."""
    rows = [html.Tr([html.Th(label), html.Td("—", id=id_)]) for label, id_ in PNL_FIELDS]
    return dbc.Card(dbc.CardBody([
        html.H5("Live PnL", className="card-title"),
        dbc.Table(html.Tbody(rows), size="sm", className="mb-2", id="live-pnl-table"),
        dcc.Graph(id="live-equity", config={"displayModeBar": False}, figure={}),
    ]), id="live-pnl")


def price_chart() -> dcc.Graph:
    return dcc.Graph(id="live-chart", config={"displayModeBar": False}, figure={})
