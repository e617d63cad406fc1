"""Import first in every enterprise benchmark module: sets up Django against DATABASE_URL.

Benchmarks write to the configured database: point DATABASE_URL at a scratch database."""

import os

import django
from django.apps import apps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
if not apps.ready:
    django.setup()
