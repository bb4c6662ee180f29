"""``arena ingest`` and ``arena backtest`` loading prices through the data layer (embedded mode:
SQLite in a temporary instance folder, in-process cache, bundled sample)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main

EXAMPLE = Path(__file__).parents[2] / "engine" / "examples" / "sma_crossover.json"


@pytest.fixture
def run(tmp_path):
    env = {"ARENA_INSTANCE_DIR": str(tmp_path / "instance"), "DATA_PROVIDER": "bundled",
           "REDIS_URL": "", "DATABASE_URL": ""}

    def invoke(*args: str):
        return CliRunner(env=env).invoke(main, list(args))

    return invoke


def spec(tmp_path: Path, **changes) -> str:
    data = {**json.loads(EXAMPLE.read_text()), **changes}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_ingest_prints_rows_added_ranges_fetched_and_source(run):
    result = run("ingest", "SPY", "QQQ", "--start", "2020-01-01", "--end", "2020-12-31",
                 "--provider", "bundled")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["symbol", "rows", "added", "updated", "source", "ranges",
                                "fetched"]
    assert lines[1].split() == ["SPY", "253", "0", "bundled", "2020-01-01..2020-12-31"]
    assert lines[2].split()[:4] == ["QQQ", "253", "0", "bundled"]
    assert lines[-1] == "506 row(s) added for 2 symbol(s)"
    assert "Ingesting from bundled" in result.stderr


def test_ingesting_again_fetches_nothing(run):
    run("ingest", "SPY", "--start", "2020-01-01", "--end", "2020-12-31")
    result = run("ingest", "SPY", "--start", "2020-03-01", "--end", "2020-06-30")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].split() == ["SPY", "0", "0", "-", "none", "(already",
                                                     "stored)"]


def test_ingest_of_an_unknown_symbol_exits_2_saying_what_exists_and_how_to_fetch(run):
    result = run("ingest", "SPY", "ZZZZ", "--start", "2020-01-01", "--end", "2020-01-31")
    assert result.exit_code == 2
    assert result.stdout.splitlines()[1].split()[:2] == ["SPY", "21"]  # the others still ran
    assert "unknown symbol 'ZZZZ'" in result.stderr
    assert "available locally: AAPL, AMZN" in result.stderr
    assert "arena ingest ZZZZ --provider yfinance" in result.stderr


def test_ingest_rejects_an_unknown_provider_and_bad_dates(run):
    assert "must be one of bundled, yfinance" in run("ingest", "SPY", "--provider", "x").stderr
    result = run("ingest", "SPY", "--start", "2020-13-01")
    assert result.exit_code == 2 and "not an ISO date" in result.stderr


def test_backtest_loads_the_symbol_and_the_benchmark_through_the_data_layer(run, tmp_path):
    result = run("backtest", "--spec", spec(tmp_path, symbol="QQQ", benchmark="SPY"), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["benchmark_metrics"]["total_return"] > 0
    assert "prices: QQQ: 6297 1d bars 1999-11-01 to 2024-11-08, source bundled" in result.stderr
    assert "benchmark prices: SPY:" in result.stderr


def test_backtest_on_an_unknown_symbol_exits_2_with_the_available_symbols(run, tmp_path):
    result = run("backtest", "--spec", spec(tmp_path, symbol="ZZZZ", benchmark="ZZZZ"))
    assert result.exit_code == 2
    assert "unknown symbol 'ZZZZ'" in result.stderr
    assert "available locally:" in result.stderr and "arena ingest ZZZZ" in result.stderr
