from accounts.roles import Role
from core.extensions import NavItem

NAV_ITEMS = [
    NavItem("工作日历", "disclosure:calendar_index", frozenset(Role.values), order=90),
]
