"""Celery application.

Run with ``celery -A config worker -B``. Tasks live in each app's ``tasks`` module; they take
ids, fetch, call a service and are safe to run twice. Each app declares its periodic jobs on its
AppConfig (``beat_schedule``, a dict of beat entries); they are collected here into the one
schedule beat reads.
"""

import os
from importlib import import_module

from celery import Celery
from django.apps import AppConfig
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("wugang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule(app_names) -> dict:
    """The beat entries the installed apps declare (``AppConfig.beat_schedule``). Read from the
    AppConfig classes, which import without the app registry, so this works before
    ``django.setup()`` (when beat builds its schedule). Two apps naming one entry is an error."""
    schedule: dict = {}
    for name in app_names:
        try:
            module = import_module(f"{name}.apps")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.apps":
                raise
            continue
        for config in vars(module).values():
            if (
                isinstance(config, type)
                and issubclass(config, AppConfig)
                and getattr(config, "name", None) == name
            ):
                for key, entry in getattr(config, "beat_schedule", {}).items():
                    if key in schedule:
                        raise ValueError(f"beat entry {key!r} is declared twice")
                    schedule[key] = entry
    return schedule


@app.on_after_configure.connect
def _collect_beat_schedule(sender, **kwargs):
    sender.conf.beat_schedule = beat_schedule(settings.INSTALLED_APPS)
