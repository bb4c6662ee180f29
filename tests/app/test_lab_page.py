"""The Lab page without a browser: components.lab_charts on real sweep and walk-forward results,
and the page's callbacks starting real runs (in-process jobs), drawing the heatmap and saving a
clicked variant as a strategy."""

from __future__ import annotations

import time

import pytest
from flask import g

from app import create_app
from app.runs.state import finite_json
from app.services import session_scope
from app.services.strategies import create_strategy, get_strategy
from components import lab_charts
from data.bundled import load_bundled
from engine.spec import load_example
from engine.sweep import run_sweep
from engine.walkforward import run_walkforward
from tests.app.conftest import create_user, sqlite_settings

PERIOD = "entry.all[0].left.params.period"
LEVEL = "entry.all[0].right"
EXIT = "exit.any[0].right"


def rsi_spec() -> dict:
    return load_example("rsi_mean_reversion").to_dict() | {"start": "2012-01-01",
                                                            "end": "2019-12-31"}


@pytest.fixture(scope="module")
def spy():
    return load_bundled("SPY", start="2010-01-01", end="2019-12-31")


@pytest.fixture(scope="module")
def sweep(spy) -> dict:
    grid = {PERIOD: [5, 10, 14, 21], LEVEL: [20, 25, 30, 35], EXIT: [65, 75]}
    return finite_json(run_sweep(rsi_spec(), spy, grid, partitions=8).to_dict())


@pytest.fixture(scope="module")
def walk(spy) -> dict:
    return finite_json(run_walkforward(rsi_spec(), spy, {LEVEL: [25, 35]}, folds=3,
                                       in_sample_size=2).to_dict())


# --- components ------------------------------------------------------------------------------


def test_numeric_paths_list_rule_numbers_and_execution_settings():
    paths = lab_charts.numeric_paths(rsi_spec())
    assert {PERIOD, LEVEL, EXIT, "fees_bps", "stop_loss_pct"} <= set(paths)
    assert "initial_cash" in paths


def test_values_are_read_as_a_list_or_a_range_with_stop_included():
    assert lab_charts.parse_values("10, 20,30") == [10, 20, 30]
    assert lab_charts.parse_values("5:20:5") == [5, 10, 15, 20]
    assert lab_charts.parse_values("0.5:1.5:0.5") == [0.5, 1, 1.5]
    with pytest.raises(ValueError, match="start:stop:step"):
        lab_charts.parse_values("5:x:1")


def test_heatmap_cells_are_the_sweep_rows_at_the_held_value_of_the_third_key(sweep):
    figure = lab_charts.heatmap_figure(sweep, PERIOD, LEVEL, "sharpe", {EXIT: 75})
    heat = figure.data[0]
    assert list(heat.x) == ["5", "10", "14", "21"] and list(heat.y) == ["20", "25", "30", "35"]
    for r, level in enumerate((20, 25, 30, 35)):
        for c, period in enumerate((5, 10, 14, 21)):
            i = heat.customdata[r][c]
            row = sweep["results"][i]
            assert row["params"] == {PERIOD: period, LEVEL: level, EXIT: 75}
            assert heat.z[r][c] == row["metrics"]["sharpe"]
            assert f"CAGR: {row['metrics']['cagr'] * 100:.1f} %" in heat.text[r][c]


def test_stability_compares_the_best_cell_with_its_neighbours(sweep):
    info = lab_charts.stability(sweep, PERIOD, LEVEL, "sharpe", {EXIT: 65})
    cells = lab_charts.cell_grid(sweep, PERIOD, LEVEL, "sharpe", {EXIT: 65})
    values = [(v, r, c) for r, row in enumerate(cells["z"]) for c, v in enumerate(row)
              if v is not None]
    best, r0, c0 = max(values)
    around = [v for v, r, c in values if max(abs(r - r0), abs(c - c0)) == 1]
    assert info["best"] == best and sorted(info["neighbours"]) == sorted(around)
    assert info["mean"] == pytest.approx(sum(around) / len(around))
    expected = "plateau" if best > 0 and info["mean"] / best >= lab_charts.PLATEAU_SHARE \
        else "spike"
    assert info["kind"] == expected
    assert expected in lab_charts.stability_text(info, "sharpe")


def test_stability_of_a_hand_made_spike_and_plateau():
    def document(values):
        grid = {"a": [1, 2, 3], "b": [1, 2, 3]}
        rows = [{"params": {"a": a, "b": b}, "metrics": {"sharpe": values[i]}}
                for i, (b, a) in enumerate((b, a) for b in (1, 2, 3) for a in (1, 2, 3))]
        return {"grid": grid, "results": rows}

    spike = lab_charts.stability(document([0, 0, 0, 0, 2.0, 0, 0, 0, 0]), "a", "b", "sharpe")
    assert (spike["best"], spike["mean"], spike["kind"]) == (2.0, 0.0, "spike")
    plateau = lab_charts.stability(document([1.8] * 4 + [2.0] + [1.8] * 4), "a", "b", "sharpe")
    assert plateau["share"] == pytest.approx(0.9) and plateau["kind"] == "plateau"


def test_the_verdict_reads_the_sweeps_overfitting_report(sweep):
    alert = lab_charts.verdict(sweep)
    report = sweep["overfitting"]
    assert f"The best of {report['trials']} variants has a {report['pbo'] * 100:.0f} %" \
        in alert.children
    assert f"its deflated Sharpe is {report['deflated_sharpe']:.2f}" in alert.children


