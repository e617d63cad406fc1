from django.utils.translation import gettext_noop

from core.extensions import NavItem

from .roles import Role

NAV_ITEMS = [
    NavItem(
        gettext_noop("用户管理"),
        "accounts:user_list",
        frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}),
        group="系统",
        order=900,
    ),
    NavItem(
        gettext_noop("股室"),
        "accounts:section_list",
        frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}),
        group="系统",
        order=910,
    ),
]
