"""Summaries of the spot-check work per task, per plan and per section (art. 6(7), art. 14).

Every number is counted by the database (grouped, conditional ``Count``), with a fixed number of
queries whatever the number of tasks: one query per kind of figure, grouped by task, then the
rows are put together here. docs/reports.md defines each figure; in short, per task:

- 名单户数 population: enterprises on the list the live draw was made from;
- 应检查（抽中）户数 due: enterprises selected by the task's live (completed, not voided) draw;
- 已检查 checked: enterprises of the task whose visit was submitted (submitted, returned,
  approved or archived: the result has been recorded);
- 已审核 approved: visits approved by the section head (approved or archived);
- 已公示 published: enterprises every publication record of which (for this task) has been
  published; 按期公示 on time: of those, none published after its deadline;
- 完成率 completion = published / due; 按期率 = on time / published;
- 闭环率 closure = visits whose follow-ups (other than 无需后续处置) are all closed / visits
  with such follow-ups;
- problems: approved visits with at least one result of a category marked 属于发现问题;
- lead transfers and non-cooperation cases: every recorded one, whatever the visit's status.

A visit counts for every task it covers (``Visit.tasks``: a joint visit covers several);
plan and section totals add the task rows up (户次, enterprise-times-task).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from accounts.models import Section
from accounts.roles import Role
from enterprises.models import RiskTier
from inspections.models import (
    Draw,
    DrawSelection,
    FollowUp,
    LeadTransfer,
    NonCooperation,
    Plan,
    ResultCategory,
    Task,
    Visit,
    VisitItemResult,
    VisitSelection,
)

from .filters import Scope

CHECKED_STATES = (
    Visit.Status.SUBMITTED,
    Visit.Status.RETURNED,
    Visit.Status.APPROVED,
    Visit.Status.ARCHIVED,
)
APPROVED_STATES = (Visit.Status.APPROVED, Visit.Status.ARCHIVED)

# Who may read the reports: everything for these roles, own section for a section head.
ALL_SECTIONS_ROLES = (Role.LEAD_SECTION, Role.DISCIPLINE, Role.AUDIT_ADMIN)
REPORT_ROLES = (*ALL_SECTIONS_ROLES, Role.SECTION_HEAD)


def rate(part: int, whole: int) -> Decimal | None:
    """A percentage with one decimal (half up), or None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def rate_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


# --- who sees what -----------------------------------------------------------------------------


def sees_all_sections(user) -> bool:
    return user.has_role(*ALL_SECTIONS_ROLES)


def own_section(user) -> Section | None:
    """The one section a section head is limited to (None: every section)."""
    if sees_all_sections(user):
        return None
    return user.section


def can_read_task(user, task: Task) -> bool:
    if sees_all_sections(user):
        return True
    return user.has_role(Role.SECTION_HEAD) and task.lead_section_id == user.section_id


def visible_tasks(user) -> QuerySet[Task]:
    tasks = Task.objects.all()
    if sees_all_sections(user):
        return tasks
    if user.has_role(Role.SECTION_HEAD) and user.section_id:
        return tasks.filter(lead_section_id=user.section_id)
    return tasks.none()


def scoped_tasks(user, scope: Scope) -> QuerySet[Task]:
    """Tasks whose window overlaps the period, of the section and task chosen, within what the
    user may see."""
    tasks = visible_tasks(user).filter(window_start__lte=scope.end, window_end__gte=scope.start)
    if scope.section is not None:
        tasks = tasks.filter(lead_section=scope.section)
    if scope.task is not None:
        tasks = tasks.filter(pk=scope.task.pk)
    return tasks


# --- the figures -------------------------------------------------------------------------------


