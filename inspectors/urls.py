from django.urls import path

from . import views

app_name = "inspectors"
urlpatterns = [
    path("", views.inspector_list, name="list"),
    path("add/", views.inspector_add, name="add"),
    path("<int:pk>/", views.inspector_detail, name="detail"),
    path("<int:pk>/edit/", views.inspector_edit, name="edit"),
    path("<int:pk>/status/add/", views.status_add, name="status_add"),
    path("status/<int:period_pk>/end/", views.status_end, name="status_end"),
    path("<int:pk>/certificates/add/", views.certificate_edit, name="certificate_add"),
    path("certificates/<int:cert_pk>/edit/", views.certificate_edit, name="certificate_edit"),
    path("certificates/expiring/", views.certificate_expiring, name="certificate_expiring"),
    path("<int:pk>/trainings/add/", views.training_add, name="training_add"),
    path("trainings/", views.training_report, name="training_report"),
    path("<int:pk>/recusals/add/", views.recusal_add, name="recusal_add"),
    path("recusals/", views.recusal_list, name="recusal_list"),
    path("recusals/<int:recusal_pk>/end/", views.recusal_end, name="recusal_end"),
    path("changes/", views.roster_changes, name="changes"),
    path("eligibility/", views.eligibility_check, name="eligibility"),
    path("experts/", views.expert_list, name="expert_list"),
    path("experts/add/", views.expert_edit, name="expert_add"),
    path("experts/<int:pk>/edit/", views.expert_edit, name="expert_edit"),
    path("experts/<int:pk>/recusals/add/", views.expert_recusal_add, name="expert_recusal_add"),
    path("agencies/", views.agency_list, name="agency_list"),
    path("agencies/add/", views.agency_edit, name="agency_add"),
    path("agencies/<int:pk>/edit/", views.agency_edit, name="agency_edit"),
    path("agencies/<int:pk>/recusals/add/", views.agency_recusal_add, name="agency_recusal_add"),
    path("export.xlsx", views.roster_export, name="export"),
    path("import/", views.roster_import, name="import"),
    path("import/template.xlsx", views.roster_template, name="import_template"),
    path("import/confirm/", views.roster_import_confirm, name="import_confirm"),
]
