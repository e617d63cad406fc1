from django.urls import path

from . import views

app_name = "disclosure"
urlpatterns = [
    path("publications/", views.publication_list, name="publication_list"),
    path("publications/<int:pk>/", views.publication_detail, name="publication_detail"),
    path("publications/<int:pk>/correct/", views.correction_propose, name="correction_propose"),
    path("publications/<int:pk>/objections/", views.objection_create, name="objection_create"),
    path("objections/<int:pk>/recheck/", views.objection_recheck, name="objection_recheck"),
    path("scan/", views.scan_now, name="scan_now"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/new/", views.batch_create, name="batch_create"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("batches/<int:pk>/feedback/", views.batch_feedback, name="batch_feedback"),
    path("batches/<int:pk>/published/", views.batch_published, name="batch_published"),
    path("public/", views.public_results, name="public_results"),
]
