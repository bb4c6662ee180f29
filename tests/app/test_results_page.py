"""Results, Runs and Compare pages without a browser, on runs executed by the real job layer:
metric values equal the engine's, downloads give the run's own trades and equity, another
user's ids are "not found", and the pure helpers (monthly returns, spec differences, best
values) on hand-checked inputs."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from app import create_app
from app.context import arena
from app.runs.service import get_run
from app.services.errors import NotFoundError
from app.services.prices import load_prices
from components import result_data
from components.metric_info import METRIC_ORDER, best_index, format_metric
from components.spec_diff import MISSING, spec_differences
from engine.backtest import run_backtest
from engine.metrics import METRIC_KEYS
from tests.app.cockpit_helpers import as_user, find_all, finished_run, save, text_of
from tests.app.conftest import create_user, example_spec, sqlite_settings


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    dash_app = create_app(sqlite_settings(tmp_path_factory.mktemp("results") / "instance"))
    yield dash_app
    dash_app.server.extensions["arena"].close()


@pytest.fixture(scope="module")
def pages_(app):
    import pages.compare
    import pages.results
    import pages.runs

    return pages.results, pages.runs, pages.compare


@pytest.fixture(scope="module")
def owner_runs(app):
    """A user with two finished backtests of different specs: (user, run ids, specs)."""
    user = create_user(app)
    specs = [example_spec("rsi_mean_reversion"),
             example_spec("rsi_mean_reversion", stop_loss_pct=None)]
    specs[1]["name"] = "RSI 7"
    specs[1]["entry"]["all"][0]["left"]["params"]["period"] = 7
    run_ids = [finished_run(app, user.id, save(app, user.id, spec)) for spec in specs]
    return user, run_ids, specs


def engine_result(app, spec):
    with app.server.test_request_context():
        prices = load_prices(arena().prices, spec["symbol"])
    return run_backtest(spec, prices, risk_free=app.server.extensions["arena"]
                        .settings.risk_free_rate).to_dict()


def test_the_results_page_shows_every_metric_with_the_engine_s_values(app, pages_, owner_runs):
    results, _, _ = pages_
    user, (run_id, _), (spec, _) = owner_runs
    expected = engine_result(app, spec)
    context = as_user(app, user.id)
    try:
        view = results.layout(str(run_id))
    finally:
        context.pop()
    cards = {c.id["key"]: c for c in find_all(
        view, lambda c: isinstance(getattr(c, "id", None), dict)
        and c.id.get("type") == "metric-value")}
    assert set(METRIC_KEYS) <= set(cards)
    for key in METRIC_ORDER:
        value = expected["metrics"][key]
        assert getattr(cards[key], "data-value") == repr(value), key
        assert cards[key].children == format_metric(key, value)
    tables = find_all(view, lambda c: getattr(c, "id", None) == "trade-table")
    assert len(tables[0].data) == len(expected["trades"]) > 0
    text = text_of(view)
    assert "RSI mean reversion" in text and "next_open" in text and "fees 10 bps" in text


def test_downloads_give_the_run_s_own_trades_equity_and_result(app, pages_, owner_runs):
    results, _, _ = pages_
    user, (first, second), _ = owner_runs
    context = as_user(app, user.id)
    try:
        files = {what: results.download(what, user.id, first)
                 for what in ("trades", "equity", "json")}
        other_trades = results.download("trades", user.id, second)
        with arena().sessions() as session:
            from app.runs.service import get_result

            document = get_result(session, user.id, first)
    finally:
        context.pop()
    trades = list(csv.DictReader(io.StringIO(files["trades"]["content"])))
    assert [float(t["pnl"]) for t in trades] == [t["pnl"] for t in document["trades"]]
    assert trades[0]["entry_date"] == document["trades"][0]["entry_date"]
    equity = list(csv.DictReader(io.StringIO(files["equity"]["content"])))
    assert len(equity) == len(document["equity"])
    assert float(equity[-1]["equity"]) == document["equity"][-1]["equity"]
    assert json.loads(files["json"]["content"]) == document
    assert files["trades"]["filename"] == f"run-{first}-trades.csv"
    assert other_trades["content"] != files["trades"]["content"]


def test_another_user_s_run_builder_and_compare_urls_are_not_found(app, pages_, owner_runs):
    results, _, compare = pages_
    _, (first, second), _ = owner_runs
    stranger = create_user(app)
    context = as_user(app, stranger.id)
    try:
        assert f"run {first} not found" in text_of(results.layout(str(first)))
        assert f"run {first} not found" in text_of(compare.layout(ids=f"{first},{second}"))
        with pytest.raises(NotFoundError):
            results.download("trades", stranger.id, first)
    finally:
        context.pop()


def test_compare_puts_two_runs_side_by_side_and_lists_their_spec_differences(
        app, pages_, owner_runs):
    _, _, compare = pages_
    user, (first, second), specs = owner_runs
    context = as_user(app, user.id)
    try:
        view = compare.layout(ids=f"{first},{second}")
    finally:
        context.pop()
    rows = find_all(view, lambda c: isinstance(getattr(c, "id", None), dict)
                    and c.id.get("type") == "compare-row")
    sharpe = next(r for r in rows if r.id["key"] == "sharpe")
    cells = sharpe.children[1:]
    assert len(cells) == 2
    assert sum("★" in cell.children for cell in cells) == 1
    text = text_of(find_all(view, lambda c: getattr(c, "id", None) == "compare-spec-diff"))
    assert "entry.all[0].left.params.period" in text and "stop_loss_pct" in text
    assert "name" in text


def test_compare_needs_two_to_four_distinct_ids(pages_):
    _, _, compare = pages_
    assert compare.parse_ids("3, 1") == [3, 1]
    for bad in ("1", "1,2,3,4,5", "1,x", "2,2", None):
        with pytest.raises(ValueError):
            compare.parse_ids(bad)


def test_the_runs_list_shows_each_run_with_its_key_metrics_and_filters(app, pages_, owner_runs):
    _, runs, _ = pages_
    user, (first, second), _ = owner_runs
    context = as_user(app, user.id)
    try:
        listed = runs.list_runs(user.id, None, "backtest", "succeeded")
        assert [r["id"] for r in listed] == [second, first]
        assert runs.list_runs(user.id, None, "stress", None) == []
        table = text_of(runs.run_table(listed))
        assert f"#{first}" in table
        assert format_metric("total_return", listed[1]["metrics"]["total_return"]) in table
    finally:
        context.pop()


def test_deleting_and_running_again_from_the_runs_list(app, pages_):
    _, runs, _ = pages_
    user = create_user(app)
    run_id = finished_run(app, user.id, save(app, user.id, example_spec()))
    context = as_user(app, user.id)
    try:
        message, colour = runs.act(user.id, "run-again", run_id)
        assert colour == "success" and message.startswith("Started run #")
        assert runs.act(user.id, "run-delete", run_id) == (f"Deleted run #{run_id}.", "success")
        assert [r["id"] for r in runs.list_runs(user.id, None, None, None)] != [run_id]
        assert runs.act(user.id, "run-delete", run_id)[1] == "warning"
    finally:
        context.pop()


def test_monthly_and_yearly_returns_are_measured_from_the_starting_cash():
    # 100 -> 110 (Jan 2020) -> 99 (Feb 2020) -> 108.9 (Jan 2021)
    document = {"spec": {"initial_cash": 100.0}, "equity": [
        {"date": "2020-01-15", "equity": 105.0, "position": 0.0, "benchmark_equity": 100.0},
        {"date": "2020-01-31", "equity": 110.0, "position": 0.0, "benchmark_equity": 100.0},
        {"date": "2020-02-28", "equity": 99.0, "position": 0.0, "benchmark_equity": 100.0},
        {"date": "2021-01-29", "equity": 108.9, "position": 0.0, "benchmark_equity": 100.0}]}
    months = result_data.monthly_returns(document)
    assert months.loc[2020, 1] == pytest.approx(0.10)   # 110 / 100 - 1
    assert months.loc[2020, 2] == pytest.approx(-0.10)  # 99 / 110 - 1
    assert months.loc[2021, 1] == pytest.approx(0.10)   # 108.9 / 99 - 1
    assert months.isna().sum().sum() == 24 - 3
    years = result_data.yearly_returns(document)
    assert years.loc[2020, "strategy"] == pytest.approx(-0.01)  # 99 / 100 - 1
    assert years.loc[2021, "strategy"] == pytest.approx(0.10)
    assert years.loc[2020, "benchmark"] == 0.0
    drawdown = result_data.drawdowns(document)["strategy"].tolist()
    assert drawdown == pytest.approx([0.0, 0.0, -0.10, -0.01])  # peak 110 from bar 2


def test_rolling_sharpe_uses_the_engine_convention():
    # returns alternate +1 % / -0.5 % from the starting cash; window 4
    equity, value = [], 100.0
    for i in range(8):
        value *= 1.01 if i % 2 == 0 else 0.995
        equity.append({"date": f"2020-01-{i + 1:02d}", "equity": value, "position": 0.0,
                       "benchmark_equity": None})
    series = result_data.rolling_sharpe({"spec": {"initial_cash": 100.0}, "equity": equity,
                                         "meta": {"risk_free": 0.0}}, window=4)
    returns = [0.01, -0.005, 0.01, -0.005]
    mean = sum(returns) / 4
    std = (sum((r - mean) ** 2 for r in returns) / 3) ** 0.5
    assert series.iloc[:3].isna().all()
    assert series.iloc[-1] == pytest.approx(mean / std * 252 ** 0.5)


def test_spec_differences_list_each_changed_path_once():
    a = example_spec()
    b = json.loads(json.dumps(a))
    b["entry"]["all"][0]["right"] = 25.0
    b["exit"]["any"].append({"left": {"field": "close"}, "op": ">", "right": 1.0})
    differences = dict(spec_differences([a, b]))
    assert differences["entry.all[0].right"] == [30.0, 25.0]
    assert differences["exit.any[1].op"] == [MISSING, ">"]
    assert "symbol" not in differences
    assert spec_differences([a, a]) == []


def test_best_value_follows_which_way_is_better():
    assert best_index("sharpe", [0.5, 1.2, None]) == 1
    assert best_index("max_drawdown", [-0.3, -0.1]) == 1      # shallower is better
    assert best_index("volatility", [0.2, 0.1]) == 1
    assert best_index("beta", [0.5, 1.0]) is None             # neither is better
    assert best_index("sharpe", [1.0, 1.0]) is None


def test_how_robust_is_this_starts_a_robustness_run_whose_page_shows_the_panel(
        app, pages_, owner_runs):
    results, _, _ = pages_
    user, (run_id, _), _ = owner_runs
    context = as_user(app, user.id)
    try:
        target = results.check_robustness(1, run_id)
    finally:
        context.pop()
    robustness_id = int(target.rsplit("/", 1)[1])
    arena_context = app.server.extensions["arena"]
    deadline = time.monotonic() + 120
    while True:
        with arena_context.sessions() as session:
            run = get_run(session, user.id, robustness_id)
            if run.finished:
                break
        assert time.monotonic() < deadline, "the robustness run did not finish"
        time.sleep(0.2)
    assert (run.kind, run.status) == ("robustness", "succeeded"), run.error
    context = as_user(app, user.id)
    try:
        view = results.layout(str(robustness_id))
    finally:
        context.pop()
    panels = find_all(view, lambda c: getattr(c, "id", None) == "results-robustness-report")
    assert len(panels) == 1 and "How robust is this?" in text_of(panels[0])


def test_a_ruined_account_and_data_warnings_are_said_before_the_numbers(pages_):
    results, _, _ = pages_
    document = {"metrics": {"ruined": True, "ruined_date": "2019-12-12", "ruin_deficit": 12.5},
                "warnings": [{"date": "2020-08-31", "kind": "unadjusted_split", "symbol": "TSLA",
                              "message": "a 5:1 jump looks like an unadjusted split"},
                             {"date": "2019-12-12", "kind": "ruin", "message": "ruined"}]}
    notices = results.result_notices(document)
    assert [n.id for n in notices] == ["results-ruined", "results-warnings"]
    assert "Ruined on 2019-12-12" in text_of(notices[0]) and "12.50" in text_of(notices[0])
    assert "2020-08-31 TSLA a 5:1 jump" in text_of(notices[1])
    assert results.result_notices({"metrics": {"ruined": False}, "warnings": []}) == []


def test_cards_show_ruin_fields_and_the_reason_a_metric_is_undefined():
    from components.metric_cards import metric_cards

    metrics = {"sharpe": None, "ruined": True, "ruined_date": "2019-12-12", "ruin_deficit": 0.0,
               "exposure_at_close": 0.25, "null_reasons": {"sharpe": "the account was ruined"}}
    row = metric_cards(metrics, None, "SPY")
    keys = [c.id["key"] for c in find_all(row, lambda c: isinstance(getattr(c, "id", None), dict)
                                          and c.id.get("type") == "metric-value")]
    assert "null_reasons" not in keys and {"ruined", "ruined_date", "sharpe"} <= set(keys)
    text = text_of(row)
    assert "yes" in text and "2019-12-12" in text and "25.00 %" in text
    titles = [c.title for c in find_all(row, lambda c: getattr(c, "title", None))]
    assert any("n/a: the account was ruined" in t for t in titles)
