from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "系统外壳"

    def ready(self):
        # The e-mail settings check (core.I001 / core.W001) lives with the e-mail code.
        from django.core import checks

        from .mail import email_settings_check

        checks.register(email_settings_check)
