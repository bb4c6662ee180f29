"""Runs of one user's strategies: start, list, read, delete, cancel, retry, and their results.

:func:`start_run` is the one way a run starts (the API, the pages and the CLI call it): it
creates the run (validating its kind and options once, with the kind's typed options model) and
hands it to the job layer. A run snapshots the strategy's spec when it is created, so editing
the strategy later never changes what an earlier run means. Executing a run is
:mod:`app.runs.execute`'s job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import RUN_KINDS, RUN_STATUSES, BacktestRun, utcnow
from app.runs.queueing import cancel_jobs, submit_run
from app.services import session_scope
from app.services.errors import (
    ConflictError,
    InvalidInputError,
    NotAvailableError,
    NotFoundError,
)
from app.services.strategies import get_strategy
from engine.cost import check_run_size
from engine.options import OPTIONS_MODELS, OptionsError, parse_options
from engine.spec import parse_spec

if TYPE_CHECKING:
    from app.context import AppContext

#: Kinds that can run in this version (the rest of RUN_KINDS are planned).
AVAILABLE_KINDS = ("backtest", "stress", "sweep", "walkforward", "robustness")
#: Statuses a run can be retried from.
RETRYABLE_STATUSES = ("failed", "cancelled")


def check_kind_and_options(kind: Any, options: Any,
                           spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The kind and its options, validated against the kind's typed options model
    (``engine.options``) and normalised (every default filled in, so a run records exactly what
    it did); InvalidInputError naming ``options.<field>`` otherwise."""
    if kind not in RUN_KINDS:
        raise InvalidInputError("invalid run kind",
                                {"kind": f"must be one of {', '.join(RUN_KINDS)}"})
    if kind not in AVAILABLE_KINDS:
        raise NotAvailableError(f"runs of kind {kind!r} are not available yet; "
                                f"available: {', '.join(AVAILABLE_KINDS)}",
                                {"kind": "not available yet"})
    model = OPTIONS_MODELS.get(kind)
    if model is None:
        if options:
            raise InvalidInputError("invalid options", {
                f"options.{key}": f"unknown option for a {kind} run (it takes none)"
                for key in (options if isinstance(options, dict) else {"": None})})
        return kind, {}
    try:
        parsed = parse_options(model, options, spec=spec)
        check_run_size(parse_spec(spec), parsed)
    except OptionsError as exc:
        raise InvalidInputError("invalid options", {
            f"options.{path}" if path else "options": message
            for path, message in exc.errors.items()}) from None
    return kind, parsed.model_dump(mode="json")


def create_run(session: Session, user_id: int, strategy_id: int, kind: Any = "backtest",
               options: Any = None) -> BacktestRun:
    """A queued run of the user's strategy (NotFoundError when it isn't theirs)."""
    strategy = get_strategy(session, user_id, strategy_id)
    kind, options = check_kind_and_options(kind, options, strategy.spec)
    run = BacktestRun(user_id=user_id, strategy_id=strategy.id, kind=kind, status="queued",
                      progress=0, stage="queued", spec=dict(strategy.spec), options=options)
    session.add(run)
    session.flush()
    return run


def start_run(context: AppContext, user_id: int, strategy_id: int, kind: Any = "backtest",
              options: Any = None) -> int:
    """Create a queued run of the user's strategy and hand it to the job layer; its id.

    The one way a run starts (API, pages, CLI): validation errors raise before anything is
    stored; a queue outage fails the run and raises UpstreamUnavailableError.
    """
    with session_scope(context.sessions) as session:
        run_id = create_run(session, user_id, strategy_id, kind, options).id
    submit_run(context, run_id)
    return run_id


def start_retry(context: AppContext, user_id: int, run_id: int) -> int:
    """Repeat a failed or cancelled run (:func:`retry_run`) and hand it to the job layer."""
    with session_scope(context.sessions) as session:
        new_id = retry_run(session, user_id, run_id).id
    submit_run(context, new_id)
    return new_id


