"""Builder: compose a strategy without code, see it on the chart as it changes, save and run it.

``/builder`` starts a new strategy (``?example=rsi_mean_reversion`` opens a bundled example);
``/builder/<strategy_id>`` edits a saved one. The spec being edited lives in the store
``builder-spec`` (raw, possibly invalid); every edit goes through :func:`apply_edit`, the engine's
validator (``engine.spec.parse_spec``) puts each message beside its field, and Save stays
disabled while anything is invalid. The JSON tab (``builder-spec-json``) shows the exact spec and
takes a pasted one.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from app.auth import current_user_id
from app.context import arena
from app.runs import service as run_service
from app.services import cockpit, session_scope
from app.services import strategies as strategy_service
from app.services.errors import ServiceError
from app.services.prices import available_symbols
from components import charts, rule_tree
from components.metric_info import HEADLINE, format_metric, info, tooltip
from components.rule_editor import market_panel, rule_editor, settings_panel
from components.rule_summary import describe_spec
from engine.prices import PriceDataError
from engine.spec import EXAMPLES, SpecError, load_example, parse_spec

DATE_PATHS = ("start", "end")


def new_spec() -> dict[str, Any]:
    """What a new strategy starts as: buy when RSI(14) < 30, sell when the close rises above
    its 20-day SMA, on SPY since 2015."""
    exit_rule = {"left": {"field": "close", "offset": 0}, "op": ">",
                 "right": rule_tree.indicator_operand("sma")}
    return parse_spec({"version": 1, "name": "New strategy", "symbol": "SPY",
                       "start": "2015-01-01", "entry": {"all": [rule_tree.default_rule()]},
                       "exit": {"any": [exit_rule]}}).to_dict()


def spec_errors(spec: Any) -> dict[str, str]:
    """The validator's ``{path: message}`` for ``spec`` (empty when valid)."""
    try:
        parse_spec(spec)
    except SpecError as error:
        return error.errors
    return {}


def normalised_or_raw(spec: dict[str, Any]) -> dict[str, Any]:
    try:
        return parse_spec(spec).to_dict()
    except SpecError:
        return spec


def spec_text(spec: dict[str, Any]) -> str:
    """The JSON tab's text: the normalised spec (what Save stores), or the raw one if invalid."""
    return json.dumps(normalised_or_raw(spec), indent=2)


def _preset(spec: dict[str, Any], action: str, today: date) -> dict[str, Any]:
    years = action.removeprefix("preset_")
    if years == "max":
        return {**spec, "start": None, "end": None}
    end = date.fromisoformat(spec["end"]) if isinstance(spec.get("end"), str) \
        and spec["end"] else today
    start = end.replace(year=end.year - int(years), day=min(end.day, 28))
    return {**spec, "start": start.isoformat()}


def apply_edit(spec: dict[str, Any], trigger: dict[str, Any], value: Any,
               today: date | None = None) -> tuple[dict[str, Any], bool]:
    """The spec after one control changed: ``(new spec, reshaped)``; ``reshaped`` is True when
    the form must be drawn again (rows added or removed, an operand re-typed).

    ``trigger`` is the control's pattern id (see :mod:`components.rule_editor`).
    """
    kind, path = trigger.get("type"), trigger.get("path", "")
    if kind == "spec-value":
        if path in DATE_PATHS and not value:
            value = None
        if path in ("symbol", "benchmark") and isinstance(value, str):
            value = value.strip().upper() or None
        return rule_tree.set_value(spec, path, value), False
    if kind == "spec-shape":
        part = trigger.get("part")
        if value is None:
            return spec, False
        changed = {"kind": rule_tree.set_operand_kind, "indicator": rule_tree.set_indicator,
                   "logic": rule_tree.set_logic}[part](spec, path, value)
        return changed, changed is not spec
    if kind == "rule-action":
        if not value:  # a button just drawn (n_clicks None)
            return spec, False
        action = trigger.get("action", "")
        if action.startswith("preset_"):
            return _preset(spec, action, today or date.today()), True
        edits = {"add_rule": lambda: rule_tree.add_member(spec, path, rule_tree.default_rule()),
                 "add_group": lambda: rule_tree.add_member(
                     spec, path, {"all": [rule_tree.default_rule()]}),
                 "remove": lambda: rule_tree.remove_member(spec, path),
                 "duplicate": lambda: rule_tree.duplicate_member(spec, path)}
        return edits[action](), True
    return spec, False


