from django.utils.translation import gettext_noop

from accounts.roles import Role

from .extensions import NavItem

NAV_ITEMS = [
    NavItem(gettext_noop("首页"), "core:dashboard", frozenset(Role.values), order=0),
]
