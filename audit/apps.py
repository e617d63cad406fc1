from typing import Any

from celery.schedules import crontab
from django.apps import AppConfig
from django.core import checks


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "审计日志"
    beat_schedule = {
        # a signed checkpoint of the audit chain every night, 02:10 Asia/Shanghai (after the
        # day's events, before the 03:15 backup, which carries its own)
        "audit-checkpoint": {
            "task": "audit.tasks.audit_checkpoint",
            "schedule": crontab(hour=2, minute=10),
        },
    }

    def ready(self) -> None:
        checks.register(check_checkpoint_key, checks.Tags.security, deploy=True)


def check_checkpoint_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The key that anchors the audit chain outside the database must be set, and long enough
    that nobody holding only the database can guess it."""
    from django.core.exceptions import ImproperlyConfigured

    from .checkpoints import MIN_KEY_LENGTH, configured_keys

    try:
        key = configured_keys()[0]
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="audit.E001")]
    if len(key) < MIN_KEY_LENGTH:
        return [
            checks.Error(
                f"AUDIT_CHECKPOINT_KEY 太短：至少 {MIN_KEY_LENGTH} 个字符。", id="audit.E002"
            )
        ]
    return []
