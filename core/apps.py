from celery.schedules import crontab
from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "系统外壳"
    beat_schedule = {
        # notification e-mails the deadline scan's set-based INSERTs wrote, and lost / failed
        # ones, are (re-)queued every 10 minutes (the scan task also sweeps after each run)
        "core-notification-email-sweep": {
            "task": "core.tasks.notification_email_sweep",
            "schedule": crontab(minute="*/10"),
        },
    }

    def ready(self) -> None:
        # The e-mail settings check (core.I001 / core.W001) lives with the e-mail code, which
        # imports models: so here, once the app registry is ready.
        from django.core import checks

        from .mail import email_settings_check

        checks.register(email_settings_check)
