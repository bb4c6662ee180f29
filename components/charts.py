"""Plotly figures of the cockpit: candlesticks with indicators and signals, equity vs benchmark,
underwater, monthly heatmap, yearly bars, rolling Sharpe, trade histogram, run overlays.

Every time-axis chart has a range selector, zoom and unified hover. Long series are thinned
before they are sent to the browser: above ``MAX_POINTS`` points a line keeps the lowest and the
highest value of each bucket of bars (so peaks and troughs survive), and candles are merged into
buckets (first open, highest high, lowest low, last close).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.rule_summary import operand_words
from components.theme import ACCENT, DOWN, MUTED, UP

MAX_POINTS = 5000
RANGE_BUTTONS = [{"count": 1, "label": "1Y", "step": "year", "stepmode": "backward"},
                 {"count": 5, "label": "5Y", "step": "year", "stepmode": "backward"},
                 {"step": "all", "label": "all"}]
INDICATOR_COLOURS = ("#f39c12", "#9b59b6", "#1abc9c", "#e67e22", "#fd79a8", "#00cec9")


# --- thinning --------------------------------------------------------------------------------


def thin_positions(values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Positions to keep so that at most ``max_points`` remain: per bucket of consecutive bars
    its lowest and highest value (NaN-safe), always the first and last bar; all when short."""
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, max_points // 2 - 1)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    keep = {0, n - 1}
    filled = np.where(np.isfinite(values), values, np.nan)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        chunk = filled[lo:hi]
        if hi <= lo or not np.isfinite(chunk).any():
            keep.add(lo)
            continue
        keep.add(lo + int(np.nanargmin(chunk)))
        keep.add(lo + int(np.nanargmax(chunk)))
    return np.array(sorted(keep))


def thin_series(series: pd.Series, max_points: int = MAX_POINTS) -> pd.Series:
    return series.iloc[thin_positions(series.to_numpy(dtype=float), max_points)]


def bucket_bars(bars: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """OHLC bars merged into at most ``max_points`` buckets (dated by their first bar)."""
    n = len(bars)
    if n <= max_points:
        return bars
    group = np.arange(n) * max_points // n
    grouped = bars.assign(_date=bars.index).groupby(group)
    merged = pd.DataFrame({"open": grouped["open"].first(), "high": grouped["high"].max(),
                           "low": grouped["low"].min(), "close": grouped["close"].last()})
    merged.index = pd.DatetimeIndex(grouped["_date"].first(), name="date")
    return merged


# --- shared layout ---------------------------------------------------------------------------


def _finish(figure: go.Figure, title: str, height: int, dates: bool = True,
            percent: bool = False) -> go.Figure:
    figure.update_layout(title={"text": title, "x": 0.01}, height=height, hovermode="x unified",
                         legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1,
                                 "xanchor": "right"},
                         margin={"l": 55, "r": 15, "t": 60, "b": 35})
    if dates:
        figure.update_layout(xaxis={"rangeselector": {"buttons": RANGE_BUTTONS, "x": 0, "y": 1.0,
                                                      "yanchor": "bottom", "bgcolor": "#3a3f44",
                                                      "activecolor": ACCENT},
                                    "rangeslider": {"visible": False}})
    if percent:
        figure.update_yaxes(tickformat=".0%")
    return figure


def empty_figure(message: str, height: int = 300) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper",
                          yref="paper", font={"color": MUTED})
    figure.update_layout(height=height, xaxis={"visible": False}, yaxis={"visible": False})
    return figure


# --- prices ----------------------------------------------------------------------------------


