"""stepup: step-up and multi-factor verification for Python web apps that already exist."""

import logging as _logging

from . import grants as grants
from ._clock import FrozenClock as FrozenClock
from ._clock import system_clock as system_clock
from ._config import Settings as Settings
from ._errors import ApprovalUsed as ApprovalUsed
from ._errors import ChallengeClosed as ChallengeClosed
from ._errors import ChallengeError as ChallengeError
from ._errors import ChallengeExhausted as ChallengeExhausted
from ._errors import ChallengeExpired as ChallengeExpired
from ._errors import ChallengeForbidden as ChallengeForbidden
from ._errors import ChallengeNotFound as ChallengeNotFound
from ._errors import ConfigurationError as ConfigurationError
from ._errors import DeliveryError as DeliveryError
from ._errors import InvalidEmail as InvalidEmail
from ._errors import InvalidInput as InvalidInput
from ._errors import InvalidPhoneNumber as InvalidPhoneNumber
from ._errors import LoginEnded as LoginEnded
from ._errors import MethodLocked as MethodLocked
from ._errors import MethodNotAccepted as MethodNotAccepted
from ._errors import MethodNotAvailable as MethodNotAvailable
from ._errors import NoSendsLeft as NoSendsLeft
from ._errors import NothingToBackUp as NothingToBackUp
from ._errors import OperationMismatch as OperationMismatch
from ._errors import RateLimited as RateLimited
from ._errors import RequestPending as RequestPending
from ._errors import RequestTooLarge as RequestTooLarge
from ._errors import ResendTooSoon as ResendTooSoon
from ._errors import SignInRefused as SignInRefused
from ._errors import StepUpError as StepUpError
from ._errors import StoreUnavailable as StoreUnavailable
from ._errors import TemporarilyLocked as TemporarilyLocked
from ._errors import Throttled as Throttled
from ._errors import Unavailable as Unavailable
from ._errors import WrongCode as WrongCode
from ._i18n import LOCALES as LOCALES
from ._messages import MessageCatalog as MessageCatalog
from ._metrics import Metrics as Metrics
from ._models import Approval as Approval
from ._models import AuditEvent as AuditEvent
from ._models import Binding as Binding
from ._models import BindStart as BindStart
from ._models import Challenge as Challenge
from ._models import ContactResult as ContactResult
from ._models import LoginDecision as LoginDecision
from ._models import Message as Message
from ._models import NextEvent as NextEvent
from ._policy import Policy as Policy
from ._sms import SmsLength as SmsLength
from ._sms import sms_length as sms_length
from ._workflows import NoStepLeft as NoStepLeft
from ._workflows import StepNotDue as StepNotDue
from ._workflows import WorkflowStep as WorkflowStep
from ._workflows import parse_workflow as parse_workflow
from .engine import AsyncEngine as AsyncEngine
from .engine import ContactVerification as ContactVerification
from .engine import Engine as Engine
from .engine import RememberedBrowser as RememberedBrowser

__version__ = "0.1.0"

# A library logs; the app decides where to.
_logging.getLogger("stepup").addHandler(_logging.NullHandler())

__all__ = [
    "Approval",
    "ApprovalUsed",
    "AsyncEngine",
    "AuditEvent",
    "BindStart",
    "Binding",
    "Challenge",
    "ChallengeClosed",
    "ChallengeError",
    "ChallengeExhausted",
    "ChallengeExpired",
    "ChallengeForbidden",
    "ChallengeNotFound",
    "ConfigurationError",
    "ContactResult",
    "ContactVerification",
    "DeliveryError",
    "Engine",
    "FrozenClock",
    "InvalidEmail",
    "InvalidInput",
    "InvalidPhoneNumber",
    "LoginDecision",
    "LoginEnded",
    "Message",
    "LOCALES",
    "MessageCatalog",
    "SmsLength",
    "sms_length",
    "MethodLocked",
    "MethodNotAccepted",
    "MethodNotAvailable",
    "Metrics",
    "NextEvent",
    "NoSendsLeft",
    "NoStepLeft",
    "NothingToBackUp",
    "OperationMismatch",
    "Policy",
    "RateLimited",
    "RememberedBrowser",
    "RequestPending",
    "RequestTooLarge",
    "ResendTooSoon",
    "Settings",
    "SignInRefused",
    "StepNotDue",
    "StepUpError",
    "StoreUnavailable",
    "TemporarilyLocked",
    "Throttled",
    "Unavailable",
    "WorkflowStep",
    "WrongCode",
    "grants",
    "parse_workflow",
    "system_clock",
]
