from celery.schedules import crontab
from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与角色"
    beat_schedule = {
        # login-throttle rows whose window and lock have ended, 03:10 Asia/Shanghai
        "accounts-login-throttle-prune": {
            "task": "accounts.tasks.login_throttle_prune",
            "schedule": crontab(hour=3, minute=10),
        },
    }

    def ready(self) -> None:
        # Connect the receivers; the registry is ready now.
        from . import receivers, signals  # noqa: F401
