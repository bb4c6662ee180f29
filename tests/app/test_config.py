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
