from accounts.roles import Role
from core.extensions import Panel

from .models import AuditEvent


def panels(request) -> list[Panel]:
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
        *red_flags_panels(request),
    ]


def red_flags_panels(request) -> list[Panel]:
    """The discipline group's red flags (纪检派驻组重点关注): draws failing verification, voided
    draws, overdue publications and edits after approval in the last 30 days — four COUNT
    queries, each linking to the oversight page that lists them (docs/oversight.md)."""
    if not request.user.has_role(Role.DISCIPLINE):
        return []
    from oversight.selectors.review import red_flags

    return [
        Panel(
            title="重点关注（红旗）",
            template="oversight/review_red_flags_panel.html",
            context={"flags": red_flags(days=30)},
            order=5,
        )
    ]
