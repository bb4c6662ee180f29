"""``/ws/prices`` (docs/api.md#live-websocket) on a real server: authentication, subscriptions,
ticks and bars,
heartbeats, and ``follow`` limited to the caller's own strategies."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.live.conftest import collect

pytestmark = pytest.mark.slow


async def _close_of(url: str, **kwargs) -> tuple[int, str]:
    async with connect(url, **kwargs) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_ticks_arrive_in_time_order_without_gaps_and_bars_summarise_them(live_server):
    async def scenario():
        user = live_server.user()
        async with connect(f"{live_server.ws}?token={user['token']}") as ws:
            await ws.send(json.dumps({"action": "subscribe", "symbols": ["spy"]}))
            return await collect(ws, 14, ("tick", "bar", "subscribed"))

    messages = asyncio.run(scenario())
    subscribed = [m for m in messages if m["type"] == "subscribed"]
    assert subscribed[0]["symbols"] == ["SPY"] and subscribed[0]["source"] == "replay"
    assert "simulated" in subscribed[0]["label"]
    ticks = [m for m in messages if m["type"] == "tick"]
    assert {t["symbol"] for t in ticks} == {"SPY"} and {t["source"] for t in ticks} == {"replay"}
    seqs = [t["seq"] for t in ticks]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a tick is missing"
    stamps = [t["ts"] for t in ticks]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    # a bar that follows four ticks of its day has their open, extremes and close
    bars = [m for m in messages if m["type"] == "bar" and m["symbol"] == "SPY"]
    complete = [b for b in bars if sum(t["ts"].startswith(b["ts"]) for t in ticks) == 4]
    assert complete, "no full day of ticks was seen"
    day = [t["price"] for t in ticks if t["ts"].startswith(complete[0]["ts"])]
    bar = complete[0]
    assert (day[0], max(day), min(day), day[-1]) == (bar["open"], bar["high"], bar["low"],
                                                      bar["close"])


def test_unsubscribe_stops_the_symbol_and_unknown_symbols_are_errors(live_server):
    async def scenario():
        user = live_server.user()
        async with connect(f"{live_server.ws}?token={user['token']}") as ws:
            await ws.send(json.dumps({"action": "subscribe", "symbols": ["SPY", "QQQ"]}))
            await collect(ws, 4)
            await ws.send(json.dumps({"action": "unsubscribe", "symbols": ["QQQ"]}))
            await collect(ws, 1, ("subscribed",))
            after = await collect(ws, 6)
            await ws.send(json.dumps({"action": "subscribe", "symbols": ["NOPE"]}))
            error = await collect(ws, 1, ("error",))
            await ws.send("not json")
            error2 = await collect(ws, 1, ("error",))
            return after, error[0], error2[0]

    after, error, error2 = asyncio.run(scenario())
    assert {t["symbol"] for t in after} == {"SPY"}
    assert "NOPE" in error["message"] and "available: AAPL, QQQ, SPY" in error["message"]
    assert "not JSON" in error2["message"]


def test_a_quiet_connection_gets_heartbeats(live_server):
    async def scenario():
        user = live_server.user()
        async with connect(f"{live_server.ws}?token={user['token']}") as ws:
            return await collect(ws, 1, ("heartbeat",), timeout=5)

    assert asyncio.run(scenario())[0]["ts"].endswith("Z")


def test_a_bad_token_closes_with_1008_and_a_reason(live_server):
    code, reason = asyncio.run(_close_of(f"{live_server.ws}?token=not-a-jwt"))
    assert code == 1008 and "invalid token" in reason


def test_no_token_closes_with_1008_and_says_how_to_log_in(live_server):
    code, reason = asyncio.run(_close_of(live_server.ws))
    assert code == 1008 and "no token" in reason


def test_an_expired_token_closes_with_1008(live_server):
    user = live_server.user()
    with live_server.api.state.dash.server.app_context():
        expired = create_access_token(identity=str(user["id"]),
                                      expires_delta=timedelta(seconds=-5))
    code, reason = asyncio.run(_close_of(f"{live_server.ws}?token={expired}"))
    assert code == 1008 and "expired" in reason


def test_a_revoked_token_closes_with_1008(live_server):
    user = live_server.user()
    logout = user["session"].post(f"{live_server.base}/api/v1/auth/logout", timeout=10,
                                  headers={"Authorization": f"Bearer {user['token']}"})
    assert logout.status_code in (200, 204), logout.text
    code, reason = asyncio.run(_close_of(f"{live_server.ws}?token={user['token']}"))
    assert code == 1008 and "revoked" in reason


def test_the_session_cookie_authenticates_and_a_foreign_origin_is_refused(live_server):
    user = live_server.user()
    cookie = f"access_token_cookie={user['session'].cookies['access_token_cookie']}"

    async def own_origin():
        async with connect(live_server.ws, additional_headers={"Cookie": cookie},
                           origin=live_server.base) as ws:
            await ws.send(json.dumps({"action": "subscribe", "symbols": ["QQQ"]}))
            return await collect(ws, 1)

    assert asyncio.run(own_origin())[0]["symbol"] == "QQQ"
    code, reason = asyncio.run(_close_of(live_server.ws, additional_headers={"Cookie": cookie},
                                         origin="http://evil.example"))
    assert code == 1008 and "origin" in reason


def test_following_another_users_strategy_gives_an_error_and_no_data(live_server):
    from engine.spec import load_example

    owner, intruder = live_server.user(), live_server.user()
    spec = {**load_example("sma_crossover").to_dict(), "name": "owner's"}
    strategy_id = live_server.save_strategy(owner, spec)

    async def scenario():
        async with connect(f"{live_server.ws}?token={intruder['token']}") as ws:
            await ws.send(json.dumps({"action": "follow", "strategy_id": strategy_id}))
            error = await collect(ws, 1, ("error",))
            quiet = await collect(ws, 2, ("heartbeat", "pnl", "tick", "bar"), timeout=5)
            return error[0], quiet

    error, quiet = asyncio.run(scenario())
    assert error["message"] == f"strategy {strategy_id} not found among your strategies"
    assert {m["type"] for m in quiet} == {"heartbeat"}, "no prices or PnL may follow"
