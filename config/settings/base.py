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
    "approvals",
    "enterprises",
    "inspectors",
    "workdays",
    "inspections",
    "disclosure",
    "oversight",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "core.middleware.AllowedMethodsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.NoStoreForUsersMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
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
# Periodic jobs: each app declares its own on its AppConfig (``beat_schedule``);
# config/celery_app.py collects them (docs/architecture.md, "Background jobs").

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
# A new password may not be any of the account's last this-many passwords.
PASSWORD_HISTORY_COUNT = env.int("PASSWORD_HISTORY_COUNT", default=5)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "accounts.validators.PasswordShapeValidator"},
    {"NAME": "accounts.validators.CommonPasswordValidator"},
    {"NAME": "accounts.validators.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.validators.PasswordHistoryValidator",
        "OPTIONS": {"count": PASSWORD_HISTORY_COUNT},
    },
]
# Login throttling (docs/security.md, "Login failures"): LOGIN_FAILURE_LIMIT failures in a row
# of one name from one address lock that name for that address for LOGIN_LOCKOUT_MINUTES;
# every address also has a window of LOGIN_ADDRESS_WINDOW_MINUTES in which, beyond
# LOGIN_FAILURE_LIMIT failures, each further one doubles the wait before its next attempt (up to
# LOGIN_BACKOFF_MAX_SECONDS), and LOGIN_ADDRESS_FAILURE_LIMIT failures stop it for a window.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=30)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
LOGIN_ADDRESS_WINDOW_MINUTES = env.int("LOGIN_ADDRESS_WINDOW_MINUTES", default=15)
LOGIN_BACKOFF_MAX_SECONDS = env.int("LOGIN_BACKOFF_MAX_SECONDS", default=30)
# Reverse proxies (nginx) whose X-Forwarded-For names the client; from anyone else the header
# is ignored (the client writes it). Production: 127.0.0.1 and ::1 unless set.
TRUSTED_PROXY_IPS = env.list("TRUSTED_PROXY_IPS", default=[])
# Idle logout: 30 minutes without the user's activity (accounts.middleware.IdleSessionMiddleware:
# an autosave or poll with nothing new is not activity); the page warns 2 minutes before.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_IDLE_WARNING_SECONDS = env.int("SESSION_IDLE_WARNING_SECONDS", default=2 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# A pending approval request (approvals) not decided within this many days can no longer be
# approved; a new request for the same object then replaces it.
APPROVAL_REQUEST_DAYS = env.int("APPROVAL_REQUEST_DAYS", default=7)

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
# Zip guards of every xlsx read (checked from the central directory, before parsing): the
# declared unzipped total, each member's and the whole file's compression ratio (real sheets
# compress 5–30×), and the number of members (an xlsx has ~10).
IMPORT_ZIP_MAX_UNZIPPED_BYTES = env.int("IMPORT_ZIP_MAX_UNZIPPED_BYTES", default=1024**3)
IMPORT_ZIP_MAX_RATIO = env.int("IMPORT_ZIP_MAX_RATIO", default=100)
IMPORT_ZIP_MAX_MEMBERS = env.int("IMPORT_ZIP_MAX_MEMBERS", default=500)
# Data rows one import may hold, per kind (a county register is ~10^4 enterprises; the
# roster a few hundred people; its preview and confirmation hold every row in memory).
IMPORT_MAX_ROWS = {
    "enterprises": env.int("IMPORT_MAX_ROWS_ENTERPRISES", default=1_000_000),
    "tiers": env.int("IMPORT_MAX_ROWS_TIERS", default=1_000_000),
    "licences": env.int("IMPORT_MAX_ROWS_LICENCES", default=1_000_000),
    "check_items": env.int("IMPORT_MAX_ROWS_CHECK_ITEMS", default=10_000),
    "inspectors": env.int("IMPORT_MAX_ROWS_INSPECTORS", default=10_000),
}
# Files of import batches never confirmed are removed after this many hours (a daily job).
IMPORT_FILE_MAX_AGE_HOURS = env.int("IMPORT_FILE_MAX_AGE_HOURS", default=72)
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
