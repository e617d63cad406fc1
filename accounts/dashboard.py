from django.utils import timezone

from core.extensions import Panel

from .models import LoginAddressThrottle, LoginThrottle, User, UserRequest
from .roles import Role


def panels(request: UserRequest) -> list[Panel]:
    if not request.user.has_role(Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN):
        return []
    now = timezone.now()
    locked = LoginThrottle.objects.filter(locked_until__gt=now).order_by("-locked_until")[:20]
    blocked = LoginAddressThrottle.objects.filter(blocked_until__gt=now).order_by("-blocked_until")[
        :20
    ]
    pending = User.objects.filter(must_change_password=True, is_demo=False, is_active=True)
    return [
        Panel(
            title="账户安全",
            template="accounts/_panel_security.html",
            context={
                "locked": locked,
                "blocked": blocked,
                "pending_password_change": pending.count(),
            },
            order=10,
        )
    ]
