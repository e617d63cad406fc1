"""URLs of the draws (included by inspections/urls.py)."""

from django.urls import path

from .views import draws

urlpatterns = [
    path("draws/", draws.draw_list, name="draw_list"),
    path("tasks/<int:pk>/draw/", draws.draw_task, name="draw_task"),
    path("tasks/<int:pk>/draw/commit/", draws.draw_commit, name="draw_commit"),
    path("tasks/<int:pk>/draw/commit/status/", draws.draw_commit_status, name="draw_commit_status"),
    path("draws/<int:pk>/", draws.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/perform/", draws.draw_perform, name="draw_perform"),
    path(
        "draws/<int:pk>/perform/requeue/",
        draws.draw_perform_requeue,
        name="draw_perform_requeue",
    ),
    path("draws/<int:pk>/status/", draws.draw_status, name="draw_status"),
    path("draws/<int:pk>/void/", draws.draw_void, name="draw_void"),
    path(
        "draws/<int:pk>/selections/<int:selection_pk>/replace/",
        draws.draw_replace,
        name="draw_replace",
    ),
    path(
        "draws/<int:pk>/selections/<int:selection_pk>/joint-visit/",
        draws.draw_joint_visit,
        name="draw_joint_visit",
    ),
    path("draws/<int:pk>/evidence.zip", draws.draw_evidence, name="draw_evidence"),
    path("draws/<int:pk>/certificate.pdf", draws.draw_certificate, name="draw_certificate"),
    path("draws/<int:pk>/public/", draws.draw_public, name="draw_public"),
]
