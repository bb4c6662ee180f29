"""The Builder's form: the no-code rule editor (entry and exit groups, rows of
"indicator(params) [output] op value | price field | indicator") and the settings panel.

Every control's id carries the spec path of what it edits, in three pattern-matching types:

- ``{"type": "spec-value", "path": P}``: a leaf value (``entry.all[0].left.params.period``);
- ``{"type": "spec-shape", "path": P, "part": "kind" | "indicator" | "logic"}``: a change that
  reshapes the tree (operand kind, indicator, all/any);
- ``{"type": "rule-action", "path": P, "action": A}``: add / remove / duplicate / presets.

Beside each field is ``{"type": "field-error", "path": P}``, where the validator's message for P
goes. All choices come from the engine (indicator registry, the spec's literal types).
"""

from __future__ import annotations

from typing import Any, get_args

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.rule_tree import EditorRow, operand_kind, tree_to_rows
from engine.indicators import INDICATORS
from engine.spec import OPS, PRICE_FIELDS, Direction, Fill, SizingMethod

OP_LABELS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "crosses_above": "crosses above",
             "crosses_below": "crosses below"}
KIND_LABELS = {"indicator": "indicator", "field": "price", "number": "number"}
DATE_PRESETS = (("1Y", 1), ("5Y", 5), ("10Y", 10), ("max", None))


def value_id(path: str) -> dict[str, str]:
    return {"type": "spec-value", "path": path}


def error_slot(path: str) -> html.Div:
    return html.Div(id={"type": "field-error", "path": path},
                    className="field-error invalid-feedback d-block small")


def _options(values: tuple[str, ...] | list[str], labels: dict[str, str] | None = None
             ) -> list[dict[str, str]]:
    return [{"label": (labels or {}).get(v, v), "value": v} for v in values]


def _select(path: str, value: Any, options: list[dict[str, str]], part: str | None = None,
            width: str = "auto", title: str | None = None) -> html.Span:
    id_ = value_id(path) if part is None else {"type": "spec-shape", "path": path, "part": part}
    return html.Span(dbc.Select(id=id_, options=options, value=value, size="sm",
                                className="rule-select", style={"width": width}), title=title)


def _number(path: str, value: Any, width: str = "5.5rem", placeholder: str | None = None,
            step: Any = "any", title: str | None = None) -> html.Span:
    return html.Span(dbc.Input(id=value_id(path), type="number", value=value, size="sm",
                               step=step, debounce=300, placeholder=placeholder,
                               className="rule-number", style={"width": width}), title=title)


def _field(control: Any, path: str, label: str | None = None) -> html.Div:
    parts = [html.Small(label, className="text-muted me-1")] if label else []
    return html.Div([html.Div(parts + [control], className="d-flex align-items-center"),
                     error_slot(path)], className="rule-field me-2 mb-1")


def operand_controls(operand: Any, path: str) -> html.Div:
    """Controls of one operand: its kind, then number / price field / indicator settings."""
    kind = operand_kind(operand)
    controls = [_select(path, kind, _options(("indicator", "field", "number"), KIND_LABELS),
                        part="kind", title="what this side compares")]
    if kind == "number":
        controls.append(_field(_number(path, operand if not isinstance(operand, dict) else None,
                                       width="6rem"), path))
        return html.Div(controls, className="operand d-flex flex-wrap align-items-start")
    controls.append(error_slot(path))
    offset = operand.get("offset", 0)
    if kind == "field":
        controls.append(_field(_select(f"{path}.field", operand.get("field"),
                                       _options(PRICE_FIELDS)), f"{path}.field"))
    else:
        name = operand.get("indicator")
        info = INDICATORS.get(name)
        controls.append(_field(_select(path, name if info else None,
                                       _options(list(INDICATORS), {n: n.upper() for n in
                                                                   INDICATORS}),
                                       part="indicator"), f"{path}.indicator"))
        if info is not None:
            params = operand.get("params") if isinstance(operand.get("params"), dict) else {}
            for param, spec in info.params.items():
                controls.append(_field(
                    _number(f"{path}.params.{param}", params.get(param), width="4.5rem",
                            step=1 if spec.type is int else "any",
                            title=f"{param} (at least {spec.min:g})"),
                    f"{path}.params.{param}", param))
            if len(info.outputs) > 1:
                controls.append(_field(_select(f"{path}.output", operand.get("output"),
                                               _options(info.outputs)), f"{path}.output"))
            if info.inputs == "source":
                controls.append(_field(_select(f"{path}.source", operand.get("source", "close"),
                                               _options(PRICE_FIELDS)),
                                       f"{path}.source", "of"))
    controls.append(_field(_number(f"{path}.offset", offset, width="4rem", step=1,
                                   title="bars back: 1 is the previous bar's value"),
                           f"{path}.offset", "bars ago"))
    return html.Div(controls, className="operand d-flex flex-wrap align-items-start")


