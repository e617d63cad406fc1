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
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from accounts.models import Section
from accounts.roles import Role
from audit.models import AuditEvent
from core.charts import bar_chart, pie_chart, stacked_bar_chart
from disclosure.models import PublicationRecord
from enterprises.models import RiskTier, Township, Trade
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
)

from .filters import Scope
from .models import VisitCategoryFigures, VisitFigures, VisitTradeFigures

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


def _figures(task_ids: list[int]) -> QuerySet[VisitFigures]:
    """The precomputed (visit, task) rows of these tasks (oversight.figures keeps them)."""
    return VisitFigures.objects.filter(task_id__in=task_ids)


def draw_figures(task_ids: list[int]) -> dict[int, Figures]:
    """Figures with the draws' part filled (population, voided draws, due), in two grouped
    queries; the rest is counted by ``task_figures`` (and by the reference computation)."""
    figures: dict[int, Figures] = {pk: Figures() for pk in task_ids}
    if not task_ids:
        return figures

    # 1. Draws: the population of the live draw and how many it selected (due: the draw
    #    selects exactly its tier table's count in every tier, so the per-tier counts it
    #    stores add up to its DrawSelection rows without counting them), and how many were
    #    voided.
    for row in Draw.objects.filter(task_id__in=task_ids).values(
        "task_id", "status", "tiers", "population_count"
    ):
        f = figures[row["task_id"]]
        if row["status"] == Draw.Status.VOIDED:
            f.voided_draws += 1
        elif row["status"] == Draw.Status.COMPLETED:
            f.population += row["population_count"]
            f.due += sum(int(t["count"]) for t in (row["tiers"] or {}).values())
    return figures


def task_figures(task_ids: list[int]) -> dict[int, Figures]:
    """The figures of each task, in four grouped queries whatever the number of tasks."""
    figures = draw_figures(task_ids)
    if not task_ids:
        return figures
    today = timezone.localdate()

    # 3. Visits, publication, lead transfers and non-cooperation cases of each task, from the
    #    precomputed rows (one per visit and task it covers: joint visits count for every
    #    task). An enterprise is published when it has records of this task and none is still
    #    unpublished; on time when none was late.
    # (The counts are named n_*: a name of a column would shadow it in the later filters.)
    published = Q(records__gt=0, records_unpublished=0)
    row: Mapping[str, Any]  # the .values() rows of the queries below, each with its own keys
    for row in (
        _figures(task_ids)
        .values("task_id")
        .annotate(
            n_visits=Count("id"),
            n_checked=Count("id", filter=Q(checked=True)),
            n_approved=Count("id", filter=Q(approved=True)),
            n_problems=Count("id", filter=Q(approved=True, problem=True)),
            n_follow_up=Count("id", filter=Q(follow_up=True)),
            n_follow_up_closed=Count("id", filter=Q(follow_up_closed=True)),
            n_published=Count("id", filter=published),
            n_on_time=Count("id", filter=published & Q(records_late=0)),
            n_records=Sum("records"),
            n_unpublished=Sum("records_unpublished"),
            n_transfers=Sum("transfers"),
            n_non_cooperation=Sum("non_cooperation"),
        )
        .order_by()
    ):
        f = figures[row["task_id"]]
        f.visits, f.checked, f.approved = row["n_visits"], row["n_checked"], row["n_approved"]
        f.problems = row["n_problems"]
        f.follow_up_visits, f.follow_up_closed = row["n_follow_up"], row["n_follow_up_closed"]
        f.published, f.on_time = row["n_published"], row["n_on_time"]
        f.records = row["n_records"] or 0
        f.records_published = f.records - (row["n_unpublished"] or 0)
        f.transfers, f.non_cooperation = row["n_transfers"] or 0, row["n_non_cooperation"] or 0

    # 4. Records still unpublished past their deadline: this depends on today's date, so it is
    #    counted when asked (from the few open records, through their deadline index).
    for row in (
        PublicationRecord.objects.filter(
            task_id__in=task_ids, first_published_on__isnull=True, deadline__lt=today
        )
        .values("task_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        figures[row["task_id"]].records_overdue_open = row["n"]

    return figures


def _once(rows: QuerySet, *fields: str) -> tuple[str, list]:
    """SQL (and parameters) of ``fields`` of these VisitFigures-like rows with every visit
    once per value: a joint visit has a row for each task it covers, so its rows are made
    DISTINCT; the single-task rows (nearly all) are taken as they are, with no sort."""
    plain = rows.filter(joint=False).order_by().values(*fields)
    joint = rows.filter(joint=True).order_by().values("visit_id", *fields).distinct()
    plain_sql, plain_params = plain.query.sql_with_params()
    joint_sql, joint_params = joint.query.sql_with_params()
    columns = ", ".join(connection.ops.quote_name(f) for f in fields)
    sql = (
        f"SELECT {columns} FROM ({plain_sql}) p"  # noqa: S608 - the ORM's SQL and parameters
        f" UNION ALL SELECT {columns} FROM ({joint_sql}) j"
    )
    return sql, [*plain_params, *joint_params]


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def category_mix(task_ids: list[int]) -> list[Breakdown]:
    """How many approved results carry each result category (a result with two categories
    counts under both; sub-reasons are listed under their own name), from the precomputed
    per-visit category counts."""
    if not task_ids:
        return []
    approved = VisitCategoryFigures.objects.filter(task_id__in=task_ids, approved=True)
    once, params = _once(approved, "category_id", "results")
    sql = f"SELECT u.category_id, SUM(u.results) FROM ({once}) u GROUP BY u.category_id"  # noqa: S608
    rows = _fetch(sql, params)
    return category_breakdowns({category: int(n) for category, n in rows})


def category_breakdowns(counts: dict[int, int]) -> list[Breakdown]:
    """{result category id: count} -> the result mix, labelled and in the categories' order."""
    if not counts:
        return []
    out = []
    for category in ResultCategory.objects.filter(pk__in=counts).select_related("parent"):
        label = category.label
        if category.parent:
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
                count=row["n_checked"],
                extra=row["n_problems"],
            )
        )
    return out