@dataclass
class Figures:
    """The counts of one task, or the sum over several (a plan, a section, everything)."""

    label: str = ""
    population: int = 0
    due: int = 0
    voided_draws: int = 0
    visits: int = 0
    checked: int = 0
    approved: int = 0
    published: int = 0
    on_time: int = 0
    records: int = 0
    records_published: int = 0
    records_overdue_open: int = 0
    follow_up_visits: int = 0
    follow_up_closed: int = 0
    problems: int = 0
    transfers: int = 0
    non_cooperation: int = 0

    COUNTS = (
        "population",
        "due",
        "voided_draws",
        "visits",
        "checked",
        "approved",
        "published",
        "on_time",
        "records",
        "records_published",
        "records_overdue_open",
        "follow_up_visits",
        "follow_up_closed",
        "problems",
        "transfers",
        "non_cooperation",
    )

    def add(self, other: Figures) -> None:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def completion_rate(self) -> Decimal | None:
        return rate(self.published, self.due)

    @property
    def on_time_rate(self) -> Decimal | None:
        return rate(self.on_time, self.published)

    @property
    def closure_rate(self) -> Decimal | None:
        return rate(self.follow_up_closed, self.follow_up_visits)

    @property
    def unpublished(self) -> int:
        return max(self.due - self.published, 0)

    @property
    def completion_text(self) -> str:
        return rate_text(self.completion_rate)

    @property
    def on_time_text(self) -> str:
        return rate_text(self.on_time_rate)

    @property
    def closure_text(self) -> str:
        return rate_text(self.closure_rate)

    @property
    def cells(self) -> list:
        """The values of ``FIGURE_COLUMNS`` as shown (rates as text), for the tables."""
        return figure_values(self, as_text=True)


@dataclass
class TaskRow:
    task: Task
    figures: Figures


@dataclass
class Breakdown:
    """One row of a grouped count (a tier, a trade, a township, a category, a section...)."""

    key: str
    label: str
    count: int = 0
    extra: int = 0  # problems next to checked, or closed next to all...


@dataclass
class Report:
    title: str
    tasks: list[TaskRow]
    totals: Figures
    sections: list[Figures] = field(default_factory=list)
    categories: list[Breakdown] = field(default_factory=list)
    tiers: list[Breakdown] = field(default_factory=list)
    trades: list[Breakdown] = field(default_factory=list)
    townships: list[Breakdown] = field(default_factory=list)
    transfers: list[Breakdown] = field(default_factory=list)
    non_cooperation: list[Breakdown] = field(default_factory=list)
    generated_at: datetime.datetime = field(default_factory=timezone.now)
    plan: Plan | None = None
    task: Task | None = None
    section: Section | None = None

    @property
    def breakdowns(self) -> list[tuple[str, list[Breakdown], str]]:
        """(heading, rows, first column) of the problem tables."""
        return [
            (_("按风险等级"), self.tiers, _("风险等级")),
            (_("按监管行业"), self.trades, _("监管行业")),
            (_("按乡镇/街道"), self.townships, _("乡镇/街道")),
        ]


def _problem_visits():
    """Ids of the visits with at least one result in a problem category, as a subquery: used
    as ``visit_id IN (...)``, which the database evaluates once (a hashed set), not per row."""
    through = VisitItemResult.categories.through
    return through.objects.filter(resultcategory__is_problem=True).values(
        "visititemresult__visit_id"
    )


def _follow_up_visits(**extra):
    """Ids of the visits with a follow-up other than 无需后续处置 (with ``extra`` filters)."""
    return (
        FollowUp.objects.filter(**extra).exclude(measure=FollowUp.Measure.NONE).values("visit_id")
    )


def _task_visits(task_ids: list[int]):
    return Visit.tasks.through.objects.filter(task_id__in=task_ids).values("visit_id")


PUBLICATION_TOTALS = (
    "SELECT task_id,"
    " SUM(CASE WHEN unpub = 0 THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN unpub = 0 AND late = 0 THEN 1 ELSE 0 END),"
    " SUM(n), SUM(n - unpub), SUM(overdue)"
)


