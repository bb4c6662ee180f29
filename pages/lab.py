"""The strategy lab: sweep up to three parameters of a saved strategy (two on the heatmap's
axes, a third on a slider), see how fragile the best cell is, validate walk-forward and read
the overfitting odds. ``/lab?run=<id>`` shows (or keeps following) a sweep or walk-forward run.

Runs start through ``app.runs.service.start_run`` (kinds ``sweep`` and ``walkforward``); a
``dcc.Interval`` polls the run (a split sweep reports progress per chunk) until it finishes, then
the stored result is drawn with ``components.lab_charts``. Clicking a heatmap cell saves that
variant as a new strategy and links to it in the Builder.
"""

from __future__ import annotations

import json
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from app.auth import current_user_id
from app.context import arena
from app.runs import service as run_service
from app.services import session_scope
from app.services import strategies as strategy_service
from app.services.errors import ServiceError
from components import lab_charts
from engine.options import WalkForwardOptions, field_bounds, field_default
from engine.spec import set_by_path
from engine.walkforward import SELECTION_METRICS

POLL_MS = 700
FINISHED = ("succeeded", "failed", "cancelled")
LAB_KINDS = ("sweep", "walkforward")
AXES = (("x", "Heatmap columns"), ("y", "Heatmap rows"), ("z", "Slider (optional)"))


def _strategy_options(user_id: int) -> list[dict[str, Any]]:
    with arena().sessions() as session:
        strategies = strategy_service.list_strategies(session, user_id, limit=500)
        return [{"label": f"{s.name} ({s.spec.get('symbol')})", "value": s.id}
                for s in strategies]


def _number(label: str, id_: str, option: str) -> dbc.Col:
    low, high = field_bounds(WalkForwardOptions, option)
    return dbc.Col([dbc.Label(label, html_for=id_),
                    dbc.Input(id=id_, type="number", min=low, max=high,
                              value=field_default(WalkForwardOptions, option))], md=3)


def _axis(axis: str, label: str) -> dbc.Row:
    return dbc.Row([
        dbc.Col([dbc.Label(label, html_for=f"lab-{axis}-key"),
                 dcc.Dropdown(id=f"lab-{axis}-key", placeholder="parameter")], md=7),
        dbc.Col([dbc.Label("Values", html_for=f"lab-{axis}-values"),
                 dbc.Input(id=f"lab-{axis}-values", placeholder="10, 20, 30 or 5:50:5")],
                md=5),
    ], className="g-2 mb-2")


def _form(strategies: list[dict[str, Any]]) -> dbc.Card:
    hint = None if strategies else html.P(
        ["No saved strategies yet: ", html.A("build one", href="/builder"), " first."],
        className="text-muted mt-2")
    walk = dbc.Accordion(dbc.AccordionItem([dbc.Row([
        _number("Folds", "lab-folds", "folds"),
        _number("In-sample length (folds)", "lab-in-sample", "in_sample_size"),
        dbc.Col([dbc.Label("Windows", html_for="lab-mode"),
                 dbc.Select(id="lab-mode", value=field_default(WalkForwardOptions, "mode"),
                            options=[{"label": "rolling", "value": "rolling"},
                                     {"label": "anchored", "value": "anchored"}])], md=3),
        dbc.Col([dbc.Label("Optimise", html_for="lab-select-metric"),
                 dbc.Select(id="lab-select-metric",
                            value=field_default(WalkForwardOptions, "metric"),
                            options=[{"label": m, "value": m} for m in SELECTION_METRICS])],
                md=3),
    ])], title="Walk-forward settings", item_id="walk"), start_collapsed=True,
        className="mt-2")
    return dbc.Card(dbc.CardBody([
        dbc.Label("Strategy", html_for="lab-strategy"),
        dcc.Dropdown(id="lab-strategy", options=strategies, clearable=False,
                     value=strategies[0]["value"] if strategies else None),
        hint,
        html.Div([_axis(axis, label) for axis, label in AXES], className="mt-3"),
        dbc.Label("Constraint (optional)", html_for="lab-constraint"),
        dbc.Input(id="lab-constraint", placeholder="e.g. x < y (the columns' value below the "
                                                   "rows')"),
        walk,
        dbc.Row([
            dbc.Col(dbc.Button("Run sweep", id="lab-run-sweep", color="primary",
                               disabled=not strategies), width="auto"),
            dbc.Col(dbc.Button("Run walk-forward", id="lab-run-walk", color="secondary",
                               disabled=not strategies), width="auto"),
        ], className="g-2 mt-3"),
    ]), className="mb-3")


