"""Celery application.

Run with ``celery -A config worker -B``. Tasks live in each app's ``tasks.py``; they take ids,
fetch, call a service and are safe to run twice.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("wugang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