def _action(path: str, action: str, label: str, title: str, color: str = "secondary"
            ) -> dbc.Button:
    return dbc.Button(label, id={"type": "rule-action", "path": path, "action": action},
                      size="sm", color=color, outline=True, title=title, className="ms-1")


def _rule_row(row: EditorRow) -> html.Div:
    rule = row.rule or {}
    op = rule.get("op")
    return html.Div([
        html.Div([
            operand_controls(rule.get("left"), f"{row.path}.left"),
            html.Div(_field(_select(f"{row.path}.op", op if op in OPS else None,
                                    _options(OPS, OP_LABELS)), f"{row.path}.op"),
                     className="me-1"),
            operand_controls(rule.get("right"), f"{row.path}.right"),
            html.Div([_action(row.path, "duplicate", "copy", "duplicate this row"),
                      _action(row.path, "remove", "✕", "remove this row", "danger")],
                     className="ms-auto d-flex align-items-start"),
        ], className="d-flex flex-wrap align-items-start"),
        error_slot(row.path),
    ], className="rule-row", style={"marginLeft": f"{(row.depth - 1) * 1.5}rem"})


def _group_row(row: EditorRow, section: str) -> html.Div:
    nested = row.depth > 0
    words = "when" if not nested else "and"
    return html.Div([
        html.Div([
            html.Span(f"{section.capitalize()} {words}" if not nested else "a group where",
                      className="me-2 fw-semibold"),
            _select(row.path, row.logic, [{"label": "all of these hold", "value": "all"},
                                          {"label": "any of these holds", "value": "any"}],
                    part="logic"),
            _action(row.path, "add_rule", "+ rule", "add a rule to this group", "primary"),
            _action(row.path, "add_group", "+ group", "add a nested group (all/any)"),
            _action(row.path, "remove", "✕", "remove this group", "danger") if nested else None,
        ], className="d-flex align-items-center flex-wrap"),
        error_slot(row.path),
    ], className="group-row", style={"marginLeft": f"{max(row.depth - 1, 0) * 1.5}rem"})


def rule_section(tree: Any, section: str) -> dbc.Card:
    """The editor of one rule tree (``section`` is ``entry`` or ``exit``)."""
    if not isinstance(tree, dict) or not ({"all", "any"} & tree.keys()):
        body: list[Any] = [html.P(f"The {section} rule is not a group; fix it in the JSON tab.",
                                  className="text-warning"), error_slot(section)]
    else:
        body = []
        for row in tree_to_rows(tree, section):
            body.append(_group_row(row, section) if row.kind == "group" else _rule_row(row))
    return dbc.Card(dbc.CardBody(body, className="p-2"), className="mb-2 rule-section",
                    id=f"builder-{section}")


def rule_editor(spec: dict[str, Any]) -> html.Div:
    return html.Div([rule_section(spec.get("entry"), "entry"),
                     rule_section(spec.get("exit"), "exit")])


# --- settings panel --------------------------------------------------------------------------

