from django.utils.translation import gettext_noop

from core.extensions import NavItem
from core.permissions import ALL_ROLES

NAV_ITEMS = [
    NavItem(
        gettext_noop("审批事项"), "approvals:list", frozenset(ALL_ROLES), group="系统", order=890
    )
]
