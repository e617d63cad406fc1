from accounts.roles import Role
from core.extensions import NavItem

NAV_ITEMS = [
    NavItem(
        "审计日志",
        "audit:event_list",
        frozenset({Role.AUDIT_ADMIN, Role.DISCIPLINE}),
        group="监督",
        order=800,
    ),
    NavItem(
        "安全概况",
        "audit:security_overview",
        frozenset({Role.AUDIT_ADMIN, Role.DISCIPLINE}),
        group="监督",
        order=810,
    ),
]
