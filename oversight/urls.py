"""URLs of oversight: the discipline group's audit views at the app's root, then fairness
statistics and reports."""

from django.urls import path

from .views import fairness, reports, review

app_name = "oversight"
urlpatterns = [
    path("draws/", review.review_draws, name="review_draws"),
    path("records/", review.review_records, name="review_records"),
    path("deadlines/", review.review_deadlines, name="review_deadlines"),
    path("fairness/", fairness.fairness_inspectors, name="fairness_inspectors"),
    path("fairness/enterprises/", fairness.fairness_enterprises, name="fairness_enterprises"),
    path("fairness/rates/", fairness.fairness_rates, name="fairness_rates"),
    path("reports/", reports.report_index, name="report_index"),
    path("reports/tasks/<int:pk>/", reports.task_report, name="report_task"),
    path("reports/tasks/<int:pk>/report.pdf", reports.task_report_pdf, name="report_task_pdf"),
    path("reports/plans/<int:pk>/", reports.plan_report, name="report_plan"),
    path("reports/plans/<int:pk>/summary.pdf", reports.plan_report_pdf, name="report_plan_pdf"),
]
