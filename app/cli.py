"""The ``arena`` command line (docs/cli.md)."""

from __future__ import annotations

import sys
import threading
from typing import Any

import click

from app.config import ConfigError, Settings
from app.version import __version__

NOT_IMPLEMENTED_EXIT = 3


def _not_implemented(what: str) -> None:
    click.echo(f"arena {what}: not implemented yet (coming in a later release).", err=True)
    sys.exit(NOT_IMPLEMENTED_EXIT)


def _stress_default(name: str) -> Any:
    """The default of a stress option, from its one declaration (engine.options)."""
    from engine.options import StressOptions, field_default

    return field_default(StressOptions, name)


def _lab_default(name: str) -> Any:
    """The default of a sweep / walk-forward option, from its one declaration."""
    from engine.options import WalkForwardOptions, field_default

    return field_default(WalkForwardOptions, name)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="arena")
def main() -> None:
    """Strategy Arena: backtest trading strategies and stress-test them against market regimes."""


@main.command()
@click.option("--host", default=None, help="Interface (default ARENA_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default ARENA_PORT or 8050).")
def serve(host: str | None, port: int | None) -> None:
    """Run the web app and the live feed: one uvicorn server, one port (pages, API and the
    /ws/prices WebSocket). Production: gunicorn -k uvicorn_worker.UvicornWorker (README)."""
    import uvicorn

    from app import create_app
    from app.live.asgi import create_asgi

    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    app = create_app(settings)
    gate = app.server.extensions["arena_schema_gate"]
    if not gate.ok:
        raise click.ClickException(f"not serving: {gate.problem}")
    mode = "embedded (SQLite, in-process jobs)" if settings.embedded else "server (Redis/RQ)"
    click.echo(f"Strategy Arena {__version__}: {mode}, database {settings.database_backend}")
    click.echo(f"Open http://{host}:{port}/ in your browser (Ctrl+C stops).", err=False)
    click.echo(f"Live prices: ws://{host}:{port}/ws/prices (source: {settings.live_source})")
    if settings.embedded and settings.seed_demo:
        _echo_demo_login(app.server.extensions["arena"].sessions)
    sys.stdout.flush()
    if settings.embedded:
        # Runs execute in this process: compile (or load from numba's cache) the engine's
        # kernels now, not inside the first run a user submits.
        from app.runs.worker import warm_up

        threading.Thread(target=warm_up, name="engine-warm-up", daemon=True).start()
    uvicorn.run(create_asgi(settings, app), host=host, port=port, log_level="warning",
                ws_max_size=64 * 1024)


@main.command()
@click.option("--queues", default="default,sweeps", show_default=True,
              help="Comma-separated queues to work, in priority order.")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option("--name", default=None, help="Worker name (default arena-HOST-PID-RANDOM).")
@click.option("--fork", is_flag=True,
              help="Run each job in a child process (isolation; ~150 ms more per job).")
@click.option("--max-jobs", type=click.IntRange(min=1), default=None,
              help="Exit after this many jobs (a supervisor restarts the worker fresh).")