def task_figures(task_ids: list[int]) -> dict[int, Figures]:
    """The figures of each task, in six grouped queries whatever the number of tasks."""
    from disclosure.models import PublicationRecord

    figures: dict[int, Figures] = {pk: Figures() for pk in task_ids}
    if not task_ids:
        return figures
    today = timezone.localdate()

    # 1. Draws: the population of the live draw, and how many were voided.
    for row in (
        Draw.objects.filter(task_id__in=task_ids)
        .values("task_id")
        .annotate(
            population=Sum("population_count", filter=Q(status=Draw.Status.COMPLETED)),
            voided=Count("id", filter=Q(status=Draw.Status.VOIDED)),
        )
    ):
        f = figures[row["task_id"]]
        f.population, f.voided_draws = row["population"] or 0, row["voided"]

    # 2. Due: the enterprises the live draw selected.
    for row in (
        DrawSelection.objects.filter(draw__task_id__in=task_ids, draw__status=Draw.Status.COMPLETED)
        .values("draw__task_id")
        .annotate(n=Count("id"))
    ):
        figures[row["draw__task_id"]].due = row["n"]

    # 3. Visits of each task (joint visits count for every task they cover).
    through = Visit.tasks.through
    has_follow_up = Q(visit_id__in=_follow_up_visits())
    open_follow_up = Q(visit_id__in=_follow_up_visits(closed=False))
    for row in (
        through.objects.filter(task_id__in=task_ids)
        .values("task_id")
        .annotate(
            visits=Count("visit_id"),
            checked=Count("visit_id", filter=Q(visit__status__in=CHECKED_STATES)),
            approved=Count("visit_id", filter=Q(visit__status__in=APPROVED_STATES)),
            problems=Count(
                "visit_id",
                filter=Q(visit__status__in=APPROVED_STATES, visit_id__in=_problem_visits()),
            ),
            follow_up=Count("visit_id", filter=has_follow_up),
            follow_up_closed=Count("visit_id", filter=has_follow_up & ~open_follow_up),
        )
    ):
        f = figures[row["task_id"]]
        f.visits, f.checked, f.approved = row["visits"], row["checked"], row["approved"]
        f.problems = row["problems"]
        f.follow_up_visits, f.follow_up_closed = row["follow_up"], row["follow_up_closed"]

    # 4. Publication, per enterprise (one visit per enterprise and task): published when none
    #    of its records of this task is still unpublished; on time when, in addition, none was
    #    published after its deadline. Counted per visit first, then per task, in one query
    #    (an aggregate over an aggregate: the inner grouping is the ORM's, the outer plain SQL).
    per_visit = (
        PublicationRecord.objects.filter(task_id__in=task_ids)
        .values("task_id", "visit_id")
        .annotate(
            n=Count("id"),
            unpub=Count("id", filter=Q(first_published_on__isnull=True)),
            late=Count("id", filter=Q(first_published_on__gt=F("deadline"))),
            overdue=Count("id", filter=Q(first_published_on__isnull=True, deadline__lt=today)),
        )
        .order_by()
    )
    inner, params = per_visit.query.sql_with_params()
    query = f"{PUBLICATION_TOTALS} FROM ({inner}) per_visit GROUP BY task_id"
    with connection.cursor() as cursor:
        cursor.execute(query, params)  # the ORM's own SQL and parameters, wrapped
        for task_id, pub, on_time, n, n_pub, overdue in cursor.fetchall():
            f = figures[task_id]
            f.published, f.on_time = int(pub or 0), int(on_time or 0)
            f.records, f.records_published = int(n or 0), int(n_pub or 0)
            f.records_overdue_open = int(overdue or 0)

    # 5. Lead transfers and 6. non-cooperation cases, every one recorded.
    for model, name in ((LeadTransfer, "transfers"), (NonCooperation, "non_cooperation")):
        for row in (
            model.objects.filter(visit__tasks__in=task_ids)
            .values("visit__tasks")
            .annotate(n=Count("id"))
        ):
            setattr(figures[row["visit__tasks"]], name, row["n"])
    return figures


def _approved_visits(task_ids: list[int]) -> QuerySet[Visit]:
    return Visit.objects.filter(pk__in=_task_visits(task_ids), status__in=APPROVED_STATES)


