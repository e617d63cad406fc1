"""Development and the embedded ``make run`` set-up."""

import os

os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: F403
from .base import VAR_DIR, env

# E-mail without a mail server: every message is written as a file under var/mail/.
if not env.str("EMAIL_URL", default="") and not env.str("EMAIL_BACKEND", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
