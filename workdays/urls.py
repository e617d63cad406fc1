from django.urls import path

from . import views

app_name = "workdays"
urlpatterns = [
    path("", views.calendar_index, name="calendar_index"),
    path("<int:year>/", views.calendar_year, name="calendar_year"),
    path("new/", views.calendar_draft_new, name="calendar_draft_new"),
    path("revisions/<int:pk>/", views.calendar_revision, name="calendar_revision"),
    path("revisions/<int:pk>/edit/", views.calendar_draft_edit, name="calendar_draft_edit"),
    path("revisions/<int:pk>/request/", views.calendar_request, name="calendar_request"),
    path("revisions/<int:pk>/discard/", views.calendar_discard, name="calendar_discard"),
]
