from django.utils.translation import gettext_noop

from accounts.roles import BUSINESS_READERS
from core.extensions import NavItem

NAV_ITEMS = [
    NavItem(
        gettext_noop("结果公示"),
        "disclosure:publication_list",
        frozenset(BUSINESS_READERS),
        order=70,
    ),
]