def _symbol_options() -> list[dict[str, str]]:
    try:
        symbols = available_symbols(arena().prices)
    except ServiceError:
        symbols = []
    return [{"label": f"{s['symbol']} · {s.get('name') or ''}".rstrip(" ·"),
             "value": s["symbol"]} for s in symbols[:500]]


def form(spec: dict[str, Any]) -> list[Any]:
    return [market_panel(spec, _symbol_options()),
            html.H6("Rules", className="mt-3"), rule_editor(spec),
            html.H6("Trading settings", className="mt-3"), settings_panel(spec)]


def _json_view(spec: dict[str, Any]) -> dbc.Textarea:
    text = spec_text(spec)
    # a new key each time: React mounts a fresh textarea, so its text (not only its value)
    # is the current spec
    return dbc.Textarea(id="builder-spec-json", value=text, rows=26, key=str(hash(text)),
                        className="font-monospace small", spellCheck=False)


def _not_found(strategy_id: Any) -> dbc.Container:
    return dbc.Container([html.H2("Builder", className="page-title"),
                          dbc.Alert(f"strategy {strategy_id} not found", color="warning",
                                    id="builder-not-found")], fluid=True)


def _load(strategy_id: str | None, example: str | None) -> tuple[dict[str, Any], dict | None]:
    if strategy_id is None:
        spec = load_example(example).to_dict() if example in EXAMPLES else new_spec()
        return spec, None
    with arena().sessions() as session:
        strategy = strategy_service.get_strategy(session, current_user_id(), int(strategy_id))
        return dict(strategy.spec), {"id": strategy.id, "version": strategy.version,
                                     "spec": dict(strategy.spec)}


def layout(strategy_id: str | None = None, example: str | None = None, **_query: Any) -> Any:
    try:
        if strategy_id is not None and not strategy_id.isdigit():
            return _not_found(strategy_id)
        spec, saved = _load(strategy_id, example)
        body = form(spec)
    except LookupError:  # no user (Dash validating the layout outside a request)
        spec, saved, body = new_spec(), None, []
    except ServiceError:
        return _not_found(strategy_id)
    version = f"version {saved['version']}" if saved else "not saved yet"
    editor_tabs = dbc.Tabs([
        dbc.Tab(html.Div(body, id="builder-form", className="pt-2"), label="Rules",
                tab_id="rules", tab_class_name="builder-tab-rules"),
        dbc.Tab(html.Div([
            html.P("The exact spec that Save stores. Paste a spec here and press Apply.",
                   className="text-muted small mt-2 mb-1"),
            html.Div(_json_view(spec), id="builder-json-view"),
            dbc.Button("Apply JSON", id="builder-json-apply", size="sm", color="primary",
                       className="mt-2"),
            html.Div(id="builder-json-feedback", className="mt-2"),
        ]), label="JSON", tab_id="json", tab_class_name="builder-tab-json"),
    ], id="builder-tabs", active_tab="rules")
    return dbc.Container([
        dbc.Row([
            dbc.Col(html.H2("Builder", className="page-title mb-0"), width="auto"),
            dbc.Col(dbc.Badge(version, id="builder-version", color="secondary"), width="auto"),
            dbc.Col(html.Div(id="builder-saved-link", className="small"), width="auto"),
            dbc.Col([dbc.Button("Save", id="builder-save", color="secondary", className="me-2"),
                     dbc.Button("Run backtest", id="builder-run", color="primary")],
                    width="auto", className="ms-auto"),
        ], className="align-items-center mb-2 g-2"),
        html.P(describe_spec(spec), id="builder-summary", className="lead mb-2"),
        html.Div(id="builder-errors"),
        html.Div(id="builder-feedback"),
        dbc.Row([
            dbc.Col(editor_tabs, xl=7),
            dbc.Col(dcc.Loading([
                html.Div(id="builder-preview-note", className="small text-muted"),
                html.Div(id="builder-preview-metrics", className="mb-1"),
                dcc.Graph(id="builder-preview-chart", config={"displaylogo": False},
                          figure=charts.empty_figure("Preview loading…", 460)),
                dcc.Graph(id="builder-preview-equity", config={"displaylogo": False},
                          figure=charts.empty_figure("", 220)),
            ], delay_show=400), xl=5),
        ], className="g-3"),
        dcc.Store(id="builder-spec", data=spec),
        dcc.Store(id="builder-strategy", data=saved),
        dcc.Location(id="builder-go", refresh="callback-nav"),
    ], fluid=True)


