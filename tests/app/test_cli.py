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
