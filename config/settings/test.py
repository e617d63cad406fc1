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
if os.environ.get("AUDIT_CHECKPOINT_DIR", "") in ("", os.environ.get("WUGANG_TEST_CHECKPOINTS")):
    # The same for the audit checkpoints' folder (outside the database, like on a server).
    _checkpoints = tempfile.mkdtemp(prefix=f"wugang-checkpoints-{XDIST_WORKER or 'main'}-")
    atexit.register(shutil.rmtree, _checkpoints, ignore_errors=True)
    os.environ["AUDIT_CHECKPOINT_DIR"] = os.environ["WUGANG_TEST_CHECKPOINTS"] = _checkpoints

from .base import *  # noqa: E402, F403
from .base import CACHES, DATABASE_OWNER_URL, DATABASES, REDIS_URL, env  # noqa: E402

if REDIS_URL:
    _base = re.match(r"^(redis://[^/]+)(?:/(\d+))?$", REDIS_URL)
    if _base:
        REDIS_URL = f"{_base[1]}/{(int(_base[2] or 0) + _worker_index) % 16}"
        CACHES["default"]["LOCATION"] = REDIS_URL
        CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = f"tests-{XDIST_WORKER or 'main'}"

# A fixed key for the audit checkpoints and event macs (production: from the environment).
AUDIT_CHECKPOINT_KEY = env.str(
    "AUDIT_CHECKPOINT_KEY", default="test-only-audit-checkpoint-key-0123456789"
)
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
    # transactional tests. Only here is the trigger built with a switch (AUDIT_TRUNCATE_SWITCH,
    # read by migration audit.0003), and only the test suite's connections set it
    # (docs/decisions.md 110).
    AUDIT_TRUNCATE_SWITCH = True
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c audit.allow_truncate=on"
    # Two roles (docs/deploy.md §4): the suite builds, migrates and flushes its database
    # (TRUNCATE, CREATE DATABASE) as the owner; tests/test_db_roles.py connects as the runtime
    # role of DATABASE_URL, which keeps its name in DATABASE_RUNTIME_ROLE.
    RUNTIME_DATABASE = dict(DATABASES["default"])
    if DATABASE_OWNER_URL:
        _owner = env.db_url_config(DATABASE_OWNER_URL)
        for _key in ("USER", "PASSWORD", "HOST", "PORT"):
            DATABASES["default"][_key] = _owner.get(_key, "")
