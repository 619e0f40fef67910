"""Binding, policy, trusted-device and contact-verification flows, for both engines."""

from __future__ import annotations

from typing import Any

from ._core import Flow
from ._crypto import new_id
from ._delivery import as_delivery_error
from ._device_flows import DeviceFlows
from ._enrolment import password_may_enrol, recovery_codes_refusal, refusal
from ._errors import InvalidInput, MethodNotAvailable, NothingToBackUp
from ._flows import _FAILURES, _POLICY, _SUBJECT
from ._keys import failure_key, legacy_failure_key
from ._models import Binding, BindStart, Challenge, ContactResult, LoginDecision, Message
from ._otp import (
    check_totp_secret,
    new_recovery_codes,
    normalize_recovery_code,
    provisioning_uri,
    qr_svg,
    recovery_digest,
)
from ._policy import Policy, apply_change, scope_name

__all__ = ["BindingFlows"]

class BindingFlows(DeviceFlows):
    """Flows around a subject's bindings and the app's policy."""

    # -- binding -----------------------------------------------------------------------

    def _begin_bind(
        self,
        subject: str,
        method: str,
        target: object = None,
        *,
        account: str | None = None,
        session: str | None = None,
        app: str | None = None,
        client: str | None = None,
    ) -> Flow[BindStart]:
        """Start binding a phone, an email or an authenticator app to a subject.

        Nothing is stored on the subject until the code passes (verify before bind): the
        new target or secret waits in the challenge. For SMS and email a code goes to the
        new target; for TOTP the result carries the secret, its URI and a QR code.

        :param subject: the app's user id.
        :param method: ``sms``, ``email`` or ``totp``.
        :param target: the phone number or email address as the user typed it.
        :param account: the name an authenticator app shows (defaults to ``subject``).
        :raises InvalidPhoneNumber: with the reason the number is refused.
        :raises InvalidEmail: for an address that is not well formed.
        :raises MethodNotAvailable: for recovery codes or a method switched off.
        """
        m = self.method(method)
        if m.name == "recovery":
            raise MethodNotAvailable("Recovery codes are made with generate_recovery_codes, not bound.")
        policy = yield from self._policy()
        if m.name not in policy.methods(app=app, subject=subject):
            raise MethodNotAvailable(f"{m.name} is switched off here. Choose another method.")
        normalized = m.normalize_target(target, self.settings)
        pending = m.enrol(normalized, self.settings)
        challenge = yield from self._issue(
            subject=subject, method_name=m.name, purpose="bind", target=normalized,
            pending={"target": normalized, **pending}, session=session, app=app, client=client,
        )  # fmt: skip
        secret = pending.get("secret")
        if secret is None:
            return BindStart(challenge)
        s = self.settings
        uri = provisioning_uri(secret, account or subject, s.app_name, digits=s.totp_digits, period=s.totp_period)
        return BindStart(challenge, provisioning_uri=uri, qr_svg=qr_svg(uri), secret=secret)

    def _bind_from(self, challenge: Challenge) -> Flow[Binding]:
        """Store what an approved bind challenge waited with."""
        data = dict(challenge.pending or {})
        target = data.pop("target", challenge.target)
        record = {"id": new_id(), "method": challenge.method, "target": target, "created_at": self.clock(), **data}
        return (yield from self._add_binding(challenge.subject or "", record))

    def _add_binding(self, subject: str, new: dict[str, Any], *, notify: bool = True) -> Flow[Binding]:
        method = self.method(new["method"])

        def add(record: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
            bindings = list((record or {}).get("bindings", []))
            first = new["method"] != "recovery" and all(b["method"] == "recovery" for b in bindings)
            for b in bindings:
                if b["method"] == new["method"] and method.channel and b["target"] == new["target"]:
                    return record or {}, b  # already bound: nothing changes
            # One authenticator app and one set of recovery codes at a time: a new one replaces the old.
            if not method.channel:
                bindings = [b for b in bindings if b["method"] != new["method"]]
            # Codes from before a first sign-in method back up nothing the password does not
            # (stepup._enrolment): the first method drops them.
            if first:
                bindings = [b for b in bindings if b["method"] != "recovery"]
            return {**(record or {}), "bindings": [*bindings, new]}, new

        stored = yield from self._io("store", "update", _SUBJECT, subject, add, None)
        binding = self._binding_view(stored)
        if stored is new:
            self._emit("bound", None, subject=subject, method=binding.method, target=binding.label)
            if notify:
                yield from self._notify(subject, "bound", binding)
        return binding

    def _binding_view(self, b: dict[str, Any]) -> Binding:
        method = self.methods.get(b["method"])
        label = method.label(b.get("target", "")) if method else b["method"]
        remaining = len(b.get("codes", [])) if b["method"] == "recovery" else None
        return Binding(b["id"], b["method"], label, b.get("created_at", 0.0), remaining)

    def _notify(self, subject: str, change: str, changed: Binding) -> Flow[None]:
        """Tell the subject's other channels that a binding changed; best effort."""
        record = yield from self._subject(subject)
        title, body = self.messages.notice(change, _describe(changed))
        for b in record.get("bindings", []):
            channel = self.methods[b["method"]].channel if b["method"] in self.methods else None
            if not channel or b["id"] == changed.id:
                continue
            try:
                message = Message(channel, b["target"], body, title if channel == "email" else "", "notice")
                yield from self._io(channel, "send", message)
            except Exception as error:  # best effort, whatever the sender raised
                e = as_delivery_error(error, channel, channel)
                detail = {"reason": e.reason or e.message}
                self._emit("delivery_failed", None, subject=subject, method=b["method"], detail=detail)

    def _bindings(self, subject: str) -> Flow[list[Binding]]:
        """The subject's bindings, masked, without secrets."""
        record = yield from self._subject(subject)
        return [self._binding_view(b) for b in record.get("bindings", [])]

    def _unbind(self, subject: str, binding_id: str) -> Flow[Binding]:
        """Remove one binding; the subject's other channels are told.

        :raises MethodNotAvailable: no such binding.
        """

        def remove(record: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
            bindings = (record or {}).get("bindings", [])
            kept = [b for b in bindings if b["id"] != binding_id]
            gone = next((b for b in bindings if b["id"] == binding_id), None)
            return ({**(record or {}), "bindings": kept} if gone else record), gone

        gone = yield from self._io("store", "update", _SUBJECT, subject, remove, None)
        if gone is None:
            raise MethodNotAvailable("No such binding. It may have been removed already.")
        binding = self._binding_view(gone)
        self._emit("unbound", None, subject=subject, method=binding.method, target=binding.label)
        yield from self._notify(subject, "unbound", binding)
        return binding

    def _reset(self, subject: str) -> Flow[int]:
        """Remove every binding of a subject and lift its locks (the "lost my phone" case).

        :returns: how many bindings were removed.
        """
        record = yield from self._subject(subject)
        yield from self._io("store", "delete", _SUBJECT, subject)
        yield from self._unlock(subject)
        count = len(record.get("bindings", []))
        self._emit("reset", None, subject=subject, detail={"bindings": count})
        return count

    def _unlock(self, subject: str, method: str | None = None) -> Flow[None]:
        """Lift the failure back-off and lock of one method, or of all."""
        for name in [method] if method else sorted(self.methods):
            for key in (failure_key(name, subject, ""), legacy_failure_key(name, subject, "")):
                yield from self._io("store", "delete", _FAILURES, key)
        self._emit("unlocked", None, subject=subject, method=method)

    def _unlock_target(self, channel: str, target: object) -> Flow[str]:
        """Lift the back-off (or a lock from before an upgrade) of a phone number's or an
        email address's contact verification.

        :param channel: ``sms`` or ``email``.
        :param target: the number or address as typed; it is normalized first.
        :returns: the normalized target.
        :raises InvalidPhoneNumber: for a number that cannot be read.
        :raises MethodNotAvailable: for a method that sends nothing.
        """
        m = self.method(channel)
        if not m.channel:
            raise MethodNotAvailable("Contact verification works by sms or email.")
        normalized = m.normalize_target(target, self.settings)
        for key in (failure_key(m.name, None, normalized), legacy_failure_key(m.name, None, normalized)):
            yield from self._io("store", "delete", _FAILURES, key)
        self._emit("unlocked", None, method=m.name, target=m.label(normalized))
        return normalized

    def _generate_recovery_codes(self, subject: str) -> Flow[list[str]]:
        """Make a new set of recovery codes, replacing any old set.

        The codes are returned once; only their keyed digests are stored. The caller
        vouches for a fresh second factor (the pages ask one); the engine checks that
        there is a sign-in method to back up (:mod:`stepup._enrolment`).

        :raises NothingToBackUp: the subject has no sign-in method bound.
        """
        bindings = yield from self._bindings(subject)
        if recovery_codes_refusal(bindings, fresh=True) is not None:
            raise NothingToBackUp(
                "Recovery codes back up a sign-in method: add a phone, an email address or an authenticator app first."
            )
        binding_id = new_id()
        codes = new_recovery_codes(self.settings.recovery_code_count)
        digests = [recovery_digest(self.keys, binding_id, normalize_recovery_code(c) or "") for c in codes]
        new = {"id": binding_id, "method": "recovery", "target": "", "created_at": self.clock(), "codes": digests}
        yield from self._add_binding(subject, new)
        return codes

    def _import_binding(
        self, subject: str, method: str, target: object = None, *, secret: str | None = None
    ) -> Flow[Binding]:
        """Bind without a challenge, for provisioning that is trusted already (an import,
        a demo user). The target is still checked.

        :param secret: for TOTP, an existing base32 secret.
        :raises InvalidInput: for a secret that is not base32 of 112 bits or more.
        """
        m = self.method(method)
        if m.name == "recovery":
            raise MethodNotAvailable("Recovery codes are made with generate_recovery_codes.")
        normalized = m.normalize_target(target, self.settings)
        data = m.enrol(normalized, self.settings)
        if secret is not None:
            data["secret"] = check_totp_secret(secret)
        record = {"id": new_id(), "method": m.name, "target": normalized, "created_at": self.clock(), **data}
        return (yield from self._add_binding(subject, record, notify=False))

    # -- policy ------------------------------------------------------------------------

    def _get_policy(self) -> Flow[Policy]:
        """The policy in force: the settings' defaults with the admin's changes over them."""
        return (yield from self._policy())

    def _set_method(
        self, method: str, enabled: bool, scope: str = "global", name: str = "", *, by: str | None = None
    ) -> Flow[None]:
        """Switch a method on or off globally or for an app, route or subject; persisted.

        :param scope: ``global``, ``app``, ``route`` or ``subject``.
        :param name: the app, route or subject.
        :param by: the admin who made the change, for the audit event.
        """
        self.method(method)
        change = {"scope": scope_name(scope, name), "method": method, "enabled": bool(enabled)}
        yield from self._change_policy(change, by)

    def _set_login_2fa(
        self, enabled: bool, scope: str = "global", name: str = "", *, by: str | None = None
    ) -> Flow[None]:
        """Require (or stop requiring) a second factor at login, globally, per app, or for
        one subject (enforced 2FA).

        :param by: the admin who made the change, for the audit event.
        """
        yield from self._change_policy({"scope": scope_name(scope, name), "login_2fa": bool(enabled)}, by)

    def _set_identity_source(self, source: str, required: bool, *, by: str | None = None) -> Flow[None]:
        """Whether logins from ``source`` (``password``, ``sso``...) need a second factor.

        :param by: the admin who made the change, for the audit event.
        """
        if not source:
            raise InvalidInput("Name the identity source, e.g. password or sso.")
        yield from self._change_policy({"identity_source": source, "enabled": bool(required)}, by)

    def _set_bind_on_first_login(self, enabled: bool) -> Flow[None]:
        """Whether a user with nothing bound must bind a method at login."""
        yield from self._change_policy({"bind_on_first_login": bool(enabled)})

    def _change_policy(self, change: dict[str, Any], by: str | None = None) -> Flow[None]:
        def change_it(record: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
            new = apply_change(record, change)
            return new, new

        stored = yield from self._io("store", "update", _POLICY, _POLICY, change_it, None)
        # In force at once in this process; other processes read it within policy_refresh.
        self.policy_cache.keep(stored, self.clock())
        self._emit("policy_changed", None, subject=by, detail=change)

    def _login_decision(
        self, subject: str, *, identity_source: str | None = None, app: str | None = None
    ) -> Flow[LoginDecision]:
        """What a fresh login of ``subject`` needs: a second factor or not, with which of
        their bindings, a binding first, or support (``refused``: see :mod:`._enrolment`).

        :param app: the app (blueprint, mount) the login is for; ``None``: a request that
            belongs to no app, which the global setting decides.
        """
        policy = yield from self._policy()
        required = policy.login_2fa(subject=subject, app=app, identity_source=identity_source)
        return (yield from self._decide_login(policy, subject, required, app))

    def _login_somewhere(self, subject: str, *, identity_source: str | None = None) -> Flow[LoginDecision]:
        """What a fresh login needs for the requests that ask most: a second factor when the
        policy asks one globally or in any app (the login hold then lets a held login into
        the apps that ask none), with the methods on globally."""
        policy = yield from self._policy()
        required = policy.login_2fa_somewhere(subject=subject, identity_source=identity_source)
        return (yield from self._decide_login(policy, subject, required))

    def _decide_login(
        self, policy: Policy, subject: str, required: bool, app: str | None = None
    ) -> Flow[LoginDecision]:
        if not required:
            return LoginDecision(required=False)
        allowed = policy.methods(app=app, subject=subject)
        bindings = yield from self._bindings(subject)
        usable = tuple(b for b in bindings if b.method in allowed and b.remaining != 0)
        must_bind = password_may_enrol(policy, bindings, login_2fa=True)
        # Every method but recovery codes (made, not bound), plug-ins included, in the
        # order they were registered: the built-in ones first.
        bindable = tuple(m for m in self.methods if m != "recovery" and m in allowed) if must_bind else ()
        refused = refusal(bindings, usable, may_enrol=must_bind)
        return LoginDecision(
            required=True, bindings=usable, must_bind=must_bind, bind_methods=bindable, refused=refused
        )

    # -- contact verification (Vonage Verify's shape) -------------------------------------

    def _request_contact(self, channel: str, to: object, *, client: str | None = None) -> Flow[str]:
        """Send a code to ``to`` to confirm the person controls it.

        :param channel: ``sms`` or ``email``.
        :param to: the number or address as typed.
        :returns: the request id to check the code against.
        :raises InvalidPhoneNumber: see :meth:`begin_bind`.
        :raises RateLimited: too many codes to this target.
        """
        m = self.method(channel)
        if not m.channel:
            raise MethodNotAvailable("Contact verification works by sms or email.")
        policy = yield from self._policy()
        if m.name not in policy.methods():
            raise MethodNotAvailable(f"{m.name} is switched off. Choose another channel.")
        target = m.normalize_target(to, self.settings)
        challenge = yield from self._issue(
            subject=None, method_name=m.name, purpose="contact", target=target, client=client
        )
        return challenge.id

    def _check_contact(self, request_id: str, code: object, *, client: str | None = None) -> Flow[ContactResult]:
        """Check the code of a contact verification.

        :raises WrongCode: with ``attempts_left``; the third wrong code ends the request.
        """
        approval = yield from self._verify(request_id, code, client=client)
        return ContactResult(approval.challenge_id, approval.method, approval.target, approval.approved_at)

    def _cancel_contact(self, request_id: str) -> Flow[None]:
        """Cancel a contact verification."""
        yield from self._cancel(request_id)


_DESCRIPTIONS = {"sms": "The phone number {label}", "email": "The email address {label}"}


def _describe(binding: Binding) -> str:
    """A binding in words for a notice: "The phone number +44 •••• ••3456"."""
    if binding.method in _DESCRIPTIONS:
        return _DESCRIPTIONS[binding.method].format(label=binding.label)
    return {"totp": "An authenticator app", "recovery": "A set of recovery codes"}.get(binding.method, binding.label)
