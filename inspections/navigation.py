from django.utils.translation import gettext_noop

from accounts.roles import BUSINESS_READERS, Role
from core.extensions import NavItem

NAV_ITEMS = [
    NavItem(
        gettext_noop("抽查计划"),
        "inspections:plan_list",
        frozenset(BUSINESS_READERS),
        group="抽查",
        order=300,
    ),
    NavItem(
        gettext_noop("抽查任务"),
        "inspections:task_list",
        frozenset(BUSINESS_READERS),
        group="抽查",
        order=310,
    ),
    NavItem(
        gettext_noop("抽取记录"),
        "inspections:draw_list",
        frozenset(BUSINESS_READERS),
        group="抽查",
        order=320,
    ),
    NavItem(
        gettext_noop("我的今日检查"),
        "inspections:visit_today",
        frozenset({Role.INSPECTOR}),
        group="检查",
        order=330,
    ),
    NavItem(
        gettext_noop("待审核检查"),
        "inspections:visit_review_queue",
        frozenset({Role.SECTION_HEAD}),
        group="检查",
        order=340,
    ),
    NavItem(
        gettext_noop("检查记录"),
        "inspections:visit_list",
        frozenset(BUSINESS_READERS),
        group="检查",
        order=350,
    ),
]
