"""Test settings: the same code paths as production, fast hashing, mail kept in memory."""

import os
import tempfile

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="wugang-media-"))

from .base import *  # noqa: F403
from .base import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
NOTIFICATION_EMAIL_ENABLED = True
SITE_URL = "http://testserver"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
CELERY_TASK_ALWAYS_EAGER = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The audit table's trigger refuses TRUNCATE; pytest-django flushes with TRUNCATE between
    # transactional tests. Only the test suite's connections set this flag (docs/decisions.md).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c audit.allow_truncate=on"
