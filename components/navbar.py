"""The top navigation bar: one link per product area, the logged-in user and a logout button."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

NAV_ITEMS = (
    ("Strategies", "/strategies"),
    ("Builder", "/builder"),
    ("Stress", "/stress"),
    ("Lab", "/lab"),
    ("Runs", "/runs"),
    ("Live", "/live"),
)


def navbar(version: str) -> dbc.Navbar:
    """Links, the user's email and a logout button; below 992 px they fold behind a toggler."""
    links = [
        dbc.NavItem(dbc.NavLink(label, href=href, active="exact", id=f"nav-{label.lower()}"))
        for label, href in NAV_ITEMS
    ]
    account = html.Div(
        [
            html.Span(id="nav-user", className="navbar-text small me-3 text-truncate",
                      style={"maxWidth": "16rem"}),
            dbc.Button("Log out", id="nav-logout", color="secondary", size="sm",
                       outline=True),
        ],
        className="d-flex align-items-center",
    )
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Strategy Arena", href="/", id="nav-home"),
                dbc.NavbarToggler(id="nav-toggler"),
                dbc.Collapse(
                    [dbc.Nav(links, navbar=True, className="me-auto"), account],
                    id="nav-collapse", navbar=True, is_open=False,
                ),
                dbc.Badge(f"v{version}", color="secondary", className="ms-2"),
                dcc.Location(id="nav-location"),
                dcc.Location(id="nav-logout-redirect", refresh=True),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        expand="lg",
        className="mb-4",
    )


@callback(Output("nav-collapse", "is_open"), Input("nav-toggler", "n_clicks"),
          State("nav-collapse", "is_open"), prevent_initial_call=True)
def toggle_menu(_clicks: int | None, is_open: bool) -> bool:
    return not is_open


@callback(Output("nav-user", "children"), Input("nav-location", "pathname"))
def show_user(_pathname: str | None) -> str:
    """The logged-in user's email (every Dash request is authenticated by then)."""
    from app.auth import current_user_id
    from app.context import arena
    from app.services.users import get_user

    with arena().sessions() as session:
        user = get_user(session, current_user_id())
        return user.email if user else ""


@callback(Output("nav-logout-redirect", "href"), Input("nav-logout", "n_clicks"),
          prevent_initial_call=True)
def log_out(n_clicks: int | None) -> str:
    """Revoke this browser's tokens, clear its cookies and go to the login page."""
    from app.auth import logout_browser

    if not n_clicks:
        return no_update
    logout_browser()
    return "/login"
