"""The top navigation bar, one link per product area."""

from __future__ import annotations

import dash_bootstrap_components as dbc

NAV_ITEMS = (
    ("Builder", "/builder"),
    ("Results", "/results"),
    ("Stress", "/stress"),
    ("Runs", "/runs"),
    ("Live", "/live"),
)


def navbar(version: str) -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink(label, href=href, active="exact", id=f"nav-{label.lower()}"))
        for label, href in NAV_ITEMS
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Strategy Arena", href="/", id="nav-home"),
                dbc.Nav(links, navbar=True, className="me-auto"),
                dbc.Badge(f"v{version}", color="secondary", className="ms-2"),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-4",
    )
