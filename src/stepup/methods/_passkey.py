"""Passkeys (WebAuthn): the relying party's ceremonies behind the ``passkey`` method.

A passkey is a held method (:class:`~stepup.methods.PasskeyMethod`) whose "code" is a
signed assertion from the user's authenticator. The ceremonies themselves are py_webauthn's (the ``passkeys`` extra),
imported only when a passkey is registered or used; this module turns them into plain
data the engine stores: the credential id, its COSE public key and its signature count.
A binding's ``target`` is the passkey's name ("iCloud Keychain"), which the user may
change.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from typing import Any

from .._config import Settings
from .._errors import ConfigurationError

__all__ = [
    "RelyingParty", "assertion_count", "authentication_options", "credential_id_of",
    "registration_data", "registration_options",
]  # fmt: skip

#: names of authenticators by AAGUID, for a new passkey's default name (the FIDO
#: Alliance's community list holds more; these are the common passkey providers).
AAGUID_NAMES = {
    "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": "Google Password Manager",
    "adce0002-35bc-c60a-648b-0b25f1f05503": "Chrome on Mac",
    "fbfc3007-154e-4ecc-8c0b-6e020557d7bd": "iCloud Keychain",
    "dd4ec289-e01d-41c9-bb89-70fa845d4bf2": "iCloud Keychain (Managed)",
    "08987058-cadc-4b81-b6e1-30de50dcbe96": "Windows Hello",
    "9ddd1817-af5a-4672-a2b9-3e3dd95000a9": "Windows Hello",
    "6028b017-b1d4-4c02-b4b3-afcdafc96bb2": "Windows Hello",
    "bada5566-a7aa-401f-bd96-45619a55120d": "1Password",
    "d548826e-79b4-db40-a3d8-11116f7e8349": "Bitwarden",
    "531126d6-e717-415c-9320-3d9aa6981239": "Dashlane",
    "b84e4048-15dc-4dd0-8640-f4f60813c8af": "NordPass",
    "cb69481e-8ff7-4039-93ec-0a2729a154a8": "YubiKey 5",
    "ee882879-721c-4913-9775-3dfcce97072a": "YubiKey 5",
    "fa2b99dc-9e39-4257-8f92-4a30d23c4118": "YubiKey 5 NFC",
    "2fc0579f-8113-47ea-b116-bb5a8db9202a": "YubiKey 5 NFC",
}
#: the largest credential response taken: real ones are a few KiB at most.
MAX_RESPONSE = 16 * 1024


@dataclass(frozen=True)
class RelyingParty:
    """Who passkeys are made for, for one request.

    :ivar id: the rp id, a registrable domain (``bank.example``).
    :ivar origins: the origins an authenticator's client data may name.
    :ivar name: shown by the authenticator at registration.
    :ivar refusal: set when the request's origin is not one passkeys may be used from;
        a passkey ceremony then stops with a configuration error saying why.
    """

    id: str
    origins: tuple[str, ...]
    name: str = "stepup"
    refusal: str | None = None

    @classmethod
    def for_request(cls, settings: Settings, *, host: str, https: bool) -> RelyingParty:
        """The relying party of a request to ``host``: the settings' rp id and origins.

        The request's ``Host`` names the site only where that is safe: anyone can send any
        ``Host``, and a reverse-proxy phishing site passes its own, so a passkey made under
        a name taken from it would be a passkey for the phishing site. Without
        ``STEPUP_WEBAUTHN_ORIGINS``, an origin is taken from the request only when its host
        is the rp id ``STEPUP_WEBAUTHN_RP_ID`` or under it (browsers refuse any other, so a
        passkey stays bound to the site's own name), or on ``localhost`` for development.

        :param host: the request's ``Host`` (with its port, if any).
        :param https: the request came over HTTPS.
        """
        origin = f"{'https' if https else 'http'}://{host.lower()}"
        hostname = host.lower().rsplit(":", 1)[0] if not host.endswith("]") else host.lower()
        rp_id = settings.webauthn_rp_id or hostname
        name = settings.app_name
        if settings.webauthn_origins:
            if origin not in settings.webauthn_origins:
                why = (
                    f"This page was reached at {origin}, which is not among STEPUP_WEBAUTHN_ORIGINS "
                    f"({', '.join(settings.webauthn_origins)}): add it there, or use the site's own address."
                )
                return cls(rp_id, settings.webauthn_origins, name, why)
            return cls(rp_id, settings.webauthn_origins, name)
        named = bool(settings.webauthn_rp_id) and (hostname == rp_id or hostname.endswith("." + rp_id))
        if hostname == "localhost" or (named and https):
            return cls(rp_id, (origin,), name)
        why = (
            f"Passkeys need the site's name: this page was reached at {origin}. Set STEPUP_WEBAUTHN_RP_ID "
            "(and STEPUP_WEBAUTHN_ORIGINS), serve it over HTTPS, or use http://localhost for development."
        )
        return cls(rp_id, (origin,), name, why)

    def checked(self) -> RelyingParty:
        """This relying party, once found usable.

        :raises ConfigurationError: the request's origin is not one passkeys may be used from.
        """
        if self.refusal is not None:
            raise ConfigurationError(self.refusal)
        return self


def _require() -> None:
    """py_webauthn is there, or a configuration error says how to get it.

    :raises ConfigurationError: it is not installed.
    """
    if importlib.util.find_spec("webauthn") is None:
        raise ConfigurationError('Passkeys need py_webauthn: pip install "stepup[passkeys]".')


def _b64(data: bytes) -> str:
    from webauthn.helpers import bytes_to_base64url

    return bytes_to_base64url(data)


def _unb64(text: str) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    return base64url_to_bytes(text)


def registration_options(
    rp: RelyingParty, *, challenge: bytes, user_id: bytes, user_name: str, exclude: list[str], uv: str
) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptions`` as JSON for ``navigator.credentials.create``:
    a resident key preferred, user verification as ``uv`` says, the subject's passkeys
    excluded (an authenticator holding one says so instead of making a second)."""
    _require()
    import webauthn
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    options = webauthn.generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=user_id, user_name=user_name, challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement(uv)
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=_unb64(c)) for c in exclude],
    )  # fmt: skip
    result: dict[str, Any] = json.loads(webauthn.options_to_json(options))
    return result


