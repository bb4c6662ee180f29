"""All configuration of Strategy Arena, read from the environment in one place.

Every setting has a sane default for the embedded mode (SQLite file, in-process cache and
job runner, bundled data), so ``arena serve`` works on a fresh machine with no servers.
Nothing else in the code base reads ``os.environ``: it asks for a :class:`Settings`.

Variables (the README's configuration table gives the details):
``ARENA_ENV`` (development | production), ``ARENA_INSTANCE_DIR`` (./instance),
``DATABASE_URL`` (SQLite file in the instance folder), ``REDIS_URL`` (unset = embedded),
``JWT_SECRET_KEY`` (generated in development), ``DATA_PROVIDER`` (bundled), ``ARENA_HOST`` /
``ARENA_PORT`` (127.0.0.1:8050), ``ARENA_RISK_FREE_RATE`` (0.0, annual),
``ALPACA_API_KEY`` / ``ALPACA_SECRET_KEY``; accounts: ``ARENA_ACCESS_TOKEN_MINUTES`` (15),
``ARENA_REFRESH_TOKEN_DAYS`` (30), ``ARENA_COOKIE_SECURE`` (on in production),
``ARENA_LOGIN_RATE_LIMIT`` (5 failed logins a minute for one account from one IP; an account
with that many failures in a row waits 60 s before its next attempt, doubling per further
failure up to ``ARENA_LOGIN_MAX_DELAY_SECONDS``, 900), ``ARENA_REGISTER_RATE_LIMIT`` (10
registrations an hour per IP), ``ARENA_MAX_REQUEST_BYTES`` (2 MiB, larger bodies answer 413),
``ARENA_SEED_DEMO`` (on in development), ``ARENA_TRUSTED_PROXIES`` (0); market data:
``ALPACA_DATA_FEED`` (iex), ``PRICE_CACHE_TTL_SECONDS`` (86400),
``PRICE_CACHE_RECENT_TTL_SECONDS`` (300, for intraday bars and ranges reaching the last few days),
``PRICE_CACHE_MAX_ENTRIES`` (64, in-process cache size), ``DATA_PROVIDER_MAX_RETRIES`` (3),
``DATA_PROVIDER_BACKOFF_SECONDS`` (1.0, first retry delay, doubled per retry); background jobs:
``JOB_TIMEOUT_SECONDS`` (600), ``JOB_RESULT_TTL_SECONDS`` (86400), ``JOB_FAILURE_TTL_SECONDS``
(604800), ``JOB_MAX_RETRIES`` (3, transient data errors only), ``JOB_RETRY_INTERVALS`` (5,15,60
seconds), ``JOB_HEARTBEAT_SECONDS`` (5), ``JOB_STALE_SECONDS`` (30, a running run without a
heartbeat for this long is failed), ``ARENA_WORKER_THREADS`` (2, the in-process runner),
``ARENA_QUEUE_PREFIX`` (empty; namespaces the RQ queues of one deployment), ``SWEEP_CHUNK_SIZE``
(200 combinations per sweep job); live feed (``/ws/prices``): ``LIVE_SOURCE`` (replay),
``LIVE_SYMBOLS`` (every bundled symbol), ``LIVE_REPLAY_START`` (250 bars before the data's end),
``LIVE_REPLAY_BAR_SECONDS`` (2.0), ``LIVE_REPLAY_TICKS_PER_BAR`` (4), ``LIVE_POLL_SECONDS`` (15),
``LIVE_CLIENT_QUEUE`` (256 messages), ``LIVE_HEARTBEAT_SECONDS`` (15), ``LIVE_WARMUP_BARS``
(750), ``LIVE_ALLOWED_ORIGINS`` (the portal's development origins).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from data.providers import PROVIDER_NAMES as DATA_PROVIDERS

ENVIRONMENTS = ("development", "production")
ALPACA_FEEDS = ("iex", "sip", "delayed_sip")
DATA_NUMBERS = {  # market-data settings that must not be negative, and their variables
    "price_cache_ttl_seconds": "PRICE_CACHE_TTL_SECONDS",
    "price_cache_recent_ttl_seconds": "PRICE_CACHE_RECENT_TTL_SECONDS",
    "price_cache_max_entries": "PRICE_CACHE_MAX_ENTRIES",
    "provider_max_retries": "DATA_PROVIDER_MAX_RETRIES",
    "provider_backoff_seconds": "DATA_PROVIDER_BACKOFF_SECONDS",
}
MIN_SECRET_LENGTH = 32
#: Largest request body accepted (``ARENA_MAX_REQUEST_BYTES``). The biggest legitimate bodies are
#: Dash callback requests of a results page (a few hundred KB: the state of its graphs and
#: tables); a strategy spec is a few KB. 2 MiB leaves room for those and stops a client from
#: making the server buffer hundreds of megabytes.
DEFAULT_MAX_REQUEST_BYTES = 2 * 1024 * 1024
JOB_NUMBERS = {  # background-job settings that must be positive, and their variables
    "job_timeout_seconds": "JOB_TIMEOUT_SECONDS",
    "job_result_ttl_seconds": "JOB_RESULT_TTL_SECONDS",
    "job_failure_ttl_seconds": "JOB_FAILURE_TTL_SECONDS",
    "job_heartbeat_seconds": "JOB_HEARTBEAT_SECONDS",
    "job_stale_seconds": "JOB_STALE_SECONDS",
    "worker_threads": "ARENA_WORKER_THREADS",
    "sweep_chunk_size": "SWEEP_CHUNK_SIZE",
}
LIVE_SOURCES = ("replay", "yfinance")  # an Alpaca stream source is not built yet
DEVELOPMENT_PORTAL_ORIGINS = ("http://127.0.0.1:3000", "http://localhost:3000")
LIVE_NUMBERS = {  # live-feed settings that must be positive, and their variables
    "live_replay_bar_seconds": "LIVE_REPLAY_BAR_SECONDS",
    "live_replay_ticks_per_bar": "LIVE_REPLAY_TICKS_PER_BAR",
    "live_poll_seconds": "LIVE_POLL_SECONDS",
    "live_client_queue": "LIVE_CLIENT_QUEUE",
    "live_heartbeat_seconds": "LIVE_HEARTBEAT_SECONDS",
    "live_warmup_bars": "LIVE_WARMUP_BARS",
}
QUEUE_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{0,40}")


class ConfigError(RuntimeError):
    """The environment holds a setting the application cannot start with."""


@dataclass(frozen=True)
class Settings:
    """Typed application settings. Build with :meth:`from_env` (or directly in tests)."""

    env: str = "development"
    instance_dir: Path = field(default_factory=lambda: Path.cwd() / "instance")
    database_url: str = ""
    redis_url: str | None = None
    jwt_secret_key: str = ""
    data_provider: str = "bundled"
    host: str = "127.0.0.1"
    port: int = 8050
    risk_free_rate: float = 0.0
    alpaca_api_key: str | None = None
    alpaca_secret_key: str | None = None
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    cookie_secure: bool = False
    login_rate_limit: int = 5
    login_max_delay_seconds: int = 900
    register_rate_limit: int = 10
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    #: False when ``ARENA_ENV`` was not set and ``development`` is the default: see
    #: :meth:`deployment_warning`.
    env_explicit: bool = True
    seed_demo: bool = True
    trusted_proxies: int = 0
    alpaca_feed: str = "iex"
    price_cache_ttl_seconds: int = 86400
    price_cache_recent_ttl_seconds: int = 300
    price_cache_max_entries: int = 64
    provider_max_retries: int = 3
    provider_backoff_seconds: float = 1.0
    job_timeout_seconds: int = 600
    job_result_ttl_seconds: int = 86400
    job_failure_ttl_seconds: int = 604800
    job_max_retries: int = 3
    job_retry_intervals: tuple[int, ...] = (5, 15, 60)
    job_heartbeat_seconds: float = 5.0
    job_stale_seconds: float = 30.0
    worker_threads: int = 2
    queue_prefix: str = ""
    sweep_chunk_size: int = 200
    live_source: str = "replay"
    live_symbols: tuple[str, ...] = ()
    live_replay_start: str | None = None
    live_replay_bar_seconds: float = 2.0
    live_replay_ticks_per_bar: int = 4
    live_poll_seconds: float = 15.0
    live_client_queue: int = 256
    live_heartbeat_seconds: float = 15.0
    live_warmup_bars: int = 750
    live_allowed_origins: tuple[str, ...] = DEVELOPMENT_PORTAL_ORIGINS

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"ARENA_ENV={self.env!r}: must be one of {', '.join(ENVIRONMENTS)}")
        if self.data_provider not in DATA_PROVIDERS:
            raise ConfigError(
                f"DATA_PROVIDER={self.data_provider!r}: must be one of {', '.join(DATA_PROVIDERS)}"
            )
        if self.alpaca_feed not in ALPACA_FEEDS:
            raise ConfigError(
                f"ALPACA_DATA_FEED={self.alpaca_feed!r}: must be one of {', '.join(ALPACA_FEEDS)}")
        for name, variable in DATA_NUMBERS.items():
            if getattr(self, name) < 0:
                raise ConfigError(f"{variable}={getattr(self, name)}: must not be negative")
        self._check_job_settings()
        self._check_live_settings()
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{(self.instance_dir / 'arena.db').as_posix()}"
            )
        for name in ("access_token_minutes", "refresh_token_days", "login_rate_limit",
                     "login_max_delay_seconds", "register_rate_limit"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.max_request_bytes < 64 * 1024:
            raise ConfigError(f"ARENA_MAX_REQUEST_BYTES={self.max_request_bytes}: must be at "
                              "least 65536 (Dash callbacks of the results pages need that much)")
        if self.trusted_proxies < 0:
            raise ConfigError(f"ARENA_TRUSTED_PROXIES={self.trusted_proxies}: must not be negative")
        if self.env == "production" and len(self.jwt_secret_key) < MIN_SECRET_LENGTH:
            raise ConfigError(
                "production needs JWT_SECRET_KEY set to a random string of at least "
                f"{MIN_SECRET_LENGTH} characters (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)"
            )

    def _check_job_settings(self) -> None:
        for name, variable in JOB_NUMBERS.items():
            if getattr(self, name) <= 0:
                raise ConfigError(f"{variable}={getattr(self, name)}: must be positive")
        if self.job_max_retries < 0:
            raise ConfigError(f"JOB_MAX_RETRIES={self.job_max_retries}: must not be negative")
        if not self.job_retry_intervals or any(s < 0 for s in self.job_retry_intervals):
            raise ConfigError("JOB_RETRY_INTERVALS: must be whole seconds >= 0, e.g. 5,15,60")
        if self.job_stale_seconds <= self.job_heartbeat_seconds:
            raise ConfigError(f"JOB_STALE_SECONDS={self.job_stale_seconds} must be more than "
                              f"JOB_HEARTBEAT_SECONDS={self.job_heartbeat_seconds}")
        if not QUEUE_PREFIX_PATTERN.fullmatch(self.queue_prefix):
            raise ConfigError(f"ARENA_QUEUE_PREFIX={self.queue_prefix!r}: at most 40 letters, "
                              "digits and _ . : -")

    def _check_live_settings(self) -> None:
        if self.live_source not in LIVE_SOURCES:
            raise ConfigError(f"LIVE_SOURCE={self.live_source!r}: must be one of "
                              f"{', '.join(LIVE_SOURCES)}")
        for name, variable in LIVE_NUMBERS.items():
            if getattr(self, name) <= 0:
                raise ConfigError(f"{variable}={getattr(self, name)}: must be positive")
        if self.live_replay_start is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}",
                                                                   self.live_replay_start):
            raise ConfigError(f"LIVE_REPLAY_START={self.live_replay_start!r}: must be an ISO "
                              "date like 2023-01-03")

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: cache and jobs run in-process."""
        return not self.redis_url

    @property
    def server_backends(self) -> bool:
        """True when PostgreSQL or Redis is configured: a shared deployment, not a laptop."""
        return self.database_backend == "postgresql" or not self.embedded

    def deployment_warning(self) -> str | None:
        """Why these settings look like a production deployment left in development mode
        (server backends with ``ARENA_ENV`` unset: cookies without ``Secure``, no HSTS, a
        generated secret), or None."""
        if self.env_explicit or not self.server_backends:
            return None
        return ("PostgreSQL or Redis is configured but ARENA_ENV is not set, so the app runs in "
                "development mode (cookies without Secure, no HSTS, demo account seeding): set "
                "ARENA_ENV=production for a deployment, or ARENA_ENV=development to confirm "
                "this is a development setup")

    @property
    def database_backend(self) -> str:
        """``sqlite`` or ``postgresql`` (the dialect part of the URL)."""
        return self.database_url.split(":", 1)[0].split("+", 1)[0]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        instance_dir = Path(env.get("ARENA_INSTANCE_DIR") or Path.cwd() / "instance").resolve()
        arena_env = env.get("ARENA_ENV", "").strip() or "development"
        secret = env.get("JWT_SECRET_KEY", "")
        if not secret and arena_env == "development":
            secret = _development_secret(instance_dir)
        try:
            port = int(env.get("ARENA_PORT", "8050"))
            risk_free = float(env.get("ARENA_RISK_FREE_RATE", "0.0"))
        except ValueError as exc:
            raise ConfigError(f"ARENA_PORT / ARENA_RISK_FREE_RATE must be numbers: {exc}") from exc
        data = _data_settings(env)
        production = arena_env == "production"
        accounts = {
            "access_token_minutes": _int(env, "ARENA_ACCESS_TOKEN_MINUTES", 15),
            "refresh_token_days": _int(env, "ARENA_REFRESH_TOKEN_DAYS", 30),
            "cookie_secure": _bool(env, "ARENA_COOKIE_SECURE", production),
            "login_rate_limit": _int(env, "ARENA_LOGIN_RATE_LIMIT", 5),
            "login_max_delay_seconds": _int(env, "ARENA_LOGIN_MAX_DELAY_SECONDS", 900),
            "register_rate_limit": _int(env, "ARENA_REGISTER_RATE_LIMIT", 10),
            "max_request_bytes": _int(env, "ARENA_MAX_REQUEST_BYTES",
                                      DEFAULT_MAX_REQUEST_BYTES),
            "env_explicit": bool(env.get("ARENA_ENV", "").strip()),
            "seed_demo": _bool(env, "ARENA_SEED_DEMO", not production),
            "trusted_proxies": _int(env, "ARENA_TRUSTED_PROXIES", 0),
        }
        return cls(
            env=arena_env,
            instance_dir=instance_dir,
            database_url=env.get("DATABASE_URL", ""),
            redis_url=env.get("REDIS_URL") or None,
            jwt_secret_key=secret,
            data_provider=env.get("DATA_PROVIDER", "bundled"),
            host=env.get("ARENA_HOST", "127.0.0.1"),
            port=port,
            risk_free_rate=risk_free,
            alpaca_api_key=env.get("ALPACA_API_KEY") or None,
            alpaca_secret_key=env.get("ALPACA_SECRET_KEY") or None,
            **accounts,
            **data,
            **_job_settings(env),
            **_live_settings(env, production),
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: must be a whole number") from None


def _data_settings(env: Mapping[str, str]) -> dict:
    """The market-data settings: price cache and providers."""
    backoff = env.get("DATA_PROVIDER_BACKOFF_SECONDS", "").strip() or "1.0"
    try:
        backoff_seconds = float(backoff)
    except ValueError:
        raise ConfigError(f"DATA_PROVIDER_BACKOFF_SECONDS={backoff!r}: must be a number") from None
    return {
        "alpaca_feed": env.get("ALPACA_DATA_FEED", "").strip() or "iex",
        "price_cache_ttl_seconds": _int(env, "PRICE_CACHE_TTL_SECONDS", 86400),
        "price_cache_recent_ttl_seconds": _int(env, "PRICE_CACHE_RECENT_TTL_SECONDS", 300),
        "price_cache_max_entries": _int(env, "PRICE_CACHE_MAX_ENTRIES", 64),
        "provider_max_retries": _int(env, "DATA_PROVIDER_MAX_RETRIES", 3),
        "provider_backoff_seconds": backoff_seconds,
    }


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: must be a number") from None


def _job_settings(env: Mapping[str, str]) -> dict:
    """The background-job settings: timeouts, retries, heartbeats, queues."""
    raw = env.get("JOB_RETRY_INTERVALS", "").strip() or "5,15,60"
    try:
        intervals = tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"JOB_RETRY_INTERVALS={raw!r}: must be whole seconds separated by "
                          "commas, e.g. 5,15,60") from None
    return {
        "job_timeout_seconds": _int(env, "JOB_TIMEOUT_SECONDS", 600),
        "job_result_ttl_seconds": _int(env, "JOB_RESULT_TTL_SECONDS", 86400),
        "job_failure_ttl_seconds": _int(env, "JOB_FAILURE_TTL_SECONDS", 604800),
        "job_max_retries": _int(env, "JOB_MAX_RETRIES", 3),
        "job_retry_intervals": intervals,
        "job_heartbeat_seconds": _float(env, "JOB_HEARTBEAT_SECONDS", 5.0),
        "job_stale_seconds": _float(env, "JOB_STALE_SECONDS", 30.0),
        "worker_threads": _int(env, "ARENA_WORKER_THREADS", 2),
        "queue_prefix": env.get("ARENA_QUEUE_PREFIX", "").strip(),
        "sweep_chunk_size": _int(env, "SWEEP_CHUNK_SIZE", 200),
    }


