import subprocess
import sys

from click.testing import CliRunner

from app.cli import NOT_IMPLEMENTED_EXIT, main


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


def test_unfinished_subcommands_exit_non_zero_with_a_clear_message():
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == NOT_IMPLEMENTED_EXIT
    assert "not implemented yet" in result.output
