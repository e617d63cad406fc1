from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

handler403 = "core.views.permission_denied"

urlpatterns = [
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("approvals/", include("approvals.urls")),
    path("enterprises/", include("enterprises.urls")),
    path("inspectors/", include("inspectors.urls")),
    path("inspections/", include("inspections.urls")),
    path("disclosure/", include("disclosure.urls")),
    path("oversight/", include("oversight.urls")),
    path("", include("core.urls")),
]
