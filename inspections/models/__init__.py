"""Plans and tasks (plans.py), draws (draws.py); later visits and results."""

from .draws import *  # noqa: F403
from .plans import *  # noqa: F403
from .visits import *  # noqa: F403
