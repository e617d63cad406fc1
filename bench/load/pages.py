"""The pages the load test visits, and which roles visit them.

A feature adds its list, detail and record pages here: ``Page(name, url_name, roles)`` with
``args`` a callable returning sample URL arguments drawn from the bench database (detail
pages). Pages whose URL name does not exist yet are skipped, so the list can run ahead of the
features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from accounts.roles import Role

ALL = frozenset(Role)
BUSINESS = frozenset(
    {Role.LEAD_SECTION, Role.SECTION_STAFF, Role.INSPECTOR, Role.SECTION_HEAD, Role.DISCIPLINE}
)


def _user_ids():
    from accounts.models import User

    return [(pk,) for pk in User.objects.order_by("?").values_list("pk", flat=True)[:50]]


def _ids(app_label: str, model_name: str, limit: int = 200):
    def sample():
        from django.apps import apps

        model = apps.get_model(app_label, model_name)
        return [(pk,) for pk in model.objects.order_by("-pk").values_list("pk", flat=True)[:limit]]

    return sample


@dataclass(frozen=True)
class Page:
    name: str
    url_name: str
    roles: frozenset
    args: Callable[[], list[tuple]] | None = None
    weight: int = 1
    query: str = ""
    extra: dict = field(default_factory=dict)


PAGES = [
    Page("dashboard", "core:dashboard", ALL, weight=3),
    Page("notifications", "core:notifications", ALL),
    Page("audit log", "audit:event_list", frozenset({Role.AUDIT_ADMIN, Role.DISCIPLINE}), weight=2),
    Page("user list", "accounts:user_list", frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN})),
    Page(
        "user detail",
        "accounts:user_detail",
        frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}),
        args=_user_ids,
    ),
    # Features (each skipped until its URL exists):
    Page("enterprise list", "enterprises:list", BUSINESS, weight=3),
    Page("enterprise search", "enterprises:list", BUSINESS, query="?q=舞钢"),
    Page(
        "enterprise detail",
        "enterprises:detail",
        BUSINESS,
        args=_ids("enterprises", "Enterprise"),
        weight=2,
    ),
    Page("plan list", "inspections:plan_list", BUSINESS),
    Page("plan detail", "inspections:plan_detail", BUSINESS, args=_ids("inspections", "Plan")),
    Page("task list", "inspections:task_list", BUSINESS, weight=2),
    Page(
        "task detail",
        "inspections:task_detail",
        BUSINESS,
        args=_ids("inspections", "Task"),
        weight=2,
    ),
    Page("draw list", "inspections:draw_list", BUSINESS),
    Page("draw detail", "inspections:draw_detail", BUSINESS, args=_ids("inspections", "Draw")),
    Page("inspector roster", "inspectors:list", BUSINESS),
    Page("visit list", "inspections:visit_list", BUSINESS),
    Page("visit detail", "inspections:visit_detail", BUSINESS, args=_ids("inspections", "Visit")),
    Page("publication records", "disclosure:publication_list", BUSINESS, weight=2),
    Page(
        "oversight: draws",
        "oversight:review_draws",
        frozenset({Role.DISCIPLINE, Role.AUDIT_ADMIN}),
    ),
    Page(
        "reports summary",
        "oversight:report_index",
        frozenset({Role.LEAD_SECTION, Role.SECTION_HEAD, Role.DISCIPLINE, Role.AUDIT_ADMIN}),
    ),
]

# Who the 50 simulated staff are: business roles dominate, as in the bureau.
ROLE_MIX = [
    Role.LEAD_SECTION,
    Role.SECTION_STAFF,
    Role.SECTION_STAFF,
    Role.INSPECTOR,
    Role.INSPECTOR,
    Role.SECTION_HEAD,
    Role.DISCIPLINE,
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDIT_ADMIN,
]
