from accounts.roles import Role
from core.extensions import NavItem

OVERSIGHT_READERS = frozenset({Role.DISCIPLINE, Role.AUDIT_ADMIN})

NAV_ITEMS: list[NavItem] = []
