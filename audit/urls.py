from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("verify/", views.chain_verify, name="chain_verify"),
]