def _triggers() -> list[tuple[dict[str, Any], Any]]:
    """(pattern id, new value) of each control that fired this callback."""
    found = []
    for item in ctx.triggered:
        prop_id = item.get("prop_id", ".")
        id_text = prop_id.rsplit(".", 1)[0]
        if id_text.startswith("{"):
            found.append((json.loads(id_text), item.get("value")))
    return found


@callback(
    Output("builder-spec", "data"),
    Output("builder-form", "children"),
    Output("builder-json-feedback", "children"),
    Input({"type": "spec-value", "path": ALL}, "value"),
    Input({"type": "spec-shape", "path": ALL, "part": ALL}, "value"),
    Input({"type": "rule-action", "path": ALL, "action": ALL}, "n_clicks"),
    Input("builder-json-apply", "n_clicks"),
    State("builder-spec-json", "value"),
    State("builder-spec", "data"),
    prevent_initial_call=True,
)
def edit(_values, _shapes, _actions, _apply, json_text, spec):
    if ctx.triggered_id == "builder-json-apply":
        try:
            pasted = json.loads(json_text or "")
        except json.JSONDecodeError as error:
            return no_update, no_update, dbc.Alert(f"Not valid JSON: {error}", color="warning")
        if not isinstance(pasted, dict):
            return no_update, no_update, dbc.Alert("The spec must be a JSON object {...}.",
                                                   color="warning")
        return pasted, form(pasted), dbc.Alert("Applied to the editor.", color="success",
                                               duration=4000)
    reshaped = False
    new = spec
    for trigger, value in _triggers():
        new, changed_shape = apply_edit(new, trigger, value)
        reshaped = reshaped or changed_shape
    if new is spec:
        return no_update, no_update, no_update
    return new, (form(new) if reshaped else no_update), no_update


@callback(
    Output({"type": "field-error", "path": ALL}, "children"),
    Output("builder-errors", "children"),
    Output("builder-save", "disabled"),
    Output("builder-run", "disabled"),
    Output("builder-summary", "children"),
    Output("builder-json-view", "children"),
    Input("builder-spec", "data"),
)
def validate(spec):
    slots = [item["id"]["path"] for item in ctx.outputs_list[0]]
    beside, summary, invalid = field_messages(spec, slots)
    return beside, summary, invalid, invalid, describe_spec(spec), _json_view(spec)


def field_messages(spec: Any, slots: list[str]) -> tuple[list[str], Any, bool]:
    """The validator's message for each field slot (by path, "" when fine), an alert listing
    the messages that have no slot, and whether the spec is invalid."""
    errors = spec_errors(spec)
    beside = [errors.get(path, "") for path in slots]
    elsewhere = {p: m for p, m in errors.items() if p not in slots}
    summary = None
    if errors:
        items = [html.Li(f"{path}: {message}") for path, message in elsewhere.items()]
        summary = dbc.Alert([f"{len(errors)} problem(s) to fix before saving"
                             + (":" if items else " (shown beside the fields)."),
                             html.Ul(items, className="mb-0") if items else None],
                            color="danger", className="py-2", id="builder-invalid")
    return beside, summary, bool(errors)


def _headline(metrics: dict[str, Any], benchmark: dict[str, Any] | None) -> dbc.Row:
    cells = []
    for key in HEADLINE:
        bench = f" (B&H {format_metric(key, benchmark.get(key))})" if benchmark else ""
        cells.append(dbc.Col(html.Div([
            html.Div(info(key).label, className="small text-muted"),
            html.Div(format_metric(key, metrics.get(key)),
                     id={"type": "preview-metric", "key": key}, className="fw-semibold"),
            html.Div(bench, className="small text-muted")], title=tooltip(key)), width=3))
    return dbc.Row(cells, className="g-1 text-center")