# Approved visits and, of them, those with problems, over a _once() subquery named u.
_COUNTS = "COUNT(*), SUM(CASE WHEN u.problem THEN 1 ELSE 0 END)"


def _by_tier(approved: QuerySet[VisitFigures]) -> list[dict]:
    once, params = _once(approved.filter(tier__isnull=False), "tier", "problem")
    rows = _fetch(f"SELECT u.tier, {_COUNTS} FROM ({once}) u GROUP BY u.tier", params)  # noqa: S608
    return [
        {"tier": tier, "n_checked": checked, "n_problems": int(problems)}
        for tier, checked, problems in sorted(rows)
    ]


def _by_trade(task_ids: list[int]) -> list[dict]:
    """By the enterprise's trades (current ones, copied into VisitTradeFigures; an enterprise
    without a trade under None; one in two trades counts in both)."""
    approved = VisitTradeFigures.objects.filter(task_id__in=task_ids, approved=True)
    once, params = _once(approved, "trade_id", "problem")
    rows = _fetch(f"SELECT u.trade_id, {_COUNTS} FROM ({once}) u GROUP BY u.trade_id", params)  # noqa: S608
    names = dict(
        Trade.objects.filter(pk__in=[r[0] for r in rows if r[0]]).values_list("pk", "name")
    )
    by_name: dict[str | None, list[int]] = {}
    for pk, checked, problems in rows:
        counts = by_name.setdefault(names.get(pk), [0, 0])
        counts[0] += checked
        counts[1] += int(problems or 0)
    out = [
        {"enterprise__trades__name": name, "n_checked": checked, "n_problems": problems}
        for name, (checked, problems) in by_name.items()
    ]
    return sorted(
        out, key=lambda r: (-r["n_problems"], -r["n_checked"], r["enterprise__trades__name"] or "")
    )


def _by_township(approved: QuerySet[VisitFigures]) -> list[dict]:
    """By the enterprise's current township, copied into the figures (register_changed)."""
    once, params = _once(approved, "township_id", "problem")
    rows = _fetch(f"SELECT u.township_id, {_COUNTS} FROM ({once}) u GROUP BY u.township_id", params)  # noqa: S608
    names = {t.pk: t for t in Township.objects.filter(pk__in=[r[0] for r in rows if r[0]])}
    return township_order(
        {
            "enterprise__township__name": names[pk].name if pk in names else None,
            "enterprise__township__order": names[pk].order if pk in names else None,
            "n_checked": checked,
            "n_problems": int(problems),
        }
        for pk, checked, problems in rows
    )


def township_order(rows) -> list[dict]:
    """Township rows in the townships' order, then by name; no township last (on every
    database: SQL puts NULLs first or last depending on the database)."""
    return sorted(
        rows,
        key=lambda r: (
            r["enterprise__township__name"] is None,
            r["enterprise__township__order"] or 0,
            r["enterprise__township__name"] or "",
        ),
    )


def problems_by(task_ids: list[int]) -> dict[str, list[Breakdown]]:
    """Approved visits (count) and those with problems (extra) by risk tier (as drawn), by the
    enterprise's trade (an enterprise in two trades counts in both) and by township (the
    enterprise's current one). A joint visit counts once (``_once``)."""
    if not task_ids:
        return {"tiers": [], "trades": [], "townships": []}
    approved = _figures(task_ids).filter(approved=True)
    return {
        "tiers": _problem_breakdown(_by_tier(approved), "tier", dict(RiskTier.choices)),
        "trades": _problem_breakdown(_by_trade(task_ids), "enterprise__trades__name"),
        "townships": _problem_breakdown(_by_township(approved), "enterprise__township__name"),
    }


def transfers_by_status(task_ids: list[int]) -> list[Breakdown]:
    rows = (
        LeadTransfer.objects.filter(
            visit_id__in=_figures(task_ids).filter(transfers__gt=0).values("visit_id")
        )
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
        NonCooperation.objects.filter(
            visit_id__in=_figures(task_ids).filter(non_cooperation__gt=0).values("visit_id")
        )
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


def cached_figures(name: str, compute, *parts):
    """``compute()``, kept in the cache for CACHE_SECONDS under a key made of ``name``, the
    data fingerprint and ``parts`` (the date, the scope…): any recorded change makes a new key,
    so a kept value is never staler than the last change."""
    source = "|".join([data_fingerprint(), *map(str, parts)])
    key = f"oversight:{name}:" + hashlib.sha256(source.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, CACHE_SECONDS)
    return found


def _computed(ids: list[int], details: bool) -> dict:
    def compute() -> dict:
        computed = {"figures": task_figures(ids), "generated_at": timezone.now()}
        if details:
            computed["categories"] = category_mix(ids)
            computed.update(problems_by(ids))
            computed["transfers"] = transfers_by_status(ids)
            computed["non_cooperation"] = non_cooperation_by_case(ids)
        return computed

    ids_text = ",".join(map(str, ids))
    return cached_figures("report", compute, timezone.localdate(), details, ids_text)


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