def layout(run: str | None = None, **_query: Any) -> dbc.Container:
    try:
        strategies = _strategy_options(current_user_id())
    except LookupError:  # no user (Dash validating the layout outside a request)
        strategies = []
    run_id = int(run) if run and run.isdigit() else None
    return dbc.Container([
        html.H2("Strategy lab", className="page-title"),
        html.P("How fragile are the parameters, does the edge survive out of sample, and how "
               "likely is the best variant to be luck?", className="text-muted"),
        _form(strategies),
        html.Div(id="lab-feedback"),
        dbc.Progress(id="lab-progress", value=0, striped=True, animated=True, className="mb-1",
                     style={"display": "none" if run_id is None else None}),
        html.Div(id="lab-stage", className="text-muted small mb-3"),
        dcc.Store(id="lab-run-id", data=run_id),
        dcc.Interval(id="lab-poll", interval=POLL_MS, disabled=run_id is None),
        html.Div(id="lab-results"),
    ], fluid=True)


# --------------------------------------------------------------------------------------------
# starting runs


def lab_options(keys: dict[str, str | None], values: dict[str, str | None],
                constraint: str | None) -> dict[str, Any]:
    """Sweep options from the form: a grid of the chosen axes (x and y required, z optional)
    and the constraint with ``x``/``y``/``z`` replaced by their grid keys. ValueError naming
    the field to fix otherwise."""
    grid: dict[str, list[Any]] = {}
    names: dict[str, str] = {}
    for axis, label in AXES:
        key = keys.get(axis)
        if not key:
            if axis in ("x", "y"):
                raise ValueError(f"{label}: choose a parameter")
            continue
        if key in grid:
            raise ValueError(f"{label}: {key} is already on another axis")
        try:
            grid[key] = lab_charts.parse_values(values.get(axis))
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from None
        names[axis] = key
    options: dict[str, Any] = {"grid": grid}
    if constraint and constraint.strip():
        words = constraint.split()
        options["constraints"] = [" ".join(names.get(w, w) for w in words)]
    return options


def start_lab_run(user_id: int, strategy_id: int, kind: str, options: dict[str, Any]) -> int:
    """Create a sweep or walk-forward run of the user's strategy; its id."""
    return run_service.start_run(arena(), user_id, strategy_id, kind, options)


@callback(
    *(Output(f"lab-{axis}-key", "options") for axis, _ in AXES),
    Input("lab-strategy", "value"),
)
def parameter_choices(strategy_id):
    if strategy_id is None:
        return [[]] * len(AXES)
    try:
        with arena().sessions() as session:
            spec = strategy_service.get_strategy(session, current_user_id(), strategy_id).spec
    except ServiceError:
        return [[]] * len(AXES)
    choices = [{"label": path, "value": path} for path in lab_charts.numeric_paths(spec)]
    return [choices] * len(AXES)


@callback(
    Output("lab-run-id", "data"),
    Output("lab-poll", "disabled"),
    Output("lab-feedback", "children"),
    Output("lab-results", "children", allow_duplicate=True),
    Input("lab-run-sweep", "n_clicks"),
    Input("lab-run-walk", "n_clicks"),
    State("lab-strategy", "value"),
    *(State(f"lab-{axis}-key", "value") for axis, _ in AXES),
    *(State(f"lab-{axis}-values", "value") for axis, _ in AXES),
    State("lab-constraint", "value"),
    State("lab-folds", "value"),
    State("lab-in-sample", "value"),
    State("lab-mode", "value"),
    State("lab-select-metric", "value"),
    prevent_initial_call=True,
)
def run_lab(sweep_clicks, walk_clicks, strategy_id, x_key, y_key, z_key, x_values, y_values,
            z_values, constraint, folds, in_sample, mode, metric):
    if not (sweep_clicks or walk_clicks):
        return no_update, no_update, no_update, no_update
    kind = "walkforward" if dash.ctx.triggered_id == "lab-run-walk" else "sweep"
    return submit(kind, strategy_id, {"x": x_key, "y": y_key, "z": z_key},
                  {"x": x_values, "y": y_values, "z": z_values}, constraint,
                  {"folds": folds, "in_sample_size": in_sample, "mode": mode, "metric": metric})


