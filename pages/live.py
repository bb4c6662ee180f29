"""Live: streaming candles with the followed strategy's signals, its PnL, and a ticker strip.

The browser talks to ``/ws/prices`` itself (``app/assets/live_socket.js``): Start connects,
subscribes to the chosen symbols and follows the chosen strategy; the socket client keeps the
page's state and hands it to the ``live-state`` store a few times a second, and a clientside
callback draws it. The server side only lists the user's strategies and the feed's symbols.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from app.auth import current_user_id
from app.context import arena
from app.live.service import feed_symbols
from app.live.sources import SOURCE_LABELS
from app.services import strategies as strategy_service
from components.live_panels import PNL_FIELDS, controls, pnl_panel, price_chart, status_line


def _strategy_options(user_id: int) -> list[dict[str, Any]]:
    with arena().sessions() as session:
        strategies = strategy_service.list_strategies(session, user_id, limit=500)
        return [{"label": f"{s.name} ({s.spec.get('symbol')})", "value": s.id,
                 "symbol": s.spec.get("symbol")} for s in strategies]


def layout(**_query: Any) -> dbc.Container:
    try:
        strategies = _strategy_options(current_user_id())
    except LookupError:  # no user (Dash validating the layout outside a request)
        strategies = []
    settings = arena().settings
    return dbc.Container([
        html.H2("Live", className="page-title"),
        html.P(["Prices stream from the ", html.Strong(SOURCE_LABELS[settings.live_source]),
                " feed; a followed strategy is evaluated on each completed bar by the same "
                "engine as a backtest, warmed up on the history before it."],
               className="text-muted"),
        controls([{"label": o["label"], "value": o["value"]} for o in strategies],
                 feed_symbols(settings)),
        dcc.Store(id="live-strategy-symbols",
                  data={str(o["value"]): o["symbol"] for o in strategies}),
        status_line(),
        dbc.Row([dbc.Col(price_chart(), lg=8), dbc.Col(pnl_panel(), lg=4)]),
        dcc.Store(id="live-state"),
        html.Div(id="live-started", hidden=True),
    ], fluid=True)


dash.register_page(__name__, path="/live", name="Live", title="Live · Strategy Arena",
                   layout=layout)

# Functions of app/assets/live_socket.js (no inline JavaScript: Dash hands inline clientside
# code only to the first app built in a process).
clientside_callback(
    ClientsideFunction(namespace="live", function_name="start"),
    Output("live-started", "children"),
    Input("live-start", "n_clicks"),
    State("live-symbols", "value"),
    State("live-strategy", "value"),
    State("live-strategy-symbols", "data"),
)

clientside_callback(
    ClientsideFunction(namespace="live", function_name="render"),
    [Output("live-chart", "figure"), Output("live-equity", "figure"),
     Output("live-status", "children"), Output("live-source", "children"),
     Output("live-ticker", "children"),
     *[Output(id_, "children") for _, id_ in PNL_FIELDS],
     Output("live-error", "children"), Output("live-tick-count", "children")],
    Input("live-state", "data"),
)
