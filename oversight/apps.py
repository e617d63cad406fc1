from celery.schedules import crontab
from django.apps import AppConfig


class OversightConfig(AppConfig):
    """Oversight and reporting (监督与统计): the discipline group's audit views, fairness
    statistics, and the summaries and reports sent to the higher authority (issue 8)."""

    name = "oversight"
    verbose_name = "监督与统计"
    beat_schedule = {
        # every performed draw re-verified nightly, 02:30 Asia/Shanghai, so an altered draw
        # raises the discipline group's red flag without anyone opening it
        "oversight-draws-verify-all": {
            "task": "oversight.tasks.draws_verify_all",
            "schedule": crontab(hour=2, minute=30),
        },
    }

    def ready(self):
        # The receivers import models: here, once the app registry is ready.
        from enterprises.signals import register_changed
        from inspections.signals import visits_changed

        from .figures import on_register_changed, on_visits_changed

        # The precomputed report figures follow every change the services announce.
        visits_changed.connect(on_visits_changed, dispatch_uid="oversight.visit_figures")
        register_changed.connect(on_register_changed, dispatch_uid="oversight.townships")
