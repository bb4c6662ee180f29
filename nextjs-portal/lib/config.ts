// Addresses of the Python app, read on the server at request time (not inlined at build), so
// one build works against any `arena serve`. Defaults: `arena serve` on 127.0.0.1:8050.
export function apiUrl(): string {
  return (process.env.NEXT_PUBLIC_API_URL ?? "http://127.0.0.1:8050").replace(/\/$/, "");
}

export function wsUrl(): string {
  return process.env.NEXT_PUBLIC_WS_URL ?? apiUrl().replace(/^http/, "ws") + "/ws/prices";
}
