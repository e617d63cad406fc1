from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("security/", views.security_overview, name="security_overview"),
    path("verify/", views.chain_verify, name="chain_verify"),
]
