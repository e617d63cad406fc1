from celery.schedules import crontab
from django.apps import AppConfig
from django.core import checks


class InspectorsConfig(AppConfig):
    name = "inspectors"
    verbose_name = "执法检查人员名录库"
    beat_schedule = {
        # daily certificate-expiry notices, 07:10 Asia/Shanghai
        "inspectors-certificate-expiry": {
            "task": "inspectors.tasks.certificate_expiry_notify",
            "schedule": crontab(hour=7, minute=10),
        },
    }

    def ready(self):
        checks.register(check_encryption_key, checks.Tags.security, deploy=True)
        # Imported here, not at the top: apps.py loads before the app registry is ready.
        from accounts.roles import Role
        from core.uploads import register_file_purpose

        register_file_purpose(
            "inspector_import",
            kinds={"xlsx"},
            can_read=lambda user, stored: user.has_role(Role.SYSTEM_ADMIN),
        )


def check_encryption_key(app_configs=None, **kwargs):
    from django.core.exceptions import ImproperlyConfigured

    from . import crypto  # when the check runs: apps.py loads before the settings it reads

    try:
        crypto.fernet()
    except (ImproperlyConfigured, ValueError) as exc:
        return [checks.Error(f"字段加密密钥无效：{exc}", id="inspectors.E001")]
    return []