def submit(kind: str, strategy_id: int, keys: dict[str, str | None],
           values: dict[str, str | None], constraint: str | None,
           walk: dict[str, Any]) -> tuple[Any, bool, Any, Any]:
    """Start a ``kind`` run from the form's fields: ``(run id, poll disabled, feedback,
    results)``; a problem leaves the run id alone and shows what to fix."""
    try:
        options = lab_options(keys, values, constraint)
        if kind == "walkforward":
            options |= {name: value for name, value in walk.items() if value is not None}
        run_id = start_lab_run(current_user_id(), strategy_id, kind, options)
    except ServiceError as exc:
        problems = [html.Li(f"{field.removeprefix('options.')}: {message}")
                    for field, message in exc.fields.items()]
        return no_update, True, dbc.Alert([exc.message, html.Ul(problems)], color="warning"), \
            no_update
    except ValueError as exc:
        return no_update, True, dbc.Alert(str(exc), color="warning"), no_update
    link = f"/lab?run={run_id}"
    note = html.Small(["Bookmark this run: ", html.A(link, href=link)], className="text-muted")
    return run_id, False, note, []


# --------------------------------------------------------------------------------------------
# following a run and drawing its result


def _load(run_id: int) -> tuple[Any, dict[str, Any] | None]:
    user_id = current_user_id()
    with arena().sessions() as session:
        run = run_service.get_run(session, user_id, run_id)
        state = {"status": run.status, "progress": run.progress, "stage": run.stage,
                 "error": run.error, "kind": run.kind}
        document = (run_service.get_result(session, user_id, run_id)
                    if run.status == "succeeded" else None)
    return state, document


@callback(
    Output("lab-progress", "value"),
    Output("lab-progress", "label"),
    Output("lab-progress", "style"),
    Output("lab-stage", "children"),
    Output("lab-results", "children"),
    Output("lab-poll", "disabled", allow_duplicate=True),
    Input("lab-poll", "n_intervals"),
    State("lab-run-id", "data"),
    prevent_initial_call=True,
)
def follow_run(_ticks, run_id):
    if run_id is None:
        return no_update, no_update, no_update, no_update, no_update, True
    try:
        state, document = _load(run_id)
    except ServiceError as exc:
        return 0, "", {"display": "none"}, exc.message, None, True
    if state["kind"] not in LAB_KINDS:
        return 0, "", {"display": "none"}, "", dbc.Alert(
            f"Run {run_id} is a {state['kind']} run; the lab shows sweeps and walk-forwards.",
            color="secondary"), True
    if state["status"] not in FINISHED:
        progress = state["progress"]
        return (progress, f"{progress} %", {}, f"{state['status']}: {state['stage']}",
                no_update, False)
    if state["status"] != "succeeded":
        alert = dbc.Alert(f"The {state['kind']} run {state['status']}: "
                          f"{state['error'] or state['stage']}", color="danger")
        return state["progress"], "", {"display": "none"}, "", alert, True
    shown = sweep_view(document) if state["kind"] == "sweep" else walkforward_view(document)
    return 100, "done", {"display": "none"}, "", shown, True


