from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = "抽查计划、任务与检查"

    def ready(self):
        # Registers the visits' file purposes (core.uploads) and their read permission, and the
        # visits' batch-printing task.
        from . import tasks_visits  # noqa: F401
        from .services import plans, visits  # noqa: F401
