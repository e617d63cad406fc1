from django.urls import path

from . import views

app_name = "enterprises"
urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("add/", views.enterprise_edit, name="add"),
    path("export.xlsx", views.enterprise_export_view, name="export"),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
    path("<int:pk>/edit/", views.enterprise_edit, name="edit"),
    path("<int:pk>/tiers/add/", views.tier_add, name="tier_add"),
    path("<int:pk>/licences/add/", views.licence_add, name="licence_add"),
    path("check-items/", views.check_item_list, name="check_item_list"),
    path("check-items/add/", views.check_item_edit, name="check_item_add"),
    path("check-items/<int:pk>/", views.check_item_detail, name="check_item_detail"),
    path("check-items/<int:pk>/edit/", views.check_item_edit, name="check_item_edit"),
    path("import/", views.import_start, {"kind": "enterprises"}, name="import_index"),
    path("import/<slug:kind>/", views.import_start, name="import_start"),
    path("import/<slug:kind>/template.xlsx", views.template_download, name="template"),
    path("import/batch/<int:pk>/", views.import_preview, name="import_preview"),
    path("import/batch/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
]
