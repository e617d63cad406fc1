from django.utils.translation import gettext_noop

from accounts.roles import BUSINESS_READERS, Role
from core.extensions import NavItem

NAV_ITEMS = [
    NavItem(
        gettext_noop("工作日历"), "disclosure:calendar_index", frozenset(Role.values), order=90
    ),
]

# publication (issue 7)
NAV_ITEMS += [
    NavItem(
        gettext_noop("结果公示"),
        "disclosure:publication_list",
        frozenset(BUSINESS_READERS),
        order=70,
    ),
]
