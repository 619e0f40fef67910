"""Starlette's signed-cookie sessions under every key of ``STEPUP_SECRET_KEY``: the
examples' ASGI banks sign their session cookie with the app's newest key and still read
one signed with an older one, so that rotating the key (a JSON list, newest last) signs
nobody out. Signed out by a rotation, a user's logout would find no login to end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import itsdangerous
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp


class RotatingSessionMiddleware(SessionMiddleware):
    """:class:`SessionMiddleware` whose signer knows every key (itsdangerous tries each,
    signs with the last)."""

    def __init__(self, app: ASGIApp, secret_keys: Sequence[str], **options: Any) -> None:
        super().__init__(app, secret_key=secret_keys[-1], **options)
        self.signer = itsdangerous.TimestampSigner(list(secret_keys))
