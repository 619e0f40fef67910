"""Flask-Security-Too, the peer: an app with its SQLAlchemy user model, as both peer
comparisons set it up (``make bench`` installs it)."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["fst_app"]


def fst_app(name: str, database: str, **config: Any) -> tuple[Any, Any, Any, Any]:
    """A Flask app with Flask-Security-Too on SQLAlchemy at ``database``, its tables made.

    :param config: more of the app's configuration (two-factor settings...).
    :returns: the app, its SQLAlchemy ``db``, the user datastore and the ``Security``.
    """
    from flask import Flask
    from flask_security import Security, SQLAlchemyUserDatastore
    from flask_security.models import fsqla_v3 as fsqla
    from flask_sqlalchemy import SQLAlchemy

    app = Flask(name)
    app.config.update(
        SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop",
        SECURITY_PASSWORD_SALT="bench-salt",
        SECURITY_PASSWORD_HASH="plaintext",
        SQLALCHEMY_DATABASE_URI=database,
        WTF_CSRF_ENABLED=False,
        **config,
    )
    db = SQLAlchemy(app)
    fsqla.FsModels.set_db_info(db)

    class Role(db.Model, fsqla.FsRoleMixin):  # type: ignore[name-defined,misc]
        pass

    class User(db.Model, fsqla.FsUserMixin):  # type: ignore[name-defined,misc]
        pass

    # FsUserMixin names a WebAuthn relationship once py_webauthn is installed (stepup's
    # passkeys extra brings it): the model must exist for the mappers to configure.
    class WebAuthn(db.Model, fsqla.FsWebAuthnMixin):  # type: ignore[name-defined,misc]
        pass

    datastore = SQLAlchemyUserDatastore(db, User, Role, webauthn_model=WebAuthn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        security = Security(app, datastore)
    with app.app_context():
        db.create_all()
    return app, db, datastore, security
