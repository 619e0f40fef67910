"""Resume records: the request a step-up interrupted, kept server side until it is
replayed once.

An adapter that stops a request for a second factor saves what it needs to resume it
(method, path, query, content type, body up to ``max_resume_body``, and for operations
what is being approved) and hands the client only a signed token. The record is bound to
the subject and the session, and taking it for the replay is one atomic step, so however
many challenges were started from it, the request runs at most once.
"""

from __future__ import annotations

import base64
from typing import Any

from ._binding_flows import BindingFlows
from ._core import Flow
from ._crypto import new_id
from ._errors import ChallengeExpired, ChallengeForbidden, InvalidInput

__all__ = ["ResumeFlows", "SavedRequest"]

_RESUME = "resume"
_SALT = "stepup.resume"


class SavedRequest(dict[str, Any]):
    """A request to replay: ``method``, ``path``, ``query``, ``content_type`` and ``body``
    (bytes)."""

    @property
    def body(self) -> bytes:
        """The request body."""
        return base64.b64decode(self.get("body64", ""))


class ResumeFlows(BindingFlows):
    """Saving, reading and taking resume records."""

    def _save_resume(
        self,
        subject: str,
        *,
        session: str | None,
        next_url: str,
        request: dict[str, Any] | None = None,
        body: bytes = b"",
        purpose: str = "step_up",
        operation: str | None = None,
        operation_data: Any = None,
        methods: list[str] | None = None,
        app: str | None = None,
        route: str | None = None,
    ) -> Flow[str]:
        """Keep what is needed to resume an interrupted request; returns a signed token.

        :param subject: who asked.
        :param session: the session's per-login nonce; only it may resume.
        :param next_url: where to go after the second factor (a same-site path).
        :param request: ``method``, ``path``, ``query``, ``content_type`` of a request to
            replay, or ``None`` to resume by redirect.
        :param body: the request body to replay.
        :param purpose: ``login``, ``step_up`` or ``operation``.
        :param operation: what is approved, in words, for the message.
        :param operation_data: what the approval is bound to.
        :param methods: the methods the route accepts (``None``: any).
        :raises InvalidInput: the body is larger than ``max_resume_body`` (413).
        """
        if len(body) > self.settings.max_resume_body:
            raise InvalidInput(
                f"The request is too large to resume after verification "
                f"(at most {self.settings.max_resume_body // 1024} KiB)."
            )
        record: dict[str, Any] = {
            "sub": subject,
            "ses": self._session_digest(session),
            "next": next_url,
            "purpose": purpose,
            "op": operation,
            "opd": None if operation_data is None else operation_data,
            "methods": methods,
            "app": app,
            "route": route,
            "req": None if request is None else {**request, "body64": base64.b64encode(body).decode()},
        }
        resume_id = new_id()
        yield from self._io("store", "update", _RESUME, resume_id, lambda _: (record, None), self.settings.resume_ttl)
        return self.keys.sign(_SALT, resume_id)

    def _load_resume(self, token: object, *, subject: str | None, session: str | None) -> Flow[dict[str, Any]]:
        """The record behind a resume token.

        :raises ChallengeExpired: forged, tampered, expired or already replayed.
        :raises ChallengeForbidden: another subject's or session's.
        """
        resume_id = self.keys.unsign(_SALT, token, self.settings.resume_ttl)
        record = None if not isinstance(resume_id, str) else (yield from self._io("store", "get", _RESUME, resume_id))
        self._check_resume(record, subject, session)
        return record  # type: ignore[return-value]

    def _take_resume(self, token: object, *, subject: str | None, session: str | None) -> Flow[SavedRequest | None]:
        """Take the saved request for its one replay; later calls get an error.

        :returns: the saved request, or ``None`` for a resume by redirect.
        :raises ChallengeExpired: already taken, or expired.
        :raises ChallengeForbidden: another subject's or session's.
        """
        resume_id = self.keys.unsign(_SALT, token, self.settings.resume_ttl)
        if not isinstance(resume_id, str):
            self._check_resume(None, subject, session)
        expected = self._session_digest(session)

        def take(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
            if record is None or record["sub"] != subject or record["ses"] != expected:
                return record, record
            return None, {**record, "taken": True}

        record = yield from self._io("store", "update", _RESUME, resume_id, take, None)
        self._check_resume(record, subject, session)
        if not record or not record.get("taken"):
            raise ChallengeExpired("This request has expired or was already completed. Start it again.")
        return None if record["req"] is None else SavedRequest(record["req"])

    def _check_resume(self, record: dict[str, Any] | None, subject: str | None, session: str | None) -> None:
        if record is None:
            raise ChallengeExpired("This request has expired or was already completed. Start it again.")
        if record["sub"] != subject or record["ses"] != self._session_digest(session):
            raise ChallengeForbidden("This request belongs to another session. Start it again.")
