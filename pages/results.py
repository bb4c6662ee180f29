"""Results of one run: ``/runs/<run_id>``.

A finished backtest shows its header (strategy, symbol, range, fills, costs, run time), a card
per metric (strategy vs buy-and-hold, formula in the tooltip), equity vs benchmark, underwater,
candlesticks with fills, stop/target levels and indicators, monthly and yearly returns, rolling
Sharpe, the trade histogram, the trade table and downloads. A queued or running run shows its
progress and stage (polled) and turns into its result by itself; a failed run shows its error
and a Retry button. ``/results`` (the old placeholder) redirects to ``/runs``.
"""

from __future__ import annotations

import json
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from app.auth import current_user_id
from app.context import arena
from app.runs import service as run_service
from app.services import cockpit
from app.services.errors import ServiceError
from components import charts, result_data, rule_tree
from components.metric_cards import metric_cards
from components.robustness_panel import robustness_panel
from components.rule_summary import describe_spec
from components.trade_table import trade_table
from engine.prices import PriceDataError

POLL_MS = 700
FINISHED = ("succeeded", "failed", "cancelled")


def _graph(graph_id: str, figure: Any) -> dcc.Graph:
    return dcc.Graph(id=graph_id, figure=figure, config={"displaylogo": False})


def header(summary: dict[str, Any], document: dict[str, Any] | None) -> html.Div:
    """Strategy, symbol, range, fill and cost settings, run time."""
    spec = summary["spec"]
    meta = (document or {}).get("meta") or {}
    period = (f"{meta['first_date']} to {meta['last_date']} ({meta['bars']:,} bars)" if meta
              else f"{spec.get('start') or 'first bar'} to {spec.get('end') or 'last bar'}")
    stops = ", ".join(f"{label} {spec[key]:g} %" for key, label in (
        ("stop_loss_pct", "stop"), ("take_profit_pct", "target"),
        ("trailing_stop_pct", "trailing stop")) if spec.get(key)) or "no stops"
    sizing = spec.get("sizing", {})
    duration = summary.get("duration_seconds")
    facts = [
        ("Symbol", f"{spec.get('symbol')} vs {spec.get('benchmark')}"),
        ("Period", period),
        ("Fill", spec.get("fill")),
        ("Costs", f"fees {spec.get('fees_bps'):g} bps, slippage {spec.get('slippage_bps'):g} bps"),
        ("Sizing", f"{sizing.get('method')} {sizing.get('value'):g}, "
                   f"{'fractional' if spec.get('fractional') else 'whole'} units, "
                   f"{spec.get('direction')}"),
        ("Exits", stops),
        ("Run", f"#{summary['id']} {summary['kind']}, created "
                f"{summary['created_at']:%Y-%m-%d %H:%M} UTC"
                + (f", took {duration:.1f} s" if duration is not None else "")),
    ]
    if meta.get("price_basis"):
        facts.append(("Prices", meta["price_basis"]))
    return html.Div([
        dbc.Row([
            dbc.Col(html.H2(summary["strategy"], className="page-title mb-0"), width="auto"),
            dbc.Col(dbc.Badge(summary["status"], id="results-status",
                              color={"succeeded": "success", "failed": "danger"}.get(
                                  summary["status"], "info")), width="auto"),
            dbc.Col([dbc.Button("Open in Builder", href=f"/builder/{summary['strategy_id']}",
                                size="sm", color="secondary", className="me-2"),
                     dbc.Button("Stress-test", href=f"/stress?strategy={summary['strategy_id']}",
                                size="sm", color="secondary")], width="auto",
                    className="ms-auto"),
        ], className="align-items-center g-2"),
        html.P(describe_spec(spec), className="text-muted mb-1"),
        html.Div([html.Span([html.Span(f"{label}: ", className="text-muted"), value],
                            className="me-3 text-nowrap d-inline-block")
                  for label, value in facts], className="small mb-3", id="results-header"),
    ])