def category_mix(task_ids: list[int]) -> list[Breakdown]:
    """How many approved results carry each result category (a result with two categories
    counts under both; sub-reasons are listed under their own name)."""
    through = VisitItemResult.categories.through
    rows = (
        through.objects.filter(visititemresult__visit__in=_approved_visits(task_ids))
        .values("resultcategory_id")
        .annotate(n=Count("id"))
    )
    counts = {row["resultcategory_id"]: row["n"] for row in rows}
    if not counts:
        return []
    out = []
    for category in ResultCategory.objects.filter(pk__in=counts).select_related("parent"):
        label = category.label
        if category.parent_id:
            label = f"{category.parent.label}（{category.label}）"
        out.append(Breakdown(key=category.code, label=label, count=counts[category.pk]))
        out[-1].extra = category.order
    out.sort(key=lambda b: (b.extra, b.key))
    for b in out:
        b.extra = 0
    return out


def _problem_breakdown(rows, key: str, labels: dict | None = None) -> list[Breakdown]:
    out = []
    for row in rows:
        value = row[key]
        label = (labels or {}).get(value, value)
        out.append(
            Breakdown(
                key=str(value or ""),
                label=str(label) if label else _("未登记"),
                count=row["checked"],
                extra=row["problems"],
            )
        )
    return out


def problems_by(task_ids: list[int]) -> dict[str, list[Breakdown]]:
    """Approved visits (count) and those with problems (extra) by risk tier (as drawn), by the
    enterprise's trade (an enterprise in two trades counts in both) and by township."""
    visits = _approved_visits(task_ids)
    problem = Q(pk__in=_problem_visits())
    # A visit has one selection per task it covers: distinct, for joint visits.
    tiers = (
        VisitSelection.objects.filter(
            visit__status__in=APPROVED_STATES, selection__draw__task_id__in=task_ids
        )
        .values("selection__tier")
        .annotate(
            checked=Count("visit_id", distinct=True),
            problems=Count("visit_id", distinct=True, filter=Q(visit_id__in=_problem_visits())),
        )
        .order_by("selection__tier")
    )
    # (visit, trade) and (visit, township) pairs are unique: no DISTINCT needed.
    trades = (
        visits.values("enterprise__trades__name")
        .annotate(checked=Count("id"), problems=Count("id", filter=problem))
        .order_by("-problems", "-checked", "enterprise__trades__name")
    )
    townships = (
        visits.values("enterprise__township__name", "enterprise__township__order")
        .annotate(checked=Count("id"), problems=Count("id", filter=problem))
        .order_by("enterprise__township__order", "enterprise__township__name")
    )
    return {
        "tiers": _problem_breakdown(tiers, "selection__tier", dict(RiskTier.choices)),
        "trades": _problem_breakdown(trades, "enterprise__trades__name"),
        "townships": _problem_breakdown(townships, "enterprise__township__name"),
    }


def transfers_by_status(task_ids: list[int]) -> list[Breakdown]:
    rows = (
        LeadTransfer.objects.filter(visit_id__in=_task_visits(task_ids))
        .values("status")
        .annotate(n=Count("id"))
    )
    counts = {row["status"]: row["n"] for row in rows}
    return [
        Breakdown(key=value, label=str(label), count=counts[value])
        for value, label in LeadTransfer.Status.choices
        if counts.get(value)
    ]


def non_cooperation_by_case(task_ids: list[int]) -> list[Breakdown]:
    rows = (
        NonCooperation.objects.filter(visit_id__in=_task_visits(task_ids))
        .values("case")
        .annotate(n=Count("id"))
    )
    counts = {row["case"]: row["n"] for row in rows}
    return [
        Breakdown(key=value, label=str(label), count=counts[value])
        for value, label in NonCooperation.Case.choices
        if counts.get(value)
    ]


