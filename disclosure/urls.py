from django.urls import path

from . import views

app_name = "disclosure"
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
]