def backtest_report(summary: dict[str, Any], document: dict[str, Any]) -> html.Div:
    """Everything a finished backtest shows."""
    spec = document["spec"]
    benchmark = spec["benchmark"]
    frame = result_data.equity_frame(document)
    trades = document.get("trades") or []
    operands = rule_tree.indicators_in(spec["entry"]) + [
        o for o in rule_tree.indicators_in(spec["exit"])
        if o not in rule_tree.indicators_in(spec["entry"])]
    try:
        panel = cockpit.result_panel(arena(), spec, operands)
        prices = charts.price_figure(panel, trades, spec, title="Trades on the chart")
    except (ServiceError, PriceDataError) as error:
        prices = charts.empty_figure(f"Prices unavailable: {getattr(error, 'message', error)}")
    downloads = html.Div([
        dbc.Button("Trades CSV", id="results-download-trades", size="sm", color="secondary",
                   className="me-2"),
        dbc.Button("Equity CSV", id="results-download-equity", size="sm", color="secondary",
                   className="me-2"),
        dbc.Button("Result JSON", id="results-download-json", size="sm", color="secondary",
                   className="me-2"),
        dbc.Button("How robust is this?", id="results-robustness", size="sm", color="info",
                   title="Fill and cost sensitivity, break-even costs, trade-order Monte Carlo "
                         "and the metrics under other tools' conventions"),
        dcc.Download(id="results-download"),
    ], className="mb-3")
    return html.Div([
        *result_notices(document),
        metric_cards(document["metrics"], document.get("benchmark_metrics"), benchmark),
        downloads,
        dbc.Row([dbc.Col(_graph("results-equity", charts.equity_figure(frame, benchmark)), lg=7),
                 dbc.Col(_graph("results-drawdown", charts.drawdown_figure(
                     result_data.drawdowns(document), benchmark, height=380)), lg=5)]),
        _graph("results-prices", prices),
        dbc.Row([dbc.Col(_graph("results-monthly", charts.monthly_heatmap(
                     result_data.monthly_returns(document))), lg=7),
                 dbc.Col(_graph("results-yearly", charts.yearly_figure(
                     result_data.yearly_returns(document), benchmark)), lg=5)]),
        dbc.Row([dbc.Col(_graph("results-rolling-sharpe", charts.rolling_sharpe_figure(
                     result_data.rolling_sharpe(document))), lg=6),
                 dbc.Col(_graph("results-trade-histogram", charts.trade_histogram(
                     result_data.trade_returns(document))), lg=6)]),
        html.H4(f"Trades ({len(trades)})", className="mt-3"),
        trade_table(trades),
    ], id="results-report")


def result_notices(document: dict[str, Any]) -> list[Any]:
    """What a trader must read before the numbers: a ruined account (equity reached zero, the
    position was liquidated, nothing traded after; Sharpe, Sortino and alpha are n/a) and the
    data warnings (unadjusted splits, benchmark holes, ...), each with its date."""
    metrics = document.get("metrics") or {}
    notices: list[Any] = []
    if metrics.get("ruined"):
        deficit = metrics.get("ruin_deficit") or 0.0
        text = (f"Ruined on {metrics.get('ruined_date')}: equity reached 0, the position was "
                "liquidated and nothing traded after. Return and drawdown are -100 %; Sharpe, "
                "Sortino and alpha are not meaningful and shown as n/a.")
        if deficit > 0:
            text += f" The loss beyond the account was {deficit:,.2f}."
        notices.append(dbc.Alert(text, color="danger", id="results-ruined"))
    warnings = [w for w in document.get("warnings") or [] if w.get("kind") != "ruin"]
    if warnings:
        notices.append(dbc.Alert([html.Strong("Data warnings"), html.Ul([
            html.Li(f"{w.get('date') or ''} {w.get('symbol') or ''} {w.get('message')}".strip())
            for w in warnings[:20]]),
            html.Small(f"... and {len(warnings) - 20} more") if len(warnings) > 20 else None],
            color="warning", id="results-warnings"))
    return notices


def report(summary: dict[str, Any], document: dict[str, Any] | None) -> Any:
    """The body of a run's page for its current state."""
    status = summary["status"]
    if status == "succeeded" and summary["kind"] == "backtest":
        return backtest_report(summary, document)
    if status == "succeeded" and summary["kind"] == "robustness":
        return html.Div([html.H4("How robust is this?"), robustness_panel(document)],
                        id="results-robustness-report")
    if status == "succeeded" and summary["kind"] == "stress":
        return dbc.Alert(["A stress run: ", html.A("open its report on the Stress page",
                                                   href=f"/stress?run={summary['id']}")],
                         color="info")
    if status == "succeeded":
        return html.Pre(json.dumps(summary["metrics"], indent=2), id="results-summary")
    if status in ("failed", "cancelled"):
        return dbc.Alert([html.P(f"This run {status}: {summary['error'] or summary['stage']}",
                                 id="results-error"),
                          dbc.Button("Retry", id="results-retry", color="primary", size="sm")],
                         color="danger")
    return None


