from django.utils.translation import gettext_noop

from accounts.roles import Role
from core.extensions import NavItem

OVERSIGHT_READERS = frozenset({Role.DISCIPLINE, Role.AUDIT_ADMIN})

NAV_ITEMS: list[NavItem] = [
    # The discipline group's audit views (views/review.py); 安全概况 and 审计日志 are the audit
    # app's items in the same "监督" group.
    NavItem(
        gettext_noop("抽取核验"),
        "oversight:review_draws",
        OVERSIGHT_READERS,
        group="监督",
        order=780,
    ),
    NavItem(
        gettext_noop("记录修改与更正"),
        "oversight:review_records",
        OVERSIGHT_READERS,
        group="监督",
        order=785,
    ),
    NavItem(
        gettext_noop("公示期限监督"),
        "oversight:review_deadlines",
        OVERSIGHT_READERS,
        group="监督",
        order=790,
    ),
    # Fairness statistics (views/fairness.py; its pages link to each other).
    NavItem(
        gettext_noop("公平性统计"),
        "oversight:fairness_inspectors",
        OVERSIGHT_READERS,
        group="监督",
        order=795,
    ),
    # Summaries and reports (views/reports.py): every section for the lead section, the
    # discipline group and the audit admin; a section head sees their own section's.
    NavItem(
        gettext_noop("抽查统计与报告"),
        "oversight:report_index",
        frozenset({Role.LEAD_SECTION, Role.SECTION_HEAD, Role.DISCIPLINE, Role.AUDIT_ADMIN}),
        group="统计",
        order=800,
    ),
]
