"""Sweep runs (kind ``sweep``; result format in docs/results.md): the strategy's spec backtested
for every combination of ``options.grid`` (``engine.options.SweepOptions``: spec path -> list of
values) with ``engine.sweep.run_sweep``.

A grid of at most ``SWEEP_CHUNK_SIZE`` combinations runs in the run's own job. A larger one is
split: the run's job sets ``parts_total``, enqueues one job per chunk of consecutive combinations
on the ``sweeps`` queue (``app.runs.jobs.run_part_job``) and leaves the run ``running``. Each
chunk stores its results in ``run_parts`` and bumps the run's ``parts_done`` in the same
transaction (an atomic counter on the run row, which also serialises the chunks' commits); the
chunk that brings ``parts_done`` to ``parts_total`` merges every chunk, in combination order,
into the run's result and marks it succeeded, in that ONE transaction. A chunk that runs twice
finds its row already stored and does nothing.

Every sweep result carries ``overfitting`` (the Deflated Sharpe Ratio of the best combination
and the Probability of Backtest Overfitting, ``engine.overfitting.assess``), computed where the
result is built: by the engine for a one-job sweep, at the merge for a split one (each chunk
stores its combinations' block moments beside their rows; the merge assesses them all and drops
them), so both carry the same figures.

The run's summary ``metrics`` are those of the best combination by Sharpe ratio, plus
``combinations``, ``failed_combinations``, ``best_params``, ``deflated_sharpe`` and ``pbo``.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.models import BacktestRun, RunPart, RunResult, utcnow
from app.runs.errors import RunAbandoned, RunDeferred
from app.runs.queueing import submit_parts
from app.runs.state import (
    finish_run,
    finite_json,
    packed_result,
    run_status,
    settle_failure,
    worker_id,
)
from app.runs.task import RunTask
from app.services import session_scope
from app.services.errors import InvalidInputError
from engine.metrics import per_period_risk_free
from engine.options import SweepOptions, combination_count, parse_options
from engine.spec import parse_spec

if TYPE_CHECKING:
    from app.context import AppContext

PROGRESS_EVERY_SECONDS = 0.5  # at most two progress writes a second per job
MOMENTS_KEY = "moments"  # a stored chunk row's block moments (never in a result)


def sweep_summary(results: list[dict[str, Any]],
                  overfitting: dict[str, Any] | None = None) -> dict[str, Any]:
    """The best combination's metrics (by Sharpe), with the counts, its params and the
    overfitting odds (``deflated_sharpe``, ``pbo``; null when not computed)."""
    valid = [row for row in results if row.get("metrics")]
    summary: dict[str, Any] = {"combinations": len(results),
                               "failed_combinations": len(results) - len(valid),
                               "best_params": None}
    if valid:
        best = max(valid, key=lambda row: _number(row["metrics"].get("sharpe")))
        summary = {**best["metrics"], **summary, "best_params": best["params"]}
    summary["deflated_sharpe"] = (overfitting or {}).get("deflated_sharpe")
    summary["pbo"] = (overfitting or {}).get("pbo")
    return summary


def merged_overfitting(rows: list[dict[str, Any]], partitions: int,
                       risk_free: float) -> dict[str, Any]:
    """The overfitting report of a split sweep's merged rows, from the block moments each chunk
    stored under MOMENTS_KEY (removed from the rows here)."""
    from engine.overfitting import MOMENTS, assess

    moments = np.full((len(rows), partitions, MOMENTS), np.nan)
    for i, row in enumerate(rows):
        stored = row.pop(MOMENTS_KEY, None)
        if stored is not None:
            moments[i] = np.asarray(stored, dtype=np.float64).reshape(partitions, MOMENTS)
    return finite_json(assess(moments, per_period_risk_free(risk_free)))


def _number(value: Any) -> float:
    return value if isinstance(value, int | float) else -math.inf


def _run_sweep(task: RunTask, options: SweepOptions, *, where: Any = None,
               progress: Any = None, overfitting: bool = True) -> Any:
    from engine.sweep import GridError, run_sweep

    spec = parse_spec(task.spec)
    prices, benchmark = task.load_prices(spec)
    try:
        return run_sweep(spec, prices, options.grid, benchmark_prices=benchmark,
                         risk_free=task.risk_free_rate, where=where, progress=progress,
                         partitions=options.partitions, overfitting=overfitting)
    except GridError as exc:
        raise InvalidInputError(f"invalid sweep grid: {exc}") from None


class _Reporter:
    """``progress(fraction, stage)`` for the engine, mapped onto ``first..last`` percent and
    written at most every PROGRESS_EVERY_SECONDS (the deadline is checked on every call)."""

    def __init__(self, task: RunTask, first: float, last: float, label: str,
                 write: Any = None) -> None:
        self.task, self.first, self.last, self.label = task, first, last, label
        self.write = write or task.progress
        self._last_write = 0.0

    def __call__(self, fraction: float, stage: str) -> None:
        self.task.check_deadline()
        now = time.monotonic()
        if now - self._last_write >= PROGRESS_EVERY_SECONDS:
            self._last_write = now
            percent = self.first + (self.last - self.first) * max(0.0, min(1.0, fraction))
            self.write(int(percent), f"{self.label}: {stage}")


def handle(task: RunTask) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``sweep`` handler: the whole grid here, or split into chunk jobs (RunDeferred)."""
    options = parse_options(SweepOptions, task.options)
    count = combination_count(options.grid)
    if count > task.context.settings.sweep_chunk_size:
        _split(task, math.ceil(count / task.context.settings.sweep_chunk_size))
        raise RunDeferred
    task.progress(10, f"sweeping {count} combinations")
    result = _run_sweep(task, options, where=options.where(),
                        progress=_Reporter(task, 10, 95, "sweep"))
    task.progress(95, "saving results")
    document = finite_json(result.to_dict())
    return document, sweep_summary(document["results"], document.get("overfitting"))


