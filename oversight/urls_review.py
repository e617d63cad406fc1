"""The discipline group's audit views (included by oversight/urls.py at the app's root)."""

from django.urls import path

from . import views_review

urlpatterns = [
    path("draws/", views_review.review_draws, name="review_draws"),
    path("records/", views_review.review_records, name="review_records"),
    path("deadlines/", views_review.review_deadlines, name="review_deadlines"),
]
