from django.utils.translation import gettext_noop

from accounts.roles import Role
from core.extensions import NavItem

NAV_ITEMS = [
    NavItem(
        gettext_noop("审计日志"),
        "audit:event_list",
        frozenset({Role.AUDIT_ADMIN, Role.DISCIPLINE}),
        group="监督",
        order=800,
    ),
    NavItem(
        gettext_noop("安全概况"),
        "audit:security_overview",
        frozenset({Role.AUDIT_ADMIN, Role.DISCIPLINE}),
        group="监督",
        order=810,
    ),
    NavItem(
        gettext_noop("日志检查点"),
        "audit:checkpoint_list",
        frozenset({Role.AUDIT_ADMIN, Role.DISCIPLINE}),
        group="监督",
        order=820,
    ),
]
