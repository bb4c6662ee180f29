"use client";

import { CandlestickSeries, createChart, type CandlestickData, type IChartApi, type ISeriesApi, type Time } from "lightweight-charts";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { LiveSocket, type Pnl, type ServerMessage, type Status } from "@/lib/liveSocket";

const TICKER = ["SPY", "QQQ", "AAPL"];
type Strategy = { id: number; name: string; spec: { symbol: string } };
type Quote = { price: number; ts: string; previous: number | null };

function money(x: number | null | undefined): string {
  return x === null || x === undefined ? "—" : x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function LiveView({ wsUrl }: { wsUrl: string }) {
  const router = useRouter();
  const [strategies, setStrategies] = useState<Strategy[]>([]);
  const [strategyId, setStrategyId] = useState<number | null>(null);
  const [status, setStatus] = useState<Status>("connecting");
  const [label, setLabel] = useState<string>("—");
  const [quotes, setQuotes] = useState<Record<string, Quote>>({});
  const [pnl, setPnl] = useState<Pnl | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [chartSymbol, setChartSymbol] = useState("SPY");
  const socket = useRef<LiveSocket | null>(null);
  const chartBox = useRef<HTMLDivElement | null>(null);
  const series = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const lastCandle = useRef<CandlestickData<Time> | null>(null);
  const charted = useRef(chartSymbol);

  useEffect(() => {
    fetch("/api/v1/strategies", { credentials: "same-origin" }).then(async (answer) => {
      if (answer.status === 401) return router.replace("/login?next=/live");
      if (answer.ok) setStrategies(((await answer.json()) as { strategies: Strategy[] }).strategies);
    }).catch(() => setProblem("the API does not answer"));
  }, [router]);

  useEffect(() => {
    if (!chartBox.current) return;
    const chart: IChartApi = createChart(chartBox.current, {
      height: 360, layout: { background: { color: "#020617" }, textColor: "#cbd5e1" },
      grid: { vertLines: { color: "#1e293b" }, horzLines: { color: "#1e293b" } },
    });
    series.current = chart.addSeries(CandlestickSeries);
    return () => chart.remove();
  }, []);

  useEffect(() => {
    const handle = (message: ServerMessage) => {
      if (message.type === "tick") {
        setQuotes((q) => ({ ...q, [message.symbol]: { price: message.price, ts: message.ts, previous: q[message.symbol]?.price ?? null } }));
        if (message.symbol === charted.current && series.current) {
          const day = message.ts.slice(0, 10) as Time;
          const last = lastCandle.current;
          const candle: CandlestickData<Time> = last && last.time === day
            ? { time: day, open: last.open, high: Math.max(last.high, message.price), low: Math.min(last.low, message.price), close: message.price }
            : { time: day, open: message.price, high: message.price, low: message.price, close: message.price };
          if (!last || candle.time >= last.time) {
            series.current.update(candle);
            lastCandle.current = candle;
          }
        }
      } else if (message.type === "bar" && message.symbol === charted.current && series.current) {
        const candle = { time: message.ts as Time, open: message.open, high: message.high, low: message.low, close: message.close };
        if (!lastCandle.current || candle.time >= lastCandle.current.time) {
          series.current.update(candle);
          lastCandle.current = candle;
        }
      } else if (message.type === "pnl") {
        setPnl(message);
      } else if (message.type === "subscribed") {
        setLabel(message.label);
      } else if (message.type === "error") {
        setProblem(message.message);
      }
    };
    const live = new LiveSocket(wsUrl, handle, setStatus);
    live.subscribe(TICKER);
    socket.current = live;
    return () => live.close();
  }, [wsUrl]);

  function follow(id: number) {
    setStrategyId(id);
    setPnl(null);
    const symbol = strategies.find((s) => s.id === id)?.spec.symbol ?? "SPY";
    charted.current = symbol;
    lastCandle.current = null;
    series.current?.setData([]);
    setChartSymbol(symbol);
    socket.current?.follow(id);
  }

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-4">
        <h1 className="text-2xl font-semibold">Live</h1>
        <span id="status" className={`rounded px-2 py-1 text-sm ${status === "live" ? "bg-emerald-700" : "bg-slate-700"}`}>{status}</span>
        <span className="text-sm text-slate-400">Source: <span id="source" className="text-slate-200">{label}</span></span>
      </div>
      <div id="ticker" className="flex gap-6 font-mono">
        {TICKER.map((symbol) => {
          const quote = quotes[symbol];
          const up = quote && quote.previous !== null && quote.price >= quote.previous;
          return (
            <span key={symbol} id={`ticker-${symbol}`} data-ts={quote?.ts ?? ""}>
              {symbol} <span className={up ? "text-emerald-400" : "text-rose-400"}>{quote ? money(quote.price) : "…"}</span>
            </span>
          );
        })}
      </div>
      {problem && <p id="live-error" className="text-sm text-amber-400">{problem}</p>}
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="lg:col-span-2">
          <p className="mb-2 text-sm text-slate-400">{chartSymbol} daily candles (forming bar updates with each tick)</p>
          <div ref={chartBox} id="chart" />
        </div>
        <section id="pnl-panel" className="space-y-3 rounded border border-slate-800 p-4">
          <h2 className="text-lg font-semibold">Live PnL</h2>
          <select id="strategy" value={strategyId ?? ""} onChange={(e) => follow(Number(e.target.value))}
            className="w-full rounded border border-slate-700 bg-slate-900 px-2 py-1">
            <option value="" disabled>Choose a saved strategy…</option>
            {strategies.map((s) => <option key={s.id} value={s.id}>{s.name} ({s.spec.symbol})</option>)}
          </select>
          <dl className="grid grid-cols-2 gap-y-1 text-sm">
            <dt className="text-slate-400">Position</dt><dd id="pnl-position">{pnl ? (pnl.position === 0 ? "flat" : `${pnl.side} ${pnl.position.toFixed(4)}`) : "—"}</dd>
            <dt className="text-slate-400">Entry price</dt><dd id="pnl-entry">{money(pnl?.entry_price)}</dd>
            <dt className="text-slate-400">Unrealized</dt><dd id="pnl-unrealized">{money(pnl?.unrealized_pnl)}</dd>
            <dt className="text-slate-400">Realized</dt><dd id="pnl-realized">{money(pnl?.realized_pnl)}</dd>
            <dt className="text-slate-400">Equity</dt><dd id="pnl-equity">{money(pnl?.equity)}</dd>
            <dt className="text-slate-400">Signal</dt><dd id="pnl-signal">{pnl?.signal ?? "—"}</dd>
            <dt className="text-slate-400">As of bar</dt><dd id="pnl-ts">{pnl?.ts ?? "—"}</dd>
          </dl>
        </section>
      </div>
    </div>
  );
}
