"""Where the ``stepup`` command finds its settings.

One precedence, the most specific first:

1. the command's options: ``--store``, ``--secret-key``, ``--sms-url``, ``--email-url``;
2. ``--app MODULE:NAME``, the settings stepup keeps for that app (a Flask app's
   ``app.config`` as ``StepUp`` read it; the engine of a Starlette or FastAPI app's
   ``StepUpMiddleware``), or ``--config FILE``, a TOML file of ``STEPUP_*`` keys;
3. ``STEPUP_*`` environment variables (under ``--config``, for the keys the file leaves
   out; an ``--app`` reads the environment itself if it wants to, so it is not read again);
4. the defaults of :class:`stepup.Settings`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._config import Settings, secret_keys_from_string
from ._errors import ConfigurationError
from .methods import Method

__all__ = ["Loaded", "load_app", "load_settings", "read_config_file"]

#: names looked for in a module given without ``:NAME``, as ``flask --app`` does.
_APP_NAMES = ("app", "application", "create_app", "make_app")


@dataclass(frozen=True)
class Loaded:
    """The settings the command acts with, and where they came from.

    :ivar settings: the settings, options applied.
    :ivar methods: the app's methods (plug-ins registered in code), or ``None`` for the
        built-in ones and the entry points.
    :ivar source: ``app MODULE:NAME``, ``config FILE`` or ``environment``.
    """

    settings: Settings
    methods: Mapping[str, Method] | None
    source: str


def load_settings(
    *,
    app: str | None = None,
    config: str | None = None,
    overrides: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Loaded:
    """The command's settings, in the precedence of this module's docstring.

    :param app: ``MODULE:NAME`` of the app (``--app``).
    :param config: a TOML file of ``STEPUP_*`` keys (``--config``).
    :param overrides: field name -> the option's string, ``None`` when not given.
    :param environ: the environment (default ``os.environ``).
    :raises ConfigurationError: for an app or file that cannot be read, an unknown key, a
        bad value.
    """
    env = os.environ if environ is None else environ
    methods: Mapping[str, Method] | None = None
    if app and config:
        raise ConfigurationError("Give --app or --config, not both: each names all of the app's settings.")
    if app:
        settings, methods = app_settings(load_app(app))
        source = f"app {app}"
    elif config:
        values = {key: value for key, value in env.items() if key.startswith("STEPUP_")}
        values.update(read_config_file(config))
        settings, source = Settings.from_mapping(values), f"config {config}"
    else:
        settings, source = Settings.from_mapping(env), "environment"
    given: dict[str, Any] = {name: value for name, value in (overrides or {}).items() if value}
    if "secret_key" in given:
        given["secret_key"] = secret_keys_from_string(given["secret_key"])
    return Loaded(settings.replace(**given) if given else settings, methods, source)


def read_config_file(path: str) -> dict[str, Any]:
    """The ``STEPUP_*`` keys of a TOML file, values as TOML types them.

    :param path: the file.
    :raises ConfigurationError: for a missing file, bad TOML, or a key that is no setting.
    """
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigurationError(f"There is no config file {path}.") from None
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigurationError(f"The config file {path} cannot be read as TOML: {e}.") from e
    known = {"STEPUP_" + f.name.upper() for f in dataclasses.fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigurationError(
            f"The config file {path} has keys that are no setting: {', '.join(unknown)}. Its keys are "
            "STEPUP_* names at the top level, such as STEPUP_STORE_URL (docs/configuration.md lists them)."
        )
    return data


def load_app(path: str) -> Any:
    """The app that ``MODULE:NAME`` names; a function there is an app factory, called
    without arguments. ``MODULE`` alone looks for ``app``, ``application``, ``create_app``
    and ``make_app``. The current folder is searched first, as ``flask --app`` does.

    :param path: ``MODULE:NAME`` or ``MODULE``.
    :raises ConfigurationError: when the module or the name is not found.
    """
    module_name, _, name = path.partition(":")
    if not module_name:
        raise ConfigurationError(f"--app takes MODULE:NAME, such as myapp:create_app; got {path!r}.")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigurationError(f"--app {path}: the module {module_name} cannot be imported ({e}).") from e
    names = (name,) if name else _APP_NAMES
    # A submodule called ``app`` (a package's app.py) is not the app.
    candidates = (getattr(module, n, None) for n in names)
    found = next((c for c in candidates if c is not None and not inspect.ismodule(c)), None)
    if found is None:
        raise ConfigurationError(f"--app {path}: {module_name} has no {' or '.join(names)}.")
    if inspect.isfunction(found) or inspect.ismethod(found):
        required = [
            p.name for p in inspect.signature(found).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]  # fmt: skip
        if required:
            raise ConfigurationError(
                f"--app {path}: {found.__name__} needs {', '.join(required)}; name an app, or a function "
                "that makes one without arguments."
            )
        found = found()
    return found


def app_settings(app: Any) -> tuple[Settings, Mapping[str, Method]]:
    """The settings and methods stepup keeps for ``app``: a Flask app with ``StepUp``, or an
    ASGI app with ``StepUpMiddleware``. The app's engine is closed: the command opens its
    own on the same settings, and the app serves nothing in the command's process.

    :param app: the app.
    :raises ConfigurationError: when stepup is not set up on it.
    """
    if not callable(app):
        raise ConfigurationError(
            f"--app names a {type(app).__name__}: give a Flask or ASGI app, or a function that makes one."
        )
    if isinstance(getattr(app, "extensions", None), dict) and hasattr(app, "wsgi_app"):
        from .flask import state

        engine = state(app).engine
        engine.close()
        return engine.settings, engine.methods
    try:
        from .asgi import state_of_app
    except ImportError as e:  # Starlette is not installed, so this cannot be an ASGI app of stepup's
        raise ConfigurationError(f"--app names a {type(app).__name__}: give a Flask or ASGI app.") from e
    async_engine = state_of_app(app).engine
    asyncio.run(async_engine.close())
    return async_engine.settings, async_engine.methods