#: (path, label, one-line explanation) of the numeric settings; "" = off when empty.
NUMBER_SETTINGS = (
    ("initial_cash", "Starting cash", "Account currency before the first bar."),
    ("sizing.value", "Size", "Percent of equity, cash amount or units, by the sizing method."),
    ("fees_bps", "Fees (bps)", "Per side, on the traded notional: 10 bps = 0.1 %."),
    ("slippage_bps", "Slippage (bps)", "Every fill price moves this much against you."),
    ("stop_loss_pct", "Stop-loss %", "Exit when the price moves this % against the entry; "
                                      "empty = none."),
    ("take_profit_pct", "Take-profit %", "Exit when the price moves this % in your favour; "
                                          "empty = none."),
    ("trailing_stop_pct", "Trailing stop %", "Exit this % below the best price since entry "
                                              "(above, for shorts); empty = none."),
)
SELECT_SETTINGS = (
    ("direction", "Direction", get_args(Direction),
     "long buys; short sells first; both: entry goes long, exit goes short."),
    ("sizing.method", "Sizing", get_args(SizingMethod),
     "percent_equity, fixed_cash or fixed_units."),
    ("fill", "Fill timing", get_args(Fill),
     "next_open: a signal at today's close fills at tomorrow's open (no look-ahead); close: "
     "fills at today's close (optimistic)."),
)


def _get(spec: dict[str, Any], path: str) -> Any:
    node: Any = spec
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _setting(label: str, help_text: str, control: Any, path: str) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-0"), control,
                    html.Div(help_text, className="form-text small mt-0"), error_slot(path)],
                   md=6, lg=4, className="mb-2")


def settings_panel(spec: dict[str, Any]) -> dbc.Row:
    """Direction, sizing, units, costs, stops and fill timing, each with its explanation."""
    columns = [_setting(label, help_text,
                        dbc.Select(id=value_id(path), options=_options(choices),
                                   value=_get(spec, path), size="sm"), path)
               for path, label, choices, help_text in SELECT_SETTINGS]
    columns += [_setting(label, help_text,
                         dbc.Input(id=value_id(path), type="number", value=_get(spec, path),
                                   size="sm", step="any", debounce=300), path)
                for path, label, help_text in NUMBER_SETTINGS]
    columns.append(_setting("Units", "Off: whole shares only (units rounded down).",
                            dbc.Switch(id=value_id("fractional"), label="fractional",
                                       value=bool(spec.get("fractional", True))),
                            "fractional"))
    return dbc.Row(columns, className="g-2")


def market_panel(spec: dict[str, Any], symbol_options: list[dict[str, str]]) -> html.Div:
    """Name, symbol (type-ahead), benchmark, date range and its presets."""
    def symbol_box(path: str, placeholder: str) -> dcc.Dropdown:
        value = spec.get(path)
        options = list(symbol_options)
        if value and value not in {o["value"] for o in options}:
            options.insert(0, {"label": value, "value": value})
        return dcc.Dropdown(id=value_id(path), options=options, value=value, searchable=True,
                            clearable=path == "benchmark", placeholder=placeholder,
                            className="symbol-dropdown")

    presets = [_action("start", f"preset_{years or 'max'}", label,
                       f"the last {years} years" if years else "all the data")
               for label, years in DATE_PRESETS]
    return html.Div([
        dbc.Row([
            dbc.Col([dbc.Label("Name", className="small mb-0"),
                     dbc.Input(id=value_id("name"), value=spec.get("name"), size="sm",
                               debounce=300),
                     error_slot("name")], md=4),
            dbc.Col([dbc.Label("Symbol", className="small mb-0"),
                     symbol_box("symbol", "type a ticker"), error_slot("symbol")], md=2),
            dbc.Col([dbc.Label("Benchmark", className="small mb-0"),
                     symbol_box("benchmark", "same as symbol"), error_slot("benchmark")],
                    md=2),
            dbc.Col([dbc.Label("From", className="small mb-0"),
                     dbc.Input(id=value_id("start"), type="date", value=spec.get("start"),
                               size="sm", debounce=True),
                     error_slot("start")], md=2),
            dbc.Col([dbc.Label("To", className="small mb-0"),
                     dbc.Input(id=value_id("end"), type="date", value=spec.get("end"),
                               size="sm", debounce=True),
                     error_slot("end")], md=2),
        ], className="g-2"),
        html.Div([html.Small("Range: ", className="text-muted")] + presets,
                 className="d-flex align-items-center mt-1"),
    ])
