from accounts.roles import BUSINESS_READERS
from core.extensions import NavItem

NAV_ITEMS = [
    NavItem(
        "执法人员名录", "inspectors:list", frozenset(BUSINESS_READERS), group="名录库", order=200
    ),
    NavItem(
        "专家与机构",
        "inspectors:expert_list",
        frozenset(BUSINESS_READERS),
        group="名录库",
        order=210,
    ),
]
