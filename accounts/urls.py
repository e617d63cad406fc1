from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("session/", views.session_status, name="session"),
    path("users/", views.user_list, name="user_list"),
    path("users/add/", views.user_add, name="user_add"),
    path("users/<int:user_id>/", views.user_detail, name="user_detail"),
    path("users/<int:user_id>/edit/", views.user_edit, name="user_edit"),
    path("users/<int:user_id>/roles/", views.user_roles, name="user_roles"),
    path(
        "users/<int:user_id>/reset-password/", views.user_password_reset, name="user_password_reset"
    ),
    path("sections/", views.section_list, name="section_list"),
    path("sections/add/", views.section_edit, name="section_add"),
    path("sections/<int:section_id>/edit/", views.section_edit, name="section_edit"),
]
