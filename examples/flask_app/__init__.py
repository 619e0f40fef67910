"""The demo bank on Flask: ``python -m examples.flask_app`` serves it on 127.0.0.1:5000."""

from .app import create_app as create_app

__all__ = ["create_app"]
