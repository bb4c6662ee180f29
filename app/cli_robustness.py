"""``arena robustness``: options and the readable report (docs/cli.md; JSON is
docs/results.md#robustness-result)."""

from __future__ import annotations

import json
from typing import Any

import click

from app.cli_support import echo_warnings
from engine.options import OptionsError, RobustnessOptions, field_default, parse_options

#: Command-line option of each RobustnessOptions field whose name differs.
_OPTION_OF = {"max_cost_bps": "max-cost-bps", "cost_points": "cost-points"}


def robustness_default(name: str) -> Any:
    """The default of a robustness option, from its one declaration (engine.options)."""
    return field_default(RobustnessOptions, name)


def robustness_options(**given: Any) -> RobustnessOptions:
    """The options validated by the one model (``OptionsError`` naming the CLI option)."""
    try:
        return parse_options(RobustnessOptions, given)
    except OptionsError as exc:
        raise OptionsError({f"--{_OPTION_OF.get(path, path)}": message
                            for path, message in exc.errors.items()}) from None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.2f} %"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _bps(value: float | None, status: str | None) -> str:
    if value is not None:
        return f"{value:.1f} bps"
    return {"beyond_max": "beyond the grid", "behind_at_zero": "behind even at 0 bps",
            "no_benchmark": "no benchmark"}.get(status or "", "n/a")


def print_robustness(result: Any, as_json: bool) -> None:
    """Print a RobustnessResult as docs/results.md#robustness-result JSON or as readable tables and
    a verdict."""
    document = result.to_dict()
    if as_json:
        click.echo(json.dumps(document, allow_nan=False))
        echo_warnings(document["warnings"], err=True)
        return
    spec, meta = document["spec"], document["meta"]
    click.echo(f"{spec['name']} on {spec['symbol']}: {meta['first_date']} to {meta['last_date']}"
               f" ({meta['bars']} bars, {meta['price_basis']} prices)")
    click.echo("")
    header = f"{'fill assumption':30}{'total ret':>12}{'CAGR':>11}{'Sharpe':>9}{'max dd':>11}"
    click.echo(header)
    click.echo("-" * len(header))
    for row in document["fills"]:
        m = row["metrics"]
        label = row["label"] + (" (spec)" if row["is_spec"] else "")
        click.echo(f"{label:30}{_pct(m['total_return']):>12}{_pct(m['cagr']):>11}"
                   f"{_num(m['sharpe']):>9}{_pct(m['max_drawdown']):>11}")
    click.echo("")
    header = f"{'cost/side':>10}{'total ret':>12}{'CAGR':>11}{'Sharpe':>9}{'b&h CAGR':>11}"
    click.echo(header)
    click.echo("-" * len(header))
    for row in document["costs"]:
        m = row["metrics"]
        click.echo(f"{row['cost_bps']:>6.1f} bps{_pct(m['total_return']):>12}"
                   f"{_pct(m['cagr']):>11}{_num(m['sharpe']):>9}"
                   f"{_pct(row['benchmark_cagr']):>11}")
    status = document["breakeven_status"]
    click.echo(f"break-even cost: vs buy-and-hold "
               f"{_bps(document['breakeven_bps']['vs_benchmark'], status.get('vs_benchmark'))}"
               f", vs 0 % CAGR {_bps(document['breakeven_bps']['vs_zero'], status.get('vs_zero'))}")
    monte_carlo = document["trade_monte_carlo"]
    if monte_carlo:
        click.echo("")
        click.echo(f"trade-order Monte Carlo: {monte_carlo['paths']:,} paths of "
                   f"{monte_carlo['trades']} trades, seed {monte_carlo['seed']}")
        for key, label in (("final_return", "final return"), ("max_drawdown", "max drawdown")):
            row = monte_carlo[key]
            click.echo(f"  {label:14}" + "".join(f"{q}: {_pct(v):>10}  " for q, v in row.items()))
        click.echo("  P(max drawdown worse than) " + ", ".join(
            f"{float(x) * 100:g} %: {p * 100:.1f} %"
            for x, p in monte_carlo["prob_drawdown_worse_than"].items()))
    click.echo("")
    header = f"{'metric':28}{'convention':42}{'value':>10}{'ours':>10}  used by"
    click.echo(header)
    click.echo("-" * len(header))
    for row in document["conventions"]:
        click.echo(f"{row['metric']:28}{row['label'][:41]:42}{_num(row['value']):>10}"
                   f"{_num(row['ours']):>10}  {row['used_by']}")
    if document["warnings"]:
        click.echo("")
        echo_warnings(document["warnings"])
    click.echo("")
    click.echo(document["verdict"])
