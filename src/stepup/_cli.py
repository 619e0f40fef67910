"""The ``stepup`` admin command.

Settings come from the options, then the app (``--app MODULE:NAME``) or a TOML file
(``--config FILE``), then the environment (``STEPUP_*``), then the defaults (see
:mod:`stepup._cli_settings`); the command acts on the same store as the app.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import secrets
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from ._cli_settings import Loaded, load_settings
from ._errors import ConfigurationError, RequestPending, StepUpError, without_credentials
from ._settings_doc import rewrite_table, settings_table
from ._worker import Worker, stopped_by_signals
from .engine import Engine

__all__ = ["main"]


def _loaded(args: argparse.Namespace) -> Loaded:
    options = {
        "secret_key": args.secret_key, "store_url": args.store, "sms_url": args.sms_url, "email_url": args.email_url,
    }  # fmt: skip
    return load_settings(app=args.app_path, config=args.config, overrides=options)


def _engine(args: argparse.Namespace) -> Engine:
    loaded = _loaded(args)
    return Engine(loaded.settings, methods=loaded.methods)


def _on(value: str) -> bool:
    if value not in {"on", "off"}:
        raise argparse.ArgumentTypeError("say on or off")
    return value == "on"


def _scope(args: argparse.Namespace) -> tuple[str, str]:
    """The policy scope a command names.

    :raises ConfigurationError: an app named like ``MODULE:NAME``: the application's
        ``--app``, put after the command, where it would name a blueprint or mount that no
        app has and write a switch nothing reads.
    """
    for kind in ("app", "route", "subject"):
        name = getattr(args, kind, None)
        if name:
            if kind == "app" and ":" in name:
                raise ConfigurationError(
                    f"{name!r} is not a blueprint or mount name. To run the command on an application, put "
                    f"--app {name} before the command (stepup --app {name} policy ...); after the command, "
                    "--app names one app of it (a blueprint or mount)."
                )
            return kind, name
    return "global", ""


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _cmd_secret(args: argparse.Namespace) -> None:
    key = secrets.token_urlsafe(32)
    while key.startswith("-"):  # one in 64: `--secret-key -x...` reads as an option
        key = secrets.token_urlsafe(32)
    print(key)


def _cmd_policy(args: argparse.Namespace) -> None:
    engine = _engine(args)
    try:
        if args.action == "method":
            engine.set_method(args.name, args.state, *_scope(args))
        elif args.action == "login-2fa":
            engine.set_login_2fa(args.state, *_scope(args))
        elif args.action == "identity-source":
            engine.set_identity_source(args.name, args.state)
        elif args.action == "bind-on-first-login":
            engine.set_bind_on_first_login(args.state)
        _print(engine.policy().record)
    finally:
        engine.close()


def _cmd_bindings(args: argparse.Namespace) -> None:
    engine = _engine(args)
    try:
        if args.action == "reset":
            count = engine.reset(args.subject)
            print(f"Removed {count} binding(s) of {args.subject} and lifted their locks.")
        elif args.action == "unbind":
            gone = engine.unbind(args.subject, args.binding_id)
            print(f"Removed {gone.method} ({gone.label}) from {args.subject}.")
        elif args.action == "unlock":
            engine.unlock(args.subject, args.method)
            print(f"Unlocked {args.method or 'every method'} for {args.subject}.")
        else:
            rows = engine.bindings(args.subject)
            if not rows:
                print(f"{args.subject} has nothing bound.")
            for b in rows:
                extra = f"  ({b.remaining} left)" if b.remaining is not None else ""
                print(f"{b.id}  {b.method:<8}  {b.label}{extra}")
    finally:
        engine.close()


def _cmd_verify(args: argparse.Namespace) -> None:
    engine = _engine(args)
    try:
        source = f"--app {args.app_path} " if args.app_path else f"--config {args.config} " if args.config else ""
        if args.action == "request":
            try:
                request_id = engine.contact.request(args.channel, args.to)
            except RequestPending as pending:
                print(f"request_id: {pending.request_id}")  # the pending one's, to check or cancel
                raise
            print(f"request_id: {request_id}")
            print(f"Check it with: stepup {source}{args.command} check {request_id} CODE")
        elif args.action == "next":
            challenge = engine.contact.next(args.request_id)
            following = challenge.next_event
            wait = max(0, round(following.at - engine.clock())) if following else 0
            after = f"; then {following.channel} in {wait} s" if following else ""
            print(f"Sent the next step of {args.request_id}{after}.")
        elif args.action == "check":
            result = engine.contact.check(args.request_id, args.code)
            print(f"Verified: {result.to} ({result.channel}).")
        elif args.action == "unlock":
            channel = args.channel or ("email" if "@" in args.target else "sms")
            target = engine.unlock_target(channel, args.target)
            print(f"Unlocked contact verification of {target} ({channel}).")
        else:
            engine.contact.cancel(args.request_id)
            print("Cancelled.")
    finally:
        engine.close()


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: str) -> float:
    """``90s``, ``30m``, ``1h``, ``7d`` in seconds."""
    number, unit = value[:-1], value[-1:].lower()
    if unit not in _UNITS or not number.isdigit():
        raise argparse.ArgumentTypeError("a number and s, m, h or d: 30m, 1h, 7d")
    return int(number) * _UNITS[unit]


def _cmd_audit(args: argparse.Namespace) -> None:
    engine = _engine(args)
    try:
        since = engine.clock() - args.since if args.since is not None else None
        types = args.type or None
        for subject in args.subjects:
            for event in engine.audit_events(None if subject == "-" else subject, since=since, types=types):
                if args.json:
                    print(json.dumps(event.as_dict(), ensure_ascii=False, sort_keys=True))
                    continue
                at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(event.at))
                parts = [f"{k}={v}" for k, v in (
                    ("method", event.method), ("target", event.target), ("purpose", event.purpose),
                    ("by", event.actor), *event.detail.items(), *event.context.items(),
                ) if v is not None]  # fmt: skip
                print(f"{at}Z  {event.subject or '-'}  {event.type}  {' '.join(parts)}".rstrip())
    finally:
        engine.close()


def _cmd_config(args: argparse.Namespace) -> None:
    if args.action == "table":
        if args.write:
            changed = rewrite_table(args.write)
            print(f"{'Rewrote' if changed else 'Kept'} the settings table of {args.write}.")
        else:
            print(settings_table(), end="")
        return
    loaded = _loaded(args)
    shown: dict[str, Any] = {}
    for f in dataclasses.fields(loaded.settings):
        value = getattr(loaded.settings, f.name)
        if f.name == "secret_key":
            count = 1 if isinstance(value, str) else len(value)
            value = f"({count} key{'s' if count != 1 else ''}, not shown)" if value else "(none)"
        elif isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, str):
            value = without_credentials(value)  # store and sender URLs carry passwords and tokens
        elif isinstance(value, Mapping):
            value = {k: without_credentials(v) if isinstance(v, str) else v for k, v in value.items()}
        shown[f.name] = value
    _print({"source": loaded.source, "settings": shown})


def _cmd_worker(args: argparse.Namespace) -> None:
    if not logging.getLogger().handlers:  # the worker's own lines; stepup's other loggers warn only
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
        logging.getLogger("stepup.worker").setLevel(logging.INFO)
    engine = _engine(args)
    try:
        with stopped_by_signals(Worker(engine, limit=args.limit, interval=args.interval)) as worker:
            fired = worker.run(once=args.once)
    finally:
        engine.close()
    print(f"stepup worker: {fired} step(s) fired; stopped.", file=sys.stderr)


def _cmd_demo(args: argparse.Namespace) -> None:
    from ._demo import run_demo

    run_demo(interactive=args.interactive)


#: the subcommands of a parser, each added by one ``_add_*`` below.
_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stepup",
        description="Administer stepup: keys, policy, bindings, contact verification, the audit trail.",
        epilog="Settings: the options, then --app or --config, then STEPUP_* environment variables, then the defaults.",
    )
    _add_sources(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("secret", help="print a new secret key").set_defaults(func=_cmd_secret)
    _add_policy(commands)
    _add_bindings(commands)
    _add_verify(commands)
    _add_config(commands)
    _add_audit(commands)
    _add_worker(commands)
    demo = commands.add_parser("demo", help="a walkthrough of every flow, on a throw-away store")
    demo.add_argument("--interactive", action="store_true", help="type the codes yourself")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _add_sources(parser: argparse.ArgumentParser) -> None:
    """The options every command takes: where the settings come from, and overrides."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--app", dest="app_path", metavar="MODULE:NAME",
        help="the app whose settings to use: a Flask app with StepUp or an ASGI app with StepUpMiddleware, "
        "or a function that makes one (myapp:create_app)",
    )  # fmt: skip
    source.add_argument("--config", metavar="FILE", help="a TOML file of STEPUP_* keys (the environment: the rest)")
    parser.add_argument("--store", help="store URL (default: from the app, the file or $STEPUP_STORE_URL)")
    parser.add_argument(
        "--secret-key", help='the secret key, or a JSON list of keys, newest last: \'["OLD", "NEW"]\''
    )  # fmt: skip
    parser.add_argument("--sms-url", help="SMS sender URL (default: from the app, the file or $STEPUP_SMS_URL)")
    parser.add_argument("--email-url", help="email sender URL (default: from the app, the file or $STEPUP_EMAIL_URL)")


