from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import UserRequest
from accounts.roles import ROLE_DESCRIPTIONS

from .extensions import app_modules
from .models import StoredFile
from .permissions import ALL_ROLES, role_required
from .services import notification_mark_read
from .uploads import file_open, file_purpose


@role_required(*ALL_ROLES)
def dashboard(request: UserRequest) -> HttpResponse:
    roles = request.user.role_names()
    panels = []
    for module in app_modules("dashboard"):
        panels.extend(module.panels(request))
    panels.sort(key=lambda p: p.order)
    return render(
        request,
        "core/dashboard.html",
        {
            "role_descriptions": [
                (r, ROLE_DESCRIPTIONS[r]) for r in ROLE_DESCRIPTIONS if r in roles
            ],
            "panels": panels,
        },
    )


@role_required(*ALL_ROLES)
def notification_list(request: UserRequest) -> HttpResponse:
    notifications = request.user.notifications.all()[:100]
    return render(request, "core/notifications.html", {"notifications": notifications})


@require_POST
@role_required(*ALL_ROLES)
def notification_read(request: UserRequest, notification_id: int) -> HttpResponseBase:
    if not notification_mark_read(recipient=request.user, notification_id=notification_id):
        # Another user's notice: the same answer as one that does not exist.
        raise Http404("没有这条通知。")
    messages.success(request, "已标记为已读。")
    return redirect("core:notifications")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


@role_required(*ALL_ROLES)
def file_download(request: UserRequest, file_id: UUID) -> FileResponse:
    """Serve a stored file after its purpose's permission check."""
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None:
        raise Http404
    if not file_purpose(stored.purpose).can_read(request.user, stored):
        raise PermissionDenied("您无权查看此文件。")
    response = FileResponse(
        file_open(stored),
        content_type=stored.content_type,
        as_attachment=request.GET.get("inline") != "1" or stored.content_type == "application/zip",
        filename=stored.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
