from django.urls import path

from . import views, views_publication

app_name = "disclosure"
_p = views_publication
views_publication_urls = [
    path("publications/", _p.publication_list, name="publication_list"),
    path("publications/<int:pk>/", _p.publication_detail, name="publication_detail"),
    path("publications/<int:pk>/correct/", _p.correction_propose, name="correction_propose"),
    path("publications/<int:pk>/objections/", _p.objection_create, name="objection_create"),
    path("versions/<int:pk>/decide/", _p.correction_decide, name="correction_decide"),
    path("objections/<int:pk>/recheck/", _p.objection_recheck, name="objection_recheck"),
    path("scan/", _p.scan_now, name="scan_now"),
    path("batches/", _p.batch_list, name="batch_list"),
    path("batches/new/", _p.batch_create, name="batch_create"),
    path("batches/<int:pk>/", _p.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/progress/", _p.batch_progress, name="batch_progress"),
    path("batches/<int:pk>/feedback/", _p.batch_feedback, name="batch_feedback"),
    path("batches/<int:pk>/published/", _p.batch_published, name="batch_published"),
    path("public/", _p.public_results, name="public_results"),
]
urlpatterns = [
    path("calendar/", views.calendar_index, name="calendar_index"),
    path("calendar/<int:year>/", views.calendar_year, name="calendar_year"),
    path("calendar/new/", views.calendar_draft_new, name="calendar_draft_new"),
    path("calendar/revisions/<int:pk>/", views.calendar_revision, name="calendar_revision"),
    path(
        "calendar/revisions/<int:pk>/edit/", views.calendar_draft_edit, name="calendar_draft_edit"
    ),
    path("calendar/revisions/<int:pk>/approve/", views.calendar_approve, name="calendar_approve"),
    path("calendar/revisions/<int:pk>/discard/", views.calendar_discard, name="calendar_discard"),
    # publication (issue 7): disclosure/views_publication.py
    *views_publication_urls,
]
