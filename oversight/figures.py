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


def visit_figures_refresh(*, visit_ids: Iterable[int] | QuerySet | None, apps=global_apps) -> int:
    """Rewrite the figures of these visits (``None``: of every visit) from the source tables.

    Call inside the transaction that changed them. ``visit_ids`` may be a list or a queryset of
    ids (used as a subquery). Returns the number of rows written."""
    Figures = apps.get_model("oversight", "VisitFigures")
    if visit_ids is not None and not isinstance(visit_ids, QuerySet):
        visit_ids = list(visit_ids)
        if not visit_ids:
            return 0
    stale = Figures.objects.all()
    if visit_ids is not None:
        stale = stale.filter(visit_id__in=visit_ids)
    stale._raw_delete(stale.db)  # derived rows: nothing cascades from them, no signals
    select, params = _source(visit_ids, apps).query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in COLUMNS)
    picked = ", ".join(f"src.{quote(name)}" for name in COLUMNS.values())
    table = quote(Figures._meta.db_table)
    with connection.cursor() as cursor:
        # The ORM's own SQL and parameters, wrapped: one statement for any number of visits.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {picked} FROM ({select}) src",  # noqa: S608
            params,
        )
        return cursor.rowcount


def on_visits_changed(sender, visit_ids=None, **kwargs) -> None:
    visit_figures_refresh(visit_ids=visit_ids)
