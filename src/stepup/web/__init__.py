"""The web layer both adapters share: pages, forms, the JSON API and route protection,
free of any framework. It needs the ``flask`` or ``asgi`` extra (WTForms, Jinja2)."""

from ._base import FORM_TYPES as FORM_TYPES
from ._base import WebRequest as WebRequest
from ._base import WebResult as WebResult
from ._base import is_json_type as is_json_type
from ._base import media_type as media_type
from ._base import parse_json as parse_json
from ._base import safe_next as safe_next
from ._client import client_address as client_address
from ._common import CONTACT_ROUTES as CONTACT_ROUTES
from ._common import ROUTES as ROUTES
from ._config import WebConfig as WebConfig
from ._forms import PlainForm as PlainForm
from ._forms import StepUpForm as StepUpForm
from ._gate import end_login as end_login
from ._gate import grant_holds as grant_holds
from ._gate import login_settled as login_settled
from ._handlers import WebFlows as WebFlows
from ._handlers import WebLayers as WebLayers
from ._headers import PAGE_HEADER_NAMES as PAGE_HEADER_NAMES
from ._headers import page_headers as page_headers
from ._operations import Operation as Operation
from ._operations import operation_of as operation_of
from ._replay import cookie_names as cookie_names
from ._replay import merge_cookies as merge_cookies
from ._templates import TEMPLATE_DIR as TEMPLATE_DIR
from ._translate import identity_source as identity_source
from ._translate import response_headers as response_headers
from ._translate import session_subject as session_subject
from ._translate import subject_of as subject_of
from ._translate import web_request as web_request

__all__ = [
    "CONTACT_ROUTES",
    "FORM_TYPES",
    "PAGE_HEADER_NAMES",
    "ROUTES",
    "PlainForm",
    "StepUpForm",
    "TEMPLATE_DIR",
    "Operation",
    "WebConfig",
    "WebFlows",
    "WebLayers",
    "WebRequest",
    "WebResult",
    "client_address",
    "cookie_names",
    "end_login",
    "is_json_type",
    "grant_holds",
    "identity_source",
    "login_settled",
    "media_type",
    "merge_cookies",
    "operation_of",
    "page_headers",
    "parse_json",
    "response_headers",
    "safe_next",
    "session_subject",
    "subject_of",
    "web_request",
]