def sweep_view(document: dict[str, Any]) -> html.Div:
    """The heatmap controls (metric, slider for a third key), heatmap, stability and verdict."""
    keys = list(document["grid"])
    if len(keys) < 2:
        keys = keys * 2  # a one-key sweep: a one-row heatmap
    third = keys[2] if len(keys) > 2 else None
    slider = None
    if third is not None:
        values = document["grid"][third]
        slider = html.Div([
            dbc.Label(f"{third.split(',')[0]}", html_for="lab-slider"),
            dcc.Slider(id="lab-slider", min=0, max=len(values) - 1, step=1, value=0,
                       marks={i: str(v) for i, v in enumerate(values)})], className="mb-2")
    return html.Div([
        lab_charts.verdict(document),
        dbc.Row([dbc.Col([dbc.Label("Colour by", html_for="lab-metric"),
                          dbc.Select(id="lab-metric", value="sharpe", options=[
                              {"label": label, "value": key}
                              for key, (label, _) in lab_charts.HEATMAP_METRICS.items()])],
                         md=3)], className="mb-2"),
        slider or html.Div(dcc.Slider(id="lab-slider", min=0, max=0, value=0),
                           style={"display": "none"}),
        dcc.Store(id="lab-axes", data=keys[:3]),
        dcc.Graph(id="lab-heatmap"),
        html.P(id="lab-stability", className="lead"),
        html.Div(id="lab-variant"),
    ], id="lab-sweep")


def _fixed(document: dict[str, Any], axes: list[str], position: int | None) -> dict[str, Any]:
    if len(axes) < 3 or position is None:
        return {}
    return {axes[2]: document["grid"][axes[2]][int(position)]}


@callback(
    Output("lab-heatmap", "figure"),
    Output("lab-stability", "children"),
    Input("lab-metric", "value"),
    Input("lab-slider", "value"),
    State("lab-axes", "data"),
    State("lab-run-id", "data"),
)
def draw_heatmap(metric, position, axes, run_id):
    if run_id is None or not axes:
        return no_update, no_update
    try:
        _state, document = _load(run_id)
    except ServiceError as exc:
        return no_update, exc.message
    if document is None:
        return no_update, no_update
    fixed = _fixed(document, axes, position)
    figure = lab_charts.heatmap_figure(document, axes[0], axes[1], metric, fixed)
    info = lab_charts.stability(document, axes[0], axes[1], metric, fixed)
    return figure, lab_charts.stability_text(info, metric)


def save_variant(user_id: int, run_id: int, index: int) -> int:
    """Save combination ``index`` of the user's sweep run as a new strategy; its id."""
    with session_scope(arena().sessions) as session:
        run = run_service.get_run(session, user_id, run_id)
        document = run_service.get_result(session, user_id, run_id)
        params = document["results"][index]["params"]
        spec = json.loads(json.dumps(run.spec))
        for key, value in params.items():
            for path in key.split(","):
                set_by_path(spec, path.strip(), value)
        words = ", ".join(f"{k.split(',')[0].split('.')[-1]} {v}" for k, v in params.items())
        spec["name"] = f"{spec['name']} ({words})"[:200]
        strategy = strategy_service.create_strategy(session, user_id, spec)
        session.flush()
        return strategy.id


@callback(
    Output("lab-variant", "children"),
    Input("lab-heatmap", "clickData"),
    State("lab-run-id", "data"),
    prevent_initial_call=True,
)
def open_variant(click, run_id):
    points = (click or {}).get("points") or []
    if not points or points[0].get("customdata") is None or run_id is None:
        return no_update
    try:
        strategy_id = save_variant(current_user_id(), run_id, int(points[0]["customdata"]))
    except ServiceError as exc:
        return dbc.Alert(exc.message, color="warning")
    return dbc.Alert(["Saved this variant as a new strategy: ",
                      html.A("open it in the Builder", href=f"/builder/{strategy_id}",
                             id="lab-variant-link")], color="info")


def walkforward_view(document: dict[str, Any]) -> html.Div:
    """The walk-forward chart, per-fold returns, folds table and summary."""
    return html.Div([
        lab_charts.walkforward_summary(document),
        dcc.Graph(id="lab-walkforward", figure=lab_charts.walkforward_figure(document)),
        dcc.Graph(id="lab-fold-returns", figure=lab_charts.fold_returns_figure(document)),
        lab_charts.folds_table(document),
    ], id="lab-walk")


dash.register_page(__name__, path="/lab", name="Lab", title="Lab · Strategy Arena",
                   layout=layout)
