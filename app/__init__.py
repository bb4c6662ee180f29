"""Strategy Arena web application: the Dash app factory on a Flask server."""

from __future__ import annotations

import logging
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import Settings
from app.context import AppContext, install
from app.health import bp as health_bp
from app.version import __version__

log = logging.getLogger(__name__)
ASSETS_DIR = Path(__file__).parent / "assets"
# The `@dash.callback`s of pages and components, kept for every app built in this process.
_PAGE_CALLBACK_LIST: list = []
_PAGE_CALLBACK_MAP: dict = {}


def create_app(settings: Settings | None = None) -> Dash:
    """Build the Dash app and its Flask server (``app.server``) for ``settings``.

    Settings come from the environment when omitted. The returned app serves the pages (all
    behind a login but /login and /register), the REST API under /api/v1 and ``/api/health``;
    run it with ``arena serve`` or gunicorn (``app.wsgi:server``). In embedded mode it migrates
    the database (and seeds the demo account into an empty one) first; in server mode it
    answers 503 until the database is migrated (``arena db upgrade``).
    """
    settings = settings or Settings.from_env()
    warning = settings.deployment_warning()
    if warning:
        log.warning("%s", warning)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS_DIR),
        title="Strategy Arena",
        suppress_callback_exceptions=True,
        update_title=None,
        # dash-renderer copies the JWT CSRF cookie into this header on every callback POST
        csrf_token_name="csrf_access_token",
        csrf_header_name="X-CSRF-TOKEN",
    )
    import pages  # noqa: F401  (registers every page; needs the app instantiated first)
    from components.navbar import navbar
    from components.theme import PLOTLY_TEMPLATE  # noqa: F401  (registers the chart theme)

    _adopt_page_callbacks(app)
    app.layout = dbc.Container(
        [navbar(__version__), dbc.Container(dash.page_container, fluid=True, id="page")],
        fluid=True,
        className="px-0",
    )
    server = app.server
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    context = AppContext.build(settings)
    install(server, context)
    from app.runs.reaper import ReaperThread

    # abandoned runs are failed on a schedule, never inside a request (workers reap too)
    context.on_close(ReaperThread(context).start().stop)

    from app.api import register_api
    from app.auth import init_auth
    from app.callback_guard import install_callback_guard
    from app.login_pages import bp as login_pages_bp
    from app.request_guard import install_request_guard
    from app.security_headers import install_security_headers
    from app.startup import install_schema_gate

    install_security_headers(server, settings, app.csp_hashes)
    install_request_guard(server, settings)
    server.extensions["arena_demo_seeded"] = install_schema_gate(server, context)
    init_auth(server, context)
    install_callback_guard(app)
    server.register_blueprint(health_bp)
    server.register_blueprint(login_pages_bp)
    register_api(server)
    from app.jobs_dashboard import install_jobs_dashboard

    server.extensions["arena_jobs_dashboard"] = install_jobs_dashboard(server, context)
    return app


def _adopt_page_callbacks(app: Dash) -> None:
    """Give ``app`` every module-level ``@callback``.

    Dash moves those from its global registry into the first app that starts serving and
    leaves the registry empty, so a second app in the same process (tests, a reloaded
    factory) would have pages without callbacks. We take them out of the registry once,
    and hand each app its own copy.
    """
    from dash import _callback  # the global registry behind `dash.callback` (Dash 4)

    _PAGE_CALLBACK_LIST.extend(_callback.GLOBAL_CALLBACK_LIST)
    _PAGE_CALLBACK_MAP.update(_callback.GLOBAL_CALLBACK_MAP)
    _callback.GLOBAL_CALLBACK_LIST.clear()
    _callback.GLOBAL_CALLBACK_MAP.clear()
    app._callback_list.extend(dict(item) for item in _PAGE_CALLBACK_LIST)
    app.callback_map.update({key: dict(value) for key, value in _PAGE_CALLBACK_MAP.items()})
