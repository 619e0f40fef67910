"""stepup for Flask: ``StepUp(app)`` and ``@step_up_required``."""

from ..web import Operation as Operation
from ._decorators import step_up_required as step_up_required
from ._extension import StepUp as StepUp
from ._extension import state as state

__all__ = ["Operation", "StepUp", "state", "step_up_required"]
