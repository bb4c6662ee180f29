from pathlib import Path

import pytest

from app.config import ConfigError, Settings


def test_defaults_are_the_embedded_mode(tmp_path: Path):
    settings = Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path)})
    assert settings.embedded
    assert settings.database_backend == "sqlite"
    assert settings.database_url == f"sqlite:///{tmp_path.resolve().as_posix()}/arena.db"
    assert settings.data_provider == "bundled"
    assert (settings.host, settings.port) == ("127.0.0.1", 8050)
    assert settings.risk_free_rate == 0.0


def test_development_secret_is_generated_once_and_kept(tmp_path: Path):
    first = Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path)}).jwt_secret_key
    second = Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path)}).jwt_secret_key
    assert len(first) >= 32
    assert first == second
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_a_real_secret(tmp_path: Path):
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path), "ARENA_ENV": "production"})
    with pytest.raises(ConfigError, match="at least 32"):
        Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path), "ARENA_ENV": "production",
                           "JWT_SECRET_KEY": "short"})
    assert not (tmp_path / "jwt_secret").exists()


def test_production_accepts_a_long_secret(tmp_path: Path):
    settings = Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path), "ARENA_ENV": "production",
                                  "JWT_SECRET_KEY": "x" * 40, "REDIS_URL": "redis://h:6379/0"})
    assert not settings.embedded
    assert settings.jwt_secret_key == "x" * 40


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATA_PROVIDER", "bloomberg", "bundled, yfinance, alpaca, auto"),
        ("ARENA_ENV", "staging", "development, production"),
        ("ARENA_PORT", "eighty", "must be numbers"),
    ],
)
def test_invalid_settings_say_what_is_allowed(tmp_path: Path, variable, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path), variable: value})


def test_postgres_url_reports_its_backend(tmp_path: Path):
    settings = Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path),
                                  "DATABASE_URL": "postgresql+psycopg://u@h/db"})
    assert settings.database_backend == "postgresql"


def test_server_backends_without_arena_env_are_flagged_as_an_accidental_development_mode(
        tmp_path: Path):
    base = {"ARENA_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(base).deployment_warning() is None  # a laptop: fine
    for backend in ({"DATABASE_URL": "postgresql+psycopg://u@h/db"},
                    {"REDIS_URL": "redis://h:6379/0"}):
        warning = Settings.from_env({**base, **backend}).deployment_warning()
        assert warning and "ARENA_ENV=production" in warning
        explicit = Settings.from_env({**base, **backend, "ARENA_ENV": "development"})
        assert explicit.deployment_warning() is None


def test_the_wsgi_entry_point_refuses_to_start_an_accidental_development_mode(tmp_path: Path):
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items()
           if key not in {"ARENA_ENV", "DATABASE_URL", "JWT_SECRET_KEY"}}
    env.update(ARENA_INSTANCE_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:6399/0",
               PYTHONPATH=str(Path(__file__).parents[2]))
    done = subprocess.run([sys.executable, "-c", "import app.wsgi"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "ConfigError" in done.stderr and "ARENA_ENV is not set" in done.stderr


def test_the_request_size_limit_is_2_mib_by_default_and_configurable(tmp_path: Path):
    base = {"ARENA_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(base).max_request_bytes == 2 * 1024 * 1024
    assert Settings.from_env({**base, "ARENA_MAX_REQUEST_BYTES": "500000"}).max_request_bytes \
        == 500_000
    with pytest.raises(ConfigError, match="at least 65536"):
        Settings.from_env({**base, "ARENA_MAX_REQUEST_BYTES": "1000"})
