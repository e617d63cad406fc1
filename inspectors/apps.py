from django.apps import AppConfig
from django.core import checks


class InspectorsConfig(AppConfig):
    name = "inspectors"
    verbose_name = "执法检查人员名录库"

    def ready(self):
        checks.register(check_encryption_key, checks.Tags.security, deploy=True)
        from accounts.roles import Role
        from core.uploads import register_file_purpose

        register_file_purpose(
            "inspector_import",
            kinds={"xlsx"},
            can_read=lambda user, stored: user.has_role(Role.SYSTEM_ADMIN),
        )


def check_encryption_key(app_configs=None, **kwargs):
    from django.core.exceptions import ImproperlyConfigured

    from . import crypto

    try:
        crypto.fernet()
    except (ImproperlyConfigured, ValueError) as exc:
        return [checks.Error(f"字段加密密钥无效：{exc}", id="inspectors.E001")]
    return []
