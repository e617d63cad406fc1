from django.utils.translation import gettext_noop

from accounts.roles import BUSINESS_READERS, Role
from core.extensions import NavItem

NAV_ITEMS = [
    NavItem(
        gettext_noop("检查对象名录库"),
        "enterprises:list",
        frozenset(BUSINESS_READERS),
        group="名录",
        order=200,
    ),
    NavItem(
        gettext_noop("随机抽查事项清单"),
        "enterprises:check_item_list",
        frozenset(BUSINESS_READERS),
        group="名录",
        order=210,
    ),
    NavItem(
        gettext_noop("导入名录"),
        "enterprises:import_index",
        frozenset({Role.LEAD_SECTION, Role.SECTION_STAFF}),
        group="名录",
        order=220,
    ),
]
