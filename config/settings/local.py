"""Development and the embedded ``make run`` set-up."""

import os

os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: F403
