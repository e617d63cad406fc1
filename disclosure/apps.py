from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = "结果公示"

    def ready(self):
        from . import receivers
        from .services import register_purposes

        receivers.connect()
        register_purposes()
