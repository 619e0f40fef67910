"""What both example banks share: demo users, the transfer ledger, settings from the
environment, and the demo bindings. Framework-free."""

from __future__ import annotations

import hmac
import os
import re
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

import stepup
from stepup.web import StepUpForm


def _extra_users() -> dict[str, str]:
    """``DEMO_EXTRA_USERS=N`` adds ``user01`` ... ``userNN`` (password ``userNN-password``,
    a phone of their own, see :func:`demo_bindings`) for load tests; none by default."""
    count = int(os.environ.get("DEMO_EXTRA_USERS", "0") or 0)
    return {f"user{i:02d}": f"user{i:02d}-password" for i in range(1, min(count, 99) + 1)}


#: the demo users: username -> password. alice is the demo's admin.
USERS = {"alice": "alice-password", "bob": "bob-password", "carol": "carol-password", **_extra_users()}
ADMINS = frozenset({"alice"})
DEFAULT_TOTP_SECRET = "JBSWY3DPEHPK3PXP"
#: the bank's own page templates, shared by the Flask and Starlette examples.
TEMPLATES = Path(__file__).resolve().parent / "templates"


def metrics() -> stepup.Metrics:
    """The bank's Prometheus metrics, on a registry of its own (each app made in a process,
    as tests make many, counts apart), served at ``/metrics``."""
    from prometheus_client import CollectorRegistry

    return stepup.Metrics(CollectorRegistry())


def check_password(username: object, password: object) -> bool:
    """Whether the pair is a demo user's (compared in constant time)."""
    if not isinstance(username, str) or not isinstance(password, str) or username not in USERS:
        return False
    return hmac.compare_digest(USERS[username].encode(), password.encode())


def settings_from_env(default_store: str) -> dict[str, Any]:
    """The example's stepup settings: DESIGN's environment variables, demo defaults, and
    any other ``STEPUP_*`` variable set (``STEPUP_LIMIT_VERIFICATIONS_PER_CLIENT``, say,
    for a load test whose clients all come from one address)."""
    env = os.environ
    return {
        "STEPUP_SECRET_KEY": env.get("STEPUP_SECRET_KEY", "demo-bank-secret-key-change-me-0123456789"),
        "STEPUP_STORE_URL": env.get("STEPUP_STORE_URL", default_store),
        "STEPUP_SMS_URL": env.get("STEPUP_SMS_URL", "console://"),
        "STEPUP_EMAIL_URL": env.get("STEPUP_EMAIL_URL", "console://"),
        "STEPUP_APP_NAME": "Demo Bank",
        # stepup's pages sit inside the bank's own layout, navigation and all.
        "STEPUP_BASE_TEMPLATE": "bank/layout.html",
        # +44 7700 900xxx is Ofcom's range for drama; the demo's numbers live there.
        "STEPUP_TEST_NUMBER_PREFIXES": ("+447700900",),
        "STEPUP_ADMIN_APPS": ("bank", "api"),
        # Passkeys too: on http://localhost the bank is their relying party as it is; served
        # elsewhere, set STEPUP_WEBAUTHN_RP_ID and STEPUP_WEBAUTHN_ORIGINS (docs/passkeys.md).
        "STEPUP_METHODS": env.get("STEPUP_METHODS", "sms,email,totp,recovery,passkey"),
        # A demo is clicked through quickly, again and again.
        "STEPUP_LIMIT_CHALLENGES_PER_SUBJECT": env.get("STEPUP_LIMIT_CHALLENGES_PER_SUBJECT", "30/15 minutes"),
        "STEPUP_LIMIT_CHALLENGES_PER_TARGET": env.get("STEPUP_LIMIT_CHALLENGES_PER_TARGET", "30/15 minutes"),
        "STEPUP_LIMIT_SENDS_PER_TARGET": env.get("STEPUP_LIMIT_SENDS_PER_TARGET", "60/hour"),
        "STEPUP_LIMIT_BOUND_CHALLENGES_PER_TARGET": env.get(
            "STEPUP_LIMIT_BOUND_CHALLENGES_PER_TARGET", "30/15 minutes"
        ),
        "STEPUP_LIMIT_BOUND_SENDS_PER_TARGET": env.get("STEPUP_LIMIT_BOUND_SENDS_PER_TARGET", "60/hour"),
        # alice's logins run Vonage's kind of workflow: her code by SMS, then the same code
        # by a call when she presses "Call me instead" two minutes on (docs/workflows.md).
        # The call goes where the texts go (the console, or the outbox of STEPUP_SMS_URL).
        "STEPUP_WORKFLOWS_BY_PURPOSE": {"login": "sms:120,voice"},
        **(
            {}  # a voice sender named among the plug-in channels' senders stands on its own
            if "STEPUP_SENDER_URLS" in env
            else {"STEPUP_VOICE_URL": env.get("STEPUP_VOICE_URL", env.get("STEPUP_SMS_URL", "console://"))}
        ),
        **{key: value for key, value in env.items() if key.startswith("STEPUP_")},
    }


def secret_keys(value: object) -> list[str]:
    """The app's keys as stepup reads ``STEPUP_SECRET_KEY`` (one key, or a JSON list, newest
    last): the bank signs its own session cookie with the newest and still reads the older."""
    key = stepup.Settings.from_mapping({"STEPUP_SECRET_KEY": value}).secret_key
    return [key] if isinstance(key, str) else list(key)


def demo_bindings() -> list[tuple[str, str, str | None, str | None]]:
    """The demo users' methods: ``(user, method, target, TOTP secret)``."""
    return [
        ("alice", "sms", "+447700900001", None),
        ("alice", "email", "alice@example.com", None),
        ("carol", "totp", None, os.environ.get("DEMO_TOTP_SECRET", DEFAULT_TOTP_SECRET)),
        # DEMO_EXTRA_USERS: user01 has +447700900201, user02 +447700900202, ...
        *((user, "sms", f"+447700900{200 + int(user[4:]):03d}", None) for user in USERS if user.startswith("user")),
    ]