def test_walkforward_chart_marks_each_fold_and_the_table_has_a_row_per_fold(walk):
    figure = lab_charts.walkforward_figure(walk)
    assert len(figure.data[0].x) == len(walk["oos_equity"])
    lines = [shape for shape in figure.layout.shapes if shape.type == "line"]
    assert [line.x0 for line in lines] == [f["out_of_sample"]["start"] for f in walk["folds"]]
    table = lab_charts.folds_table(walk)
    assert len(table.children[1].children) == 3
    bars = lab_charts.fold_returns_figure(walk)
    assert list(bars.data[1].y) == pytest.approx(
        [f["out_of_sample_metrics"]["cagr"] * 100 for f in walk["folds"]])
    summary = str(lab_charts.walkforward_summary(walk).children)
    assert f"{walk['efficiency']:.2f}" in summary and "flattened" in summary


# --- the page's callbacks with real runs (in-process jobs) --------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    dash_app = create_app(sqlite_settings(tmp_path_factory.mktemp("lab") / "instance"))
    yield dash_app
    dash_app.server.extensions["arena"].close()


@pytest.fixture(scope="module")
def page(app):
    import pages.lab

    return pages.lab


class AsUser:
    def __init__(self, app, user_id: int) -> None:
        self.app, self.user_id = app, user_id

    def __enter__(self):
        self.context = self.app.server.test_request_context()
        self.context.push()
        g.arena_user_id = self.user_id

    def __exit__(self, *exc):
        self.context.pop()


def saved_strategy(app, user_id: int) -> int:
    with session_scope(app.server.extensions["arena"].sessions) as session:
        return create_strategy(session, user_id, rsi_spec()).id


def finish(page, run_id: int) -> tuple:
    deadline = time.monotonic() + 120
    while True:
        outputs = page.follow_run(1, run_id)
        if outputs[-1] is True:
            return outputs
        assert time.monotonic() < deadline, outputs
        time.sleep(0.3)


def test_a_sweep_from_the_page_draws_its_heatmap_and_a_click_saves_the_variant(app, page):
    user = create_user(app)
    strategy_id = saved_strategy(app, user.id)
    with AsUser(app, user.id):
        choices = page.parameter_choices(strategy_id)[0]
        assert {"label": PERIOD, "value": PERIOD} in choices
        run_id, disabled, _feedback, _ = page.submit(
            "sweep", strategy_id, {"x": PERIOD, "y": LEVEL, "z": None},
            {"x": "5:15:5", "y": "20, 30", "z": None}, None, {})
        assert disabled is False
        *_, shown, stop = finish(page, run_id)
        assert stop is True and "lab-sweep" in str(shown)
        figure, sentence = page.draw_heatmap("sharpe", 0, [PERIOD, LEVEL], run_id)
        assert len(figure.data[0].customdata) == 2 and "best cell" in sentence
        cell = figure.data[0].customdata[1][2]  # level 30, period 15
        answer = page.open_variant({"points": [{"customdata": cell}]}, run_id)
    link = [c for c in answer.children if hasattr(c, "href")][0]
    saved_id = int(link.href.rsplit("/", 1)[1])
    with app.server.extensions["arena"].sessions() as session:
        spec = get_strategy(session, user.id, saved_id).spec
    assert spec["entry"]["all"][0]["left"]["params"]["period"] == 15
    assert spec["entry"]["all"][0]["right"] == 30


def test_the_constraint_names_axes_and_a_bad_one_is_shown_without_a_run(app, page):
    assert page.lab_options({"x": "a", "y": "b", "z": None}, {"x": "1,2", "y": "3"},
                            "x < y") == {"grid": {"a": [1, 2], "b": [3]},
                                         "constraints": ["a < b"]}
    user = create_user(app)
    strategy_id = saved_strategy(app, user.id)
    with AsUser(app, user.id):
        run_id, disabled, feedback, _ = page.submit(
            "sweep", strategy_id, {"x": PERIOD, "y": LEVEL, "z": None},
            {"x": "5, 10", "y": "20"}, "x < q", {})
        missing = page.submit("sweep", strategy_id, {"x": PERIOD, "y": None, "z": None},
                              {"x": "5"}, None, {})
    assert disabled is True and "constraints[0]" in str(feedback)
    assert "Heatmap rows: choose a parameter" in str(missing[2])


def test_a_walkforward_from_the_page_shows_folds_and_another_user_sees_not_found(app, page):
    owner, stranger = create_user(app), create_user(app)
    strategy_id = saved_strategy(app, owner.id)
    with AsUser(app, owner.id):
        run_id, *_ = page.submit("walkforward", strategy_id,
                                 {"x": LEVEL, "y": EXIT, "z": None},
                                 {"x": "25, 35", "y": "70"}, None,
                                 {"folds": 3, "in_sample_size": 2, "mode": "rolling",
                                  "metric": "sharpe"})
        *_, shown, stop = finish(page, run_id)
    assert "lab-walk" in str(shown) and "lab-folds-table" in str(shown)
    with AsUser(app, stranger.id):
        *_, stage, results, stop = page.follow_run(1, run_id)
    assert stage == f"run {run_id} not found" and results is None and stop is True
