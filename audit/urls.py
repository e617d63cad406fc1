from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("security/", views.security_overview, name="security_overview"),
    path("verify/", views.chain_verify, name="chain_verify"),
    path("checkpoints/", views.checkpoint_list, name="checkpoint_list"),
    # The name is checked against the store's own pattern by the view (404 otherwise).
    path("checkpoints/<slug:name>.json", views.checkpoint_json, name="checkpoint_json"),
    path("checkpoints/<slug:name>.pdf", views.checkpoint_pdf, name="checkpoint_pdf"),
]
