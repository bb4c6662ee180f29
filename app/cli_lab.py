"""``arena sweep`` and ``arena walkforward``: option parsing, a progress bar on a terminal and
the readable reports (docs/cli.md; ``--json`` prints docs/results.md#sweep-result and the
walk-forward result)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from app.cli_support import fail
from engine.options import OptionsError, SweepOptions, parse_options
from engine.overfitting import describe


def read_grid(path: str) -> dict[str, Any]:
    """The grid JSON object of ``--grid`` (exit 2 when unreadable)."""
    try:
        grid = json.loads(Path(path).read_text())
    except OSError as exc:
        fail(f"cannot read grid {path}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        fail(f"invalid grid {path}: not JSON ({exc})")
    if not isinstance(grid, dict):
        fail(f"invalid grid {path}: must be an object of spec path -> list of values")
    return grid


def lab_options(model: type[SweepOptions], spec: dict[str, Any], **given: Any) -> Any:
    """``given`` validated by the run kind's options model against ``spec`` (exit 2 naming
    the command-line option otherwise)."""
    try:
        return parse_options(model, given, spec=spec)
    except OptionsError as exc:
        fail("\n".join(f"--{path.replace('_', '-')}: {message}"
                       for path, message in exc.errors.items()))


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[float, str], None]]:
    """``progress(fraction, stage)`` drawing a bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        yield lambda fraction, stage: None
        return
    with click.progressbar(length=1000, label=label, file=sys.stderr) as bar:
        def update(fraction: float, stage: str) -> None:
            bar.label = f"{label} ({stage})"
            bar.update(max(0, int(fraction * 1000) - bar.pos))
        yield update


def _num(value: Any, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:+.1f} %" if percent else f"{value:.2f}"


def print_sweep(document: dict[str, Any], as_json: bool, top: int = 10) -> None:
    """docs/results.md#sweep-result as JSON, or the best combinations by Sharpe and the verdict."""
    if as_json:
        click.echo(json.dumps(document, allow_nan=False))
        return
    rows = document["results"]
    valid = [r for r in rows if r.get("metrics")]
    click.echo(f"{document['spec']['name']}: {len(rows)} combinations, "
               f"{len(rows) - len(valid)} invalid")
    ranked = sorted(valid, key=lambda r: -(r["metrics"].get("sharpe") or -1e9))[:top]
    keys = list(document["grid"])
    header = "".join(f"{k[-24:]:>26}" for k in keys) + f"{'sharpe':>9}{'cagr':>10}{'max dd':>10}"
    click.echo(header)
    for row in ranked:
        m = row["metrics"]
        click.echo("".join(f"{json.dumps(row['params'][k]):>26}" for k in keys)
                   + f"{_num(m.get('sharpe')):>9}{_num(m.get('cagr'), True):>10}"
                   f"{_num(m.get('max_drawdown'), True):>10}")
    for row in rows:
        if row.get("error"):
            click.echo(f"invalid {json.dumps(row['params'])}: {row['error']}")
    if document.get("overfitting"):
        click.echo("")
        click.echo(describe(document["overfitting"]))


def print_walkforward(document: dict[str, Any], as_json: bool) -> None:
    """The walk-forward result as JSON, or its folds, efficiency and stability."""
    if as_json:
        click.echo(json.dumps(document, allow_nan=False))
        return
    settings = document["settings"]
    click.echo(f"{document['spec']['name']}: {len(document['folds'])} {settings['mode']} folds, "
               f"optimising {settings['metric']}; positions "
               f"{settings['positions_at_boundaries']} at fold boundaries")
    click.echo(f"{'fold':>4}  {'out of sample':23}{'IS cagr':>10}{'OOS cagr':>10}"
               f"{'IS sharpe':>11}{'OOS sharpe':>11}  params")
    for fold in document["folds"]:
        ins, oos = fold["in_sample_metrics"], fold["out_of_sample_metrics"]
        window = f"{fold['out_of_sample']['start']}..{fold['out_of_sample']['end']}"
        click.echo(f"{fold['fold'] + 1:>4}  {window:23}{_num(ins.get('cagr'), True):>10}"
                   f"{_num(oos.get('cagr'), True):>10}{_num(ins.get('sharpe')):>11}"
                   f"{_num(oos.get('sharpe')):>11}  {json.dumps(fold['params'])}")
    metrics = document["oos_metrics"]
    click.echo("")
    click.echo(f"stitched out of sample: CAGR {_num(metrics.get('cagr'), True)}, Sharpe "
               f"{_num(metrics.get('sharpe'))}, max drawdown "
               f"{_num(metrics.get('max_drawdown'), True)}")
    click.echo(f"walk-forward efficiency (OOS / IS annualised return): "
               f"{_num(document['efficiency'])}")
    for key, entry in document["stability"].items():
        click.echo(f"parameter {key}: {entry['distinct']} distinct values, "
                   f"{entry['mode']} chosen in {entry['mode_share'] * 100:.0f} % of folds")


