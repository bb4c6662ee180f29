"""Run kinds beyond the plain backtest: each module registers its handler in
``app.services.run_executor.RUN_HANDLERS`` when imported."""

from app.services.run_kinds import stress  # noqa: F401  (registers the stress handler)
