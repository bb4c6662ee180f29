"""Stress tests: one of the user's strategies through historical crises, transplanted shocks and
Monte Carlo paths. ``/stress?run=<id>`` shows (or keeps following) an earlier stress run.

The Run button submits a ``stress`` run through the same services as ``POST /api/v1/runs``; a
``dcc.Interval`` polls it, drawing its progress, until it has finished, then the stored result
(docs/results.md#stress-result) is drawn with ``components.stress_charts``.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from app.auth import current_user_id
from app.context import arena
from app.runs import service as run_service
from app.services import strategies as strategy_service
from app.services.errors import ServiceError
from components import stress_charts
from engine.options import StressOptions, field_bounds, field_default
from engine.scenarios import LIBRARY

POLL_MS = 700
FINISHED = ("succeeded", "failed", "cancelled")


def _strategy_options(user_id: int) -> list[dict[str, Any]]:
    with arena().sessions() as session:
        strategies = strategy_service.list_strategies(session, user_id, limit=500)
        return [{"label": f"{s.name} ({s.spec.get('symbol')})", "value": s.id}
                for s in strategies]


def _scenario_options() -> list[dict[str, Any]]:
    return [{"label": f"{s.name} ({s.start} → {s.end})", "value": s.id}
            for s in LIBRARY.values()]


def _number(label: str, id_: str, option: str) -> dbc.Col:
    """A number input for stress option ``option``: default and bounds from StressOptions."""
    low, high = field_bounds(StressOptions, option)
    return dbc.Col([dbc.Label(label, html_for=id_),
                    dbc.Input(id=id_, type="number", value=field_default(StressOptions, option),
                              min=low, max=high)], md=3)


def _form(strategies: list[dict[str, Any]]) -> dbc.Card:
    hint = None if strategies else html.P(
        ["No saved strategies yet: ", html.A("build one", href="/builder"), " first."],
        id="stress-no-strategy", className="text-muted mt-2")
    settings = dbc.Accordion(dbc.AccordionItem([
        dbc.Label("Historical crises"),
        dbc.Checklist(id="stress-scenarios", options=_scenario_options(),
                      value=list(LIBRARY), inline=True),
        dbc.Label("What if it happened next? (appended after the last bar)", className="mt-3"),
        dbc.Checklist(id="stress-transplants", inline=True,
                      options=[{"label": LIBRARY[i].name, "value": i} for i in LIBRARY],
                      value=field_default(StressOptions, "transplants")),
        dbc.Label("Your own windows, one per line: id start end (e.g. dip_2021 2021-09-02 "
                  "2021-10-04)", html_for="stress-windows", className="mt-3"),
        dbc.Textarea(id="stress-windows", rows=2, placeholder="dip_2021 2021-09-02 2021-10-04"),
        dbc.Row([
            _number("Monte Carlo paths", "stress-paths", "paths"),
            _number("Horizon (trading days)", "stress-horizon", "horizon_days"),
            _number("Mean block length (days)", "stress-block", "block_length"),
            _number("Seed", "stress-seed", "seed"),
        ], className="mt-3"),
    ], title="Scenarios and Monte Carlo settings", item_id="settings"),
        id="stress-settings", start_collapsed=True, className="mt-3")
    return dbc.Card(dbc.CardBody([
        dbc.Label("Strategy", html_for="stress-strategy"),
        dbc.Row([
            dbc.Col(dcc.Dropdown(id="stress-strategy", options=strategies, clearable=False,
                                 value=strategies[0]["value"] if strategies else None)),
            dbc.Col(dbc.Button("Run stress test", id="stress-run", color="primary",
                               disabled=not strategies), width="auto"),
        ], className="g-2 align-items-center"),
        hint,
        settings,
    ]), className="mb-3")


def layout(run: str | None = None, strategy: str | None = None, **_query: Any
           ) -> dbc.Container:
    try:
        strategies = _strategy_options(current_user_id())
    except LookupError:  # no user (Dash validating the layout outside a request)
        strategies = []
    if strategy and strategy.isdigit() and any(s["value"] == int(strategy) for s in strategies):
        # /stress?strategy=ID (from Strategies and Results): that strategy first
        strategies.sort(key=lambda s: s["value"] != int(strategy))
    run_id = int(run) if run and run.isdigit() else None
    return dbc.Container([
        html.H2("Stress tests", className="page-title"),
        html.P("How would the strategy have done in the crises that already happened, and in "
               "the next one?", className="text-muted"),
        _form(strategies),
        html.Div(id="stress-feedback"),
        dbc.Progress(id="stress-progress", value=0, striped=True, animated=True,
                     className="mb-1", style={"display": "none" if run_id is None else None}),
        html.Div(id="stress-stage", className="text-muted small mb-3"),
        dcc.Store(id="stress-run-id", data=run_id),
        dcc.Interval(id="stress-poll", interval=POLL_MS, disabled=run_id is None),
        html.Div(id="stress-results"),
    ], fluid=True)


def parse_windows(text: str | None) -> list[dict[str, str]]:
    """Custom windows from the text box: one ``id start end`` per line (ValueError if not)."""
    windows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3:
            raise ValueError(f"line {number}: write id start end, e.g. dip_2021 2021-09-02 "
                             "2021-10-04")
        windows.append({"id": parts[0], "start": parts[1], "end": parts[2]})
    return windows


def start_stress_run(user_id: int, strategy_id: int, options: dict[str, Any]) -> int:
    """Create a stress run of the user's strategy and hand it to the job layer; its id."""
    return run_service.start_run(arena(), user_id, strategy_id, "stress", options)


