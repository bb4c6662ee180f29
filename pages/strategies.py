"""Strategies: the user's saved strategies: open in the Builder, run a backtest, stress-test,
duplicate, and delete (after a confirmation)."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from app.auth import current_user_id
from app.context import arena
from app.models import Strategy
from app.runs import service as run_service
from app.services import session_scope
from app.services import strategies as service
from app.services.errors import ServiceError


def _row(strategy: Strategy) -> html.Tr:
    spec = strategy.spec
    return html.Tr([
        html.Td(html.A(strategy.name, href=f"/builder/{strategy.id}")),
        html.Td(spec.get("symbol")),
        html.Td(f"{spec.get('start') or '…'} to {spec.get('end') or '…'}"),
        html.Td(strategy.updated_at.strftime("%Y-%m-%d %H:%M")),
        html.Td(strategy.version),
        html.Td([
            dbc.Button("Open", href=f"/builder/{strategy.id}", size="sm", color="secondary",
                       className="me-1"),
            dbc.Button("Run", id={"type": "strategy-run", "index": strategy.id}, size="sm",
                       color="primary", className="me-1"),
            dbc.Button("Stress", href=f"/stress?strategy={strategy.id}", size="sm",
                       color="secondary", className="me-1"),
            dbc.Button("Duplicate", id={"type": "strategy-duplicate", "index": strategy.id},
                       size="sm", color="secondary", className="me-1"),
            dbc.Button("Delete", id={"type": "strategy-delete", "index": strategy.id},
                       size="sm", color="danger", outline=True),
        ], className="text-end text-nowrap"),
    ])


def strategy_table(user_id: int) -> html.Div:
    with arena().sessions() as session:
        strategies = service.list_strategies(session, user_id, limit=500)
    if not strategies:
        return html.P("No saved strategies yet: build one in the Builder.",
                      className="text-muted", id="strategies-empty")
    header = html.Thead(html.Tr([html.Th(h) for h in
                                 ("Name", "Symbol", "Period", "Updated (UTC)", "Version", "")]))
    return dbc.Table([header, html.Tbody([_row(s) for s in strategies])], hover=True,
                     responsive=True, id="strategies-list")


def layout(**_query: Any) -> dbc.Container:
    try:
        table = strategy_table(current_user_id())
    except LookupError:  # no user (Dash validating the layout outside a request)
        table = html.Div()
    return dbc.Container([
        dbc.Row([
            dbc.Col(html.H2("Strategies", className="page-title")),
            dbc.Col(dbc.Button("New strategy", href="/builder", color="primary"),
                    width="auto"),
        ], className="align-items-center mb-3"),
        html.Div(id="strategies-feedback"),
        html.Div(table, id="strategies-table"),
        dcc.ConfirmDialog(id="strategies-confirm-delete"),
        dcc.Store(id="strategies-pending-delete"),
        dcc.Location(id="strategies-go", refresh="callback-nav"),
    ], fluid=True)


def apply_action(user_id: int, action: str, strategy_id: int) -> tuple[str, str]:
    """Duplicate or delete the user's strategy; returns ``(message, alert colour)``."""
    try:
        with session_scope(arena().sessions) as session:
            if action == "duplicate":
                copy = service.duplicate_strategy(session, user_id, strategy_id)
                return f"Created “{copy.name}”.", "success"
            strategy = service.get_strategy(session, user_id, strategy_id)
            service.delete_strategy(session, user_id, strategy.id)
            return f"Deleted “{strategy.name}” and its runs.", "success"
    except ServiceError as exc:
        return exc.message, "warning"


def _clicked() -> bool:
    return bool(ctx.triggered_id) and any(item["value"] for item in ctx.triggered)


@callback(
    Output("strategies-table", "children"),
    Output("strategies-feedback", "children"),
    Input({"type": "strategy-duplicate", "index": ALL}, "n_clicks"),
    Input("strategies-confirm-delete", "submit_n_clicks"),
    State("strategies-pending-delete", "data"),
    prevent_initial_call=True,
)
def act_on_strategy(_duplicates: list, _confirmed: int | None, pending: int | None
                    ) -> tuple[Any, Any]:
    if not _clicked():
        return no_update, no_update
    user_id = current_user_id()
    if ctx.triggered_id == "strategies-confirm-delete":
        if pending is None:
            return no_update, no_update
        message, color = apply_action(user_id, "delete", pending)
    else:
        message, color = apply_action(user_id, "duplicate", ctx.triggered_id["index"])
    return strategy_table(user_id), dbc.Alert(message, color=color, duration=5000)


@callback(
    Output("strategies-confirm-delete", "displayed"),
    Output("strategies-confirm-delete", "message"),
    Output("strategies-pending-delete", "data"),
    Input({"type": "strategy-delete", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def ask_before_deleting(_deletes: list) -> tuple[Any, Any, Any]:
    if not _clicked():
        return no_update, no_update, no_update
    strategy_id = ctx.triggered_id["index"]
    with arena().sessions() as session:
        try:
            name = service.get_strategy(session, current_user_id(), strategy_id).name
        except ServiceError as exc:
            return False, exc.message, None
    return True, (f"Delete “{name}”? Its runs and their results are deleted with it; this "
                  "cannot be undone."), strategy_id


@callback(
    Output("strategies-go", "pathname"),
    Output("strategies-feedback", "children", allow_duplicate=True),
    Input({"type": "strategy-run", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def run_strategy(_runs: list) -> tuple[Any, Any]:
    """Start a backtest of the strategy and open its results page."""
    if not _clicked():
        return no_update, no_update
    try:
        run_id = run_service.start_run(arena(), current_user_id(), ctx.triggered_id["index"],
                                       "backtest", {})
    except ServiceError as exc:
        return no_update, dbc.Alert(exc.message, color="warning")
    return f"/runs/{run_id}", no_update


dash.register_page(__name__, path="/strategies", name="Strategies",
                   title="Strategies · Strategy Arena", layout=layout)
