"""URLs of the inspections app. Plans and tasks are here; the draws add theirs in
``inspections/urls_draws.py`` (a module-level ``urlpatterns`` list), included when it exists, so
the two parts never edit the same file."""

from importlib import import_module

from django.urls import path

from .views import plans

app_name = "inspections"

urlpatterns = [
    path("plans/", plans.plan_list, name="plan_list"),
    path("plans/new/", plans.plan_create, name="plan_create"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plans.plan_update, name="plan_update"),
    path("plans/<int:pk>/file/", plans.plan_file, name="plan_file"),
    path("plans/<int:pk>/start/", plans.plan_start, name="plan_start"),
    path("plans/<int:pk>/complete/", plans.plan_complete, name="plan_complete"),
    path("plans/<int:pk>/pdf/", plans.plan_pdf, name="plan_pdf"),
    path("tasks/", plans.task_list, name="task_list"),
    path("tasks/new/", plans.task_create, name="task_create"),
    path("tasks/<int:pk>/", plans.task_detail, name="task_detail"),
    path("tasks/<int:pk>/edit/", plans.task_update, name="task_update"),
    path("tasks/<int:pk>/delete/", plans.task_delete, name="task_delete"),
    path("tasks/<int:pk>/rates/", plans.task_rate_override, name="task_rate_override"),
    path(
        "tasks/<int:pk>/rates/<str:tier>/remove/",
        plans.task_rate_override_remove,
        name="task_rate_override_remove",
    ),
    path("tasks/<int:pk>/scheme/", plans.task_scheme, name="task_scheme"),
    path("tasks/<int:pk>/scheme/edit/", plans.task_scheme_edit, name="task_scheme_edit"),
    path("tasks/<int:pk>/scheme/pdf/", plans.task_scheme_pdf, name="task_scheme_pdf"),
    path("rates/", plans.sampling_rates, name="sampling_rates"),
    path("rates/set/", plans.sampling_rate_set, name="sampling_rate_set"),
]

try:
    urlpatterns += import_module("inspections.urls_draws").urlpatterns
except ModuleNotFoundError as exc:  # the draws part is not there yet
    if exc.name != "inspections.urls_draws":
        raise
urlpatterns += import_module("inspections.urls_visits").urlpatterns
