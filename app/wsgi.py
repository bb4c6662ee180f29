"""WSGI entry point for production servers: ``gunicorn -w 2 --threads 8 app.wsgi:server``."""

from app import create_app

application = create_app()
server = application.server
