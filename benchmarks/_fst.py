"""Flask-Security-Too, the peer: an app with its SQLAlchemy user model, as both peer
comparisons set it up (``make bench`` installs it)."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["fst_app", "fst_sms_app"]


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


def fst_sms_app(name: str, database: str, sender: type) -> tuple[Any, Any, Any, Any]:
    """:func:`fst_app` with two-factor by SMS through ``sender`` (registered as ``Keep``),
    and alice made with a phone, her TOTP secret and SMS as her method.

    :returns: as :func:`fst_app`.
    """
    from flask_security.utils import SmsSenderFactory

    SmsSenderFactory.senders["Keep"] = sender
    app, db, datastore, security = fst_app(
        name, database,
        SECURITY_TWO_FACTOR=True, SECURITY_TWO_FACTOR_ENABLED_METHODS=["sms"],
        SECURITY_TOTP_SECRETS={"1": "bench-totp-secret-0123456789abcdef"}, SECURITY_TOTP_ISSUER="bench",
        SECURITY_SMS_SERVICE="Keep", SECURITY_SMS_SERVICE_CONFIG={"PHONE_NUMBER": "+15005550006"},
    )  # fmt: skip
    with app.app_context():
        user = datastore.create_user(email="alice@example.com", password="alice-password")
        user.tf_primary_method = "sms"
        user.tf_phone_number = "+447700900123"
        user.tf_totp_secret = security.totp_factory.generate_totp_secret()
        datastore.commit()
    return app, db, datastore, security