def list_runs(session: Session, user_id: int, *, strategy_id: int | None = None,
              status: str | None = None, kind: str | None = None, limit: int = 50,
              offset: int = 0) -> list[BacktestRun]:
    """The user's runs, newest first, optionally filtered."""
    query = _filtered(select(BacktestRun), user_id, strategy_id, status, kind)
    query = query.order_by(BacktestRun.created_at.desc(), BacktestRun.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_runs(session: Session, user_id: int, *, strategy_id: int | None = None,
               status: str | None = None, kind: str | None = None) -> int:
    query = _filtered(select(func.count()).select_from(BacktestRun), user_id, strategy_id,
                      status, kind)
    return session.scalar(query) or 0


def _filtered(query: Any, user_id: int, strategy_id: int | None, status: str | None,
              kind: str | None) -> Any:
    if status is not None and status not in RUN_STATUSES:
        raise InvalidInputError("invalid filter",
                                {"status": f"must be one of {', '.join(RUN_STATUSES)}"})
    if kind is not None and kind not in RUN_KINDS:
        raise InvalidInputError("invalid filter",
                                {"kind": f"must be one of {', '.join(RUN_KINDS)}"})
    query = query.where(BacktestRun.user_id == user_id)
    if strategy_id is not None:
        query = query.where(BacktestRun.strategy_id == strategy_id)
    if status is not None:
        query = query.where(BacktestRun.status == status)
    if kind is not None:
        query = query.where(BacktestRun.kind == kind)
    return query


def get_run(session: Session, user_id: int, run_id: int) -> BacktestRun:
    """The user's run ``run_id``; NotFoundError if absent or someone else's."""
    run = session.scalar(
        select(BacktestRun).where(BacktestRun.id == run_id, BacktestRun.user_id == user_id)
    )
    if run is None:
        raise NotFoundError(f"run {run_id} not found")
    return run


def delete_run(session: Session, user_id: int, run_id: int) -> None:
    session.delete(get_run(session, user_id, run_id))
    session.flush()


def cancel_run(session: Session, user_id: int, run_id: int) -> BacktestRun:
    """Mark a queued or running run cancelled (ConflictError when it has already finished);
    :func:`stop_run` also takes its jobs off the queue."""
    run = get_run(session, user_id, run_id)
    if run.finished:
        raise ConflictError(f"run {run_id} has already finished ({run.status})")
    run.status, run.stage, run.finished_at = "cancelled", "cancelled", utcnow()
    session.flush()
    return run


def stop_run(context: AppContext, user_id: int, run_id: int) -> None:
    """Cancel a queued run (taken off the queue) or a running one (stopped at its next
    progress point)."""
    with session_scope(context.sessions) as session:
        parts_total = cancel_run(session, user_id, run_id).parts_total
    cancel_jobs(context, run_id, parts_total)


def retry_run(session: Session, user_id: int, run_id: int) -> BacktestRun:
    """A new queued run repeating a failed or cancelled one: same spec snapshot, kind and
    options (ConflictError for a run that is queued, running or succeeded)."""
    original = get_run(session, user_id, run_id)
    if original.status not in RETRYABLE_STATUSES:
        raise ConflictError(f"run {run_id} is {original.status}; only failed or cancelled runs "
                            "can be retried")
    run = BacktestRun(user_id=user_id, strategy_id=original.strategy_id, kind=original.kind,
                      status="queued", progress=0, stage="queued", spec=dict(original.spec),
                      options=dict(original.options or {}), retry_of_id=original.id)
    session.add(run)
    session.flush()
    return run


def get_result(session: Session, user_id: int, run_id: int) -> dict[str, Any]:
    """The result document of a succeeded run (docs/results.md#backtest-result for a backtest)."""
    run = get_run(session, user_id, run_id)
    if run.status != "succeeded" or run.result is None:
        detail = f": {run.error}" if run.error else ""
        raise ConflictError(f"run {run_id} has no result; its status is {run.status}{detail}")
    return run.result.unpack()
