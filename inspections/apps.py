from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = "抽查计划、任务与检查"

    def ready(self):
        # Registers the file purposes (core.uploads) of plans and visits with their read
        # permissions; imported here because they import models (the registry is ready now).
        from .services import plans, visits  # noqa: F401
