from django.utils.translation import gettext_noop

from accounts.roles import BUSINESS_READERS
from core.extensions import NavItem

NAV_ITEMS = [
    NavItem(
        gettext_noop("执法人员名录"),
        "inspectors:list",
        frozenset(BUSINESS_READERS),
        group="名录库",
        order=200,
    ),
    NavItem(
        gettext_noop("专家与机构"),
        "inspectors:expert_list",
        frozenset(BUSINESS_READERS),
        group="名录库",
        order=210,
    ),
]
