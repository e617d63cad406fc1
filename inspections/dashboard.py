"""Dashboard panel: this year's plan and the tasks running now or starting within 30 days."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import BUSINESS_READERS, Role
from core.extensions import Panel

from .models import Plan, Task

SOON = datetime.timedelta(days=30)


def panels(request) -> list[Panel]:
    user = request.user
    if not user.has_role(*BUSINESS_READERS):
        return []
    today = timezone.localdate()
    plans = list(Plan.objects.filter(year=today.year).select_related("lead_section"))
    tasks = list(
        Task.objects.filter(window_end__gte=today, window_start__lte=today + SOON)
        .select_related("lead_section", "plan")
        .order_by("window_start", "seq")[:8]
    )
    return [
        Panel(
            title=_("本年度抽查计划与任务"),
            template="inspections/plan_panel.html",
            context={
                "plans": plans,
                "tasks": tasks,
                "today": today,
                "is_lead": user.has_role(Role.LEAD_SECTION),
            },
            order=30,
        )
    ]
