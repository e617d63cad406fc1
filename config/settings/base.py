"""Settings shared by every environment. Values come from the environment (django-environ).

Defaults are the embedded set-up of ``make run``: SQLite under var/, a filesystem Celery broker,
so a fresh machine needs no service. Set DATABASE_URL / REDIS_URL to use PostgreSQL / Redis.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"))

# --- Core ------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# A development key exists only when DEBUG is on; without DEBUG the key must come from the env.
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me" if DEBUG else None)
# Earlier keys, still accepted for sessions and signed tokens while a rotation settles in.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "accounts",
    "audit",
    "core",
    "enterprises",
    "inspectors",
    "inspections",
    "disclosure",
    "oversight",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "accounts.middleware.ForcedPasswordChangeMiddleware",
    "accounts.middleware.ReadOnlyRoleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------
# An empty DATABASE_URL means "not set" (make test passes the variable through as it is).
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and the scheduler share the file: WAL lets readers run beside
    # the writer, and IMMEDIATE transactions take the write lock at BEGIN, which serialises the
    # audit chain and the draws (select_for_update is a no-op on SQLite).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# PostgreSQL with two roles (docs/deploy.md §4): DATABASE_URL is the runtime role the app runs
# as, which owns nothing; DATABASE_OWNER_URL (the operator's shell only) is the owner that
# migrates and restores, then grants the runtime role its privileges (core/dbroles.py).
DATABASE_OWNER_URL = env.str("DATABASE_OWNER_URL", default="")
DATABASE_RUNTIME_ROLE = DATABASES["default"].get("USER", "")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # kombu's filesystem transport: a broker that needs no server, for the embedded set-up.
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Apps add their periodic jobs here (see docs/contracts.md, "Background jobs").
CELERY_BEAT_SCHEDULE: dict = {}
# inspectors (issue 4): daily certificate-expiry notices, 07:10 Asia/Shanghai.
from celery.schedules import crontab as _inspectors_crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["inspectors-certificate-expiry"] = {
    "task": "inspectors.tasks.certificate_expiry_notify",
    "schedule": _inspectors_crontab(hour=7, minute=10),
}
# disclosure (issue 7): the daily publication-deadline scan, 07:30 Asia/Shanghai (after the
# certificate job; it also runs that job, which is idempotent).
CELERY_BEAT_SCHEDULE["disclosure-deadline-scan"] = {
    "task": "disclosure.tasks.deadline_scan",
    "schedule": _inspectors_crontab(hour=7, minute=30),
}
# core: notification e-mails the deadline scan's set-based INSERTs wrote, and lost / failed
# ones, are (re-)queued every 10 minutes (the scan task also sweeps right after each run).
CELERY_BEAT_SCHEDULE["core-notification-email-sweep"] = {
    "task": "core.tasks.notification_email_sweep",
    "schedule": _inspectors_crontab(minute="*/10"),
}
# oversight (issue 8): every performed draw re-verified nightly, 02:30 Asia/Shanghai, so an
# altered draw raises the discipline group's red flag without anyone opening it.
CELERY_BEAT_SCHEDULE["oversight-draws-verify-all"] = {
    "task": "oversight.tasks.draws_verify_all",
    "schedule": _inspectors_crontab(hour=2, minute=30),
}

# audit: a signed checkpoint of the audit chain every night, 02:10 Asia/Shanghai (after the
# day's events, before the 03:15 backup, which carries its own).
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "audit.tasks.audit_checkpoint",
    "schedule": _inspectors_crontab(hour=2, minute=10),
}

# --- The audit chain's anchor outside the database (audit/checkpoints.py) ------------------------
# The key lives on the application servers only, never in the database or a backup: someone
# holding the database credentials cannot re-sign a rewritten chain. Required in production.
AUDIT_CHECKPOINT_KEY = env.str("AUDIT_CHECKPOINT_KEY", default="")
AUDIT_CHECKPOINT_KEY_FALLBACKS = env.list("AUDIT_CHECKPOINT_KEY_FALLBACKS", default=[])
AUDIT_CHECKPOINT_DIR = env.str("AUDIT_CHECKPOINT_DIR", default=str(VAR_DIR / "audit-checkpoints"))
# Only the test settings turn this on: the audit table's TRUNCATE guard then obeys the
# connection flag audit.allow_truncate (pytest-django flushes with TRUNCATE). Read by migration
# audit.0003 when it installs the trigger function; anywhere else the guard has no switch.
AUDIT_TRUNCATE_SWITCH = False

# --- Auth and login security (等保2.0 level 3, application layer) ----------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=30)
# Idle logout: the session lives 30 minutes and every request pushes the expiry forward.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
# Uploads live outside the web root and are served only through permission-checked views.
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = None
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
# A background import with no progress for this long is reported as stalled (worker down) and
# its page stops polling.
IMPORT_STALL_SECONDS = env.int("IMPORT_STALL_SECONDS", default=600)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- E-mail ------------------------------------------------------------------------------------
# EMAIL_URL (django-environ, e.g. smtp://mail.intranet:25) names the mail server. Without it:
# the console backend here, a file backend under var/mail in development (local.py), e-mail
# switched off in production (production.py: the intranet may have no mail server).
# EMAIL_BACKEND in the environment overrides the backend the URL implies.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    EMAIL_HOST = ""
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_BACKEND)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@wugang.invalid")
# Notifications are also e-mailed (core.mail) to active users with an address.
NOTIFICATION_EMAIL_ENABLED = env.bool("NOTIFICATION_EMAIL_ENABLED", default=True)
# The site's address for links in e-mails, e.g. https://inspect.wugang.gov.cn
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- The bureau --------------------------------------------------------------------------------
BUREAU_NAME = "舞钢市工业信息化和商务局"
BUREAU_DIVISION_CODE = "410481"

# --- Inspector roster (inspectors app, docs/inspectors.md) -------------------------------------
# Fernet key(s) for ID numbers at rest, comma-separated (first encrypts). Required unless DEBUG
# or the test settings (a fixed development key is used there).
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
# Earlier keys that still decrypt until `rotate_field_key` has re-encrypted every row.
FIELD_ENCRYPTION_KEY_FALLBACKS = env.list("FIELD_ENCRYPTION_KEY_FALLBACKS", default=[])
INSPECTOR_MAX_CHECKS_PER_TASK = env.int("INSPECTOR_MAX_CHECKS_PER_TASK", default=20)
INSPECTOR_MAX_CHECKS_PER_YEAR = env.int("INSPECTOR_MAX_CHECKS_PER_YEAR", default=120)
CERTIFICATE_EXPIRY_NOTICE_DAYS = env.int("CERTIFICATE_EXPIRY_NOTICE_DAYS", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint and fontTools narrate every PDF step at INFO; only their warnings matter.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
