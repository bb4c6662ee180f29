"""The live-feed settings: defaults, parsing and the errors that say how to fix them."""

from __future__ import annotations

import pytest

from app.config import ConfigError, Settings


def _settings(tmp_path, **env: str) -> Settings:
    return Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path), **env})


def test_defaults_replay_every_bundled_symbol_and_allow_the_portal_in_development(tmp_path):
    settings = _settings(tmp_path)
    assert (settings.live_source, settings.live_symbols, settings.live_replay_start) == (
        "replay", (), None)
    assert settings.live_allowed_origins == ("http://127.0.0.1:3000", "http://localhost:3000")


def test_production_allows_no_other_origin_unless_configured(tmp_path):
    secret = {"ARENA_ENV": "production", "JWT_SECRET_KEY": "s" * 40}
    assert _settings(tmp_path, **secret).live_allowed_origins == ()
    configured = _settings(tmp_path, **secret, LIVE_ALLOWED_ORIGINS="https://portal.example/")
    assert configured.live_allowed_origins == ("https://portal.example",)


def test_symbols_are_upper_cased_and_numbers_parsed(tmp_path):
    settings = _settings(tmp_path, LIVE_SYMBOLS="spy, qqq", LIVE_REPLAY_BAR_SECONDS="0.5",
                         LIVE_CLIENT_QUEUE="10")
    assert settings.live_symbols == ("SPY", "QQQ")
    assert (settings.live_replay_bar_seconds, settings.live_client_queue) == (0.5, 10)


@pytest.mark.parametrize(("env", "message"), [
    ({"LIVE_SOURCE": "alpaca"}, "LIVE_SOURCE='alpaca': must be one of replay, yfinance"),
    ({"LIVE_CLIENT_QUEUE": "0"}, "LIVE_CLIENT_QUEUE=0: must be positive"),
    ({"LIVE_REPLAY_START": "March"}, "LIVE_REPLAY_START='March': must be an ISO date"),
    ({"LIVE_POLL_SECONDS": "often"}, "LIVE_POLL_SECONDS='often': must be a number"),
])
def test_bad_live_settings_are_refused_with_the_fix(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _settings(tmp_path, **env)
