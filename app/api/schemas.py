"""Request bodies (pydantic, strict, unknown fields rejected) and the JSON form of each object."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from app.api import MAX_ID
from app.models import BacktestRun, Strategy, User

Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CredentialsIn(Body):
    email: StrictStr
    password: StrictStr


class LogoutIn(Body):
    refresh_token: StrictStr | None = None


class StrategyIn(Body):
    name: StrictStr | None = None
    spec: dict[str, Any]


class StrategyUpdateIn(Body):
    name: StrictStr | None = None
    spec: dict[str, Any] | None = None
    version: Annotated[StrictInt, Field(ge=1, le=MAX_ID)] | None = None


class DuplicateIn(Body):
    name: StrictStr | None = None


class RunIn(Body):
    strategy_id: Id
    kind: StrictStr = "backtest"
    options: dict[str, Any] | None = None


def iso(moment: datetime | None) -> str | None:
    """A stored (naive UTC) timestamp as ISO 8601 with ``Z``."""
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "created_at": iso(user.created_at)}


def strategy_json(strategy: Strategy) -> dict[str, Any]:
    return {"id": strategy.id, "name": strategy.name, "spec": strategy.spec,
            "version": strategy.version, "created_at": iso(strategy.created_at),
            "updated_at": iso(strategy.updated_at)}


def run_json(run: BacktestRun, *, with_spec: bool = False,
             with_error_detail: bool = False) -> dict[str, Any]:
    """the docs/api.md run object, plus its options, start time, duration, attempts and the run
    it retries; ``error_detail`` (a failure's traceback) only for admins."""
    duration = None
    if run.started_at and run.finished_at:
        duration = round((run.finished_at - run.started_at).total_seconds(), 3)
    body = {"id": run.id, "strategy_id": run.strategy_id, "kind": run.kind,
            "status": run.status, "progress": run.progress, "stage": run.stage,
            "error": run.error, "metrics": run.metrics, "options": run.options,
            "created_at": iso(run.created_at), "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at), "duration_seconds": duration,
            "attempts": run.attempts, "retry_of_id": run.retry_of_id}
    if with_spec:
        body["spec"] = run.spec
    if with_error_detail:
        body["error_detail"] = run.error_detail
    return body
