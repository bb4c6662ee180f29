"""Home: recent runs and strategies, and for a first visit the path open an example -> run it ->
read the result."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import html

from app.auth import current_user_id
from app.context import arena
from app.services import cockpit
from components.metric_info import format_metric

RECENT = 6
FIRST_EXAMPLE = "rsi_mean_reversion"


def first_steps() -> dbc.Card:
    steps = [
        ("Open an example", ["The RSI mean-reversion example (buy SPY when RSI(14) < 30, sell "
                             "above 70, 5 % stop) opens in the Builder with its chart."],
         dbc.Button("Open the example", href=f"/builder?example={FIRST_EXAMPLE}",
                    color="primary", size="sm", id="home-open-example")),
        ("Run it", ["Press ", html.B("Run backtest"), ": it is saved and runs in the "
                    "background on real SPY history, with fees."], None),
        ("Read the result", ["Every metric against buy-and-hold, the equity and drawdown "
                             "charts, each trade on the chart, and downloads."], None),
    ]
    return dbc.Card(dbc.CardBody([
        html.H4("Your first backtest in 60 seconds", className="card-title"),
        dbc.Row([dbc.Col([html.H6(f"{number}. {title}"), html.P(text, className="small"),
                          button], md=4)
                  for number, (title, text, button) in enumerate(steps, start=1)]),
    ]), className="mb-4", id="home-first-steps")


def recent_runs(runs: list[dict[str, Any]]) -> Any:
    if not runs:
        return html.P("No runs yet.", className="text-muted")
    return dbc.ListGroup([
        dbc.ListGroupItem([
            html.A(f"#{r['id']} {r['strategy']}", href=f"/runs/{r['id']}", className="me-2"),
            dbc.Badge(r["status"], color="secondary", className="me-2"),
            html.Small(f"{r['kind']} · {r['created_at']:%Y-%m-%d %H:%M}",
                       className="text-muted me-2"),
            html.Span(format_metric("total_return", r["metrics"].get("total_return"))
                      if r["metrics"] else "", className="float-end"),
        ]) for r in runs], id="home-recent-runs")


def recent_strategies(strategies: list[dict[str, Any]]) -> Any:
    if not strategies:
        return html.P("No strategies yet.", className="text-muted")
    return dbc.ListGroup([
        dbc.ListGroupItem([html.A(s["name"], href=f"/builder/{s['id']}", className="me-2"),
                           html.Small(f"{s['symbol']} · version {s['version']}",
                                      className="text-muted")])
        for s in strategies], id="home-recent-strategies")


def layout(**_query: Any) -> dbc.Container:
    try:
        with arena().sessions() as session:
            user_id = current_user_id()
            runs = cockpit.list_run_summaries(session, user_id, limit=RECENT)
            strategies = cockpit.strategy_summaries(session, user_id, limit=RECENT)
    except LookupError:  # no user (Dash validating the layout outside a request)
        runs, strategies = [], []
    return dbc.Container([
        html.H1("Strategy Arena", className="page-title"),
        html.P("Describe a trading rule, test it on real market history with honest costs and "
               "no look-ahead, then see how it would have survived 2008, the 2020 crash and "
               "the 2022 bear market before you risk money on it.", className="lead"),
        first_steps() if not runs else None,
        dbc.Row([
            dbc.Col([html.H4("Recent runs"), recent_runs(runs),
                     dbc.Button("All runs", href="/runs", color="link", size="sm")], lg=6),
            dbc.Col([html.H4("Your strategies"), recent_strategies(strategies),
                     dbc.Button("New strategy", href="/builder", color="primary", size="sm",
                                className="mt-2 me-2"),
                     dbc.Button("All strategies", href="/strategies", color="link", size="sm",
                                className="mt-2")], lg=6),
        ], className="g-4"),
    ], fluid=True)


dash.register_page(__name__, path="/", name="Home", title="Strategy Arena", layout=layout)
