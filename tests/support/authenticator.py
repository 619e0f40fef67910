"""A software passkey authenticator for tests: an EC P-256 key made with ``cryptography``,
``none`` attestation, and authenticator data and client data built as a browser and an
authenticator build them (WebAuthn Level 3, sections 6.1 and 5.8.1)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["SoftAuthenticator", "b64"]

_UP, _UV, _AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftAuthenticator:
    """One passkey on a pretend device, used from ``origin``.

    :param origin: the origin its client data names (as a browser would put it).
    :param user_verification: whether it verifies the user (sets the UV flag).
    """

    def __init__(self, origin: str, *, user_verification: bool = True, aaguid: bytes = bytes(16)) -> None:
        self.origin = origin
        self.user_verification = user_verification
        self.aaguid = aaguid
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.count = 0

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        return json.dumps(data).encode()

    def _flags(self, uv: bool | None) -> int:
        return _UP | (_UV if (self.user_verification if uv is None else uv) else 0)

    def create(self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None) -> str:
        """The JSON a browser posts for ``navigator.credentials.create(options)``."""
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        rp_hash = hashlib.sha256((rp_id or options["rp"]["id"]).encode()).digest()
        attested = self.aaguid + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self._cose_key()
        auth_data = rp_hash + bytes([self._flags(None) | _AT]) + self.count.to_bytes(4, "big") + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        response = {
            "clientDataJSON": b64(client_data),
            "attestationObject": b64(attestation),
            "transports": ["internal"],
        }
        return self._credential(response)

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        uv: bool | None = None,
        count: int | None = None,
    ) -> str:
        """The JSON a browser posts for ``navigator.credentials.get(options)``; the
        signature count moves on by one unless ``count`` says what to report."""
        self.count = self.count + 1 if count is None else count
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        rp_hash = hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
        auth_data = rp_hash + bytes([self._flags(uv)]) + self.count.to_bytes(4, "big")
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data), "signature": b64(signature),
            "userHandle": None,
        }  # fmt: skip
        return self._credential(response)

    def _credential(self, response: dict[str, Any]) -> str:
        cid = b64(self.credential_id)
        body = {"id": cid, "rawId": cid, "type": "public-key", "response": response, "clientExtensionResults": {}}
        return json.dumps(body)
