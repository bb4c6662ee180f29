"""WSGI entry point for production servers: ``gunicorn -w 2 --threads 8 app.wsgi:server``.

A production server must say it is one: with PostgreSQL or Redis configured and ``ARENA_ENV``
unset, this refuses to start (see :meth:`Settings.deployment_warning`).
"""

from app import create_app
from app.config import ConfigError, Settings

settings = Settings.from_env()
if settings.deployment_warning():
    raise ConfigError(settings.deployment_warning())
application = create_app(settings)
server = application.server
