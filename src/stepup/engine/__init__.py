"""The engine: flows as functions over a typed :class:`Context`, and the two engines that
run them (:class:`Engine`) or await them (:class:`AsyncEngine`).

This module is the engine's public internal API: ``stepup.web``, the adapters and the
command line use these names and no other (``tests/test_structure.py`` keeps it so).
Every flow takes the context first and is run by an engine::

    challenge = engine.run(start(engine.context, "alice", "sms"))   # what engine.start does

docs/architecture.md maps the modules behind these names.
"""

from ._accepted import accepts as accepts
from ._accepted import check_accepted as check_accepted
from ._admin import policy as policy
from ._admin import set_bind_on_first_login as set_bind_on_first_login
from ._admin import set_identity_source as set_identity_source
from ._admin import set_login_2fa as set_login_2fa
from ._admin import set_method as set_method
from ._base import EngineBase as EngineBase
from ._bindings import begin_bind as begin_bind
from ._bindings import bindings as bindings
from ._bindings import generate_recovery_codes as generate_recovery_codes
from ._bindings import import_binding as import_binding
from ._bindings import reset as reset
from ._bindings import unbind as unbind
from ._challenges import cancel as cancel
from ._challenges import challenge as challenge
from ._challenges import consume as consume
from ._challenges import resend as resend
from ._challenges import start as start
from ._contact import cancel_contact as cancel_contact
from ._contact import check_contact as check_contact
from ._contact import next_contact as next_contact
from ._contact import request_contact as request_contact
from ._context import Context as Context
from ._devices import RememberedBrowser as RememberedBrowser
from ._devices import devices as devices
from ._devices import forget_browser as forget_browser
from ._devices import forget_device as forget_device
from ._devices import forget_devices as forget_devices
from ._devices import is_trusted_device as is_trusted_device
from ._devices import remember_device as remember_device
from ._effects import Flow as Flow
from ._effects import read_subjects_once as read_subjects_once
from ._ended import end_login as end_login
from ._ended import refuse_ended as refuse_ended
from ._engines import AsyncEngine as AsyncEngine
from ._engines import ContactVerification as ContactVerification
from ._engines import Engine as Engine
from ._enrolment import password_may_enrol as password_may_enrol
from ._enrolment import recovery_codes_refusal as recovery_codes_refusal
from ._enrolment import refusal as refusal
from ._issue import ChallengeSpec as ChallengeSpec
from ._locale import locale_of as locale_of
from ._locale import set_locale as set_locale
from ._locks import unlock as unlock
from ._locks import unlock_target as unlock_target
from ._login import login_decision as login_decision
from ._login import login_somewhere as login_somewhere
from ._open import pending_challenges as pending_challenges
from ._passkeys import passkey_options as passkey_options
from ._passkeys import rename_passkey as rename_passkey
from ._policy_cache import PolicyCache as PolicyCache
from ._records import read_policy as read_policy
from ._resume import SavedRequest as SavedRequest
from ._resume import load_resume as load_resume
from ._resume import save_resume as save_resume
from ._resume import take_resume as take_resume
from ._steps import next_step as next_step
from ._steps import run_due as run_due
from ._support import ACTIONS as ACTIONS
from ._support import LockState as LockState
from ._support import SubjectOverview as SubjectOverview
from ._support import subject_overview as subject_overview
from ._support import support_action as support_action
from ._trail import audit_events as audit_events
from ._verify import verify as verify

__all__ = [
    "ACTIONS",
    "AsyncEngine",
    "ChallengeSpec",
    "ContactVerification",
    "Context",
    "Engine",
    "EngineBase",
    "Flow",
    "LockState",
    "PolicyCache",
    "RememberedBrowser",
    "SavedRequest",
    "SubjectOverview",
    "accepts",
    "audit_events",
    "begin_bind",
    "bindings",
    "cancel",
    "cancel_contact",
    "challenge",
    "check_accepted",
    "check_contact",
    "consume",
    "devices",
    "end_login",
    "refuse_ended",
    "read_subjects_once",
    "locale_of",
    "set_locale",
    "forget_browser",
    "forget_device",
    "forget_devices",
    "generate_recovery_codes",
    "import_binding",
    "is_trusted_device",
    "load_resume",
    "login_decision",
    "login_somewhere",
    "next_contact",
    "next_step",
    "passkey_options",
    "password_may_enrol",
    "pending_challenges",
    "policy",
    "read_policy",
    "recovery_codes_refusal",
    "refusal",
    "remember_device",
    "rename_passkey",
    "request_contact",
    "resend",
    "reset",
    "run_due",
    "save_resume",
    "set_bind_on_first_login",
    "set_identity_source",
    "set_login_2fa",
    "set_method",
    "start",
    "subject_overview",
    "support_action",
    "take_resume",
    "unbind",
    "unlock",
    "unlock_target",
    "verify",
]