def _by_section(rows: list[TaskRow]) -> list[Figures]:
    sections: dict[int, Figures] = {}
    for row in rows:
        section = row.task.lead_section
        figures = sections.setdefault(section.pk, Figures(label=section.name))
        figures.add(row.figures)
    return sorted(sections.values(), key=lambda f: f.label)


# Computed figures are kept for CACHE_SECONDS under a key that holds the data's fingerprint
# (``data_fingerprint``): any recorded change makes a new key, so a cached report is never
# staler than the last change; at 10^5 visits a fresh computation takes about a second, a
# cached one a few milliseconds (docs/reports.md, "Performance").
CACHE_SECONDS = 600


def data_fingerprint() -> str:
    """One cheap query (index look-ups only): the last audit event that is not an oversight
    view or export (every change in the system records one, in its own transaction), and the
    highest id of every table the figures count. A change of any of them changes the key."""
    from audit.models import AuditEvent
    from disclosure.models import PublicationRecord

    audit = AuditEvent._meta.db_table
    last_change = f"(SELECT seq FROM {audit} WHERE event_type NOT LIKE %s"  # noqa: S608
    parts = [last_change + " ORDER BY seq DESC LIMIT 1)"]
    for model in (
        Task,
        Draw,
        DrawSelection,
        Visit,
        VisitItemResult.categories.through,
        FollowUp,
        LeadTransfer,
        NonCooperation,
        PublicationRecord,
    ):
        parts.append(f"(SELECT MAX(id) FROM {model._meta.db_table})")  # noqa: S608 - our tables
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), ["oversight.%"])
        values = cursor.fetchone()
    return "-".join(str(v) for v in values)


def _computed(ids: list[int], details: bool) -> dict:
    key_source = f"{data_fingerprint()}|{timezone.localdate()}|{details}|{','.join(map(str, ids))}"
    key = "oversight:report:" + hashlib.sha256(key_source.encode()).hexdigest()
    found = cache.get(key)
    if found is not None:
        return found
    computed = {"figures": task_figures(ids), "generated_at": timezone.now()}
    if details:
        computed["categories"] = category_mix(ids)
        computed.update(problems_by(ids))
        computed["transfers"] = transfers_by_status(ids)
        computed["non_cooperation"] = non_cooperation_by_case(ids)
    cache.set(key, computed, CACHE_SECONDS)
    return computed


def build_report(
    tasks: QuerySet[Task],
    *,
    title: str,
    plan: Plan | None = None,
    task: Task | None = None,
    section: Section | None = None,
    details: bool = True,
) -> Report:
    """Everything a report page, PDF or workbook shows, in a fixed number of queries."""
    task_list = list(tasks.select_related("lead_section", "plan").order_by("year", "seq", "pk"))
    ids = [t.pk for t in task_list]
    computed = _computed(ids, details)
    figures = computed["figures"]
    rows = []
    totals = Figures(label=_("合计"))
    for t in task_list:
        figures[t.pk].label = t.number
        rows.append(TaskRow(task=t, figures=figures[t.pk]))
        totals.add(figures[t.pk])
    report = Report(
        title=title,
        tasks=rows,
        totals=totals,
        sections=_by_section(rows),
        plan=plan,
        task=task,
        section=section,
        generated_at=computed["generated_at"],
    )
    if details:
        report.categories = computed["categories"]
        report.tiers, report.trades = computed["tiers"], computed["trades"]
        report.townships = computed["townships"]
        report.transfers = computed["transfers"]
        report.non_cooperation = computed["non_cooperation"]
    return report


def task_report(task: Task) -> Report:
    return build_report(
        Task.objects.filter(pk=task.pk),
        title=_("%(number)s 任务完成情况报告") % {"number": task.number},
        task=task,
    )


def plan_report(plan: Plan, *, section: Section | None = None) -> Report:
    tasks = Task.objects.filter(plan=plan)
    if section is not None:
        tasks = tasks.filter(lead_section=section)
    return build_report(
        tasks,
        title=_("%(year)s年度抽查工作总结") % {"year": plan.year},
        plan=plan,
        section=section,
    )


