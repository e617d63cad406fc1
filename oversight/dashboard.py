"""Dashboard panels (core.extensions): what the role dashboards still lacked.

- 牵头股室 and 股室负责人: this year's completion as a small chart (published on time / late /
  not yet, by section for the lead section, by task for a section head's own section), with a
  link to the reports;
- 执法检查人员: my open visits (returned first) — the publication deadlines are the disclosure
  panel's;
- 股室负责人: the records waiting for my review;
- 牵头股室: tasks whose window has begun or begins within 30 days and that have no draw yet,
  and draws frozen but not yet performed;
- 纪检派驻组: the red flags (draws failing verification, voids, overdue publications, edits after
  approval).

The plans and tasks (inspections), publication deadlines and the calendar (disclosure), and the
audit panels are the other apps'."""

import datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role
from core.charts import stacked_bar_chart
from core.extensions import Panel
from inspections.models import Draw, Plan, Task
from inspections.selectors.visits import my_visits_today, review_queue

from . import reports
from .selectors.review import red_flags

SOON = datetime.timedelta(days=30)


def completion_panel(request) -> list[Panel]:
    user = request.user
    if not user.has_role(Role.LEAD_SECTION, Role.SECTION_HEAD):
        return []
    year = timezone.localdate().year
    tasks = reports.visible_tasks(user).filter(year=year)
    report = reports.build_report(tasks, title="", details=False)
    if not report.tasks:
        return []
    by_section = reports.sees_all_sections(user)
    groups = (
        [(f.label, f) for f in report.sections]
        if by_section
        else [(row.task.number, row.figures) for row in report.tasks[:8]]
    )
    chart = stacked_bar_chart(
        [label for label, _f in groups],
        [
            (_("按期公示"), [f.on_time for _l, f in groups]),
            (_("逾期公示"), [f.published - f.on_time for _l, f in groups]),
            (_("未公示"), [f.unpublished for _l, f in groups]),
        ],
        width=460,
    )
    return [
        Panel(
            title=_("%(year)s年抽查完成情况") % {"year": year},
            template="oversight/report_dash_completion.html",
            context={"chart": chart, "totals": report.totals, "year": year},
            order=35,
        )
    ]


def inspector_panel(request) -> list[Panel]:
    user = request.user
    if not user.has_role(Role.INSPECTOR):
        return []
    visits = my_visits_today(user)
    return [
        Panel(
            title=_("我的检查"),
            template="oversight/report_dash_inspector.html",
            context={"visits": visits[:6], "more": max(len(visits) - 6, 0)},
            order=12,
        )
    ]


def review_panel(request) -> list[Panel]:
    user = request.user
    if not user.has_role(Role.SECTION_HEAD) or not user.section_id:
        return []
    queue = review_queue(user).order_by("submitted_at", "id")
    waiting, count = list(queue[:6]), queue.count()
    if not count:
        return []
    return [
        Panel(
            title=_("待我审核的检查记录"),
            template="oversight/report_dash_reviews.html",
            context={"visits": waiting, "count": count},
            order=14,
        )
    ]


def draws_panel(request) -> list[Panel]:
    if not request.user.has_role(Role.LEAD_SECTION):
        return []
    today = timezone.localdate()
    live = Draw.objects.filter(
        task=OuterRef("pk"), status__in=[Draw.Status.COMMITTED, Draw.Status.COMPLETED]
    )
    undrawn = list(
        Task.objects.filter(window_end__gte=today, window_start__lte=today + SOON)
        .exclude(plan__status=Plan.Status.DRAFT)
        .filter(~Exists(live))
        .select_related("lead_section")
        .order_by("window_start", "seq")[:8]
    )
    frozen = list(
        Draw.objects.filter(status=Draw.Status.COMMITTED)
        .select_related("task")
        .order_by("committed_at")[:8]
    )
    if not undrawn and not frozen:
        return []
    return [
        Panel(
            title=_("待抽取"),
            template="oversight/report_dash_draws.html",
            context={"undrawn": undrawn, "frozen": frozen, "today": today},
            order=32,
        )
    ]


def red_flags_panel(request) -> list[Panel]:
    """The discipline group's red flags (纪检派驻组重点关注): draws failing verification, voided
    draws, overdue publications and edits after approval in the last 30 days — four COUNT
    queries, each linking to the oversight page that lists them (docs/oversight.md)."""
    if not request.user.has_role(Role.DISCIPLINE):
        return []
    return [
        Panel(
            title="重点关注（红旗）",
            template="oversight/review_red_flags_panel.html",
            context={"flags": red_flags(days=30)},
            order=5,
        )
    ]


def panels(request) -> list[Panel]:
    return (
        red_flags_panel(request)
        + inspector_panel(request)
        + review_panel(request)
        + draws_panel(request)
        + completion_panel(request)
    )
