"""A small FastAPI JSON API protected by stepup's dependency: ``python -m examples.fastapi_app``."""

from .app import create_app as create_app

__all__ = ["create_app"]