def price_figure(panel: Any, trades: list[dict[str, Any]] | None = None,
                 spec: dict[str, Any] | None = None, height: int = 520,
                 title: str = "Prices, indicators and signals") -> go.Figure:
    """Candlesticks of ``panel.bars`` with the overlay indicators on them, oscillators in a
    panel below, triangles where the entry (▲ under the bar) and exit (▼ over it) conditions
    hold, and, given ``trades``, entry/exit fills with the stop and target levels of each trade
    (from ``spec``'s percentages of the entry price)."""
    bars = panel.bars
    oscillators = [line for line in panel.indicators if not line.overlay]
    rows = 2 if oscillators else 1
    figure = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.03,
                           row_heights=[0.7, 0.3] if rows == 2 else [1.0])
    shown = bucket_bars(bars)
    figure.add_trace(go.Candlestick(x=shown.index, open=shown["open"], high=shown["high"],
                                    low=shown["low"], close=shown["close"], name="price",
                                    increasing_line_color=UP, decreasing_line_color=DOWN),
                     row=1, col=1)
    for number, line in enumerate(panel.indicators):
        series = thin_series(pd.Series(line.values, index=bars.index))
        figure.add_trace(go.Scatter(x=series.index, y=series.to_numpy(),
                                    name=operand_words(line.operand), mode="lines",
                                    line={"width": 1.2,
                                          "color": INDICATOR_COLOURS[number
                                                                     % len(INDICATOR_COLOURS)]}),
                         row=1 if line.overlay else 2, col=1)
    for holds, name, y, symbol, colour in (
            (panel.entry_holds, "entry condition", bars["low"] * 0.985, "triangle-up", UP),
            (panel.exit_holds, "exit condition", bars["high"] * 1.015, "triangle-down", DOWN)):
        mask = np.asarray(holds, dtype=bool)
        if mask.any():
            marks = y[mask]
            marks = marks.iloc[thin_positions(marks.to_numpy(), MAX_POINTS // 2)]
            figure.add_trace(go.Scatter(x=marks.index, y=marks.to_numpy(), mode="markers",
                                        name=name, marker={"symbol": symbol, "size": 7,
                                                           "color": colour, "opacity": 0.7}),
                             row=1, col=1)
    if trades:
        _add_trades(figure, trades, spec or {})
    figure.update_xaxes(rangeslider={"visible": False})
    return _finish(figure, title, height)


def _add_trades(figure: go.Figure, trades: list[dict[str, Any]], spec: dict[str, Any]) -> None:
    figure.add_trace(go.Scatter(
        x=[t["entry_date"] for t in trades], y=[t["entry_price"] for t in trades],
        mode="markers", name="entry fill",
        marker={"symbol": "circle", "size": 8, "color": ACCENT, "line": {"color": "white",
                                                                          "width": 1}}),
        row=1, col=1)
    figure.add_trace(go.Scatter(
        x=[t["exit_date"] for t in trades], y=[t["exit_price"] for t in trades],
        mode="markers", name="exit fill", text=[t["exit_reason"] for t in trades],
        marker={"symbol": "x", "size": 8, "color": "white"}), row=1, col=1)
    for key, name, colour in (("stop_loss_pct", "stop", DOWN), ("take_profit_pct", "target", UP)):
        pct = spec.get(key)
        if not pct:
            continue
        xs: list[Any] = []
        ys: list[Any] = []
        for t in trades:
            sign = 1 if t["side"] == "long" else -1
            factor = 1 - sign * pct / 100 if key == "stop_loss_pct" else 1 + sign * pct / 100
            level = t["entry_price"] * factor
            xs += [t["entry_date"], t["exit_date"], None]
            ys += [level, level, None]
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"{name} level",
                                    line={"color": colour, "width": 1, "dash": "dot"},
                                    connectgaps=False), row=1, col=1)


# --- results ---------------------------------------------------------------------------------


