from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils import timezone

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
    {
        "accounts:logout",
        "accounts:password_change",
        "set_language",
        "accounts:login",
        "accounts:session",
    }
)


def _view_name(request: HttpRequest) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


class ForcedPasswordChangeMiddleware:
    """An initial or reset password must be replaced before anything else (demo accounts are
    exempt so that the printed demo logins keep working)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
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

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
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


# --- Idle logout (等保 登录超时): activity is what the user does, not what a page does alone --
IDLE_KEY = "_idle_last_activity"
IDLE_REASON = "空闲超时"


def session_activity_skip(request: HttpRequest) -> None:
    """Say that this request is not the user's activity (an autosave with nothing new, a
    status poll): the idle clock keeps running as if it had not been made."""
    request.idle_passive = True  # type: ignore[attr-defined]  # read by the idle middleware below


def idle_remaining(request: HttpRequest) -> int:
    """Seconds until the idle logout of this request's session (``SESSION_COOKIE_AGE`` after
    the last activity)."""
    last = request.session.get(IDLE_KEY)
    now = timezone.now().timestamp()
    elapsed = 0 if last is None else now - last
    return max(0, int(settings.SESSION_COOKIE_AGE - elapsed))


class IdleSessionMiddleware:
    """Ends a session after ``SESSION_COOKIE_AGE`` seconds without the user's activity.

    Every request of a logged-in user is activity unless the view calls
    ``session_activity_skip`` — so a page that polls or autosaves by itself cannot keep an
    unattended session alive forever (the session's own expiry is pushed by every request,
    SESSION_SAVE_EVERY_REQUEST, so it cannot be the idle clock). The logout is audited
    (``auth.logout``, reason 空闲超时). Every response to a logged-in user says how long is
    left (``X-Idle-Remaining``), for the page's warning (static/js/app.js)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated and idle_remaining(request) <= 0:
            request.logout_reason = IDLE_REASON  # type: ignore[attr-defined]  # read by audit_logout
            logout(request)
        response = self.get_response(request)
        if request.user.is_authenticated:
            if not getattr(request, "idle_passive", False):
                request.session[IDLE_KEY] = timezone.now().timestamp()
            response["X-Idle-Remaining"] = str(idle_remaining(request))
        return response
