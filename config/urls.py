from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.i18n import set_language

handler403 = "core.views.permission_denied"

urlpatterns = [
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("approvals/", include("approvals.urls")),
    path("enterprises/", include("enterprises.urls")),
    path("inspectors/", include("inspectors.urls")),
    path("calendar/", include("workdays.urls")),
    # The calendar's pages lived under /disclosure/calendar/ until it became its own app
    # (docs/decisions.md, decision 100); old bookmarks keep working for one release.
    re_path(
        r"^disclosure/calendar/(?P<rest>.*)$",
        RedirectView.as_view(url="/calendar/%(rest)s", permanent=True, query_string=True),
    ),
    path("inspections/", include("inspections.urls")),
    path("disclosure/", include("disclosure.urls")),
    path("oversight/", include("oversight.urls")),
    path("", include("core.urls")),
]