def _split(task: RunTask, parts: int) -> None:
    with session_scope(task.context.sessions) as session:
        session.execute(delete(RunPart).where(RunPart.run_id == task.run_id))
        updated = session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == task.run_id, BacktestRun.status == "running")
            .values(parts_total=parts, parts_done=0, progress=5, heartbeat_at=utcnow(),
                    stage=f"split into {parts} chunks; waiting for workers")
            .execution_options(synchronize_session=False)).rowcount
        if not updated:
            raise RunAbandoned
    submit_parts(task.context, task.run_id, parts)


def execute_part(run_id: int, part: int, context: AppContext, *, deadline: float | None = None,
                 timeout_seconds: float | None = None, retry_transient: bool = False) -> str:
    """Run chunk ``part`` of the split sweep ``run_id`` and store it (the last chunk merges);
    returns the run's status afterwards. A chunk of a run that is no longer running, or that is
    already stored, does nothing."""
    sessions = context.sessions
    with session_scope(sessions) as session:
        run = session.get(BacktestRun, run_id)
        if run is None:
            return "missing"
        if run.status != "running" or run.parts_total is None or part >= run.parts_total:
            return run.status
        if session.get(RunPart, (run_id, part)) is not None:
            return run.status
        spec, options = dict(run.spec), dict(run.options or {})
        total, done = run.parts_total, run.parts_done
        run.heartbeat_at, run.worker = utcnow(), worker_id()
    task = RunTask(run_id, context, spec, options, deadline, timeout_seconds)
    label = f"chunk {part + 1} of {total}"
    base = 5 + 90 * done / total
    try:
        parsed = parse_options(SweepOptions, options)
        count = combination_count(parsed.grid)
        first, last = part * count // total, (part + 1) * count // total
        index, kept = itertools.count(), 0
        constraint = parsed.where() or (lambda _params: True)

        def where(params: dict[str, Any]) -> bool:
            # Chunks are ranges of the full product; the constraints filter within them.
            nonlocal kept
            if first <= next(index) < last and constraint(params):
                kept += 1
                return True
            return False

        result = _run_sweep(
            task, parsed, where=where, overfitting=False,
            progress=_Reporter(task, base, base + 90 / total, label,
                               write=lambda p, s: _part_progress(sessions, run_id, p, s)))
        if len(result.results) != kept:
            raise RuntimeError(f"sweep chunk {part}: {len(result.results)} results for "
                               f"{kept} combinations of {first}..{last - 1}")
        task.check_deadline()
        rows = finite_json(result.results)
        for row, moments in zip(rows, result.moments, strict=True):
            ran = bool(np.isfinite(moments).all())
            row[MOMENTS_KEY] = moments.ravel().tolist() if ran else None
        document = finite_json({"spec": result.spec, "grid": result.grid})
    except Exception as exc:  # settled like a one-job run's failure; a cancel returns
        return settle_failure(sessions, run_id, exc, retry_transient=retry_transient,
                              requeue=False, timeout_seconds=timeout_seconds)
    return _store_part(sessions, run_id, part, rows, document, parsed.partitions,
                       task.risk_free_rate)


def _part_progress(sessions: sessionmaker[Session], run_id: int, percent: int,
                   stage: str) -> None:
    """Progress of one chunk: never lowers the run's percentage (chunks run in parallel)."""
    with session_scope(sessions) as session:
        updated = session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id, BacktestRun.status == "running")
            .values(progress=case((BacktestRun.progress < percent, percent),
                                  else_=BacktestRun.progress),
                    stage=stage[:200], heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        if not updated:
            raise RunAbandoned


class _NotRunning(Exception):
    pass


def _store_part(sessions: sessionmaker[Session], run_id: int, part: int,
                rows: list[dict[str, Any]], document: dict[str, Any], partitions: int,
                risk_free: float) -> str:
    """Store chunk ``part`` and count it, in one transaction; the chunk that completes the
    count merges every chunk into the run's result in that same transaction."""
    try:
        with session_scope(sessions) as session:
            session.add(RunPart.pack(run_id, part, rows))
            session.flush()  # a chunk stored twice stops here (primary key)
            counted = session.execute(
                update(BacktestRun)
                .where(BacktestRun.id == run_id, BacktestRun.status == "running")
                .values(parts_done=BacktestRun.parts_done + 1, heartbeat_at=utcnow(),
                        progress=5 + (90 * (BacktestRun.parts_done + 1))
                        // BacktestRun.parts_total,
                        stage=f"chunk {part + 1} stored")
                .returning(BacktestRun.parts_done, BacktestRun.parts_total)
                .execution_options(synchronize_session=False)).first()
            if counted is None:
                raise _NotRunning
            done, total = counted
            if done < total:
                return "running"
            stored = session.scalars(select(RunPart).where(RunPart.run_id == run_id)
                                     .order_by(RunPart.part))
            results = [row for chunk in stored for row in chunk.unpack()]
            overfitting = merged_overfitting(results, partitions, risk_free)
            document = {**document, "results": results, "overfitting": overfitting}
            finish_run(session, run_id, "succeeded", progress=100, stage="done",
                       metrics=sweep_summary(results, overfitting))
            session.add(RunResult(run_id=run_id, **packed_result(document)))
            session.execute(delete(RunPart).where(RunPart.run_id == run_id))
            return "succeeded"
    except (IntegrityError, _NotRunning):
        return run_status(sessions, run_id)

