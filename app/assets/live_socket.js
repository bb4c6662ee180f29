/*
 * LiveSocket: the browser client of /ws/prices (contract §6) for the Dash Live page.
 * It reconnects after a drop (1 s, doubling to 15 s) and then sends its subscriptions and
 * follow again, so the page survives server restarts. A socket closed with 1008 (the login
 * is no longer valid) is not retried: the page says "log in again".
 * The Next.js portal has the same class in TypeScript (nextjs-portal/lib/liveSocket.ts).
 *
 * The Live page (pages/live.py) keeps its state here and hands a snapshot to Dash with
 * dash_clientside.set_props("live-state", {data}) at most every RENDER_MS.
 */
(function () {
  "use strict";
  var RENDER_MS = 400;
  var MAX_BARS = 250;
  var MAX_POINTS = 2000;

  function LiveSocket(url, onMessage, onStatus) {
    this.url = url;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.symbols = [];
    this.strategyId = null;
    this.delay = 1000;
    this.closed = false;
    this.open();
  }
  LiveSocket.prototype.open = function () {
    var self = this;
    self.onStatus("connecting");
    var ws = new WebSocket(self.url);
    self.ws = ws;
    ws.onopen = function () {
      self.delay = 1000;
      self.onStatus("live");
      if (self.symbols.length) ws.send(JSON.stringify({action: "subscribe", symbols: self.symbols}));
      if (self.strategyId !== null) ws.send(JSON.stringify({action: "follow", strategy_id: self.strategyId}));
    };
    ws.onmessage = function (event) { self.onMessage(JSON.parse(event.data)); };
    ws.onclose = function (event) {
      if (self.closed) return;
      if (event.code === 1008) { self.onStatus("refused: " + event.reason); return; }
      self.onStatus("reconnecting");
      setTimeout(function () { if (!self.closed) self.open(); }, self.delay);
      self.delay = Math.min(self.delay * 2, 15000);
    };
  };
  LiveSocket.prototype.send = function (message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  };
  LiveSocket.prototype.subscribe = function (symbols) {
    this.symbols = symbols.slice();
    this.send({action: "subscribe", symbols: this.symbols});
  };
  LiveSocket.prototype.follow = function (strategyId) {
    this.strategyId = strategyId;
    this.send({action: "follow", strategy_id: strategyId});
  };
  LiveSocket.prototype.close = function () { this.closed = true; if (this.ws) this.ws.close(); };

  function emptyState() {
    return {status: "idle", source: null, label: null, prices: {}, bars: {}, chartSymbol: null,
            signals: [], pnl: null, equity: [], error: null, ticks: 0};
  }

  var page = {socket: null, state: emptyState(), dirty: false, timer: null};

  function handle(message) {
    var s = page.state;
    if (message.type === "tick") {
      s.prices[message.symbol] = {price: message.price, ts: message.ts};
      s.ticks += 1;
      var bars = s.bars[message.symbol] || (s.bars[message.symbol] = []);
      var day = message.ts.slice(0, 10);
      var last = bars[bars.length - 1];
      if (!last || last.ts !== day) {
        bars.push({ts: day, open: message.price, high: message.price, low: message.price,
                   close: message.price, partial: true});
      } else if (last.partial) {
        last.high = Math.max(last.high, message.price);
        last.low = Math.min(last.low, message.price);
        last.close = message.price;
      }
      if (bars.length > MAX_BARS) bars.shift();
    } else if (message.type === "bar") {
      var list = s.bars[message.symbol] || (s.bars[message.symbol] = []);
      var done = {ts: message.ts, open: message.open, high: message.high, low: message.low,
                  close: message.close, partial: false};
      if (list.length && list[list.length - 1].ts === message.ts) list[list.length - 1] = done;
      else list.push(done);
      if (list.length > MAX_BARS) list.shift();
    } else if (message.type === "pnl") {
      s.pnl = message;
      var eq = s.equity;
      if (!eq.length || eq[eq.length - 1].ts !== message.ts) eq.push({ts: message.ts, equity: message.equity});
      if (eq.length > MAX_POINTS) eq.shift();
      if (message.signal) s.signals.push({ts: message.ts, signal: message.signal});
    } else if (message.type === "subscribed") {
      s.source = message.source;
      s.label = message.label;
      if (!s.chartSymbol && message.symbols.length) s.chartSymbol = message.symbols[0];
    } else if (message.type === "error") {
      s.error = message.message;
    } else {
      return;
    }
    page.dirty = true;
  }

  function flush() {
    if (!page.dirty || !window.dash_clientside || !window.dash_clientside.set_props) return;
    page.dirty = false;
    window.dash_clientside.set_props("live-state", {data: JSON.parse(JSON.stringify(page.state))});
  }

  window.ArenaLive = {
    LiveSocket: LiveSocket,
    /* Connect (or reconnect) the page: symbols to stream, optional strategy to follow. */
    start: function (symbols, strategyId, chartSymbol) {
      if (page.socket) page.socket.close();
      page.state = emptyState();
      page.state.chartSymbol = chartSymbol || symbols[0] || null;
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      page.socket = new LiveSocket(scheme + window.location.host + "/ws/prices", handle,
        function (status) { page.state.status = status; page.dirty = true; flush(); });
      if (symbols.length) page.socket.subscribe(symbols);
      if (strategyId !== null && strategyId !== undefined) page.socket.follow(strategyId);
      if (!page.timer) page.timer = setInterval(flush, RENDER_MS);
    },
    stop: function () { if (page.socket) page.socket.close(); page.socket = null; },
  };
})();

