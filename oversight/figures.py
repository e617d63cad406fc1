"""Keeping the precomputed report figures (``oversight.models.VisitFigures``) in step.

``visit_figures_refresh`` rewrites the rows of the given visits from the source tables in two
set-based statements (a DELETE, then one INSERT ... SELECT built by the ORM), whatever the number
of visits: one visit on every service call, every visit in the data migration and the benchmark.
The services announce their changes with ``inspections.signals.visits_changed`` (the apps below
``oversight`` may not import it, docs/architecture.md); ``on_visits_changed`` is connected in
``OversightConfig.ready`` and runs in the sender's transaction, so the figures commit or roll
back with the change itself. ``manage.py oversight_figures_check`` compares the report read from
the rows with the same figures computed from the sources (``oversight.reports_reference``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps as global_apps
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from inspections import models as source

# The report definitions (docs/reports.md): which visit states count as checked and as
# approved, and the follow-up measure that needs nothing closed (无需后续处置).
CHECKED_STATES = (
    source.Visit.Status.SUBMITTED,
    source.Visit.Status.RETURNED,
    source.Visit.Status.APPROVED,
    source.Visit.Status.ARCHIVED,
)
APPROVED_STATES = tuple(sorted(source.Visit.APPROVED_STATES))
NO_FOLLOW_UP = source.FollowUp.Measure.NONE

# Column of VisitFigures -> name of the expression that computes it (the expressions cannot be
# named like the through model's own columns).
COLUMNS = {
    "visit_id": "f_visit",
    "task_id": "f_task",
    "enterprise_id": "f_enterprise",
    "township_id": "f_township",
    "joint": "f_joint",
    "tier": "f_tier",
    "checked": "f_checked",
    "approved": "f_approved",
    "problem": "f_problem",
    "follow_up": "f_follow_up",
    "follow_up_closed": "f_follow_up_closed",
    "records": "f_records",
    "records_unpublished": "f_records_unpublished",
    "records_late": "f_records_late",
    "transfers": "f_transfers",
    "non_cooperation": "f_non_cooperation",
}


def _count(queryset: QuerySet) -> Coalesce:
    """How many rows of a queryset correlated with the outer row (0 when none)."""
    counted = queryset.order_by().values("visit_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _flag(condition) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _source(visit_ids, apps) -> QuerySet:
    """One row per (visit, task) pair of ``Visit.tasks`` with every figure, as a queryset."""
    Visit = apps.get_model("inspections", "Visit")
    VisitSelection = apps.get_model("inspections", "VisitSelection")
    FollowUp = apps.get_model("inspections", "FollowUp")
    Result = apps.get_model("inspections", "VisitItemResult")
    Record = apps.get_model("disclosure", "PublicationRecord")
    LeadTransfer = apps.get_model("inspections", "LeadTransfer")
    NonCooperation = apps.get_model("inspections", "NonCooperation")
    pairs = Visit.tasks.through.objects.all()
    if visit_ids is not None:
        pairs = pairs.filter(visit_id__in=visit_ids)
    visit = OuterRef("visit_id")
    other_tasks = Visit.tasks.through.objects.filter(visit_id=visit).exclude(
        task_id=OuterRef("task_id")
    )
    problem = Result.categories.through.objects.filter(
        visititemresult__visit_id=visit, resultcategory__is_problem=True
    )
    follow_ups = FollowUp.objects.filter(visit_id=visit).exclude(measure=NO_FOLLOW_UP)
    records = Record.objects.filter(visit_id=visit, task_id=OuterRef("task_id"))
    # The tier the enterprise had in this task's draw (a visit has one selection per task).
    tier = (
        VisitSelection.objects.filter(visit_id=visit, selection__draw__task_id=OuterRef("task_id"))
        .order_by("selection__tier")
        .values("selection__tier")[:1]
    )
    expressions = {
        "f_visit": F("visit_id"),
        "f_task": F("task_id"),
        "f_enterprise": F("visit__enterprise_id"),
        "f_township": F("visit__enterprise__township_id"),
        "f_joint": _flag(Exists(other_tasks)),
        "f_tier": Subquery(tier),
        "f_checked": _flag(Q(visit__status__in=CHECKED_STATES)),
        "f_approved": _flag(Q(visit__status__in=APPROVED_STATES)),
        "f_problem": _flag(Exists(problem)),
        "f_follow_up": _flag(Exists(follow_ups)),
        "f_follow_up_closed": _flag(Exists(follow_ups) & ~Exists(follow_ups.filter(closed=False))),
        "f_records": _count(records),
        "f_records_unpublished": _count(records.filter(first_published_on__isnull=True)),
        "f_records_late": _count(records.filter(first_published_on__gt=F("deadline"))),
        "f_transfers": _count(LeadTransfer.objects.filter(visit_id=visit)),
        "f_non_cooperation": _count(NonCooperation.objects.filter(visit_id=visit)),
    }
    return pairs.order_by().annotate(**expressions).values(*expressions)


def _insert(table: str, columns, select: str, params) -> int:
    """INSERT INTO table (columns) SELECT … FROM (the ORM's own SQL) src: one statement for any
    number of visits. ``columns``: column of the table -> column of the select."""
    quote = connection.ops.quote_name
    into = ", ".join(quote(c) for c in columns)
    picked = ", ".join(f"src.{quote(name)}" for name in columns.values())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(table)} ({into}) SELECT {picked} FROM ({select}) src",  # noqa: S608
            params,
        )
        return cursor.rowcount


def _of_visits(queryset: QuerySet, visit_ids) -> QuerySet:
    return queryset if visit_ids is None else queryset.filter(visit_id__in=visit_ids)


# The flags of a VisitFigures row the category and trade rows carry along.
_FLAGS = ("visit_id", "task_id", "enterprise_id", "approved", "problem", "joint")


def _figure_rows(visit_ids, apps) -> tuple[str, tuple]:
    Figures = apps.get_model("oversight", "VisitFigures")
    rows = _of_visits(Figures.objects.order_by(), visit_ids).values(*_FLAGS)
    return rows.query.sql_with_params()


def _write_categories(visit_ids, apps) -> None:
    """The result categories of each visit (how many of its results carry each), once per
    VisitFigures row of the visit, with its flags."""
    CategoryFigures = apps.get_model("oversight", "VisitCategoryFigures")
    through = apps.get_model("inspections", "VisitItemResult").categories.through
    links = through.objects.order_by()
    if visit_ids is not None:
        links = links.filter(visititemresult__visit_id__in=visit_ids)
    counts = links.values(c_visit=F("visititemresult__visit_id"), c_category=F("resultcategory_id"))
    counts, count_params = counts.annotate(c_results=Count("id")).query.sql_with_params()
    rows, row_params = _figure_rows(visit_ids, apps)
    joined = f"SELECT * FROM ({rows}) r JOIN ({counts}) k ON k.c_visit = r.visit_id"  # noqa: S608
    _insert(
        CategoryFigures._meta.db_table,
        {
            "visit_id": "visit_id",
            "task_id": "task_id",
            "category_id": "c_category",
            "approved": "approved",
            "joint": "joint",
            "results": "c_results",
        },
        joined,
        [*row_params, *count_params],
    )


def _write_trades(visit_ids, apps) -> None:
    """The current trades of each visit's enterprise (one row with no trade when it has none),
    once per VisitFigures row of the visit, with its flags."""
    TradeFigures = apps.get_model("oversight", "VisitTradeFigures")
    links = apps.get_model("enterprises", "Enterprise").trades.through._meta.db_table
    rows, params = _figure_rows(visit_ids, apps)
    joined = (
        f"SELECT r.*, et.trade_id AS t_trade FROM ({rows}) r"  # noqa: S608 - our tables
        f" LEFT JOIN {connection.ops.quote_name(links)} et ON et.enterprise_id = r.enterprise_id"
    )
    columns = {name: name for name in _FLAGS}
    _insert(TradeFigures._meta.db_table, {**columns, "trade_id": "t_trade"}, joined, params)


def _delete(model, visit_ids) -> None:
    stale = _of_visits(model.objects.all(), visit_ids)
    stale._raw_delete(stale.db)  # derived rows: nothing cascades from them, no signals


def visit_figures_refresh(*, visit_ids: Iterable[int] | QuerySet | None, apps=global_apps) -> int:
    """Rewrite the figures of these visits (``None``: of every visit) from the source tables:
    VisitFigures, then the category and trade rows derived from them.

    Call inside the transaction that changed them. ``visit_ids`` may be a list or a queryset of
    ids (used as a subquery). Returns the number of VisitFigures rows written."""
    Figures = apps.get_model("oversight", "VisitFigures")
    if visit_ids is not None and not isinstance(visit_ids, QuerySet):
        visit_ids = list(visit_ids)
        if not visit_ids:
            return 0
    for name in ("VisitCategoryFigures", "VisitTradeFigures", "VisitFigures"):
        _delete(apps.get_model("oversight", name), visit_ids)
    select, params = _source(visit_ids, apps).query.sql_with_params()
    written = _insert(Figures._meta.db_table, COLUMNS, select, params)
    _write_categories(visit_ids, apps)
    _write_trades(visit_ids, apps)
    return written


def visit_figures_sync_register(*, enterprise_ids: Iterable[int] | None, apps=global_apps) -> int:
    """Bring the register's facts in the figures (the township, the trades) up to date for
    these enterprises' visits (``None``: every enterprise, after an import): the township by
    one UPDATE of the rows that differ, the trade rows rewritten. Returns township rows changed."""
    Figures = apps.get_model("oversight", "VisitFigures")
    TradeFigures = apps.get_model("oversight", "VisitTradeFigures")
    Enterprise = apps.get_model("enterprises", "Enterprise")
    rows = Figures.objects.all()
    if enterprise_ids is not None:
        enterprise_ids = list(enterprise_ids)
        if not enterprise_ids:
            return 0
        rows = rows.filter(enterprise_id__in=enterprise_ids)
    visit_ids = None if enterprise_ids is None else rows.values("visit_id")
    _delete(TradeFigures, visit_ids)
    _write_trades(visit_ids, apps)
    current = Enterprise.objects.filter(pk=OuterRef("enterprise_id")).values("township_id")[:1]
    # (0 stands for "none": ids are positive, and = on NULL would never match.)
    moved = rows.annotate(
        was=Coalesce("township_id", Value(0)), now=Coalesce(Subquery(current), Value(0))
    ).exclude(was=F("now"))
    return Figures.objects.filter(pk__in=moved.values("pk")).update(township_id=Subquery(current))


def on_visits_changed(sender, visit_ids=None, **kwargs) -> None:
    visit_figures_refresh(visit_ids=visit_ids)


def on_register_changed(sender, enterprise_ids=None, **kwargs) -> None:
    visit_figures_sync_register(enterprise_ids=enterprise_ids)