def _add_policy(commands: _Commands) -> None:
    policy = commands.add_parser("policy", help="show or change the policy switches")
    policy.set_defaults(func=_cmd_policy)
    actions = policy.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("show", help="print the policy in force")
    for name, help_ in (("method", "switch a method on or off"), ("login-2fa", "require a second factor at login")):
        p = actions.add_parser(name, help=help_)
        if name == "method":
            p.add_argument("name", help="sms, email, totp or recovery")
        p.add_argument("state", type=_on, help="on or off")
        where = p.add_mutually_exclusive_group()
        where.add_argument("--app", help="only for this app (blueprint or mount; not the --app before COMMAND)")
        where.add_argument("--route", help="only for this route")
        where.add_argument("--subject", help="only for this user")
    p = actions.add_parser("identity-source", help="whether logins from a source need a second factor")
    p.add_argument("name", help="e.g. password or sso")
    p.add_argument("state", type=_on, help="on or off")
    p = actions.add_parser("bind-on-first-login", help="ask users with nothing bound to bind a method")
    p.add_argument("state", type=_on, help="on or off")


def _add_bindings(commands: _Commands) -> None:
    bindings = commands.add_parser("bindings", help="list, unbind, reset or unlock a user's methods")
    bindings.set_defaults(func=_cmd_bindings)
    actions = bindings.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="a user's bindings, masked").add_argument("subject")
    actions.add_parser("reset", help="remove all of a user's bindings (lost phone)").add_argument("subject")
    p = actions.add_parser("unbind", help="remove one binding")
    p.add_argument("subject")
    p.add_argument("binding_id")
    p = actions.add_parser("unlock", help="lift a lock after too many wrong codes")
    p.add_argument("subject")
    p.add_argument("--method", help="only this method")


