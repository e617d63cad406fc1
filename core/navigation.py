from accounts.roles import Role

from .extensions import NavItem

NAV_ITEMS = [
    NavItem("首页", "core:dashboard", frozenset(Role.values), order=0),
]
