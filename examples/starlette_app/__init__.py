"""The demo bank on Starlette: ``python -m examples.starlette_app`` serves it on 127.0.0.1:8000."""

from .app import create_app as create_app

__all__ = ["create_app"]
