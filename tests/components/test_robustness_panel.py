"""The "How robust is this?" panel (components.robustness_panel) built from a real robustness
result document, without a browser: its tables and figures show the document's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dash import dcc, html

from components.robustness_panel import (
    conventions_table,
    cost_curve_figure,
    drawdown_probability_figure,
    fill_table,
    robustness_panel,
    trade_fan_figure,
)
from data.bundled import load_bundled
from engine.robustness import run_robustness

EXAMPLES = Path(__file__).resolve().parents[2] / "engine" / "examples"


@pytest.fixture(scope="module")
def document() -> dict:
    spec = json.loads((EXAMPLES / "sma_crossover.json").read_text())
    spec.update(symbol="TLT", benchmark="TLT")
    result = run_robustness(spec, load_bundled("TLT"), paths=500)
    return json.loads(json.dumps(result.to_dict(), allow_nan=False))  # as stored


def texts(component) -> list[str]:
    found = []
    children = getattr(component, "children", None)
    if isinstance(children, str | int | float):
        found.append(str(children))
    elif isinstance(children, list | tuple):
        for child in children:
            found += [str(child)] if isinstance(child, str) else texts(child)
    elif children is not None:
        found += texts(children)
    return found


def test_fill_table_has_one_row_per_assumption_with_its_cagr(document):
    body = fill_table(document).children[1]
    assert len(body.children) == 4
    first = texts(body.children[0])
    assert first[0] == "next open (the spec's)"
    assert f"{document['fills'][0]['metrics']['cagr'] * 100:+.1f} %" in first


def test_cost_curve_plots_every_cost_and_marks_both_breakevens(document):
    figure = cost_curve_figure(document)
    strategy, benchmark = figure.data
    assert list(strategy.x) == [row["cost_bps"] for row in document["costs"]]
    assert list(strategy.y) == [row["metrics"]["cagr"] for row in document["costs"]]
    assert list(benchmark.y) == [row["benchmark_cagr"] for row in document["costs"]]
    marked = sorted(shape.x0 for shape in figure.layout.shapes)
    assert marked == sorted(document["breakeven_bps"].values())


def test_fan_and_drawdown_bars_show_the_monte_carlo(document):
    monte_carlo = document["trade_monte_carlo"]
    fan = trade_fan_figure(document)
    median = fan.data[-1]
    assert list(median.y) == [row["p50"] for row in monte_carlo["fan"]]
    bars = drawdown_probability_figure(document).data[0]
    assert list(bars.y) == list(monte_carlo["prob_drawdown_worse_than"].values())


def test_conventions_table_lists_every_row_with_who_uses_it(document):
    body = conventions_table(document).children[1]
    assert len(body.children) == len(document["conventions"])
    assert "backtesting.py" in [t for row in body.children for t in texts(row)]


def test_the_panel_holds_the_verdict_and_the_three_graphs(document):
    panel = robustness_panel(document)
    assert isinstance(panel, html.Div)
    flat = texts(panel)
    assert "How robust is this?" in flat and document["verdict"] in flat
    graphs = [c for c in panel.children if isinstance(c, dcc.Graph)]
    rows = [c for c in panel.children if not isinstance(c, dcc.Graph | str)]
    assert graphs and rows
