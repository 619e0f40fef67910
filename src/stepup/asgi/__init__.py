"""stepup for ASGI apps: Starlette, and FastAPI on top of it."""

from ..web import Operation as Operation
from ._lookup import state_of_app as state_of_app
from ._middleware import StepUpMiddleware as StepUpMiddleware
from ._protect import StepUpRequired as StepUpRequired
from ._protect import require as require
from ._protect import step_up_required as step_up_required
from ._protect import stepup_exception_handler as stepup_exception_handler
from ._routes import routes as routes
from ._state import StepUpState as StepUpState
from ._state import state_of as state_of

__all__ = [
    "Operation",
    "StepUpMiddleware",
    "StepUpRequired",
    "StepUpState",
    "require",
    "routes",
    "state_of",
    "state_of_app",
    "step_up_required",
    "stepup_exception_handler",
]
