"""Robustness report (docs/results.md#robustness-result): how much one strategy's result depends on
fill timing,
costs, the order of its trades and metric conventions, and whether its data look sound.

Modules, one concept each: ``prepared`` (the spec, bars, signals and benchmark prepared once;
the backtest's metrics for any execution settings), ``fills`` (fill assumptions), ``costs``
(cost grid and break-even costs), ``trade_order`` (trade-order Monte Carlo), ``conventions``
(our metrics under other tools' conventions), ``integrity`` (data checks), ``report``
(:func:`run_robustness` and the plain-words verdict :func:`describe`). Each module's docstring
states its conventions.
"""

from engine.robustness.report import (
    DEFAULT_COST_POINTS,
    DEFAULT_MAX_COST_BPS,
    DEFAULT_PATHS,
    MAX_COST_BPS,
    MAX_COST_POINTS,
    MAX_TRADE_PATHS,
    MIN_COST_POINTS,
    RobustnessResult,
    describe,
    run_robustness,
)

__all__ = ["DEFAULT_COST_POINTS", "DEFAULT_MAX_COST_BPS", "DEFAULT_PATHS", "MAX_COST_BPS",
           "MAX_COST_POINTS", "MAX_TRADE_PATHS", "MIN_COST_POINTS", "RobustnessResult",
           "describe", "run_robustness"]
