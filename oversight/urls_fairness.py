"""Fairness statistics (mounted at /oversight/fairness/ by oversight/urls.py)."""

from django.urls import path

from . import views_fairness as views

urlpatterns = [
    path("", views.fairness_inspectors, name="fairness_inspectors"),
    path("enterprises/", views.fairness_enterprises, name="fairness_enterprises"),
    path("rates/", views.fairness_rates, name="fairness_rates"),
]
