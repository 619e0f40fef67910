"""Checks of every setting's value, and reading settings from strings (the environment,
config files): what :class:`stepup.Settings` does when it is made, apart from its fields."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from limits import parse

from ._errors import ConfigurationError
from ._i18n import available_locales, normalize_locale
from ._workflows import check_workflows

__all__ = ["SECRET_KEY_LIST_FORM", "check_settings", "check_workflows", "convert", "secret_keys_from_string"]

#: a channel's name, its fallback route or its route for a country: ``voice``, ``voice:fallback``, ``voice:US``.
_SENDER_ROUTE = re.compile(r"[a-z][a-z0-9_]{0,31}(:fallback|:[A-Z]{2})?")


def check_settings(settings: Any) -> None:
    """Refuse a value that could never work (a :class:`stepup.Settings` being made).

    :raises ConfigurationError: naming the setting and what it takes.
    """
    positive = (
        "code_ttl", "challenge_lifetime", "max_attempts", "max_sends", "totp_digits",
        "totp_period", "recovery_code_count", "lockout_after", "max_resume_body",
        "resume_ttl", "sms_prefix_digits", "max_resume_records", "trusted_devices_per_subject",
        "audit_events_per_subject", "audit_events_without_subject", "worker_lease", "worker_interval",
    )  # fmt: skip
    for name in positive:
        if getattr(settings, name) <= 0:
            raise ConfigurationError(f"{name} must be positive, got {getattr(settings, name)!r}.")
    for name in (
        "resend_cooldown", "grant_grace", "trusted_device_days", "totp_drift", "trusted_proxy_hops",
        "policy_refresh", "audit_retention_days",
    ):  # fmt: skip
        if getattr(settings, name) < 0:
            raise ConfigurationError(f"{name} must not be negative.")
    for table in (settings.code_length, settings.contact_code_length):
        for channel, digits in table.items():
            if not 4 <= digits <= 10:
                raise ConfigurationError(f"A {channel} code must have 4 to 10 digits, got {digits}.")
    _check_routes(settings)
    if not isinstance(settings.sender_urls, Mapping):
        raise ConfigurationError('sender_urls is a table from channel to sender URL, e.g. {"voice": "console://"}.')
    for route, url in settings.sender_urls.items():
        channel = route.split(":", 1)[0] if isinstance(route, str) else ""
        if not isinstance(route, str) or not _SENDER_ROUTE.fullmatch(route) or not isinstance(url, str) or not url:
            raise ConfigurationError(
                'sender_urls maps channels to sender URLs, e.g. {"voice": "console://"} '
                f'(or "voice:fallback" for a second sender); got {route!r}.'
            )
        if channel in ("sms", "email"):
            raise ConfigurationError(
                f"sender_urls names {route!r}: the {channel} senders are set by {channel}_url"
                + (", sms_routes and sms_fallback_url." if channel == "sms" else ".")
            )
    _check_passkey_settings(settings)
    if not settings.frame_ancestors.strip() or any(c in settings.frame_ancestors for c in ";,\r\n"):
        raise ConfigurationError(
            "frame_ancestors is a CSP source list such as 'none', 'settings' or https://app.example; "
            f"got {settings.frame_ancestors!r}."
        )
    if not 1 <= settings.client_ipv6_prefix <= 128:
        raise ConfigurationError(f"client_ipv6_prefix must be 1 to 128 bits, got {settings.client_ipv6_prefix!r}.")
    if normalize_locale(d := settings.default_locale, known := available_locales(settings.translations_dir)) != d:
        raise ConfigurationError(f"default_locale must be one of {', '.join(known)}, got {d!r}.")
    if not 6 <= settings.totp_digits <= 8:
        raise ConfigurationError("totp_digits must be 6, 7 or 8 (RFC 6238).")
    for name in settings.limit_names():
        try:
            parse(getattr(settings, name))
        except ValueError as e:
            raise ConfigurationError(f"{name}={getattr(settings, name)!r} is not a limit such as '10/hour'.") from e


#: how several keys are written where a setting is a string (environment, ``--secret-key``).
SECRET_KEY_LIST_FORM = 'a JSON list with the newest key last: STEPUP_SECRET_KEY=\'["OLD-KEY", "NEW-KEY"]\''


def _check_routes(settings: Any) -> None:
    """Routes by country map regions to URLs; voice routes need the voice channel's own
    sender, named in one place only.

    :raises ConfigurationError: naming the settings at odds.
    """
    for channel, example in (("sms", "twilio://..."), ("voice", "twilio-voice://...")):
        for region, url in getattr(settings, f"{channel}_routes").items():
            if not (len(region) == 2 and region.isalpha() and region.isupper()) or not isinstance(url, str) or not url:
                raise ConfigurationError(
                    f'{channel}_routes maps ISO regions to {channel} URLs, e.g. {{"US": "{example}"}}; got {region!r}.'
                )
    urls = settings.sender_urls if isinstance(settings.sender_urls, Mapping) else {}
    named = settings.voice_url or urls.get("voice")
    if (settings.voice_routes or settings.voice_fallback_url) and not named:
        raise ConfigurationError(
            "voice_routes and voice_fallback_url add to the voice channel's own sender: set voice_url too."
        )
    if settings.voice_url:
        twice = sorted(route for route in urls if str(route).split(":", 1)[0] == "voice")
        if twice:
            raise ConfigurationError(
                f"sender_urls names {', '.join(twice)} while voice_url is set: name voice senders in "
                "voice_url, voice_routes and voice_fallback_url."
            )


def _check_passkey_settings(settings: Any) -> None:
    """Refuse passkey settings that could never work.

    :raises ConfigurationError: an origin that is not a scheme and a host, or a user
        verification other than ``required`` and ``preferred``.
    """
    for origin in settings.webauthn_origins:
        if not re.fullmatch(r"https?://[^/?#\s]+", origin):
            raise ConfigurationError(
                f"webauthn_origins holds origins such as https://bank.example (a scheme and a host, "
                f"no path or trailing slash); got {origin!r}."
            )
    if settings.passkey_login_user_verification not in ("required", "preferred"):
        raise ConfigurationError(
            "passkey_login_user_verification is 'required' or 'preferred'; "
            f"got {settings.passkey_login_user_verification!r}."
        )


def secret_keys_from_string(value: str) -> str | tuple[str, ...]:
    """``STEPUP_SECRET_KEY`` as a string gives it: one key, or a JSON list of keys, newest last.

    A plain value with whitespace, a comma or a semicolon in it, or in quotes, looks like a
    list of another form; it is refused rather than taken as one literal key (which would
    silently invalidate every code and token made with the keys it lists). The error never
    repeats the value: it is a secret.

    :param value: the string from the environment, a config file or the command line.
    :raises ConfigurationError: for a malformed JSON list or a value that looks like a list.
    """
    if value.lstrip().startswith("["):
        try:
            keys = json.loads(value)
        except ValueError as e:
            raise ConfigurationError(
                f"STEPUP_SECRET_KEY starts with [ but is not a JSON list; write {SECRET_KEY_LIST_FORM}."
            ) from e
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigurationError(f"STEPUP_SECRET_KEY must be a list of strings: {SECRET_KEY_LIST_FORM}.")
        return tuple(keys)
    if any(c.isspace() or c in ",;" for c in value) or value[:1] in ("'", '"'):
        raise ConfigurationError(
            "STEPUP_SECRET_KEY holds whitespace, a comma or a semicolon, or starts with a quote, so it may be "
            "a list of keys; one key has none of these (`stepup secret` makes one), several keys are "
            f"{SECRET_KEY_LIST_FORM}."
        )
    return value


def convert(name: str, value: Any, default: Any) -> Any:
    if name == "secret_key":
        if isinstance(value, str):
            return secret_keys_from_string(value)
        return tuple(value) if isinstance(value, list) else value
    if isinstance(value, list) and isinstance(default, tuple):
        return tuple(value)  # a TOML array
    if not isinstance(value, str) or isinstance(default, str):
        return frozenset(value) if isinstance(default, frozenset) else value
    try:
        if isinstance(default, bool):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, frozenset | tuple):
            items = [v.strip() for v in value.split(",") if v.strip()]
            return frozenset(items) if isinstance(default, frozenset) else tuple(items)
        return json.loads(value)
    except ValueError as e:
        raise ConfigurationError(f"STEPUP_{name.upper()}={value!r} cannot be read.") from e