def _live_settings(env: Mapping[str, str], production: bool) -> dict:
    """The live-feed settings (``/ws/prices``): source, replay speed, queues, origins."""
    symbols = tuple(s.strip().upper() for s in env.get("LIVE_SYMBOLS", "").split(",")
                    if s.strip())
    origins_raw = env.get("LIVE_ALLOWED_ORIGINS")
    if origins_raw is None:
        origins = () if production else DEVELOPMENT_PORTAL_ORIGINS
    else:
        origins = tuple(o.strip().rstrip("/") for o in origins_raw.split(",") if o.strip())
    return {
        "live_source": env.get("LIVE_SOURCE", "").strip() or "replay",
        "live_symbols": symbols,
        "live_replay_start": env.get("LIVE_REPLAY_START", "").strip() or None,
        "live_replay_bar_seconds": _float(env, "LIVE_REPLAY_BAR_SECONDS", 2.0),
        "live_replay_ticks_per_bar": _int(env, "LIVE_REPLAY_TICKS_PER_BAR", 4),
        "live_poll_seconds": _float(env, "LIVE_POLL_SECONDS", 15.0),
        "live_client_queue": _int(env, "LIVE_CLIENT_QUEUE", 256),
        "live_heartbeat_seconds": _float(env, "LIVE_HEARTBEAT_SECONDS", 15.0),
        "live_warmup_bars": _int(env, "LIVE_WARMUP_BARS", 750),
        "live_allowed_origins": origins,
    }


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r}: must be true or false (1/0, yes/no, on/off)")


def _development_secret(instance_dir: Path) -> str:
    """A random secret generated on first use and kept in the instance folder, so sessions
    survive restarts in development without anyone choosing a secret."""
    path = instance_dir / "jwt_secret"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