@callback(
    Output("stress-run-id", "data"),
    Output("stress-poll", "disabled"),
    Output("stress-feedback", "children"),
    Output("stress-results", "children", allow_duplicate=True),
    Input("stress-run", "n_clicks"),
    State("stress-strategy", "value"),
    State("stress-scenarios", "value"),
    State("stress-transplants", "value"),
    State("stress-windows", "value"),
    State("stress-paths", "value"),
    State("stress-horizon", "value"),
    State("stress-block", "value"),
    State("stress-seed", "value"),
    prevent_initial_call=True,
)
def run_stress_test(clicks, strategy_id, scenarios, transplants, windows, paths, horizon,
                    block, seed):
    if not clicks:
        return no_update, no_update, no_update, no_update
    try:
        numbers = {"paths": paths, "horizon_days": horizon, "block_length": block,
                   "seed": seed}
        options = {"scenarios": scenarios or [], "transplants": transplants or [],
                   "custom_scenarios": parse_windows(windows),
                   **{name: value for name, value in numbers.items() if value is not None}}
        run_id = start_stress_run(current_user_id(), strategy_id, options)
    except ServiceError as exc:
        problems = [html.Li(f"{field.removeprefix('options.')}: {message}")
                    for field, message in exc.fields.items()]
        return no_update, True, dbc.Alert([exc.message, html.Ul(problems)], color="warning"), \
            no_update
    except (ValueError, TypeError) as exc:
        return no_update, True, dbc.Alert(str(exc), color="warning"), no_update
    link = f"/stress?run={run_id}"
    note = html.Small(["Bookmark this run: ", html.A(link, href=link)], className="text-muted")
    return run_id, False, note, []


@callback(
    Output("stress-progress", "value"),
    Output("stress-progress", "label"),
    Output("stress-progress", "style"),
    Output("stress-stage", "children"),
    Output("stress-results", "children"),
    Output("stress-poll", "disabled", allow_duplicate=True),
    Input("stress-poll", "n_intervals"),
    State("stress-run-id", "data"),
    prevent_initial_call=True,
)
def follow_run(_ticks, run_id):
    if run_id is None:
        return no_update, no_update, no_update, no_update, no_update, True
    user_id = current_user_id()
    try:
        with arena().sessions() as session:
            run = run_service.get_run(session, user_id, run_id)
            status, progress, stage, error = run.status, run.progress, run.stage, run.error
            strategy_id = run.strategy_id
            document = (run_service.get_result(session, user_id, run_id)
                        if status == "succeeded" else None)
    except ServiceError as exc:
        return 0, "", {"display": "none"}, exc.message, None, True
    if status not in FINISHED:
        return progress, f"{progress} %", {}, f"{status}: {stage}", no_update, False
    if status != "succeeded":
        alert = dbc.Alert(f"The stress run {status}: {error or stage}", color="danger")
        return progress, "", {"display": "none"}, "", alert, True
    return 100, "done", {"display": "none"}, "", [results_link(strategy_id),
                                                   results(document)], True


def results_link(strategy_id: int) -> html.P:
    """Where the backtests of the stressed strategy are listed."""
    href = f"/runs?strategy={strategy_id}&kind=backtest"
    return html.P(["Backtest results of this strategy: ", html.A(href, href=href,
                                                                 id="stress-results-link")],
                  className="small")


def results(document: dict[str, Any]) -> html.Div:
    """Everything a finished stress run shows."""
    parts: list[Any] = [stress_charts.summary(document)]
    if document["scenarios"]:
        parts += [stress_charts.scenario_table(document),
                  dbc.Row([dbc.Col(dcc.Graph(id="stress-drawdowns",
                                             figure=stress_charts.drawdown_figure(document)),
                                   lg=12)]),
                  dcc.Graph(id="stress-equity", figure=stress_charts.equity_figure(document))]
    monte_carlo = document.get("monte_carlo")
    if monte_carlo:
        parts += [html.H4("Monte Carlo", className="mt-4"),
                  dbc.Row([
                      dbc.Col(dcc.Graph(id="stress-fan",
                                        figure=stress_charts.fan_figure(monte_carlo)), lg=7),
                      dbc.Col(dcc.Graph(id="stress-histogram",
                                        figure=stress_charts.histogram_figure(monte_carlo)),
                              lg=5)]),
                  stress_charts.monte_carlo_table(monte_carlo)]
    return html.Div(parts, id="stress-report")


dash.register_page(__name__, path="/stress", name="Stress", title="Stress · Strategy Arena",
                   layout=layout)
