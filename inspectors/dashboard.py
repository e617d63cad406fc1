from django.utils import timezone

from accounts.roles import Role
from core.extensions import Panel

from .selectors import certificates_expiring


def panels(request) -> list[Panel]:
    """System admins see the certificates about to expire (or just expired)."""
    if not request.user.has_role(Role.SYSTEM_ADMIN):
        return []

    today = timezone.localdate()
    rows = [
        {"cert": c, "days_left": (c.valid_through() - today).days}
        for c in certificates_expiring(today=today)
    ]
    if not rows:
        return []
    return [
        Panel(
            title="执法证到期提醒",
            template="inspectors/_panel_expiring.html",
            context={"rows": rows[:10], "more": len(rows) - 10},
            order=50,
        )
    ]
