from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("notifications/", views.notification_list, name="notifications"),
    path("files/<uuid:file_id>/", views.file_download, name="file_download"),
    path(
        "notifications/<int:notification_id>/read/",
        views.notification_read,
        name="notification_read",
    ),
]