def _not_found(run_id: Any) -> dbc.Container:
    return dbc.Container([html.H2("Results", className="page-title"),
                          dbc.Alert(f"run {run_id} not found", color="warning",
                                    id="results-not-found")], fluid=True)


def _load(run_id: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    with arena().sessions() as session:
        return cockpit.run_with_result(session, current_user_id(), run_id)


def layout(run_id: str | None = None, **_query: Any) -> Any:
    if run_id is None or not run_id.isdigit():
        return _not_found(run_id)
    try:
        summary, document = _load(int(run_id))
    except LookupError:  # no user (Dash validating the layout outside a request)
        return html.Div()
    except ServiceError:
        return _not_found(run_id)
    active = summary["status"] not in FINISHED
    return dbc.Container([
        header(summary, document),
        html.Div([dbc.Progress(id="results-progress", value=summary["progress"],
                               label=f"{summary['progress']} %", striped=True, animated=True),
                  html.Div(f"{summary['status']}: {summary['stage']}", id="results-stage",
                           className="text-muted small")],
                 id="results-pending", style={} if active else {"display": "none"}),
        html.Div(report(summary, document), id="results-body"),
        dcc.Store(id="results-run-id", data=summary["id"]),
        dcc.Interval(id="results-poll", interval=POLL_MS, disabled=not active),
        dcc.Location(id="results-go", refresh="callback-nav"),
    ], fluid=True)


@callback(
    Output("results-progress", "value"),
    Output("results-progress", "label"),
    Output("results-stage", "children"),
    Output("results-pending", "style"),
    Output("results-body", "children"),
    Output("results-poll", "disabled"),
    Input("results-poll", "n_intervals"),
    State("results-run-id", "data"),
    prevent_initial_call=True,
)
def follow_run(_ticks, run_id):
    """Progress of a queued or running run; its report once it has finished."""
    try:
        summary, document = _load(run_id)
    except ServiceError as error:
        return 0, "", error.message, {}, None, True
    if summary["status"] not in FINISHED:
        return (summary["progress"], f"{summary['progress']} %",
                f"{summary['status']}: {summary['stage']}", {}, no_update, False)
    return 100, "", "", {"display": "none"}, report(summary, document), True


@callback(
    Output("results-go", "pathname"),
    Input("results-retry", "n_clicks"),
    State("results-run-id", "data"),
    prevent_initial_call=True,
)
def retry(clicks, run_id):
    if not clicks:
        return no_update
    return f"/runs/{run_service.start_retry(arena(), current_user_id(), run_id)}"


@callback(
    Output("results-go", "pathname", allow_duplicate=True),
    Input("results-robustness", "n_clicks"),
    State("results-run-id", "data"),
    prevent_initial_call=True,
)
def check_robustness(clicks, run_id):
    """Start a robustness run of this backtest's strategy and open it."""
    if not clicks:
        return no_update
    user_id = current_user_id()
    with arena().sessions() as session:
        strategy_id = run_service.get_run(session, user_id, run_id).strategy_id
    return f"/runs/{run_service.start_run(arena(), user_id, strategy_id, 'robustness')}"


def download(what: str, user_id: int, run_id: int) -> dict[str, Any]:
    """The file a download button gives: the run's trades or equity as CSV, or its result."""
    with arena().sessions() as session:
        document = run_service.get_result(session, user_id, run_id)
    if what == "trades":
        content, name = result_data.trades_csv(document), f"run-{run_id}-trades.csv"
    elif what == "equity":
        content, name = result_data.equity_csv(document), f"run-{run_id}-equity.csv"
    else:
        content, name = json.dumps(document, indent=1), f"run-{run_id}-result.json"
    return {"content": content, "filename": name, "type": "text/plain"}


@callback(
    Output("results-download", "data"),
    Input("results-download-trades", "n_clicks"),
    Input("results-download-equity", "n_clicks"),
    Input("results-download-json", "n_clicks"),
    State("results-run-id", "data"),
    prevent_initial_call=True,
)
def send_file(_trades, _equity, _json, run_id):
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        return no_update
    what = ctx.triggered_id.removeprefix("results-download-")
    return download(what, current_user_id(), run_id)


# Registered before /runs/<run_id> (in pages/__init__.py order) so /runs/compare is not a run id.
dash.register_page("pages.results", path_template="/runs/<run_id>", name="Results",
                   title="Results · Strategy Arena", layout=layout)
