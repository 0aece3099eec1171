"""WSGI entry point for gunicorn: `gunicorn api.wsgi:app`."""

from api.web.app import create_app

app = create_app()
