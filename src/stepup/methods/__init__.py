"""Methods: the kinds of second factor, and how third parties add their own."""

from ._base import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP
from ._base import Method as Method
from ._base import TargetInput as TargetInput
from ._base import load_methods as load_methods
from ._base import method_title as method_title
from ._base import target_input as target_input
from ._builtin import BUILTIN_METHODS as BUILTIN_METHODS
from ._builtin import EmailMethod as EmailMethod
from ._builtin import PasskeyMethod as PasskeyMethod
from ._builtin import RecoveryMethod as RecoveryMethod
from ._builtin import SmsMethod as SmsMethod
from ._builtin import TotpMethod as TotpMethod
from ._passkey import RelyingParty as RelyingParty

__all__ = [
    "BUILTIN_METHODS",
    "ENTRY_POINT_GROUP",
    "EmailMethod",
    "Method",
    "PasskeyMethod",
    "RecoveryMethod",
    "RelyingParty",
    "SmsMethod",
    "TargetInput",
    "TotpMethod",
    "load_methods",
    "method_title",
    "target_input",
]
