"""``arena sweep`` and ``arena walkforward``: docs/results.md#sweep-result from the command line,
constraints,
the size cap and clear exit-2 errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from data.bundled import load_bundled
from engine.sweep import MAX_COMBINATIONS, run_sweep

EXAMPLE = Path(__file__).parents[2] / "engine" / "examples" / "sma_crossover.json"
FAST = "entry.all[0].left.params.period,exit.any[0].left.params.period"
SLOW = "entry.all[0].right.params.period,exit.any[0].right.params.period"


@pytest.fixture
def arena(tmp_path):
    env = {"ARENA_INSTANCE_DIR": str(tmp_path / "instance"), "DATA_PROVIDER": "bundled",
           "REDIS_URL": "", "DATABASE_URL": ""}
    return lambda *args: CliRunner(env=env).invoke(main, list(args))


@pytest.fixture
def spec_path(tmp_path) -> str:
    spec = json.loads(EXAMPLE.read_text()) | {"start": "2015-01-01", "end": "2019-12-31"}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return str(path)


def write_grid(tmp_path: Path, grid: dict) -> str:
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(grid))
    return str(path)


def test_help_lists_the_lab_commands(arena):
    result = arena("--help")
    assert "  sweep" in result.output and "  walkforward" in result.output


def test_sweep_json_is_contract_3c_with_the_constraint_applied_and_overfitting(arena, tmp_path,
                                                                              spec_path):
    grid = {FAST: [10, 30, 60], SLOW: [50, 100]}
    result = arena("sweep", "--spec", spec_path, "--grid", write_grid(tmp_path, grid),
                   "--where", f"{FAST} < {SLOW}", "--partitions", "8", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["grid"] == grid
    kept = [r["params"] for r in document["results"]]
    assert kept == [{FAST: f, SLOW: s} for f in (10, 30, 60) for s in (50, 100) if f < s]
    spec = json.loads(Path(spec_path).read_text())
    direct = run_sweep(spec, load_bundled("SPY"), grid, where=lambda p: p[FAST] < p[SLOW],
                       partitions=8).to_dict()
    assert [r["metrics"]["final_equity"] for r in document["results"]] == pytest.approx(
        [r["metrics"]["final_equity"] for r in direct["results"]], rel=1e-12)
    overfitting = document["overfitting"]
    assert overfitting["trials"] == 5 and overfitting["partitions"] == 8
    assert overfitting["pbo"] == pytest.approx(direct["overfitting"]["pbo"])
    assert 0 <= overfitting["deflated_sharpe"] <= 1


def test_sweep_readable_report_ends_with_the_plain_words_verdict(arena, tmp_path, spec_path):
    result = arena("sweep", "--spec", spec_path,
                   "--grid", write_grid(tmp_path, {FAST: [5, 10, 20], SLOW: [50, 100]}))
    assert result.exit_code == 0, result.output
    assert "The best of 6 variants has a" in result.output
    assert "chance of being overfit (PBO)" in result.output
    assert "its deflated Sharpe is" in result.output


def test_sweep_past_the_size_cap_exits_2_saying_the_limit(arena, tmp_path, spec_path):
    grid = {FAST: list(range(1, 1001)), SLOW: list(range(1, 1001))}
    result = arena("sweep", "--spec", spec_path, "--grid", write_grid(tmp_path, grid))
    assert result.exit_code == 2
    assert f"at most {MAX_COMBINATIONS:,} per sweep" in result.output


def test_sweep_with_a_bad_constraint_or_path_exits_2_naming_it(arena, tmp_path, spec_path):
    grid_path = write_grid(tmp_path, {FAST: [5, 10]})
    bad_where = arena("sweep", "--spec", spec_path, "--grid", grid_path, "--where", "fast < 3")
    assert bad_where.exit_code == 2
    assert "--constraints[0]" in bad_where.output and "not a grid key" in bad_where.output
    bad_path = arena("sweep", "--spec", spec_path, "--grid",
                     write_grid(tmp_path, {"entry.all[4].right": [1]}))
    assert bad_path.exit_code == 2 and "entry.all[4].right" in bad_path.output


def test_walkforward_json_has_folds_stitched_equity_and_efficiency(arena, tmp_path, spec_path):
    result = arena("walkforward", "--spec", spec_path, "--grid",
                   write_grid(tmp_path, {FAST: [10, 20], SLOW: [50, 100]}),
                   "--folds", "3", "--in-sample-size", "2", "--mode", "anchored", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert len(document["folds"]) == 3
    assert document["settings"] == {"folds": 3, "in_sample_size": 2, "mode": "anchored",
                                    "metric": "sharpe", "positions_at_boundaries": "flattened"}
    assert {f["in_sample"]["start"] for f in document["folds"]} == {
        document["folds"][0]["in_sample"]["start"]}
    assert len(document["oos_equity"]) == sum(f["out_of_sample"]["bars"]
                                              for f in document["folds"])


def test_walkforward_with_too_many_folds_exits_2_with_the_fix(arena, tmp_path, spec_path):
    result = arena("walkforward", "--spec", spec_path, "--grid",
                   write_grid(tmp_path, {FAST: [10, 20]}), "--folds", "50",
                   "--in-sample-size", "20")
    assert result.exit_code == 2
    assert "use fewer folds" in result.output


