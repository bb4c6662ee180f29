"""Strategy Arena web application: the Dash app factory on a Flask server."""

from __future__ import annotations

from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash

from app.config import Settings
from app.context import AppContext, install
from app.health import bp as health_bp
from app.version import __version__

ASSETS_DIR = Path(__file__).parent / "assets"


def create_app(settings: Settings | None = None) -> Dash:
    """Build the Dash app and its Flask server (``app.server``) for ``settings``.

    Settings come from the environment when omitted. The returned app serves the pages, the
    REST API and ``/api/health``; run it with ``arena serve`` or gunicorn (``app.wsgi:server``).
    """
    settings = settings or Settings.from_env()
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS_DIR),
        title="Strategy Arena",
        suppress_callback_exceptions=True,
        update_title=None,
    )
    import pages  # noqa: F401  (registers every page; needs the app instantiated first)
    from components.navbar import navbar
    from components.theme import PLOTLY_TEMPLATE  # noqa: F401  (registers the chart theme)

    app.layout = dbc.Container(
        [navbar(__version__), dbc.Container(dash.page_container, fluid=True, id="page")],
        fluid=True,
        className="px-0",
    )
    server = app.server
    install(server, AppContext.build(settings))
    server.register_blueprint(health_bp)
    return app
