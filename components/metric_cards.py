"""Metric cards: one card per result metric, the strategy's value over the benchmark's, with the
metric's formula and convention as a tooltip (texts from :mod:`components.metric_info`)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from components.metric_info import format_metric, info, ordered_keys, tooltip


def metric_card(key: str, value: Any, benchmark_value: Any = None,
                benchmark: str | None = None, null_reason: str | None = None) -> dbc.Col:
    """A card; its value carries ``data-value`` (the exact number, ``None`` when undefined) so
    checks can compare it with the engine's without parsing the rounded text."""
    lines = [html.Div(info(key).label, className="metric-label small text-muted"),
             html.Div(format_metric(key, value), className="metric-value fs-5",
                      id={"type": "metric-value", "key": key}, **{"data-value": repr(value)})]
    if benchmark is not None:
        lines.append(html.Div(f"{benchmark}: {format_metric(key, benchmark_value)}",
                              className="metric-benchmark small text-muted",
                              id={"type": "metric-benchmark", "key": key},
                              **{"data-value": repr(benchmark_value)}))
    card = dbc.Card(dbc.CardBody(lines, className="p-2"), className="metric-card h-100")
    hint = tooltip(key) + (f" n/a: {null_reason}" if value is None and null_reason else "")
    return dbc.Col(html.Div(card, title=hint, className="h-100"), xs=6, md=3, xl=2,
                   className="mb-2")


def metric_cards(metrics: dict[str, Any], benchmark_metrics: dict[str, Any] | None,
                 benchmark: str, card_id: str = "metric-cards") -> dbc.Row:
    """Every metric of the result (none left out), strategy vs buy-and-hold of ``benchmark``."""
    bench = benchmark_metrics or {}
    reasons = metrics.get("null_reasons") or {}
    return dbc.Row([metric_card(key, metrics[key], bench.get(key),
                                f"B&H {benchmark}" if benchmark_metrics is not None else None,
                                reasons.get(key))
                    for key in ordered_keys(metrics)], className="g-2", id=card_id)