@callback(
    Output("builder-preview-chart", "figure"),
    Output("builder-preview-equity", "figure"),
    Output("builder-preview-metrics", "children"),
    Output("builder-preview-note", "children"),
    Input("builder-spec", "data"),
)
def update_preview(spec):
    if spec_errors(spec):
        return no_update, no_update, no_update, "Fix the problems above to update the preview."
    operands = rule_tree.indicators_in(spec.get("entry")) + [
        o for o in rule_tree.indicators_in(spec.get("exit"))
        if o not in rule_tree.indicators_in(spec.get("entry"))]
    try:
        preview = cockpit.preview(arena(), spec, operands)
    except (ServiceError, PriceDataError) as error:
        message = getattr(error, "message", None) or str(error)
        return (charts.empty_figure(message, 460), charts.empty_figure("", 220), None,
                f"No preview: {message}")
    result = preview.result
    frame = result.equity
    equity = charts.equity_figure(frame, result.spec["benchmark"], height=240)
    equity.update_layout(title={"text": "Quick backtest: equity"}, updatemenus=[])
    note = preview.panel.note or (f"{result.meta['first_date']} to {result.meta['last_date']}, "
                                  f"{len(result.trades)} trades (computed here, not saved).")
    return (charts.price_figure(preview.panel, height=460), equity,
            _headline(result.metrics, result.benchmark_metrics), note)


@callback(
    Output("builder-strategy", "data"),
    Output("builder-feedback", "children"),
    Output("builder-version", "children"),
    Output("builder-saved-link", "children"),
    Output("builder-go", "pathname"),
    Input("builder-save", "n_clicks"),
    Input("builder-run", "n_clicks"),
    State("builder-spec", "data"),
    State("builder-strategy", "data"),
    prevent_initial_call=True,
)
def save_or_run(_save, _run, spec, saved):
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        return no_update, no_update, no_update, no_update, no_update
    try:
        saved, run_id = save_spec(current_user_id(), spec, saved,
                                  run=ctx.triggered_id == "builder-run")
    except ServiceError as error:
        problems = [html.Li(f"{field.removeprefix('spec.')}: {message}")
                    for field, message in error.fields.items()]
        return no_update, dbc.Alert([error.message, html.Ul(problems)] if problems
                                    else error.message, color="warning"), \
            no_update, no_update, no_update
    link = html.A(f"/builder/{saved['id']}", href=f"/builder/{saved['id']}")
    version = f"version {saved['version']}"
    if run_id is not None:
        return saved, no_update, version, link, f"/runs/{run_id}"
    message = dbc.Alert(f"Saved version {saved['version']}.", color="success", duration=4000,
                        id="builder-saved")
    return saved, message, version, link, no_update


def save_spec(user_id: int, spec: dict[str, Any], saved: dict[str, Any] | None, run: bool
              ) -> tuple[dict[str, Any], int | None]:
    """Save ``spec`` as a new strategy or a new version of ``saved`` (``{id, version, spec}``)
    and, with ``run``, start a backtest of it; ``(saved, run id or None)``.

    Run saves first only when the spec differs from the saved one. ServiceError (e.g. invalid
    spec, stale version) propagates with nothing saved.
    """
    if saved is None or not run or normalised_or_raw(spec) != saved["spec"]:
        with session_scope(arena().sessions) as session:
            strategy_id, version = cockpit.save_strategy(
                session, user_id, spec, saved["id"] if saved else None,
                saved["version"] if saved else None)
        saved = {"id": strategy_id, "version": version, "spec": normalised_or_raw(spec)}
    run_id = run_service.start_run(arena(), user_id, saved["id"], "backtest", {}) if run \
        else None
    return saved, run_id


dash.register_page("pages.builder", path="/builder", name="Builder",
                   title="Builder · Strategy Arena", layout=layout)
dash.register_page("pages.builder_edit", path_template="/builder/<strategy_id>",
                   name="Edit strategy", title="Builder · Strategy Arena", layout=layout)
