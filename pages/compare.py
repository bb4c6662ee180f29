"""Compare 2-4 finished backtests: ``/runs/compare?ids=1,2``. Metrics side by side with the best
of each row marked, equity curves rebased to 100 and drawdowns overlaid, and the differences
between their specs."""

from __future__ import annotations

import json
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from app.auth import current_user_id
from app.context import arena
from app.services import cockpit
from app.services.errors import ServiceError
from components import charts, result_data
from components.metric_info import best_index, format_metric, info, ordered_keys, tooltip
from components.spec_diff import spec_differences

MAX_RUNS = 4


def parse_ids(text: str | None) -> list[int]:
    """``"3,1"`` -> ``[3, 1]``; ValueError with what to write otherwise."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not 2 <= len(parts) <= MAX_RUNS or not all(p.isdigit() for p in parts):
        raise ValueError(f"give 2 to {MAX_RUNS} run ids, e.g. /runs/compare?ids=1,2")
    ids = [int(p) for p in parts]
    if len(set(ids)) != len(ids):
        raise ValueError("each run once, please")
    return ids


def metric_table(runs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dbc.Table:
    keys = ordered_keys({k: None for _, doc in runs for k in doc["metrics"]})
    header = html.Thead(html.Tr([html.Th("Metric")] + [
        html.Th([html.A(f"#{s['id']}", href=f"/runs/{s['id']}"), f" {s['strategy']}"])
        for s, _ in runs]))
    rows = []
    for key in keys:
        values = [doc["metrics"].get(key) for _, doc in runs]
        best = best_index(key, values)
        rows.append(html.Tr([html.Th(info(key).label, title=tooltip(key))] + [
            html.Td(format_metric(key, v) + (" ★" if i == best else ""),
                    className="best text-success fw-semibold" if i == best else "",
                    **{"data-value": repr(v)})
            for i, v in enumerate(values)], id={"type": "compare-row", "key": key}))
    return dbc.Table([header, html.Tbody(rows)], size="sm", hover=True, responsive=True,
                     id="compare-metrics", className="align-middle")


def difference_table(runs: list[tuple[dict[str, Any], dict[str, Any]]]) -> Any:
    differences = spec_differences([doc["spec"] for _, doc in runs])
    if not differences:
        return html.P("The specs are identical.", id="compare-spec-diff")
    header = html.Thead(html.Tr([html.Th("Spec field")] +
                                [html.Th(f"#{s['id']}") for s, _ in runs]))
    rows = [html.Tr([html.Td(html.Code(path))] +
                    [html.Td(json.dumps(v) if not isinstance(v, str) else v) for v in values])
            for path, values in differences]
    return dbc.Table([header, html.Tbody(rows)], size="sm", id="compare-spec-diff")


def _message(text: str) -> dbc.Container:
    return dbc.Container([html.H2("Compare runs", className="page-title"),
                          dbc.Alert(text, color="warning", id="compare-problem")], fluid=True)


def layout(ids: str | None = None, **_query: Any) -> Any:
    try:
        wanted = parse_ids(ids)
    except ValueError as error:
        return _message(str(error))
    runs = []
    try:
        with arena().sessions() as session:
            for run_id in wanted:
                summary, document = cockpit.run_with_result(session, current_user_id(), run_id)
                if document is None or summary["kind"] != "backtest":
                    return _message(f"run {run_id} is not a finished backtest "
                                    f"({summary['kind']}, {summary['status']})")
                runs.append((summary, document))
    except LookupError:  # no user (Dash validating the layout outside a request)
        return html.Div()
    except ServiceError as error:
        return _message(error.message)
    equity = [(f"#{s['id']} {s['strategy']}", result_data.rebased(doc)) for s, doc in runs]
    drawdowns = [(f"#{s['id']} {s['strategy']}", result_data.drawdowns(doc)["strategy"])
                 for s, doc in runs]
    return dbc.Container([
        html.H2("Compare runs", className="page-title"),
        metric_table(runs),
        dcc.Graph(id="compare-equity", figure=charts.overlay_figure(
            equity, "Equity, rebased to 100 at the start")),
        dcc.Graph(id="compare-drawdowns", figure=charts.overlay_figure(
            drawdowns, "Drawdowns", height=300, percent=True)),
        html.H4("What differs between the specs", className="mt-3"),
        difference_table(runs),
    ], fluid=True)


dash.register_page("pages.compare", path="/runs/compare", name="Compare",
                   title="Compare · Strategy Arena", layout=layout)
