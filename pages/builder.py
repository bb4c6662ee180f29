"""Strategy builder: no-code entry/exit rules, sizing, costs and stops."""

import dash

from components.coming import coming_soon

layout = coming_soon(
    "Strategy builder",
    "Compose entry and exit rules from indicators without writing code.",
    [
        "Rules like “RSI(14) < 30” joined with all / any",
        "Position sizing, fees and slippage",
        "Stop-loss, take-profit and trailing stops",
        "Save, duplicate and run",
    ],
)

dash.register_page(
    __name__, path="/builder", name="Builder", title="Builder · Strategy Arena", layout=layout
)
