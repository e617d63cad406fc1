from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = "抽查计划、任务与检查"

    def ready(self):
        # Registers the visits' file purposes (core.uploads) and their read permission.
        # The art. 8 default rates come back after a test flush (and exist on any new database).
        from django.db.models.signals import post_migrate

        from . import tasks_visits  # noqa: F401 - the visits' batch-printing task
        from .services import visits  # noqa: F401
        from .services.plans import default_sampling_rates_ensure

        post_migrate.connect(
            default_sampling_rates_ensure, sender=self, dispatch_uid="inspections_default_rates"
        )
        # The visits' result vocabulary is reference data too (docs/visits.md).
        post_migrate.connect(
            _result_categories_ensure, sender=self, dispatch_uid="inspections_result_categories"
        )


def _result_categories_ensure(app_config=None, apps=None, **kwargs):
    from .models.visits import ensure_result_categories

    try:
        model = apps.get_model("inspections", "ResultCategory") if apps else None
    except LookupError:  # migrated to a state before the visits existed
        return
    ensure_result_categories(model)
