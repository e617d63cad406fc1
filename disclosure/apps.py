from celery.schedules import crontab
from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = "结果公示"
    beat_schedule = {
        # the daily publication-deadline scan, 07:30 Asia/Shanghai
        "disclosure-deadline-scan": {
            "task": "disclosure.tasks.deadline_scan",
            "schedule": crontab(hour=7, minute=30),
        },
    }

    def ready(self):
        # The receivers and file purposes import models: here, once the registry is ready.
        from . import receivers
        from .services import register_purposes

        receivers.connect()
        register_purposes()
