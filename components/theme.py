"""The one dark theme used throughout: Bootswatch "Slate" (shipped in app/assets, no CDN)
and a matching Plotly template so charts and page agree."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

UP = "#2ecc71"      # gains, strategy better than benchmark
DOWN = "#e74c3c"    # losses, drawdowns
ACCENT = "#3498db"  # the strategy's own line
MUTED = "#95a5a6"   # benchmark and secondary lines
PAPER = "#272b30"   # Slate's body background

PLOTLY_TEMPLATE = "arena_dark"

pio.templates[PLOTLY_TEMPLATE] = go.layout.Template(
    layout=go.Layout(
        paper_bgcolor=PAPER,
        plot_bgcolor=PAPER,
        font={"color": "#c8c8c8", "family": "system-ui, -apple-system, Segoe UI, sans-serif"},
        colorway=[ACCENT, MUTED, UP, DOWN, "#f39c12", "#9b59b6"],
        xaxis={"gridcolor": "#3a3f44", "zerolinecolor": "#3a3f44"},
        yaxis={"gridcolor": "#3a3f44", "zerolinecolor": "#3a3f44"},
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
    )
)
pio.templates.default = "plotly_dark+" + PLOTLY_TEMPLATE
