from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from audit.models import AuditEvent
from audit.services import audit_record

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# What a read-only user (纪检派驻组) may still POST: the explicit allow-list of the contract.
READ_ONLY_ALLOWED_VIEWS = frozenset(
    {
        "accounts:logout",
        "accounts:password_change",
        "set_language",
        "core:notification_read",
    }
)

# Where a user who must change the password may go meanwhile.
PASSWORD_CHANGE_ALLOWED_VIEWS = frozenset(
    {"accounts:logout", "accounts:password_change", "set_language", "accounts:login"}
)


def _view_name(request) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


class ForcedPasswordChangeMiddleware:
    """An initial or reset password must be replaced before anything else (demo accounts are
    exempt so that the printed demo logins keep working)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.must_change_password
            and not user.is_demo
            and not request.path_info.startswith("/static/")
            and _view_name(request) not in PASSWORD_CHANGE_ALLOWED_VIEWS
        ):
            return redirect("accounts:password_change")
        return self.get_response(request)


class ReadOnlyRoleMiddleware:
    """The discipline group sees everything and changes nothing: every request that could change
    a record is refused with 403 before any view runs, whatever the view's own checks say."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            request.method not in SAFE_METHODS
            and user.is_authenticated
            and user.is_read_only
            and _view_name(request) not in READ_ONLY_ALLOWED_VIEWS
        ):
            audit_record(
                event_type="auth.write_denied",
                actor=user,
                outcome=AuditEvent.Outcome.DENIED,
                reason="只读角色不得修改数据",
                detail={"method": request.method, "path": request.path_info[:300]},
            )
            raise PermissionDenied("纪检派驻组为只读角色，不能修改任何数据。")
        return self.get_response(request)
