"""Accounts, saved strategies and backtest runs (SQLAlchemy 2, one schema for PG and SQLite).

Users own strategies; a strategy owns its runs. Every run also records its owner so that the
list queries and the ownership checks need no join. Deleting a user deletes their strategies and
runs; deleting a strategy deletes its runs (each run keeps a snapshot of the spec it ran, but it
belongs to the strategy's history).

Conventions:
- Timestamps are UTC and stored naive (``utcnow()``); the API renders them with a ``Z``.
  (``DateTime(timezone=True)`` would come back aware on PostgreSQL and naive on SQLite.)
- JSON columns are ``JSONB`` on PostgreSQL and ``JSON`` (text) on SQLite through one type.
- A run's bulky result (equity curve and trades, docs/results.md#backtest-result) lives in
``run_results`` as gzip-
  compressed JSON, so listing runs never loads it.
- Background jobs (``workers/``): the process executing a run refreshes ``heartbeat_at`` every
  few seconds, so a run whose worker died is detected and failed (``app.runs.reaper``). A run
  split into several jobs (a large sweep) counts ``parts_done`` of ``parts_total``; each part's
  partial result waits in ``run_parts`` until the last part merges them in one transaction.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import false

from data.orm import Base

JSONType = JSON().with_variant(JSONB(), "postgresql")

RUN_KINDS = ("backtest", "stress", "sweep", "walkforward", "robustness")
RUN_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED_STATUSES = ("succeeded", "failed", "cancelled")
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 200


def utcnow() -> datetime:
    """The current UTC time, naive (the storage convention of every timestamp column)."""
    return datetime.now(UTC).replace(tzinfo=None)


@event.listens_for(Engine, "connect")
def _sqlite_enforces_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    """SQLite ignores foreign keys (and so ON DELETE CASCADE) unless each connection asks."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(Base):
    """An account. ``email`` is stored lower-cased, so uniqueness is case-insensitive."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("email", name="uq_users_email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Admins see the tracebacks of failed runs and the job dashboard at /rq
    #: (``arena db make-admin EMAIL``).
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    strategies: Mapped[list[Strategy]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:  # never shows the hash
        return f"User(id={self.id}, email={self.email!r})"


class Strategy(Base):
    """A saved strategy: a name and a validated, normalised spec v1 (docs/spec.md).

    ``version`` counts the saves (1 on creation) and guards against lost updates: an update
    from a stale copy fails instead of overwriting someone else's save.
    """

    __tablename__ = "strategies"
    __table_args__ = (Index("ix_strategies_user_updated", "user_id", "updated_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    owner: Mapped[User] = relationship(back_populates="strategies")
    runs: Mapped[list[BacktestRun]] = relationship(
        back_populates="strategy", cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}


class BacktestRun(Base):
    """One execution of a strategy: its spec snapshot, state, timings and summary metrics."""

    __tablename__ = "backtest_runs"
    __table_args__ = (
        CheckConstraint(_in("kind", RUN_KINDS), name="ck_backtest_runs_kind"),
        CheckConstraint(_in("status", RUN_STATUSES), name="ck_backtest_runs_status"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="ck_backtest_runs_progress"),
        Index("ix_backtest_runs_user_created", "user_id", "created_at"),
        Index("ix_backtest_runs_strategy_created", "strategy_id", "created_at"),
        Index("ix_backtest_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="backtest")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(200), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Full traceback of an unexpected failure: for admins only (``error`` is for the user).
    error_detail: Mapped[str | None] = mapped_column(Text)
    #: Last sign of life of the process executing the run (refreshed every few seconds).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: ``host:pid`` of the process that executes (or last executed) the run.
    worker: Mapped[str | None] = mapped_column(String(200))
    #: How many times a job started executing the run (transient-error retries add one each).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The failed or cancelled run this one retries.
    retry_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("backtest_runs.id", ondelete="SET NULL", name="fk_backtest_runs_retry_of_id"))
    #: Jobs the run is split into (None: one job) and how many of them have finished.
    parts_total: Mapped[int | None] = mapped_column(Integer)
    parts_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    strategy: Mapped[Strategy] = relationship(back_populates="runs")
    result: Mapped[RunResult | None] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class RunResult(Base):
    """The full result document of a run (docs/results.md#backtest-result for a backtest),
    gzip-compressed JSON."""

    __tablename__ = "run_results"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True
    )
    encoding: Mapped[str] = mapped_column(String(20), default="json+gzip")
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(Integer)

    run: Mapped[BacktestRun] = relationship(back_populates="result")

    @classmethod
    def pack(cls, document: dict[str, Any]) -> RunResult:
        """Compress ``document`` (must be strict JSON: no NaN or infinity)."""
        raw = json.dumps(document, allow_nan=False, separators=(",", ":")).encode()
        return cls(encoding="json+gzip", payload=gzip.compress(raw, compresslevel=6),
                   size_bytes=len(raw))

    def unpack(self) -> dict[str, Any]:
        return json.loads(gzip.decompress(self.payload))


class RunPart(Base):
    """The partial result of one job of a run split into several (a chunk of a large sweep),
    kept until the last part merges them into the run's result."""

    __tablename__ = "run_parts"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @classmethod
    def pack(cls, run_id: int, part: int, document: Any) -> RunPart:
        raw = json.dumps(document, allow_nan=False, separators=(",", ":")).encode()
        return cls(run_id=run_id, part=part, payload=gzip.compress(raw, compresslevel=1))

    def unpack(self) -> Any:
        return json.loads(gzip.decompress(self.payload))


class RevokedToken(Base):
    """A logged-out JWT (by ``jti``) until it would have expired anyway.

    Used in embedded mode; with Redis the revocation list lives there (with a TTL).
    """

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