def authentication_options(rp: RelyingParty, *, challenge: bytes, allow: list[str], uv: str) -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptions`` as JSON for ``navigator.credentials.get``."""
    _require()
    import webauthn
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    options = webauthn.generate_authentication_options(
        rp_id=rp.id, challenge=challenge, user_verification=UserVerificationRequirement(uv),
        allow_credentials=[PublicKeyCredentialDescriptor(id=_unb64(c)) for c in allow],
    )  # fmt: skip
    result: dict[str, Any] = json.loads(webauthn.options_to_json(options))
    return result


def credential_id_of(response: object) -> str | None:
    """The credential id (base64url) a response names, or ``None`` for what is not one."""
    if not isinstance(response, str) or len(response) > MAX_RESPONSE:
        return None
    try:
        parsed = json.loads(response)
    except ValueError:
        return None
    raw = parsed.get("rawId") if isinstance(parsed, dict) else None
    return raw if isinstance(raw, str) and 0 < len(raw) <= 1024 else None


def registration_data(rp: RelyingParty, *, challenge: bytes, response: object) -> dict[str, Any] | None:
    """What a binding keeps of a registration response that passes, user verified, for
    ``challenge`` from one of ``rp``'s origins; ``None`` for one that does not."""
    _require()
    if credential_id_of(response) is None:
        return None
    import webauthn
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        verified = webauthn.verify_registration_response(
            credential=str(response), expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=list(rp.origins), require_user_verification=True,
        )  # fmt: skip
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return None
    transports = json.loads(str(response)).get("response", {}).get("transports", [])
    return {
        "credential_id": _b64(verified.credential_id),
        "public_key": _b64(verified.credential_public_key),
        "sign_count": verified.sign_count,
        "aaguid": verified.aaguid,
        "transports": [t for t in transports if isinstance(t, str)][:8] if isinstance(transports, list) else [],
        "backed_up": verified.credential_backed_up,
    }


def default_name(aaguid: str) -> str:
    """A new passkey's name: its authenticator's, where the AAGUID is known."""
    return AAGUID_NAMES.get(aaguid, "Passkey")


def assertion_count(
    rp: RelyingParty, *, challenge: bytes, response: object, binding: dict[str, Any], uv_required: bool
) -> int | None:
    """The authenticator's new signature count when ``response`` is an assertion of
    ``binding``'s credential over ``challenge`` from one of ``rp``'s origins (user
    verified when ``uv_required``); ``None`` when it is not. The count is compared by the
    caller, which audits one that went backwards."""
    _require()
    if credential_id_of(response) != binding.get("credential_id"):
        return None
    import webauthn
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        verified = webauthn.verify_authentication_response(
            credential=str(response), expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=list(rp.origins), credential_public_key=_unb64(binding["public_key"]),
            # Compared by the caller, so that a count going backwards is told apart and audited.
            credential_current_sign_count=0, require_user_verification=uv_required,
        )  # fmt: skip
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return None
    return verified.new_sign_count
