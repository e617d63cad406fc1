"""The report figures computed straight from the source tables (the way they were computed
before ``oversight.models.VisitFigures``): subqueries over results, categories, follow-ups and
publication records per visit. Too slow for a cold report at 10^5 visits (docs/reports.md,
"Performance"), kept as the reference the precomputed figures are checked against: by the tests
(tests/test_oversight_figures.py) and by ``manage.py oversight_figures_check``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from disclosure.models import PublicationRecord
from enterprises.models import RiskTier
from inspections.models import (
    Draw,
    DrawSelection,
    FollowUp,
    LeadTransfer,
    NonCooperation,
    Visit,
    VisitItemResult,
    VisitSelection,
)

from .figures import APPROVED_STATES, CHECKED_STATES
from .reports import (
    Breakdown,
    Figures,
    _problem_breakdown,
    category_breakdowns,
    draw_figures,
    township_order,
)


def _task_visits(task_ids: list[int]):
    return Visit.tasks.through.objects.filter(task_id__in=task_ids).values("visit_id")


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


PUBLICATION_TOTALS = (
    "SELECT task_id,"
    " SUM(CASE WHEN unpub = 0 THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN unpub = 0 AND late = 0 THEN 1 ELSE 0 END),"
    " SUM(n), SUM(n - unpub), SUM(overdue)"
)


def reference_task_figures(task_ids: list[int]) -> dict[int, Figures]:
    """The figures of each task, in six grouped queries whatever the number of tasks."""

    # 1.–2. Draws: the report's query; due counted here from the selections themselves (the
    # report adds up the live draw's per-tier counts).
    figures = draw_figures(task_ids)
    if not task_ids:
        return figures
    for f in figures.values():
        f.due = 0
    row: Mapping[str, Any]  # the .values() rows of the queries below, each with its own keys
    for row in (
        DrawSelection.objects.filter(draw__task_id__in=task_ids, draw__status=Draw.Status.COMPLETED)
        .values("draw__task_id")
        .annotate(n=Count("id"))
    ):
        figures[row["draw__task_id"]].due = row["n"]
    today = timezone.localdate()

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


def reference_category_mix(task_ids: list[int]) -> list[Breakdown]:
    """The result mix over the approved visits found from the visits' own status, counted from
    the results' category links."""
    rows = (
        VisitItemResult.categories.through.objects.filter(
            visititemresult__visit_id__in=_approved_visits(task_ids).values("pk")
        )
        .values("resultcategory_id")
        .annotate(n=Count("id"))
    )
    return category_breakdowns({row["resultcategory_id"]: row["n"] for row in rows})


def reference_problems_by(task_ids: list[int]) -> dict[str, list[Breakdown]]:
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
            n_checked=Count("visit_id", distinct=True),
            n_problems=Count("visit_id", distinct=True, filter=Q(visit_id__in=_problem_visits())),
        )
        .order_by("selection__tier")
    )
    # (visit, trade) and (visit, township) pairs are unique: no DISTINCT needed.
    trades = (
        visits.values("enterprise__trades__name")
        .annotate(n_checked=Count("id"), n_problems=Count("id", filter=problem))
        .order_by("-n_problems", "-n_checked", "enterprise__trades__name")
    )
    townships = (
        visits.values("enterprise__township__name", "enterprise__township__order")
        .annotate(n_checked=Count("id"), n_problems=Count("id", filter=problem))
        .order_by("enterprise__township__order", "enterprise__township__name")
    )
    return {
        "tiers": _problem_breakdown(tiers, "selection__tier", dict(RiskTier.choices)),
        "trades": _problem_breakdown(trades, "enterprise__trades__name"),
        "townships": _problem_breakdown(township_order(townships), "enterprise__township__name"),
    }