def worker(queues: str, burst: bool, name: str | None, fork: bool,
           max_jobs: int | None) -> None:
    """Start a background job worker (RQ) with the app's configuration (needs REDIS_URL)."""
    import logging

    settings = _settings()
    if settings.embedded:
        click.echo("arena worker: REDIS_URL is not set, so this installation runs its jobs "
                   "in-process, inside `arena serve` (ARENA_WORKER_THREADS threads); there is "
                   "nothing for a worker to do. Set REDIS_URL (and a shared DATABASE_URL) to "
                   "run workers.", err=True)
        sys.exit(2)
    from app.db import make_engine
    from app.migrate import schema_status

    engine = make_engine(settings.database_url)
    try:
        status = schema_status(engine)
    except Exception as exc:  # unreachable database: say so instead of a traceback
        raise click.ClickException(f"the database does not answer: {exc}") from exc
    finally:
        engine.dispose()
    if not status.up_to_date:
        raise click.ClickException(status.describe(settings.database_url))
    from app.cache import make_redis, redis_reachable

    reachable, problem = redis_reachable(make_redis(settings.redis_url))
    if not reachable:
        raise click.ClickException(f"Redis at REDIS_URL does not answer: {problem}")
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from app.runs.worker import serve_queues

    try:
        serve_queues(settings, [q.strip() for q in queues.split(",") if q.strip()], burst=burst,
                   name=name, fork=fork, max_jobs=max_jobs)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Apply the database migrations (DATABASE_URL; idempotent)."""
    from app.db import make_engine
    from app.migrate import current_revision, redact_url, upgrade

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        before = current_revision(engine)
        upgrade(engine, revision)
        after = current_revision(engine)
    except Exception as exc:  # unreachable database, bad revision: say so, exit non-zero
        raise click.ClickException(f"migration failed on {redact_url(settings.database_url)}: "
                                   f"{exc}") from exc
    finally:
        engine.dispose()
    change = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    click.echo(f"database {redact_url(settings.database_url)}: {change} revision {after}")


@db.command("make-admin")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the admin right away instead.")
def db_make_admin(email: str, revoke: bool) -> None:
    """Let the account EMAIL see failure tracebacks and the job dashboard (/rq)."""
    from app.db import make_engine, make_session_factory
    from app.services import session_scope
    from app.services.users import find_user_by_email

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            user = find_user_by_email(session, email)
            if user is None:
                raise click.ClickException(f"no account with the email {email}")
            user.is_admin = not revoke
            click.echo(f"{user.email} is {'no longer ' if revoke else ''}an admin")
    finally:
        engine.dispose()


@db.command("seed-demo")
def db_seed_demo() -> None:
    """Create the demo account and its example strategies (idempotent)."""
    from app.db import make_engine, make_session_factory
    from app.migrate import schema_status
    from app.services import session_scope
    from app.services.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        status = schema_status(engine)
        if not status.up_to_date:
            raise click.ClickException(status.describe(settings.database_url))
        with session_scope(make_session_factory(engine)) as session:
            user, created = seed_demo(session)
            names = ", ".join(s.name for s in created) or "none (all exist)"
            click.echo(f"demo user {user.email} (id {user.id}); strategies created: {names}")
    finally:
        engine.dispose()
    click.echo(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")


def _echo_demo_login(sessions) -> None:
    from app.services.demo import DEMO_EMAIL, DEMO_PASSWORD
    from app.services.users import find_user_by_email

    with sessions() as session:
        if find_user_by_email(session, DEMO_EMAIL) is not None:
            click.echo(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")


@main.command()
@click.argument("symbols", nargs=-1, required=True)
@click.option("--start", default=None, help="First date (YYYY-MM-DD).")
@click.option("--end", default=None, help="Last date (YYYY-MM-DD).")
@click.option("--provider", default=None, help="bundled, yfinance, alpaca or auto.")
def ingest(symbols: tuple[str, ...], start: str | None, end: str | None,
           provider: str | None) -> None:
    """Fetch daily bars for SYMBOLS and store them (only the date ranges not stored yet)."""
    from app.cli_data import run_ingest

    run_ingest(_settings(), symbols, start, end, provider)


@main.command()
@click.option("--spec", "spec_path", required=True, type=click.Path(dir_okay=False),
              help="Strategy spec JSON (docs/spec.md).")
@click.option("--prices", "prices_path", default=None, type=click.Path(dir_okay=False),
              help="OHLCV CSV (docs/prices.md); default: load spec.symbol from the data layer.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
def backtest(spec_path: str, prices_path: str | None, as_json: bool) -> None:
    """Run one backtest and print the result (exit 2 on invalid input)."""
    from app.cli_support import load_inputs, print_backtest, run_or_exit
    from engine.backtest import run_backtest

    spec, prices, benchmark = load_inputs(spec_path, prices_path)
    settings = _settings()
    result = run_or_exit(lambda: run_backtest(spec, prices, benchmark,
                                              risk_free=settings.risk_free_rate))
    print_backtest(result, as_json)


@main.command()
@click.option("--spec", "spec_path", required=True, type=click.Path(dir_okay=False),
              help="Strategy spec JSON (docs/spec.md).")
@click.option("--prices", "prices_path", default=None, type=click.Path(dir_okay=False),
              help="OHLCV CSV (docs/prices.md); default: load spec.symbol from the data layer.")
@click.option("--scenarios", default=None,
              help="Comma-separated scenario ids to replay (default all; 'none' for none).")
@click.option("--window", "windows", multiple=True, metavar="ID:START:END",
              help="Also replay your own window, e.g. dip_2021:2021-09-02:2021-10-04 "
                   "(repeatable).")
@click.option("--transplants", default=None,
              help="Comma-separated scenario ids to append after the history "
                   f"(default {','.join(_stress_default('transplants'))}; 'none').")
@click.option("--paths", default=_stress_default("paths"), show_default=True, type=int,
              help="Monte Carlo paths (0 skips it).")
@click.option("--horizon", "horizon_days", default=_stress_default("horizon_days"),
              show_default=True, type=int, help="Monte Carlo horizon in trading days.")
@click.option("--block-length", default=_stress_default("block_length"), show_default=True,
              type=float, help="Mean block length of the bootstrap, in days.")
@click.option("--seed", default=_stress_default("seed"), show_default=True, type=int,
              help="Monte Carlo seed.")
@click.option("--gap-pct", default=_stress_default("gap_pct"), type=float,
              help="Monte Carlo shock: a one-day gap of this many percent (e.g. -10).")
@click.option("--gap-day", default=_stress_default("gap_day"), show_default=True, type=int,
              help="Trading day of the gap (1 = the first simulated day).")
@click.option("--vol-multiplier", default=_stress_default("vol_multiplier"),
              show_default=True, type=float,
              help="Monte Carlo shock: scale the dispersion of daily moves.")
@click.option("--entry", type=click.Choice(["flat", "carry"]),
              default=_stress_default("entry"), show_default=True,
              help="Enter each window flat, or with the position of a continuous run.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result (docs/results.md).")
def stress(spec_path: str, prices_path: str | None, scenarios: str | None,
           windows: tuple[str, ...], transplants: str | None, paths: int, horizon_days: int,
           block_length: float, seed: int, gap_pct: float | None, gap_day: int,
           vol_multiplier: float, entry: str, as_json: bool) -> None:
    """Run the stress suite: historical crises, shock transplants, Monte Carlo (exit 2 on
    invalid input)."""
    from app.cli_stress import print_stress, stress_options
    from app.cli_support import fail, load_inputs, run_or_exit
    from engine.options import OptionsError
    from engine.scenarios import StressInputError
    from engine.stress import run_stress

    try:  # check the options before loading prices: a typo should fail fast
        options = stress_options(scenarios, windows, transplants, paths=paths,
                                 horizon_days=horizon_days, block_length=block_length,
                                 seed=seed, gap_pct=gap_pct, gap_day=gap_day,
                                 vol_multiplier=vol_multiplier, entry=entry)
    except (StressInputError, OptionsError) as exc:
        fail(str(exc))
    spec, prices, benchmark = load_inputs(spec_path, prices_path)
    settings = _settings()

    def work():
        try:
            return run_stress(spec, prices, benchmark, **options.engine_kwargs(),
                              risk_free=settings.risk_free_rate)
        except StressInputError as exc:
            fail(str(exc))

    print_stress(run_or_exit(work), as_json)


def _robustness_default(name: str) -> Any:
    from app.cli_robustness import robustness_default

    return robustness_default(name)


@main.command()
@click.option("--spec", "spec_path", required=True, type=click.Path(dir_okay=False),
              help="Strategy spec JSON (docs/spec.md).")
@click.option("--prices", "prices_path", default=None, type=click.Path(dir_okay=False),
              help="OHLCV CSV (docs/prices.md); default: load spec.symbol from the data layer.")
@click.option("--paths", default=_robustness_default("paths"), show_default=True, type=int,
              help="Trade-order Monte Carlo paths (0 skips it).")
@click.option("--seed", default=_robustness_default("seed"), show_default=True, type=int,
              help="Trade-order Monte Carlo seed.")
@click.option("--max-cost-bps", default=_robustness_default("max_cost_bps"), show_default=True,
              type=float, help="Highest cost per side on the cost grid, in bps.")
@click.option("--cost-points", default=_robustness_default("cost_points"), show_default=True,
              type=int, help="Costs on the grid, from 0 to --max-cost-bps.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result (docs/results.md).")
def robustness(spec_path: str, prices_path: str | None, paths: int, seed: int,
               max_cost_bps: float, cost_points: int, as_json: bool) -> None:
    """How robust is a strategy: fills, costs and break-even, trade-order Monte Carlo, metric
    conventions, data warnings (exit 2 on invalid input)."""
    from app.cli_robustness import print_robustness, robustness_options
    from app.cli_support import fail, load_inputs, run_or_exit
    from engine.options import OptionsError
    from engine.robustness import run_robustness

    try:  # check the options before loading prices: a typo should fail fast
        options = robustness_options(paths=paths, seed=seed, max_cost_bps=max_cost_bps,
                                     cost_points=cost_points)
    except OptionsError as exc:
        fail(str(exc))
    spec, prices, benchmark = load_inputs(spec_path, prices_path)
    settings = _settings()
    result = run_or_exit(lambda: run_robustness(spec, prices, benchmark,
                                                **options.engine_kwargs(),
                                                risk_free=settings.risk_free_rate))
    print_robustness(result, as_json)


_SPEC_OPTION = click.option("--spec", "spec_path", required=True,
                            type=click.Path(dir_okay=False),
                            help="Strategy spec JSON (docs/spec.md).")
_GRID_OPTION = click.option("--grid", "grid_path", required=True,
                            type=click.Path(dir_okay=False),
                            help='Grid JSON: {"spec.path": [values...]} (comma-linked paths '
                                 "move together).")
_PRICES_OPTION = click.option("--prices", "prices_path", default=None,
                              type=click.Path(dir_okay=False),
                              help="OHLCV CSV (docs/prices.md); default: load spec.symbol.")
_WHERE_OPTION = click.option("--where", "constraints", multiple=True, metavar="'KEY OP KEY'",
                             help="Keep only combinations meeting this, e.g. "
                                  "'FAST_KEY < SLOW_KEY' (repeatable).")


@main.command()
@_SPEC_OPTION
@_GRID_OPTION
@_PRICES_OPTION
@_WHERE_OPTION
@click.option("--partitions", default=_lab_default("partitions"), show_default=True, type=int,
              help="Blocks for the Probability of Backtest Overfitting (even).")
@click.option("--json", "as_json", is_flag=True, help="Print the full result (docs/results.md).")
def sweep(spec_path: str, grid_path: str, prices_path: str | None,
          constraints: tuple[str, ...], partitions: int, as_json: bool) -> None:
    """Backtest every combination of a parameter grid, with the overfitting odds (DSR, PBO)
    of its best one (exit 2 on invalid input)."""
    from app.cli_lab import lab_options, print_sweep, progress_bar, read_grid
    from app.cli_support import fail, load_inputs, run_or_exit
    from engine.options import SweepOptions
    from engine.sweep import GridError, run_sweep

    grid = read_grid(grid_path)
    spec, prices, benchmark = load_inputs(spec_path, prices_path)
    options = lab_options(SweepOptions, spec.to_dict(), grid=grid,
                          constraints=list(constraints), partitions=partitions)
    settings = _settings()

    def work():
        with progress_bar("sweeping") as progress:
            try:
                return run_sweep(spec, prices, options.grid, benchmark_prices=benchmark,
                                 risk_free=settings.risk_free_rate, where=options.where(),
                                 partitions=options.partitions, progress=progress)
            except GridError as exc:
                fail(f"invalid grid {grid_path}: {exc}")

    from app.runs.state import finite_json

    print_sweep(finite_json(run_or_exit(work).to_dict()), as_json)


@main.command()
@_SPEC_OPTION
@_GRID_OPTION
@_PRICES_OPTION
@_WHERE_OPTION
@click.option("--folds", default=_lab_default("folds"), show_default=True, type=int,
              help="Out-of-sample windows.")
@click.option("--in-sample-size", default=_lab_default("in_sample_size"), show_default=True,
              type=int, help="In-sample length, in out-of-sample windows.")
@click.option("--mode", type=click.Choice(["rolling", "anchored"]),
              default=_lab_default("mode"), show_default=True,
              help="In-sample windows of fixed length, or all from the first bar.")
@click.option("--metric", default=_lab_default("metric"), show_default=True,
              help="What each in-sample optimisation maximises.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
def walkforward(spec_path: str, grid_path: str, prices_path: str | None,
                constraints: tuple[str, ...], folds: int, in_sample_size: int, mode: str,
                metric: str, as_json: bool) -> None:
    """Walk-forward validation: optimise on each in-sample window, trade the winner on the
    next out-of-sample one, stitch the out-of-sample equity (exit 2 on invalid input)."""
    from app.cli_lab import lab_options, print_walkforward, progress_bar, read_grid
    from app.cli_support import fail, load_inputs, run_or_exit
    from app.runs.state import finite_json
    from engine.options import WalkForwardOptions
    from engine.sweep import GridError
    from engine.walkforward import WalkForwardError, run_walkforward

    grid = read_grid(grid_path)
    spec, prices, benchmark = load_inputs(spec_path, prices_path)
    options = lab_options(WalkForwardOptions, spec.to_dict(), grid=grid,
                          constraints=list(constraints), folds=folds,
                          in_sample_size=in_sample_size, mode=mode, metric=metric)
    settings = _settings()

    def work():
        with progress_bar("walking forward") as progress:
            try:
                return run_walkforward(spec, prices, options.grid, **options.engine_kwargs(),
                                       benchmark_prices=benchmark,
                                       risk_free=settings.risk_free_rate, progress=progress)
            except (GridError, WalkForwardError) as exc:
                fail(str(exc))

    print_walkforward(finite_json(run_or_exit(work).to_dict()), as_json)


if __name__ == "__main__":
    main()
