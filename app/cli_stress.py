"""``arena stress``: option parsing and the readable report (docs/cli.md; JSON is
docs/results.md#stress-result)."""

from __future__ import annotations

import json
from typing import Any

import click

from app.cli_support import echo_warnings
from engine.options import OptionsError, StressOptions, field_default, parse_options
from engine.scenarios import StressInputError, select_scenarios
from engine.stress import describe

#: Command-line option of each StressOptions field whose name differs.
_OPTION_OF = {"horizon_days": "horizon", "custom_scenarios": "window"}


def _ids(text: str | None, option: str, default: list[str] | None) -> list[str] | None:
    if text is None:
        return default
    if text.strip().lower() == "none":
        return []
    ids = [part.strip() for part in text.split(",") if part.strip()]
    try:
        select_scenarios(ids)
    except StressInputError as exc:
        raise StressInputError(f"--{option}: {exc}") from None
    return ids


def stress_options(scenarios: str | None, windows: tuple[str, ...], transplants: str | None,
                   **numbers: Any) -> StressOptions:
    """The stress options from the command line's text and number options, validated by the
    one model (``StressInputError``/``OptionsError`` naming the command-line option)."""
    custom = []
    for window in windows:
        parts = window.split(":")
        if len(parts) != 3:
            raise StressInputError(f"--window {window!r}: expected ID:START:END, e.g. "
                                   "dip_2021:2021-09-02:2021-10-04")
        custom.append(dict(zip(("id", "start", "end"), parts, strict=True)))
    given = {"scenarios": _ids(scenarios, "scenarios", None),
             "transplants": _ids(transplants, "transplants",
                                 field_default(StressOptions, "transplants")),
             "custom_scenarios": custom, **numbers}
    try:
        return parse_options(StressOptions, given)
    except OptionsError as exc:
        raise OptionsError({_cli_name(path): message
                            for path, message in exc.errors.items()}) from None


def _cli_name(path: str) -> str:
    """``custom_scenarios[1].end`` -> ``--window[1].end``; ``paths`` -> ``--paths``."""
    field, _, rest = path.partition("[") if "[" in path else path.partition(".")
    separator = "[" if "[" in path else ("." if rest else "")
    name = _OPTION_OF.get(field, field).replace("_", "-")
    return f"--{name}{separator}{rest}"


def _pct(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "0.0 %" if round(value * 100, 1) == 0 else f"{value * 100:+.1f} %"


def _days(value: int | None) -> str:
    return "not yet" if value is None else str(value)


def print_stress(result: Any, as_json: bool) -> None:
    """Print a StressResult as docs/results.md#stress-result JSON or as readable tables and
    sentences."""
    document = result.to_dict()
    if as_json:
        click.echo(json.dumps(document, allow_nan=False))
        echo_warnings(document.get("warnings", []), err=True)
        return
    spec, meta = document["spec"], document["meta"]
    click.echo(f"{spec['name']} on {spec['symbol']} against buy-and-hold of {spec['benchmark']}"
               f" ({meta['price_basis']} prices; each window entered {meta['entry']})")
    click.echo("")
    header = (f"{'scenario':38}{'from':>11}{'to':>11}{'return':>10}{'b&h':>9}{'max dd':>9}"
              f"{'b&h dd':>9}{'worst day':>10}{'recover':>9}{'trades':>7}{'in mkt':>8}")
    click.echo(header)
    click.echo("-" * len(header))
    for s in document["scenarios"]:
        mine, market = s["strategy"], s["benchmark"] or {}
        click.echo(f"{s['name'][:37]:38}{s['start']:>11}{s['end']:>11}{_pct(mine['return']):>10}"
                   f"{_pct(market.get('return')):>9}{_pct(mine['max_drawdown']):>9}"
                   f"{_pct(market.get('max_drawdown')):>9}{_pct(mine['worst_day']):>10}"
                   f"{_days(mine['days_to_recover']):>9}{mine['num_trades']:>7}"
                   f"{mine['exposure'] * 100:>7.0f}%")
    for s in document["skipped"]:
        click.echo(f"{s['name'][:37]:38}  skipped: {s['reason']}")
    for s in document["scenarios"]:
        if s.get("note"):
            click.echo(f"note, {s['name']}: {s['note']}")
    echo_warnings(document.get("warnings", []))
    monte_carlo = document["monte_carlo"]
    if monte_carlo:
        click.echo("")
        click.echo(f"Monte Carlo: {monte_carlo['paths']:,} paths x {monte_carlo['horizon_days']}"
                   f" days, block length {monte_carlo['block_length']:g}, seed "
                   f"{monte_carlo['seed']}")
        click.echo(f"{'':16}" + "".join(f"{q:>10}" for q in ("p5", "p25", "p50", "p75", "p95")))
        for key, label in (("final_return", "final return"), ("max_drawdown", "max drawdown")):
            row = monte_carlo[key]
            click.echo(f"{label:16}" + "".join(f"{_pct(row[q]):>10}" for q in row))
        sharpe = monte_carlo["sharpe"]
        click.echo(f"{'sharpe':16}" + "".join(
            f"{'n/a' if v is None else f'{v:.2f}':>10}" for v in sharpe.values()))
        losses = ", ".join(f"worse than -{float(x) * 100:g} %: {p * 100:.1f} %"
                           for x, p in monte_carlo["prob_loss_worse_than"].items())
        click.echo(f"probability of a loss {losses}")
    click.echo("")
    for sentence in describe(document):
        click.echo(sentence)
