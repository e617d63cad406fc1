"""Production: HTTPS only. Every secret comes from the environment; nothing defaults."""

import os

os.environ["DEBUG"] = "false"

from .base import *  # noqa: F403
from .base import EMAIL_HOST, env

SECRET_KEY = env.str("SECRET_KEY")

# E-mail only with a mail server: without EMAIL_URL (no EMAIL_HOST) notifications stay in-app
# and `manage.py check` says so (core.I001); nothing is printed to the console or logs.

if not EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    NOTIFICATION_EMAIL_ENABLED = False
SITE_URL = env.str("SITE_URL", default="")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# nginx on the same host (deploy/nginx/wugang.conf) sets X-Forwarded-For to the client.
TRUSTED_PROXY_IPS = env.list("TRUSTED_PROXY_IPS", default=["127.0.0.1", "::1"])
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Secure-sessionid"
CSRF_COOKIE_NAME = "__Secure-csrftoken"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    },
}
