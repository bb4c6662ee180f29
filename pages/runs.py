"""Runs: every run of the user (kind, strategy, status, progress, created, duration, key
metrics), filtered by strategy, kind and status; delete, run again, and pick 2-4 finished
backtests to compare (``/runs/compare?ids=1,2``). ``/results`` redirects here.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from app.auth import current_user_id
from app.context import arena
from app.models import RUN_KINDS, RUN_STATUSES
from app.runs import service as run_service
from app.services import cockpit, session_scope
from app.services.errors import ServiceError
from components.metric_info import format_metric

POLL_MS = 1500
ACTIVE = ("queued", "running")
KEY_METRICS = ("total_return", "sharpe", "max_drawdown")
STATUS_COLOURS = {"succeeded": "success", "failed": "danger", "cancelled": "secondary",
                  "running": "info", "queued": "info"}
COMPARE_MIN, COMPARE_MAX = 2, 4


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def run_row(run: dict[str, Any]) -> html.Tr:
    comparable = run["kind"] == "backtest" and run["status"] == "succeeded"
    again = "Retry" if run["status"] in run_service.RETRYABLE_STATUSES else "Run again"
    metrics = run["metrics"]
    return html.Tr([
        html.Td(dbc.Checkbox(id={"type": "run-select", "index": run["id"]}, value=False,
                             disabled=not comparable)),
        html.Td(html.A(f"#{run['id']}", href=f"/runs/{run['id']}")),
        html.Td(run["kind"]),
        html.Td(html.A(run["strategy"], href=f"/builder/{run['strategy_id']}")),
        html.Td(run["symbol"]),
        html.Td([dbc.Badge(run["status"], color=STATUS_COLOURS.get(run["status"], "info")),
                 dbc.Progress(value=run["progress"], className="mt-1", style={"height": "4px"})
                 if run["status"] in ACTIVE else None], title=run["error"] or run["stage"]),
        html.Td(f"{run['created_at']:%Y-%m-%d %H:%M}", className="text-nowrap"),
        html.Td(_duration(run["duration_seconds"])),
        *[html.Td(format_metric(key, metrics.get(key)) if metrics else "–",
                  className="text-end text-nowrap") for key in KEY_METRICS],
        html.Td([dbc.Button(again, id={"type": "run-again", "index": run["id"]}, size="sm",
                            color="secondary", className="me-1",
                            disabled=run["status"] in ACTIVE),
                 dbc.Button("Delete", id={"type": "run-delete", "index": run["id"]}, size="sm",
                            color="danger", outline=True)], className="text-end text-nowrap"),
    ], id={"type": "run-row", "index": run["id"]})


def run_table(runs: list[dict[str, Any]]) -> Any:
    if not runs:
        return html.P(["No runs yet: open a strategy in the ", html.A("Builder", href="/builder"),
                       " and press Run."], className="text-muted", id="runs-empty")
    header = html.Thead(html.Tr([html.Th(h) for h in (
        "", "Run", "Kind", "Strategy", "Symbol", "Status", "Created (UTC)", "Took",
        "Return", "Sharpe", "Max DD", "")]))
    return dbc.Table([header, html.Tbody([run_row(r) for r in runs])], hover=True, size="sm",
                     responsive=True, id="runs-list", className="align-middle")


def _filters(strategies: list[dict[str, Any]], strategy: str | None, kind: str | None,
             status: str | None) -> dbc.Row:
    def select(id_: str, label: str, options: list[dict[str, Any]], value: Any) -> dbc.Col:
        return dbc.Col(dbc.Select(id=id_, options=[{"label": label, "value": ""}] + options,
                                  value=value or "", size="sm"), md=3)

    return dbc.Row([
        select("runs-filter-strategy", "all strategies",
               [{"label": s["name"], "value": str(s["id"])} for s in strategies], strategy),
        select("runs-filter-kind", "all kinds", [{"label": k, "value": k} for k in RUN_KINDS],
               kind),
        select("runs-filter-status", "any status",
               [{"label": s, "value": s} for s in RUN_STATUSES], status),
        dbc.Col(dbc.Button("Compare selected", id="runs-compare", color="primary", size="sm",
                           disabled=True, href="#"), width="auto", className="ms-auto"),
    ], className="g-2 mb-3")


def layout(strategy: str | None = None, kind: str | None = None, status: str | None = None,
           **_query: Any) -> dbc.Container:
    try:
        with arena().sessions() as session:
            strategies = cockpit.strategy_summaries(session, current_user_id())
    except LookupError:  # no user (Dash validating the layout outside a request)
        strategies = []
    return dbc.Container([
        html.H2("Runs", className="page-title"),
        html.P(f"Tick {COMPARE_MIN} to {COMPARE_MAX} finished backtests to compare them.",
               className="text-muted small"),
        _filters(strategies, strategy, kind if kind in RUN_KINDS else None,
                 status if status in RUN_STATUSES else None),
        html.Div(id="runs-feedback"),
        dcc.Loading(html.Div(id="runs-table"), delay_show=500),
        dcc.Interval(id="runs-poll", interval=POLL_MS, disabled=True),
    ], fluid=True)


def list_runs(user_id: int, strategy: str | None, kind: str | None, status: str | None
              ) -> list[dict[str, Any]]:
    with arena().sessions() as session:
        return cockpit.list_run_summaries(
            session, user_id, strategy_id=int(strategy) if strategy else None,
            kind=kind or None, status=status or None)


def act(user_id: int, action: str, run_id: int) -> tuple[str, str]:
    """Delete a run, or start it again (a retry of a failed one, else a new run of the same
    strategy, kind and options); ``(message, alert colour)``."""
    try:
        if action == "run-delete":
            with session_scope(arena().sessions) as session:
                run_service.delete_run(session, user_id, run_id)
            return f"Deleted run #{run_id}.", "success"
        with arena().sessions() as session:
            run = run_service.get_run(session, user_id, run_id)
            status, strategy_id, kind, options = (run.status, run.strategy_id, run.kind,
                                                  dict(run.options or {}))
        if status in run_service.RETRYABLE_STATUSES:
            new_id = run_service.start_retry(arena(), user_id, run_id)
        else:
            new_id = run_service.start_run(arena(), user_id, strategy_id, kind, options)
        return f"Started run #{new_id}.", "success"
    except ServiceError as error:
        return error.message, "warning"


@callback(
    Output("runs-table", "children"),
    Output("runs-feedback", "children"),
    Output("runs-poll", "disabled"),
    Input("runs-filter-strategy", "value"),
    Input("runs-filter-kind", "value"),
    Input("runs-filter-status", "value"),
    Input("runs-poll", "n_intervals"),
    Input({"type": "run-again", "index": ALL}, "n_clicks"),
    Input({"type": "run-delete", "index": ALL}, "n_clicks"),
)
def show_runs(strategy, kind, status, _ticks, _again, _delete):
    user_id = current_user_id()
    feedback: Any = no_update
    trigger = ctx.triggered_id
    if isinstance(trigger, dict):
        if not any(item.get("value") for item in ctx.triggered):
            return no_update, no_update, no_update
        message, colour = act(user_id, trigger["type"], trigger["index"])
        feedback = dbc.Alert(message, color=colour, duration=5000)
    runs = list_runs(user_id, strategy, kind, status)
    active = any(r["status"] in ACTIVE for r in runs)
    return run_table(runs), feedback, not active


@callback(
    Output("runs-compare", "href"),
    Output("runs-compare", "disabled"),
    Input({"type": "run-select", "index": ALL}, "value"),
    State({"type": "run-select", "index": ALL}, "id"),
)
def choose(values, ids):
    chosen = [id_["index"] for id_, value in zip(ids, values, strict=True) if value]
    if not COMPARE_MIN <= len(chosen) <= COMPARE_MAX:
        return "#", True
    return "/runs/compare?ids=" + ",".join(str(i) for i in sorted(chosen)), False


dash.register_page("pages.runs", path="/runs", name="Runs", title="Runs · Strategy Arena",
                   layout=layout, redirect_from=["/results"])
