"""A plain card saying what a page will hold once its feature lands (no placeholder numbers)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def coming_soon(title: str, what: str, items: list[str]) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(title, className="card-title page-title"),
                html.P(what, className="lead"),
                html.Ul([html.Li(item) for item in items]),
                html.P("This page is being built; it shows no sample figures until then.",
                       className="text-muted mb-0"),
            ]
        )
    )
