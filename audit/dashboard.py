from accounts.models import UserRequest
from accounts.roles import Role
from core.extensions import Panel

from .models import AuditEvent


def panels(request: UserRequest) -> list[Panel]:
    if not request.user.has_role(Role.AUDIT_ADMIN, Role.DISCIPLINE):
        return []
    last = AuditEvent.objects.filter(event_type="audit.chain_verified").order_by("-seq").first()
    denied = AuditEvent.objects.filter(event_type="auth.lockout").order_by("-seq")[:5]
    return [
        Panel(
            title="审计日志",
            template="audit/_panel.html",
            context={"last_verification": last, "recent_lockouts": denied},
            order=10,
        ),
    ]
