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
from ._passkey import assertion_count as assertion_count
from ._passkey import authentication_options as authentication_options
from ._passkey import credential_id_of as credential_id_of
from ._passkey import default_name as default_name
from ._passkey import registration_data as registration_data
from ._passkey import registration_options as registration_options

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
    "assertion_count",
    "authentication_options",
    "credential_id_of",
    "default_name",
    "load_methods",
    "method_title",
    "registration_data",
    "registration_options",
    "target_input",
]
