import subprocess
import sys

from click.testing import CliRunner

from app.cli import main


def test_help_lists_every_subcommand():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "worker", "db", "ingest", "backtest", "stress"):
        assert f"  {command}" in result.output


def test_arena_entry_point_is_installed():
    completed = subprocess.run([sys.executable, "-m", "app.cli", "--help"], capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert "Strategy Arena" in completed.stdout


def test_the_worker_explains_that_the_embedded_mode_runs_jobs_in_process(tmp_path):
    result = CliRunner().invoke(main, ["worker"], env={
        "REDIS_URL": "", "ARENA_INSTANCE_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "in-process" in result.output and "REDIS_URL" in result.output


# --- `arena backtest --prices`: the data layer's checks and the user's own benchmark ----------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from data.bundled import load_bundled  # noqa: E402
from data.csv_prices import read_prices_csv  # noqa: E402
from engine.backtest import run_backtest  # noqa: E402
from tests.unadjusted import unadjusted_tsla  # noqa: E402


@pytest.fixture
def arena(tmp_path):
    env = {"ARENA_INSTANCE_DIR": str(tmp_path / "instance"), "DATA_PROVIDER": "bundled",
           "REDIS_URL": "", "DATABASE_URL": ""}
    return lambda *args: CliRunner(env=env).invoke(main, list(args))


def write_spec(tmp_path: Path, **fields) -> str:
    spec = {"version": 1, "name": "hold with a stop", "symbol": "TSLA", "benchmark": "TSLA",
            "start": "2020-01-02", "end": "2022-12-30", "fill": "close", "fees_bps": 0,
            "entry": {"all": [{"left": {"field": "close"}, "op": ">", "right": 0}]},
            "exit": {"all": [{"left": {"field": "close"}, "op": "<", "right": 0}]},
            "trailing_stop_pct": 35} | fields
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return str(path)


def test_unadjusted_splits_in_a_prices_csv_are_reported_with_their_dates(arena, tmp_path):
    csv = tmp_path / "tsla.csv"
    unadjusted_tsla().to_csv(csv)
    result = arena("backtest", "--spec", write_spec(tmp_path), "--prices", str(csv), "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    # the stop fires on the split days: the warnings say why, with the dates
    assert {t["exit_date"] for t in document["trades"] if t["exit_reason"] != "signal"} >= {
        "2020-08-31", "2022-08-25"}
    assert [(w["date"], w["kind"]) for w in document["warnings"]] == [
        ("2020-08-31", "unadjusted_split"), ("2022-08-25", "unadjusted_split")]
    assert "2 suspicious bar(s)" in result.stderr
    assert "warning 2020-08-31 TSLA unadjusted_split: close moved from" in result.stderr
    summary = arena("backtest", "--spec", write_spec(tmp_path), "--prices", str(csv))
    assert "warning 2022-08-25 TSLA unadjusted_split" in summary.stdout


def test_a_malformed_prices_csv_exits_2_listing_every_bad_row(arena, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("date,open,high,low,close,volume\n2024-01-02,10,11,9,10,1\n"
                   "2024-01-03,10,11,9,,1\n2024-01-04,10,11,9,x,1\n")
    result = arena("backtest", "--spec", write_spec(tmp_path), "--prices", str(csv))
    assert result.exit_code == 2
    assert "2 bad row(s)" in result.stderr
    assert "2024-01-03 (line 3): close is empty" in result.stderr
    assert "2024-01-04 (line 4): close 'x' is not a number" in result.stderr


def test_with_prices_and_the_symbol_as_benchmark_the_benchmark_is_the_user_s_series(arena,
                                                                                    tmp_path):
    csv = tmp_path / "mine.csv"
    load_bundled("QQQ", "2019-01-01", "2020-12-31").to_csv(csv)  # "SPY" as the user has it
    spec = write_spec(tmp_path, symbol="SPY", benchmark="SPY", start="2020-01-02",
                      end="2020-12-31", trailing_stop_pct=None)
    result = arena("backtest", "--spec", spec, "--prices", str(csv), "--json")
    assert result.exit_code == 0, result.stderr
    expected = run_backtest(json.loads(Path(spec).read_text()), read_prices_csv(csv))
    assert json.loads(result.stdout)["benchmark_metrics"] == expected.benchmark_metrics
    assert "benchmark prices:" not in result.stderr  # nothing loaded from the data layer


def test_the_summary_of_a_ruined_backtest_says_so_and_prints_no_sharpe(arena, tmp_path):
    # Short TSLA from mid-2019 with no exit: the rally wipes the account out (issue 12).
    spec = write_spec(tmp_path, direction="short", start="2019-06-03", end="2021-12-31",
                      fill="next_open", trailing_stop_pct=None)
    result = arena("backtest", "--spec", spec)
    assert result.exit_code == 0, result.stderr
    document = json.loads(arena("backtest", "--spec", spec, "--json").stdout)
    ruined_date = document["metrics"]["ruined_date"]
    assert document["metrics"]["ruined"] is True and ruined_date is not None
    assert f"RUINED on {ruined_date}: equity reached 0" in result.stdout
    assert f"warning {ruined_date} ruin: the account was ruined" in result.stdout
    sharpe_row = next(line for line in result.stdout.splitlines() if line.startswith("Sharpe"))
    assert sharpe_row.split()[1] == "n/a"  # the strategy's column
    assert "-100.00 %" in next(line for line in result.stdout.splitlines()
                               if line.startswith("Total return"))
