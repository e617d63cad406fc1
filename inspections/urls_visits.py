"""URLs of visits (included from inspections/urls.py)."""

from django.urls import path

from .views import visits

urlpatterns = [
    path("visits/", visits.visit_list, name="visit_list"),
    path("visits/today/", visits.visit_today, name="visit_today"),
    path("visits/review/", visits.visit_review_queue, name="visit_review_queue"),
    path("visits/categories/", visits.category_list, name="visit_categories"),
    path("visits/categories/<int:pk>/", visits.category_update, name="visit_category_update"),
    path("visits/<int:pk>/", visits.visit_detail, name="visit_detail"),
    path("visits/<int:pk>/record/", visits.visit_record, name="visit_record"),
    path("visits/<int:pk>/autosave/", visits.visit_autosave, name="visit_autosave"),
    path("visits/<int:pk>/start/", visits.visit_start, name="visit_start"),
    path("visits/<int:pk>/reschedule/", visits.visit_reschedule, name="visit_reschedule"),
    path("visits/<int:pk>/submit/", visits.visit_submit, name="visit_submit"),
    path("visits/<int:pk>/signature/", visits.visit_signature, name="visit_signature"),
    path("visits/<int:pk>/signed-page/", visits.visit_signed_page, name="visit_signed_page"),
    path("visits/<int:pk>/evidence/", visits.visit_evidence, name="visit_evidence"),
    path(
        "visits/<int:pk>/non-cooperation/",
        visits.visit_non_cooperation,
        name="visit_non_cooperation",
    ),
    path("visits/<int:pk>/review/", visits.visit_review, name="visit_review"),
    path("visits/<int:pk>/archive/", visits.visit_archive, name="visit_archive"),
    path("visits/<int:pk>/archive/add/", visits.visit_archive_add, name="visit_archive_add"),
    path("visits/<int:pk>/transfers/", visits.visit_transfer_create, name="visit_transfer_create"),
    path(
        "visits/<int:pk>/transfers/<int:transfer_pk>/",
        visits.visit_transfer_update,
        name="visit_transfer_update",
    ),
    path("visits/<int:pk>/follow-ups/", visits.visit_follow_up_add, name="visit_follow_up_add"),
    path(
        "visits/<int:pk>/follow-ups/<int:follow_up_pk>/close/",
        visits.visit_follow_up_close,
        name="visit_follow_up_close",
    ),
    path("visits/<int:pk>/pdf/<str:kind>/", visits.visit_pdf, name="visit_pdf"),
    path("tasks/<int:pk>/visits/", visits.task_visits, name="task_visits"),
    path("tasks/<int:pk>/visits/create/", visits.task_visits_create, name="task_visits_create"),
    path("tasks/<int:pk>/visits/pdf/", visits.task_visits_pdf, name="task_visits_pdf"),
]