def _add_verify(commands: _Commands) -> None:
    verify = commands.add_parser(
        "contact", aliases=["verify"], help="confirm a phone or email from the terminal (request, check, cancel, next)"
    )
    verify.set_defaults(func=_cmd_verify)
    actions = verify.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("request", help="send a code")
    p.add_argument("channel", choices=["sms", "email"])
    p.add_argument("to", help="phone number (+44...) or email address")
    p = actions.add_parser("check", help="check a code")
    p.add_argument("request_id")
    p.add_argument("code")
    actions.add_parser("cancel", help="cancel a request").add_argument("request_id")
    actions.add_parser("next", help="send a request's next step now (its workflow's next channel)").add_argument(
        "request_id"
    )
    p = actions.add_parser("unlock", help="lift the back-off or lock of a number's or address's verification")
    p.add_argument("target", help="phone number (+44...) or email address")
    p.add_argument("--channel", choices=["sms", "email"], help="default: email when TARGET has an @, else sms")


def _add_audit(commands: _Commands) -> None:
    audit = commands.add_parser("audit", help="a user's stored audit events, oldest first")
    audit.set_defaults(func=_cmd_audit)
    audit.add_argument("subjects", nargs="+", metavar="SUBJECT", help="user ids (- for events of no user)")
    audit.add_argument("--since", type=_duration, help="only the last 30m, 1h, 7d...")
    audit.add_argument("--type", action="append", help="only events of this type (repeatable)")
    audit.add_argument("--json", action="store_true", help="one JSON object a line (JSON lines), for export")


def _add_worker(commands: _Commands) -> None:
    worker = commands.add_parser("worker", help="fire the due workflow steps of pending challenges (until SIGTERM)")
    worker.set_defaults(func=_cmd_worker)
    worker.add_argument("--once", action="store_true", help="fire what is due now, then exit")
    worker.add_argument("--limit", type=int, default=100, help="steps taken on per round (default: 100)")
    worker.add_argument("--interval", type=float, help="seconds to wait when nothing is due (STEPUP_WORKER_INTERVAL)")


def _add_config(commands: _Commands) -> None:
    config = commands.add_parser("config", help="the settings: their reference table, or those in force")
    config.set_defaults(func=_cmd_config)
    actions = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("table", help="print every setting as a Markdown table")
    p.add_argument("--write", metavar="FILE", help="put the table between the markers of FILE instead")
    actions.add_parser("show", help="print the settings the command would act with (the key hidden), as JSON")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``stepup`` command.

    :param argv: the arguments (default: ``sys.argv[1:]``).
    :returns: the exit status: 0, or 2 for an error stepup explains.
    """
    args = _parser().parse_args(argv)
    try:
        args.func(args)
    except StepUpError as e:
        print(f"stepup: {e.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
