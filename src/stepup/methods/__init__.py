"""Methods: the kinds of second factor, and how third parties add their own."""

from ._base import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP
from ._base import Method as Method
from ._base import load_methods as load_methods
from ._builtin import BUILTIN_METHODS as BUILTIN_METHODS
from ._builtin import EmailMethod as EmailMethod
from ._builtin import RecoveryMethod as RecoveryMethod
from ._builtin import SmsMethod as SmsMethod
from ._builtin import TotpMethod as TotpMethod

__all__ = [
    "BUILTIN_METHODS",
    "ENTRY_POINT_GROUP",
    "EmailMethod",
    "Method",
    "RecoveryMethod",
    "SmsMethod",
    "TotpMethod",
    "load_methods",
]
