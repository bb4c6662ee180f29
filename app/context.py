"""What one running application holds: its settings and its connections to the backends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import redis
from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.cache import make_redis
from app.config import Settings
from app.db import make_engine, make_session_factory
from data.providers import ProviderOptions
from workers.runner import RunnerConfig

if TYPE_CHECKING:
    from data.service import PriceService
    from workers.runner import JobRunner

EXTENSION_KEY = "arena"


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis | None
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine), make_redis(settings.redis_url))

    @property
    def cache_backend(self) -> str:
        return "in-process" if self.redis is None else "redis"

    @property
    def job_backend(self) -> str:
        return "in-process" if self.redis is None else "rq"

    @cached_property
    def prices(self) -> PriceService:
        """The price service (cache -> database -> provider), built on first use."""
        from data.providers import make_provider
        from data.service import PriceService
        from data.store import PriceStore

        settings = self.settings
        return PriceService(
            make_provider(settings.data_provider, provider_options(settings)),
            PriceStore(self.engine),
            PriceService.make_cache(self.redis, settings.price_cache_max_entries),
            settings.price_cache_ttl_seconds, settings.price_cache_recent_ttl_seconds)

    @cached_property
    def runner(self) -> JobRunner:
        """The job runner (RQ with Redis, else a thread pool here whose jobs use this
        context), built on first use."""
        from workers.backends import make_runner

        return make_runner(self.redis, runner_config(self.settings), {"context": self})

    def on_close(self, stop: Callable[[], None]) -> None:
        """Call ``stop`` when the context closes (background threads started with it)."""
        self._closers.append(stop)

    def close(self) -> None:
        """Stop what was started with this context (threads, in-process jobs) and close the
        database pool."""
        while self._closers:
            self._closers.pop()()
        runner = self.__dict__.get("runner")
        if runner is not None:
            runner.close()
        self.engine.dispose()


def provider_options(settings: Settings) -> ProviderOptions:
    """The data providers' retries and Alpaca credentials, from the settings."""
    return ProviderOptions(max_retries=settings.provider_max_retries,
                           backoff_seconds=settings.provider_backoff_seconds,
                           alpaca_api_key=settings.alpaca_api_key,
                           alpaca_secret_key=settings.alpaca_secret_key,
                           alpaca_feed=settings.alpaca_feed)


def runner_config(settings: Settings) -> RunnerConfig:
    """How the job runner runs jobs, from the ``JOB_*`` settings."""
    return RunnerConfig(timeout_seconds=settings.job_timeout_seconds,
                        max_retries=settings.job_max_retries,
                        retry_intervals=tuple(settings.job_retry_intervals),
                        result_ttl_seconds=settings.job_result_ttl_seconds,
                        failure_ttl_seconds=settings.job_failure_ttl_seconds,
                        threads=settings.worker_threads, queue_prefix=settings.queue_prefix)


def install(server: Flask, context: AppContext) -> None:
    server.extensions[EXTENSION_KEY] = context


def arena() -> AppContext:
    """The :class:`AppContext` of the Flask app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]
