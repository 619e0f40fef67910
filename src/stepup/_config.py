"""Every setting, named once, with its default.

Adapters read the same names from their configuration with a ``STEPUP_`` prefix
(``code_ttl`` is ``STEPUP_CODE_TTL``); :meth:`Settings.from_mapping` does that for them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._config_checks import SECRET_KEY_LIST_FORM, check_settings, check_workflows, convert, secret_keys_from_string
from ._errors import ConfigurationError

__all__ = ["SECRET_KEY_LIST_FORM", "Settings", "secret_keys_from_string"]


@dataclass(frozen=True)
class Settings:
    """stepup's settings. Every field has a safe default except ``secret_key``."""

    #: the app's secret key, or a list with the newest last (rotation). 32+ characters. From
    #: the environment, a config file or ``--secret-key``: one key, or a JSON list of keys.
    secret_key: str | Sequence[str] = field(default="", repr=False)
    #: the name users know the app by; it appears in messages and authenticator apps.
    app_name: str = "stepup"
    #: where bindings, challenges and policy live: memory://, sqlite:///path, redis://...
    store_url: str = "sqlite:///stepup.sqlite3"
    #: refuse a Redis store whose maxmemory-policy may evict stepup's keys (anything but
    #: noeviction), answering 503 until it is fixed; off: log a warning on first use.
    store_require_noeviction: bool = False
    #: where SMS go: console://, file:///path, twilio://..., vonage://...
    sms_url: str = "console://"
    #: where emails go: console://, file:///path, smtp://..., smtps://...
    email_url: str = "console://"
    #: ISO region -> where SMS to it go, e.g. {"US": "twilio://...", "GB": "vonage://..."}; others use sms_url.
    sms_routes: Mapping[str, str] = field(default_factory=dict)
    #: a second SMS provider, tried when the first cannot send; empty for none.
    sms_fallback_url: str = ""
    #: when no SMS provider can send a login, step-up or operation code, email it to the subject's bound address.
    fallback_to_email: bool = False
    #: channel -> where its messages go, for channels of plug-ins, e.g. {"whatsapp": "console://"};
    #: "whatsapp:fallback" names the sender tried when it fails, "whatsapp:US" the one for a country.
    sender_urls: Mapping[str, str] = field(default_factory=dict)
    #: where voice calls go: console://, file:///path, twilio-voice://..., vonage-voice://...; empty: no voice calls.
    voice_url: str = ""
    #: ISO region -> where calls to it go, e.g. {"US": "twilio-voice://..."}; others use voice_url.
    voice_routes: Mapping[str, str] = field(default_factory=dict)
    #: a second voice provider, tried when the first cannot call; empty for none.
    voice_fallback_url: str = ""

    #: digits of a delivered code, per channel.
    code_length: Mapping[str, int] = field(default_factory=lambda: {"sms": 6, "email": 6})
    #: digits of a contact-verification code, per channel (iDenfy sends 4 by SMS).
    contact_code_length: Mapping[str, int] = field(default_factory=lambda: {"sms": 6, "email": 6})
    #: seconds a delivered code stays valid after it is sent.
    code_ttl: int = 300
    #: seconds a challenge may live in all, resends included.
    challenge_lifetime: int = 900
    #: wrong codes a challenge evaluates before it is exhausted.
    max_attempts: int = 3
    #: sends per challenge: the first and the resends.
    max_sends: int = 3
    #: seconds between two sends of one challenge.
    resend_cooldown: int = 30
    #: seconds an ended challenge is kept so its state can still be reported.
    challenge_retention: int = 3600
    #: the workflow of login, step-up and operation codes: channels in turn with the seconds
    #: between them, e.g. "sms:120,voice" (docs/workflows.md); empty: one send.
    workflow: str = ""
    #: purpose -> workflow, over ``workflow``; bind and contact codes get one only from here.
    workflows_by_purpose: Mapping[str, str] = field(default_factory=dict)
    #: app (blueprint or mount) -> workflow, over the purpose's and ``workflow``.
    workflows_by_app: Mapping[str, str] = field(default_factory=dict)
    #: seconds a ``stepup worker`` holds the due steps it claimed; another takes them after.
    worker_lease: float = 30.0
    #: seconds an idle ``stepup worker`` waits before it looks for due steps again.
    worker_interval: float = 1.0

    #: digits of a TOTP code (RFC 6238): 6, 7 or 8.
    totp_digits: int = 6
    #: seconds per TOTP time step.
    totp_period: int = 30
    #: TOTP steps of clock drift accepted each way.
    totp_drift: int = 1
    #: recovery codes made at a time.
    recovery_code_count: int = 10

    #: ISO regions SMS may go to; empty means every region.
    sms_allowed_regions: frozenset[str] = frozenset()
    #: ISO regions SMS never go to.
    sms_denied_regions: frozenset[str] = frozenset()
    #: refuse VoIP numbers as SMS targets.
    sms_refuse_voip: bool = False
    #: accept non-geographic numbers (satellite phones, international networks) as SMS targets.
    sms_allow_non_geographic: bool = False
    #: region used to read numbers written without +country; empty means + is required.
    default_region: str = ""
    #: E.164 prefixes accepted without validation (demo and test numbers such as +447700900).
    test_number_prefixes: tuple[str, ...] = ()

    #: new challenges per subject (``limits`` notation, as every ``limit_*``).
    limit_challenges_per_subject: str = "5/15 minutes"
    #: login challenges per login (per-login nonce): one held login cannot spend the subject's whole budget.
    limit_challenges_per_login: str = "3/15 minutes"
    #: new challenges per phone number or email address not yet verified (binding, contact).
    limit_challenges_per_target: str = "5/15 minutes"
    #: messages per phone number or email address not yet verified, resends included.
    limit_sends_per_target: str = "10/hour"
    #: new login, step-up and operation challenges per bound phone number or email address.
    limit_bound_challenges_per_target: str = "5/15 minutes"
    #: login, step-up and operation messages per bound phone number or email address, resends included.
    limit_bound_sends_per_target: str = "10/hour"
    #: SMS to numbers not yet verified, per destination country (SMS pumping).
    limit_sms_per_country: str = "1000/day"
    #: SMS to numbers not yet verified, per number prefix (SMS pumping through a range of numbers).
    limit_sms_per_prefix: str = "100/day"
    #: digits after the + that make an SMS prefix for ``limit_sms_per_prefix``.
    sms_prefix_digits: int = 7
    #: codes checked per client address, against challenges that exist.
    limit_verifications_per_client: str = "30/minute"
    #: checks of challenge or request ids that do not exist, per client address (guessing).
    limit_unknown_ids_per_client: str = "30/minute"
    #: new challenges of any purpose (contact requests included) per client address.
    limit_challenges_per_client: str = "30/15 minutes"
    #: contact-verification requests per client address.
    limit_contact_requests_per_client: str = "10/hour"
    #: wrong contact-verification codes per client address, before the target backs off.
    limit_contact_failures_per_client: str = "10/hour"
    #: SMS to numbers not yet verified, across every region together (SMS pumping).
    limit_sms_total: str = "1000/hour"
    #: emails to addresses not yet verified, all together.
    limit_email_total: str = "1000/hour"
    #: login, step-up and operation SMS to bound numbers, all together.
    limit_bound_sms_total: str = "1000/hour"
    #: interrupted requests saved for replay per subject (each up to ``max_resume_body``).
    limit_resumes_per_subject: str = "60/15 minutes"
    #: interrupted requests saved for replay per login (per-login nonce), below ``limit_resumes_per_subject``.
    limit_resumes_per_login: str = "20/15 minutes"
    #: failures (across challenges) before the back-off starts.
    backoff_after: int = 3
    #: first back-off in seconds; it doubles with each further failure.
    backoff_base: float = 1.0
    #: the longest back-off in seconds.
    backoff_max: float = 900.0
    #: failures in a row that lock a method until an admin unlocks it (NIST SP 800-63B).
    lockout_after: int = 100

    #: seconds of grace after a step-up in which routes asking a fresher one do not ask again.
    grant_grace: int = 0
    #: days a "remember this browser" token lasts; 0 switches the option off.
    trusted_device_days: int = 0
    #: browsers one subject may have remembered at once; remembering one more forgets the oldest.
    trusted_devices_per_subject: int = 5
    #: days the audit trail keeps each event in the store; 0: events go only to the
    #: ``stepup.audit`` logger and the hooks.
    audit_retention_days: int = 90
    #: audit events kept per subject (the newest); older ones are dropped first.
    audit_events_per_subject: int = 200
    #: audit events kept of those without a subject (contact verification, which strangers
    #: may start): more, so that a flood of requests does not push the others out soon.
    audit_events_without_subject: int = 5000
    #: largest request body kept for replay after a step-up, in bytes.
    max_resume_body: int = 64 * 1024
    #: seconds a resume token stays good.
    resume_ttl: int = 900
    #: saved requests kept per login; a new one drops that login's oldest, never another login's.
    max_resume_records: int = 5

    #: where the adapters mount stepup's pages and JSON API.
    url_prefix: str = "/stepup"
    #: where users land when there is nowhere else to go.
    home_url: str = "/"
    #: session key holding the user id, for apps without Flask-Login or a user loader.
    session_user_key: str = "user_id"
    #: session key holding how the user logged in (``password``, ``sso``...).
    session_identity_source_key: str = "auth_source"
    #: the identity source of a login whose session names none.
    default_identity_source: str = "password"
    #: what a login on hold may still reach besides stepup's pages: Flask endpoints or
    #: ASGI path prefixes (logout and static files).
    login_exempt: tuple[str, ...] = ("logout", "static", "/logout", "/static")
    #: the app's logout page, linked from stepup's pages while a login waits for its code.
    logout_url: str = "/logout"
    #: seconds a second factor stays fresh enough to add or remove sign-in methods.
    sensitive_max_age: int = 300
    #: the cookie of a remembered browser.
    device_cookie: str = "stepup_device"
    #: mark stepup's cookies Secure (set it when the app is served over HTTPS). They are
    #: also Secure on a request that came over HTTPS, and on Flask when SESSION_COOKIE_SECURE
    #: is set or PREFERRED_URL_SCHEME is https. They are always HttpOnly and SameSite=Lax.
    secure_cookies: bool = False
    #: how many proxies in front of the app append to ``X-Forwarded-For``; the client
    #: address is the one that many from the right. 0: the peer address, header ignored.
    trusted_proxy_hops: int = 0
    #: leading bits of an IPv6 client address that name one client for per-client limits
    #: (a host is usually given a whole /64); 128: each address on its own.
    client_ipv6_prefix: int = 64
    #: mount contact verification (``POST /stepup/api/verify``, its check, cancel and next step).
    contact_verification: bool = False
    #: let callers who are not signed in use contact verification (registration forms).
    contact_verification_anonymous: bool = False
    #: let a second contact verification of a number or address start while one is
    #: pending (both codes valid); off, it is refused (409) with the pending request's id.
    contact_parallel_requests: bool = False
    #: who may frame stepup's pages: the source list of CSP ``frame-ancestors``
    #: (``'none'``, ``'self'``, or origins such as ``https://app.example``). ``'none'`` also
    #: sends ``X-Frame-Options: DENY``, ``'self'`` ``SAMEORIGIN``.
    frame_ancestors: str = "'none'"
    #: the WebAuthn relying party id of passkeys: the site's registrable domain
    #: (``bank.example``). Empty: passkeys on ``http://localhost`` only (never a Host header's).
    webauthn_rp_id: str = ""
    #: the origins passkeys may be used from (``https://bank.example``). Empty: the
    #: request's own, over HTTPS to the rp id or under it; set, a request from another origin
    #: is stopped with a configuration error that names it.
    webauthn_origins: tuple[str, ...] = ()
    #: user verification (a PIN, a fingerprint) asked of a passkey at 2FA at login:
    #: ``required`` or ``preferred``. Step-up, operation approval and registration always
    #: require it.
    passkey_login_user_verification: str = "required"
    #: apps the admin page offers switches for besides those it finds in the app (Flask
    #: blueprints; ASGI mounts and routes given ``app=``): for an app it cannot find.
    admin_apps: tuple[str, ...] = ()
    #: identity sources the admin page offers switches for.
    admin_identity_sources: tuple[str, ...] = ("password", "sso")
    #: the locale when no hook, stored choice or header names one (docs/i18n.md): en, zh_Hans, zh_Hant...
    default_locale: str = "en"
    #: the app's catalogs, ``<locale>/LC_MESSAGES/stepup.po``: they win over stepup's. Empty: none.
    translations_dir: str = ""
    #: the app's layout stepup's pages extend (blocks ``title``, ``head``, ``content``). Empty: stepup's.
    base_template: str = ""

    #: methods switched on (policy default until an admin changes it at run time).
    methods: frozenset[str] = frozenset({"sms", "email", "totp", "recovery"})
    #: whether logins need a second factor (policy default).
    login_2fa: bool = True
    #: identity source -> whether its logins need a second factor; unnamed sources do.
    identity_sources: Mapping[str, bool] = field(default_factory=dict)
    #: ask users with nothing bound to bind a method at login (policy default); off, their
    #: logins that need a second factor are refused.
    bind_on_first_login: bool = True
    #: seconds a process keeps the policy it read before reading it from the store again:
    #: how long a change made by another process (instance, ``stepup`` command) may take
    #: to reach this one. Changes made through this process's engine apply at once; 0
    #: reads it on every protected request.
    policy_refresh: float = 5.0

    def __post_init__(self) -> None:
        check_settings(self)
        check_workflows(self)

    @staticmethod
    def limit_names() -> tuple[str, ...]:
        """The names of the rate-limit settings."""
        return tuple(f.name for f in dataclasses.fields(Settings) if f.name.startswith("limit_"))

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed.

        :raises ConfigurationError: for an unknown name or a bad value.
        """
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigurationError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], prefix: str = "STEPUP_") -> Settings:
        """Settings from a configuration mapping such as ``app.config`` or ``os.environ``.

        Keys are the field names in upper case behind ``prefix``; strings are converted to
        the field's type (JSON for tables, commas for sets).

        :param mapping: where to read.
        :param prefix: what every key starts with.
        :raises ConfigurationError: for a value that cannot be converted.
        """
        values: dict[str, Any] = {}
        defaults = cls()
        for f in dataclasses.fields(cls):
            key = prefix + f.name.upper()
            if key in mapping:
                values[f.name] = convert(f.name, mapping[key], getattr(defaults, f.name))
        return cls(**values)
