"""Run history and side-by-side comparison."""

import dash

from components.coming import coming_soon

layout = coming_soon(
    "Runs",
    "Every backtest, stress test and sweep you ran, with its status and progress.",
    ["History with status and progress", "Compare runs side by side"],
)

dash.register_page(
    __name__, path="/runs", name="Runs", title="Runs · Strategy Arena", layout=layout
)