def equity_figure(frame: pd.DataFrame, benchmark: str, height: int = 380) -> go.Figure:
    """Strategy equity and buy-and-hold of the benchmark; buttons switch the y axis between
    linear and log scale (in the browser, no round trip)."""
    figure = go.Figure()
    strategy = thin_series(frame["equity"])
    figure.add_trace(go.Scatter(x=strategy.index, y=strategy.to_numpy(), name="strategy",
                                line={"color": ACCENT, "width": 1.6}))
    if frame["benchmark_equity"].notna().any():
        bench = thin_series(frame["benchmark_equity"])
        figure.add_trace(go.Scatter(x=bench.index, y=bench.to_numpy(),
                                    name=f"buy & hold {benchmark}",
                                    line={"color": MUTED, "width": 1.2}))
    figure.update_layout(updatemenus=[{
        "type": "buttons", "direction": "right", "x": 1, "xanchor": "right", "y": 1.18,
        "showactive": True, "bgcolor": "#3a3f44", "font": {"color": "#c8c8c8"},
        "buttons": [{"label": "linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
                    {"label": "log", "method": "relayout", "args": [{"yaxis.type": "log"}]}]}],
        yaxis_title="equity")
    return _finish(figure, "Equity vs benchmark", height)


def drawdown_figure(drawdowns: pd.DataFrame, benchmark: str, height: int = 280) -> go.Figure:
    """Underwater chart: how far below its running peak each curve is (fractions ≤ 0)."""
    figure = go.Figure()
    strategy = thin_series(drawdowns["strategy"])
    figure.add_trace(go.Scatter(x=strategy.index, y=strategy.to_numpy(), name="strategy",
                                fill="tozeroy", line={"color": DOWN, "width": 1}))
    if drawdowns["benchmark"].notna().any():
        bench = thin_series(drawdowns["benchmark"])
        figure.add_trace(go.Scatter(x=bench.index, y=bench.to_numpy(),
                                    name=f"buy & hold {benchmark}",
                                    line={"color": MUTED, "width": 1, "dash": "dot"}))
    return _finish(figure, "Drawdown (underwater)", height, percent=True)


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def monthly_heatmap(table: pd.DataFrame, height: int | None = None) -> go.Figure:
    """Years × months heatmap of monthly returns (red losses, green gains, centred at 0)."""
    values = table.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    limit = float(np.max(np.abs(finite))) if finite.size else 0.01
    text = [["" if not math.isfinite(v) else f"{v * 100:.1f}" for v in row] for row in values]
    figure = go.Figure(go.Heatmap(
        z=values, x=list(MONTHS), y=[str(y) for y in table.index], text=text,
        texttemplate="%{text}", colorscale=[[0, DOWN], [0.5, "#2b3035"], [1, UP]],
        zmin=-limit, zmax=limit, hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>",
        colorbar={"tickformat": ".0%"}))
    figure.update_yaxes(autorange="reversed", type="category")
    return _finish(figure, "Monthly returns (%)", height or 120 + 22 * len(table), dates=False)


def yearly_figure(years: pd.DataFrame, benchmark: str, height: int = 300) -> go.Figure:
    figure = go.Figure(go.Bar(x=[str(y) for y in years.index], y=years["strategy"],
                              name="strategy", marker_color=ACCENT))
    if "benchmark" in years:
        figure.add_trace(go.Bar(x=[str(y) for y in years.index], y=years["benchmark"],
                                name=f"buy & hold {benchmark}", marker_color=MUTED))
    figure.update_layout(barmode="group")
    return _finish(figure, "Yearly returns", height, dates=False, percent=True)


def rolling_sharpe_figure(series: pd.Series, height: int = 280) -> go.Figure:
    thinned = thin_series(series)
    figure = go.Figure(go.Scatter(x=thinned.index, y=thinned.to_numpy(),
                                  name="6-month Sharpe", line={"color": ACCENT, "width": 1.2}))
    figure.add_hline(y=0, line={"color": MUTED, "width": 1, "dash": "dot"})
    return _finish(figure, "Rolling 6-month Sharpe (126 days, annualised)", height)


def trade_histogram(returns: list[float], height: int = 280) -> go.Figure:
    if not returns:
        return empty_figure("No trades", height)
    figure = go.Figure(go.Histogram(x=returns, nbinsx=min(40, max(5, len(returns))),
                                    marker_color=ACCENT, name="trades",
                                    hovertemplate="%{x:.1%}: %{y} trades<extra></extra>"))
    figure.add_vline(x=0, line={"color": DOWN, "width": 1})
    figure.update_xaxes(tickformat=".0%")
    return _finish(figure, f"Trade returns ({len(returns)} trades)", height, dates=False)


def overlay_figure(curves: list[tuple[str, pd.Series]], title: str, height: int = 360,
                   percent: bool = False) -> go.Figure:
    """Several runs' curves on one chart (e.g. equity rebased to 100, drawdowns)."""
    figure = go.Figure()
    for number, (label, series) in enumerate(curves):
        thinned = thin_series(series)
        figure.add_trace(go.Scatter(x=thinned.index, y=thinned.to_numpy(), name=label,
                                    line={"width": 1.4, "color": (ACCENT, "#f39c12", UP,
                                                                  "#9b59b6")[number % 4]}))
    return _finish(figure, title, height, percent=percent)
