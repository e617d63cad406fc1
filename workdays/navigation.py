from django.utils.translation import gettext_noop

from accounts.roles import Role
from core.extensions import NavItem

NAV_ITEMS = [
    NavItem(gettext_noop("工作日历"), "workdays:calendar_index", frozenset(Role.values), order=90),
]
