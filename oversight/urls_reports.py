from django.urls import path

from . import views_reports as views

urlpatterns = [
    path("", views.report_index, name="report_index"),
    path("tasks/<int:pk>/", views.task_report, name="report_task"),
    path("tasks/<int:pk>/report.pdf", views.task_report_pdf, name="report_task_pdf"),
    path("plans/<int:pk>/", views.plan_report, name="report_plan"),
    path("plans/<int:pk>/summary.pdf", views.plan_report_pdf, name="report_plan_pdf"),
]
