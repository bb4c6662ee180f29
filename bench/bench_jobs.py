"""Benchmark: the background-job layer (RQ + ``arena worker``, and the in-process runner).

    python bench/bench_jobs.py [--redis-url redis://127.0.0.1:6379/11]
                               [--pg-admin postgresql://postgres@127.0.0.1:5432/postgres]
                               [--runs 40] [--throughput-runs 200]

Prints:

1. Queue overhead per run: the time from ``submit_run`` (enqueue) to the run's result stored
   (``finished_at``, written in the transaction that stores the result) for a trivial strategy
   (one month of daily bars), one run at a time with a warm, idle worker; median and 90th
   percentile. Next to it, the same run executed directly in this process (``execute_run``:
   claim, price load, engine, result stored, no queue) and the bare engine call, so the queue's
   own share can be read off. Target from the issue: <= 50 ms median (RQ).
2. Throughput of 2 ``arena worker`` processes on 200 short runs (the example RSI strategy over
   two years), enqueued at once: runs per second from the first enqueue to the last result
   stored; 1 worker for comparison.

Uses a throw-away PostgreSQL database (dropped afterwards) and the given Redis database with a
unique queue prefix (its keys are deleted afterwards). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import redis
from sqlalchemy import select

from app.config import Settings
from app.context import AppContext
from app.db import make_engine
from app.migrate import upgrade
from app.models import FINISHED_STATUSES, BacktestRun
from app.runs.execute import execute_run
from app.runs.queueing import submit_run
from app.runs.service import create_run
from app.services import session_scope
from app.services.strategies import create_strategy
from app.services.users import register_user
from engine.spec import load_example

REPO = Path(__file__).resolve().parents[1]


def spec(months: int | None) -> dict[str, Any]:
    example = load_example("rsi_mean_reversion").to_dict()
    example.update({"start": "2020-01-01", "end": "2021-12-31"} if months is None
                   else {"start": "2021-01-01", "end": f"2021-{months:02d}-28"})
    return example


def percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    return (f"median {statistics.median(samples):6.1f} ms, p90 "
            f"{samples[int(0.9 * (len(samples) - 1))]:6.1f} ms (n={len(samples)})")


class Bench:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.settings = Settings.from_env(env)
        self.context = AppContext.build(self.settings)
        with session_scope(self.context.sessions) as session:
            user = register_user(session, f"bench-{uuid.uuid4().hex[:8]}@example.com",
                                 "bench password")
            self.user_id = user.id
            self.trivial = create_strategy(session, user.id, spec(1), "trivial").id
            self.short = create_strategy(session, user.id, spec(None), "short").id
        self.workers: list[subprocess.Popen] = []

    def new_run(self, strategy_id: int) -> int:
        with session_scope(self.context.sessions) as session:
            return create_run(session, self.user_id, strategy_id).id

    def finished_at(self, run_ids: list[int], timeout: float = 300,
                    poll_seconds: float = 0.002) -> dict[int, Any]:
        deadline = time.monotonic() + timeout
        while True:
            with self.context.sessions() as session:
                rows = session.execute(
                    select(BacktestRun.id, BacktestRun.status, BacktestRun.finished_at)
                    .where(BacktestRun.id.in_(run_ids))).all()
            if all(status in FINISHED_STATUSES for _, status, _ in rows):
                failed = [run_id for run_id, status, _ in rows if status != "succeeded"]
                assert not failed, f"runs failed: {failed}"
                return {run_id: finished for run_id, _, finished in rows}
            assert time.monotonic() < deadline, "runs did not finish"
            time.sleep(poll_seconds)

    def start_workers(self, count: int) -> None:
        connection = redis.Redis.from_url(self.env["REDIS_URL"])
        env = {**os.environ, **self.env, "PYTHONPATH": str(REPO)}
        names = []
        for _ in range(count):
            name = f"bench-{uuid.uuid4().hex[:8]}"
            names.append(name)
            self.workers.append(subprocess.Popen(
                [str(Path(sys.executable).with_name("arena")), "worker", "--name", name],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        while not all(connection.exists(f"rq:worker:{name}") for name in names):
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.1)

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        self.workers = []

    def overhead(self, runs: int) -> list[float]:
        """Enqueue -> result stored, one run at a time (after one warm-up run)."""
        samples = []
        for index in range(runs + 1):
            run_id = self.new_run(self.trivial)
            from app.models import utcnow

            submitted = utcnow()
            submit_run(self.context, run_id)
            finished = self.finished_at([run_id])[run_id]
            if index:
                samples.append((finished - submitted).total_seconds() * 1000)
            time.sleep(0.02)  # the worker is idle again
        return samples

    def direct(self, runs: int) -> tuple[list[float], list[float]]:
        from engine.backtest import run_backtest
        from engine.spec import parse_spec

        total, engine = [], []
        parsed = parse_spec(spec(1))
        prices = self.context.prices.get_prices("SPY").frame
        for index in range(runs + 1):
            run_id = self.new_run(self.trivial)
            started = time.perf_counter()
            execute_run(run_id, self.context)
            middle = time.perf_counter()
            run_backtest(parsed, prices)
            if index:
                total.append((middle - started) * 1000)
                engine.append((time.perf_counter() - middle) * 1000)
        return total, engine

    def throughput(self, runs: int) -> tuple[float, float]:
        """Runs per second: from the first enqueue to the last result (seen by polling every
        0.2 s), and between the first and the last result stored (finished_at)."""
        run_ids = [self.new_run(self.short) for _ in range(runs)]
        started = time.perf_counter()
        for run_id in run_ids:
            submit_run(self.context, run_id)
        finished = self.finished_at(run_ids, poll_seconds=0.2)  # light polling: not to compete
        first = min(finished.values())
        last = max(finished.values())
        wall = time.perf_counter() - started
        return runs / wall, runs / max((last - first).total_seconds(), 1e-9)

    def close(self) -> None:
        self.stop_workers()
        self.context.close()


def rates(pair: tuple[float, float]) -> str:
    return (f"{pair[0]:6.1f} runs/s enqueue to last result "
            f"({pair[1]:.1f} runs/s between first and last result)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--throughput-runs", type=int, default=200)
    args = parser.parse_args()

    name = f"arena_bench_jobs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg_admin, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = "postgresql+psycopg://" + args.pg_admin.split("://", 1)[1].rsplit("/", 1)[0] \
        + f"/{name}"
    prefix = f"bench{uuid.uuid4().hex[:6]}-"
    instance = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    try:
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        env = {"ARENA_INSTANCE_DIR": str(instance), "DATABASE_URL": database_url,
               "REDIS_URL": args.redis_url, "ARENA_QUEUE_PREFIX": prefix,
               "ARENA_SEED_DEMO": "0"}
        print(f"Strategy Arena job benchmark ({os.cpu_count()} cores; PostgreSQL + Redis)")
        bench = Bench(env)
        try:
            total, engine_only = bench.direct(args.runs)
            print(f"direct execute_run, no queue (trivial):  {percentiles(total)}")
            print(f"  of which the engine call alone:         {percentiles(engine_only)}")
            bench.start_workers(1)
            print(f"RQ, enqueue -> result stored (trivial):   "
                  f"{percentiles(bench.overhead(args.runs))}")
            print(f"RQ throughput, 1 worker, {args.throughput_runs} short runs:  "
                  + rates(bench.throughput(args.throughput_runs)))
            bench.stop_workers()
            bench.start_workers(2)
            bench.overhead(2)  # both workers warm
            print(f"RQ throughput, 2 workers, {args.throughput_runs} short runs: "
                  + rates(bench.throughput(args.throughput_runs)))
        finally:
            bench.close()
        inprocess = Bench({**env, "REDIS_URL": ""})
        try:
            print(f"in-process, enqueue -> result stored:    "
                  f"{percentiles(inprocess.overhead(args.runs))}")
            print(f"in-process throughput (2 threads), {args.throughput_runs} short runs: "
                  + rates(inprocess.throughput(args.throughput_runs)))
        finally:
            inprocess.close()
    finally:
        client = redis.Redis.from_url(args.redis_url)
        keys = list(client.scan_iter(f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        with psycopg.connect(args.pg_admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