/* Rendering of the Live page's state (a clientside callback of pages/live.py). */
(function () {
  "use strict";
  function money(x) { return x === null || x === undefined ? "—" : x.toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2}); }
  function layout(title) {
    return {title: {text: title}, margin: {l: 50, r: 20, t: 40, b: 30}, height: 380,
            xaxis: {rangeslider: {visible: false}, type: "category", nticks: 8},
            paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
            font: {color: "#ccc"}, showlegend: false, uirevision: "live"};
  }
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    live: {
      start: function (clicks, symbols, strategyId, strategySymbols) {
        if (!clicks) return window.dash_clientside.no_update;
        var chosen = symbols || [];
        var following = strategyId === undefined ? null : strategyId;
        var charted = following === null ? chosen[0] : strategySymbols[String(following)];
        window.ArenaLive.start(chosen, following, charted);
        return "started";
      },
      render: function (s) {
        if (!s) return window.dash_clientside.no_update;
        var symbol = s.chartSymbol;
        var bars = (symbol && s.bars[symbol]) || [];
        var candles = {type: "candlestick", x: bars.map(function (b) { return b.ts; }),
          open: bars.map(function (b) { return b.open; }), high: bars.map(function (b) { return b.high; }),
          low: bars.map(function (b) { return b.low; }), close: bars.map(function (b) { return b.close; }),
          name: symbol};
        var byDay = {};
        bars.forEach(function (b) { byDay[b.ts] = b; });
        var marks = function (kind, symbolName, color) {
          var hits = s.signals.filter(function (g) { return g.signal === kind && byDay[g.ts]; });
          return {type: "scatter", mode: "markers", name: kind,
            x: hits.map(function (g) { return g.ts; }),
            y: hits.map(function (g) { return kind === "entry" ? byDay[g.ts].low * 0.995 : byDay[g.ts].high * 1.005; }),
            marker: {symbol: symbolName, size: 12, color: color}};
        };
        var chart = {data: [candles, marks("entry", "triangle-up", "#2ecc71"), marks("exit", "triangle-down", "#e74c3c")],
                     layout: layout((symbol || "") + (s.label ? " · " + s.label : ""))};
        var equity = {data: [{type: "scatter", mode: "lines", x: s.equity.map(function (e) { return e.ts; }),
                              y: s.equity.map(function (e) { return e.equity; }), line: {color: "#3498db"}}],
                      layout: Object.assign(layout("Equity (live)"), {height: 220})};
        var ticker = Object.keys(s.prices).sort().map(function (k) { return k + " " + money(s.prices[k].price); }).join("   ·   ");
        var p = s.pnl || {};
        var position = s.pnl ? (p.position === 0 ? "flat" : (p.side + " " + p.position.toFixed(4))) : "—";
        return [chart, equity, s.status, s.label || "—", ticker || "waiting for prices…",
                position, money(p.entry_price), money(p.unrealized_pnl), money(p.realized_pnl),
                money(p.equity), p.signal || "—", s.pnl ? p.ts : "—", s.error || "", String(s.ticks)];
      }
    }
  });
})();
