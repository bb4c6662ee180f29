"""Home: what Strategy Arena does and where to start."""

import dash
import dash_bootstrap_components as dbc
from dash import html

layout = dbc.Container(
    [
        html.H1("Strategy Arena", className="page-title"),
        html.P(
            "Describe a trading rule, test it on real market history with honest costs and "
            "no look-ahead, then see how it would have survived 2008, the 2020 crash and "
            "the 2022 bear market before you risk money on it.",
            className="lead",
        ),
        dbc.Row(
            [
                dbc.Col(
                    dbc.Button("Build a strategy", href="/builder", color="primary"), width="auto"
                ),
                dbc.Col(dbc.Button("Stress-test", href="/stress", color="secondary"), width="auto"),
                dbc.Col(dbc.Button("Past runs", href="/runs", color="secondary"), width="auto"),
            ],
            className="g-2",
        ),
    ],
    fluid=True,
)

dash.register_page(__name__, path="/", name="Home", title="Strategy Arena", layout=layout)
