from django.urls import path, re_path

from . import views

app_name = "audit"
urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("security/", views.security_overview, name="security_overview"),
    path("verify/", views.chain_verify, name="chain_verify"),
    path("checkpoints/", views.checkpoint_list, name="checkpoint_list"),
    re_path(
        r"^checkpoints/(?P<name>e\d{4,}-s\d{12,}-\d{8}T\d{12}Z)\.json$",
        views.checkpoint_json,
        name="checkpoint_json",
    ),
    re_path(
        r"^checkpoints/(?P<name>e\d{4,}-s\d{12,}-\d{8}T\d{12}Z)\.pdf$",
        views.checkpoint_pdf,
        name="checkpoint_pdf",
    ),
]
