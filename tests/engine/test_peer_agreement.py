"""vectorbt and backtesting.py, set to our conventions (tests/engine/peers.py, also used by
bench/bench_engine.py), must reach the same final equity as our engine on the same signals (no
timing here: that is the benchmark's)."""

from __future__ import annotations

import pytest

INSTALL = "the peers come with the bench extra: pip install -e '.[bench]'"
pytest.importorskip("vectorbt", reason=INSTALL)
pytest.importorskip("backtesting", reason=INSTALL)

from engine.sweep import sweep_final_equity  # noqa: E402
from tests.engine import peers  # noqa: E402  (after the skips: it needs the peers)


@pytest.mark.parametrize("data", ["synthetic", "spy"])
def test_peers_reach_our_final_equity_without_a_stop(data):
    bars = peers.gbm_ohlc(2_000, seed=3) if data == "synthetic" else peers.spy_bars(1_500)
    result = peers.peer_agreement(bars, stop_loss_pct=None)
    assert result["trades"] >= 3  # the check means something only if there were trades
    assert abs(result["vectorbt_rel"]) <= 1e-9
    assert abs(result["backtesting_rel"]) <= 1e-9


def test_peers_reach_our_final_equity_with_a_stop_when_no_entry_bar_is_stopped():
    # The stop conventions agree except on the entry bar (vectorbt checks stops from the next
    # bar on; backtesting.py rejects an SL above the signal bar's close): on these bars neither
    # case occurs, so all three must agree.
    result = peers.peer_agreement(peers.gbm_ohlc(2_000, seed=3), stop_loss_pct=5.0)
    assert result["entry_bar_stops"] == 0 and result["late_backtesting_stops"] == 0
    assert result["trades"] >= 3
    assert abs(result["vectorbt_rel"]) <= 1e-9
    assert abs(result["backtesting_rel"]) <= 1e-9


def test_vectorbt_sweep_reaches_our_final_equities():
    bars = peers.spy_bars(1_000)
    pairs = [(5, 20), (10, 50), (20, 40), (15, 100)]
    grid = {peers.FAST_KEY: [5, 10, 15, 20], peers.SLOW_KEY: [20, 40, 50, 100]}
    wanted = set(pairs)
    ours = sweep_final_equity(
        peers.sma_cross_spec(), bars, grid,
        where=lambda p: (p[peers.FAST_KEY], p[peers.SLOW_KEY]) in wanted)
    order = [(p[peers.FAST_KEY], p[peers.SLOW_KEY]) for p in ours.params]
    peer = peers.vectorbt_sweep(bars, order, run_unique=True)
    assert peer == pytest.approx(ours.final_equity, rel=1e-9)
