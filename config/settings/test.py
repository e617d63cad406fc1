"""Test settings: the same code paths as production, fast hashing, mail kept in memory."""

import atexit
import os
import re
import shutil
import tempfile

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

# Each process of the run (pytest-xdist's gw0, gw1, … or the only one) has its own media
# folder, removed when it exits, its own Redis database (a test's cache.clear() flushes the
# whole database) and its own Celery queue. xdist's workers inherit the controller's
# environment, so the media folder is recognised as inherited and replaced.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_worker_index = int(XDIST_WORKER.removeprefix("gw") or 0)
if os.environ.get("MEDIA_ROOT", "") in ("", os.environ.get("WUGANG_TEST_MEDIA_ROOT")):
    # Not given, or inherited from the controlling test process: a folder of our own. (A
    # MEDIA_ROOT given on purpose, e.g. to a restore run as a subprocess, is kept.)
    _media = tempfile.mkdtemp(prefix=f"wugang-media-{XDIST_WORKER or 'main'}-")
    atexit.register(shutil.rmtree, _media, ignore_errors=True)
    os.environ["MEDIA_ROOT"] = os.environ["WUGANG_TEST_MEDIA_ROOT"] = _media

from .base import *  # noqa: E402, F403
from .base import CACHES, DATABASES, REDIS_URL  # noqa: E402

if REDIS_URL:
    _base = re.match(r"^(redis://[^/]+)(?:/(\d+))?$", REDIS_URL)
    if _base:
        REDIS_URL = f"{_base[1]}/{(int(_base[2] or 0) + _worker_index) % 16}"
        CACHES["default"]["LOCATION"] = REDIS_URL
        CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = f"tests-{XDIST_WORKER or 'main'}"

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
