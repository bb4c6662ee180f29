"""Results of one backtest run: equity vs benchmark, drawdown, trades, metrics."""

import dash

from components.coming import coming_soon

layout = coming_soon(
    "Results",
    "Everything one backtest produced, checked against buy-and-hold.",
    [
        "Equity curve against the benchmark",
        "Drawdown chart",
        "Candlesticks with trade markers",
        "Trade list and the full metric table (Sharpe, Sortino, max drawdown, …)",
    ],
)

dash.register_page(
    __name__, path="/results", name="Results", title="Results · Strategy Arena", layout=layout
)
