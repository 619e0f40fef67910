"""The lab on Flask: a blueprint protected as a whole, ``before_request`` and
``errorhandler``. See :mod:`.labs` for what it offers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, jsonify, redirect, request, session

from stepup.flask import StepUp, step_up_required

from .labs import ADMIN, ItemLocked, LabRecords, static_folder


def build(tmp_path: Path, records: LabRecords, settings: dict[str, Any], **engine_options: Any) -> Flask:
    """The Flask lab; ``settings`` go to ``app.config``, ``engine_options`` to ``StepUp``."""
    app = Flask("lab", static_folder=str(static_folder(tmp_path)), static_url_path="/static")
    app.config.update(TESTING=True, SECRET_KEY=settings["STEPUP_SECRET_KEY"], **settings)

    @app.before_request
    def note() -> None:
        records.seen.append(f"{request.method} {request.path}")

    @app.errorhandler(ItemLocked)
    def locked(error: ItemLocked) -> Any:
        return jsonify(error="This item is locked."), 423

    @app.post("/login/<user>")
    def login(user: str) -> Any:
        session.clear()
        session["user_id"] = user
        session["auth_source"] = request.args.get("source", "password")
        return redirect("/")

    @app.post("/logout")
    def logout() -> Any:
        session.pop("user_id", None)
        return redirect("/")

    @app.get("/logout-history")
    def logout_history() -> str:
        return "Where you signed out"

    @app.get("/")
    def home() -> str:
        return f"Home of {session.get('user_id')}"

    @app.get("/report")
    @step_up_required(max_age=60)
    def report() -> str:
        return "The quarterly report"

    @app.get("/email-only")
    @step_up_required(max_age=60, methods=["email"])
    def email_only() -> str:
        return "Verified by email"

    @app.get("/passkey-only")
    @step_up_required(max_age=60, methods=["passkey"])
    def passkey_only() -> str:
        return "Verified by passkey"

    @app.route("/items/<item>", methods=["PUT", "PATCH"])
    @step_up_required(operation="update of {name}", fields=["name", "colour"])
    def update_item(item: str) -> Any:
        records.items[item] = {**records.items.get(item, {}), **request.get_json()}
        return jsonify(item=item, **records.items[item])

    @app.delete("/items/<item>")
    @step_up_required(max_age=60)
    def delete_item(item: str) -> Any:
        if item == "locked":
            raise ItemLocked(item)
        records.items.pop(item, None)
        return jsonify(deleted=item)

    @app.post("/pay")
    @step_up_required(operation="payment of {amount} to {to}")
    def pay() -> Any:
        data = request.get_json(silent=True) or request.form
        records.payments.append((data["to"], data["amount"]))
        return jsonify(paid=data["amount"], to=data["to"])

    @app.post("/pay-by-sms")
    @step_up_required(operation="payment of {amount} to {to}", methods=["sms"])
    def pay_by_sms() -> Any:
        data = request.get_json(silent=True) or request.form
        records.payments.append((data["to"], data["amount"]))
        return jsonify(paid=data["amount"], to=data["to"])

    vault = Blueprint("vault", "lab.vault", url_prefix="/vault")

    @vault.get("/")
    def vault_index() -> str:
        return "The vault"

    @vault.get("/keys")
    def vault_keys() -> str:
        return "The keys"

    step_up_required(max_age=60)(vault)
    app.register_blueprint(vault)

    lobby = Blueprint("lobby", "lab.lobby", url_prefix="/lobby")

    @lobby.get("/")
    def lobby_index() -> str:
        return "The lobby"

    @lobby.get("/report")
    @step_up_required(max_age=60)
    def lobby_report() -> str:
        return "The lobby report"

    app.register_blueprint(lobby)
    StepUp(app, admin_check=lambda subject: subject == ADMIN, **engine_options)
    return app