def visible_plans(user, scope: Scope) -> QuerySet[Plan]:
    plans = Plan.objects.filter(year__gte=scope.start.year, year__lte=scope.end.year)
    section = own_section(user)
    if section is not None:
        plans = plans.filter(Exists(Task.objects.filter(plan=OuterRef("pk"), lead_section=section)))
    elif not sees_all_sections(user):
        return plans.none()
    return plans.order_by("-year", "number")


# --- rows for tables, workbooks and PDFs ---------------------------------------------------------

FIGURE_COLUMNS = [
    ("population", N_("名单户数")),
    ("due", N_("应检查（抽中）户数")),
    ("checked", N_("已检查户数")),
    ("approved", N_("已审核户数")),
    ("published", N_("已公示户数")),
    ("on_time", N_("按期公示户数")),
    ("completion_rate", N_("完成率")),
    ("on_time_rate", N_("按期公示率")),
    ("problems", N_("发现问题户数")),
    ("follow_up_visits", N_("需后续处置户数")),
    ("follow_up_closed", N_("处置办结户数")),
    ("closure_rate", N_("闭环率")),
    ("transfers", N_("线索移送件数")),
    ("non_cooperation", N_("不配合检查情节严重件数")),
    ("records_overdue_open", N_("逾期未公示条数")),
]


def figure_headers() -> list[str]:
    return [_(label) for _name, label in FIGURE_COLUMNS]


def figure_values(figures: Figures, *, as_text: bool = False) -> list:
    out = []
    for name, _label in FIGURE_COLUMNS:
        value = getattr(figures, name)
        if name.endswith("_rate"):
            value = rate_text(value) if as_text else (None if value is None else float(value))
        out.append(value)
    return out


def summary_rows(report: Report) -> list[list]:
    rows = [
        [row.task.number, row.task.name, str(row.task.lead_section), *figure_values(row.figures)]
        for row in report.tasks
    ]
    rows.append([_("合计"), "", "", *figure_values(report.totals)])
    return rows


def summary_headers() -> list[str]:
    return [_("任务编号"), _("任务名称"), _("牵头实施股室"), *figure_headers()]


# --- charts --------------------------------------------------------------------------------------


def report_charts(report: Report, *, by: str = "task") -> dict:
    """The SVG charts of a report (``core.charts``): the same markup on the page and in the PDF.

    ``by="task"`` draws the publication bar per task, ``by="section"`` per section."""
    from core.charts import bar_chart, pie_chart, stacked_bar_chart

    groups = (
        [(row.task.number, row.figures) for row in report.tasks]
        if by == "task"
        else [(f.label, f) for f in report.sections]
    )
    labels = [label for label, _f in groups]
    charts = {
        "publication": stacked_bar_chart(
            labels,
            [
                (_("按期公示"), [f.on_time for _l, f in groups]),
                (_("逾期公示"), [f.published - f.on_time for _l, f in groups]),
                (_("未公示"), [f.unpublished for _l, f in groups]),
            ],
            title=_("应检查企业公示情况（户）"),
        ),
        "categories": pie_chart(
            [b.label for b in report.categories],
            [b.count for b in report.categories],
            title=_("检查结果构成（条）"),
        ),
        "tiers": stacked_bar_chart(
            [b.label for b in report.tiers],
            [
                (_("发现问题"), [b.extra for b in report.tiers]),
                (_("未发现问题"), [b.count - b.extra for b in report.tiers]),
            ],
            title=_("按风险等级：已审核企业及发现问题（户）"),
        ),
        "townships": bar_chart(
            [b.label for b in report.townships],
            [b.extra for b in report.townships],
            title=_("按乡镇/街道：发现问题户数"),
        ),
    }
    if by == "section":
        charts["completion"] = bar_chart(
            [f.label for f in report.sections],
            [f.completion_rate or 0 for f in report.sections],
            title=_("各股室完成率（%）"),
            unit="%",
        )
    return charts