def seed(engine: stepup.Engine) -> None:
    """Bind the demo users' methods once (the async bank awaits the same calls)."""
    for user, method, target, secret in demo_bindings():
        if not any(b.method == method for b in engine.bindings(user)):
            engine.import_binding(user, method, target, secret=secret)


class LoginForm(StepUpForm):
    """The bank's own login form (the first factor)."""

    username = StringField("Username", validators=[DataRequired("Enter your username."), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=128)])


class TransferForm(StepUpForm):
    """The risky operation: stepup approves each transfer once."""

    to = StringField("To", validators=[DataRequired("Who is the money for?"), Length(max=64)])
    amount = StringField("Amount", validators=[DataRequired("Enter an amount."), Length(max=12)])

    def checked_amount(self) -> str | None:
        """The amount (``50.00``) when the whole form is valid; else ``None``, with the
        form's errors saying what to fix."""
        valid, amount = self.validate(), valid_amount(self.amount.data)
        if amount is None and not self.amount.errors:
            self.amount.errors = ["Enter an amount such as 50.00."]
        return amount if valid else None


class Ledger:
    """Executed transfers and standing orders, in a SQLite file, so exactly-once can be seen.

    One connection, shared by the app's threads one at a time, in WAL mode (several server
    processes may write the file). Opening a connection for each call cost half a
    millisecond of CPU a transfer; it is closed with :meth:`close` or when the ledger goes.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        # Closed under the lock: closing a connection another thread is reading from
        # crashes the interpreter.
        self._close = weakref.finalize(self, _close_under, self._lock, db)
        self._db = db
        with self._lock:
            db.execute("PRAGMA journal_mode=WAL")
            for table in ("transfers", "orders"):
                columns = "id INTEGER PRIMARY KEY, user TEXT, to_ TEXT, amount TEXT"
                db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")

    def close(self) -> None:
        """Close the file (a call after this fails)."""
        self._close()

    def _rows(self, query: str, args: tuple[str, ...]) -> list[tuple[str, str]]:
        with self._lock:
            return [(r[0], r[1]) for r in self._db.execute(query, args).fetchall()]

    def add(self, user: str, to: str, amount: str) -> None:
        """Record one executed transfer."""
        self._rows("INSERT INTO transfers (user, to_, amount) VALUES (?, ?, ?)", (user, to, amount))

    def of(self, user: str) -> list[tuple[str, str]]:
        """A user's transfers, oldest first: ``(to, amount)``."""
        return self._rows("SELECT to_, amount FROM transfers WHERE user = ? ORDER BY id", (user,))

    def add_order(self, user: str, to: str, amount: str) -> None:
        """Record one monthly standing order."""
        self._rows("INSERT INTO orders (user, to_, amount) VALUES (?, ?, ?)", (user, to, amount))

    def orders_of(self, user: str) -> list[tuple[str, str]]:
        """A user's standing orders, oldest first: ``(to, amount)``."""
        return self._rows("SELECT to_, amount FROM orders WHERE user = ? ORDER BY id", (user,))


def _close_under(lock: threading.Lock, db: sqlite3.Connection) -> None:
    with lock:
        db.close()


def ledger_path() -> str:
    """Where the demo keeps its transfers (``DEMO_BANK_DB``)."""
    return os.environ.get("DEMO_BANK_DB", "demo-bank.sqlite3")


#: what a person writes as an amount: ASCII digits, an optional point and two decimals.
_AMOUNT = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,2})?", re.ASCII)


def valid_amount(raw: object) -> str | None:
    """An amount such as ``50.00`` (ASCII digits, at most two decimals, under a million),
    or ``None``. Strict on purpose: ``float`` would also read ``1e3``, ``10_00`` and other
    scripts' digits, and the bank must run the amount its user read in the message."""
    if not isinstance(raw, str) or not _AMOUNT.fullmatch(raw.strip()):
        return None
    value = float(raw.strip())
    return f"{value:.2f}" if 0 < value < 1_000_000 else None


#: what the bank's own pages send (stepup's pages send their own): not framed by other
#: sites, no referrer to them, balances and transfer lists never kept in a shared cache.
PAGE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
)


class BankHeaders:
    """Pure ASGI middleware for the ASGI banks: :data:`PAGE_HEADERS` on every answer that
    does not set one of them itself (an answer with its own CSP, as stepup's pages have,
    keeps its framing rule)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._raw = [(name.lower().encode(), value.encode()) for name, value in PAGE_HEADERS]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                if b"content-security-policy" in present:  # it says who may frame it
                    present.add(b"x-frame-options")
                extra = [(name, value) for name, value in self._raw if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: the bank's language switch: ``?lang=de`` on any page keeps the choice in the session,
#: and the bank's locale selector hands it to stepup (docs/i18n.md).
LANGUAGE_KEY = "lang"


def chosen_language(session: Any, args: Any) -> None:
    """Keep a ``?lang=`` choice in the session (a choice stepup has no catalog for is
    ignored by stepup, which goes on to the next rule)."""
    value = args.get(LANGUAGE_KEY)
    if isinstance(value, str) and 0 < len(value) <= 16:
        session[LANGUAGE_KEY] = value


class LanguageSwitch:
    """The Starlette bank's language switch: pure ASGI, inside SessionMiddleware."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and b"lang=" in scope.get("query_string", b""):
            args = {k: v[0] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
            chosen_language(scope["session"], args)
        await self.app(scope, receive, send)
