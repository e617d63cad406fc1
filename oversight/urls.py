from django.urls import include, path

app_name = "oversight"
urlpatterns = [
    path("", include("oversight.urls_review")),
    path("fairness/", include("oversight.urls_fairness")),
    path("reports/", include("oversight.urls_reports")),
]
