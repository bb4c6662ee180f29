// Client of /ws/prices (contract §6): reconnects after a drop (1 s doubling to 15 s) and then
// subscribes and follows again. A close with 1008 means the login is not valid: no retry.
// Same behaviour as the Dash page's app/assets/live_socket.js.

export type Tick = { type: "tick"; symbol: string; ts: string; price: number; volume: number; source: string; seq: number };
export type Bar = { type: "bar"; symbol: string; ts: string; open: number; high: number; low: number; close: number; volume: number };
export type Pnl = {
  type: "pnl"; strategy_id: number; ts: string; position: number; entry_price: number | null;
  unrealized_pnl: number; realized_pnl: number; equity: number; signal: string | null; side: string | null;
};
export type Subscribed = { type: "subscribed"; symbols: string[]; source: string; label: string; available: string[] };
export type ServerMessage = Tick | Bar | Pnl | Subscribed | { type: "error"; message: string } | { type: "heartbeat"; ts: string };
export type Status = "connecting" | "live" | "reconnecting" | `refused: ${string}`;

export class LiveSocket {
  private ws: WebSocket | null = null;
  private symbols: string[] = [];
  private strategyId: number | null = null;
  private delay = 1000;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly onMessage: (message: ServerMessage) => void,
    private readonly onStatus: (status: Status) => void,
  ) {
    this.open();
  }

  private open(): void {
    this.onStatus("connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 1000;
      this.onStatus("live");
      if (this.symbols.length) this.send({ action: "subscribe", symbols: this.symbols });
      if (this.strategyId !== null) this.send({ action: "follow", strategy_id: this.strategyId });
    };
    ws.onmessage = (event: MessageEvent<string>) => this.onMessage(JSON.parse(event.data) as ServerMessage);
    ws.onclose = (event: CloseEvent) => {
      if (this.closed) return;
      if (event.code === 1008) {
        this.onStatus(`refused: ${event.reason}`);
        return;
      }
      this.onStatus("reconnecting");
      setTimeout(() => { if (!this.closed) this.open(); }, this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    };
  }

  private send(message: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  subscribe(symbols: string[]): void {
    this.symbols = [...symbols];
    this.send({ action: "subscribe", symbols: this.symbols });
  }

  follow(strategyId: number): void {
    this.strategyId = strategyId;
    this.send({ action: "follow", strategy_id: strategyId });
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }
}
