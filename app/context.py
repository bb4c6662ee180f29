"""What one running application holds: its settings and its connections to the backends."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import redis
from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.cache import make_redis
from app.config import Settings
from app.db import make_engine, make_session_factory

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
        from data.service import PriceService

        return PriceService.from_context(self)

    @cached_property
    def runner(self) -> JobRunner:
        """The job runner (RQ with Redis, else a thread pool here), built on first use."""
        from workers.runner import make_runner

        return make_runner(self)

    def close(self) -> None:
        """Stop the in-process jobs (if any were started) and close the database pool."""
        runner = self.__dict__.get("runner")
        if runner is not None:
            runner.close()
        self.engine.dispose()


def install(server: Flask, context: AppContext) -> None:
    server.extensions[EXTENSION_KEY] = context


def arena() -> AppContext:
    """The :class:`AppContext` of the Flask app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]
