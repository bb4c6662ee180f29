"""Live: price ticker and the live PnL of a saved strategy."""

import dash

from components.coming import coming_soon

layout = coming_soon(
    "Live",
    "A streaming price ticker and the running profit and loss of a saved strategy.",
    ["WebSocket price ticker", "Live PnL of a saved strategy"],
)

dash.register_page(
    __name__, path="/live", name="Live", title="Live · Strategy Arena", layout=layout
)
