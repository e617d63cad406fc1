"""How often each enterprise was drawn, by year, and the enterprises inspected again within a
short time (repeat inspections).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, Value, When
from django.utils import timezone

from enterprises.models import Enterprise
from inspections.models import DrawSelection, JointVisit

from ..reports import cached_figures
from .inspectors import scope_draws


# ----------------------------------------------------------------------------- enterprises
@dataclass
class YearFrequency:
    year: int
    register: int  # active enterprises in the register (today)
    zero: int
    once: int
    twice: int
    three_plus: int
    draws: int

    @property
    def drawn(self) -> int:
        return self.once + self.twice + self.three_plus


@dataclass
class RepeatRow:
    year: int
    enterprise_id: int
    uscc: str
    name: str
    times: int
    draws: list[dict]  # draw_id, task_number, task_name, date
    joint: bool  # all its selections of the year were merged into one joint visit


def _selections(scope):
    return DrawSelection.objects.filter(draw__in=scope_draws(scope))


def enterprise_frequency(*, scope) -> list[YearFrequency]:
    """Per year (the task's year): how many enterprises were drawn 0, 1, 2, 3+ times by the
    completed draws in scope. The base for "0" is today's active register. Aggregated in the
    database: (year, enterprise) → count, then (year, min(count, 3)) → enterprises."""
    per_enterprise = (
        _selections(scope)
        .annotate(y=F("draw__task__year"))
        .values("y", "enterprise_id")
        .annotate(
            n=Count("id"),
            active=Max(
                Case(
                    When(enterprise__status=Enterprise.Status.ACTIVE, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            ),
        )
        .order_by()
    )
    sql, params = per_enterprise.query.sql_with_params()
    buckets: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    active_drawn: dict[int, int] = defaultdict(int)
    with connection.cursor() as cursor:
        # The inner SQL is the ORM's own, its parameters bound by the driver.
        cursor.execute(
            "SELECT y, CASE WHEN n >= 3 THEN 3 ELSE n END, COUNT(*), SUM(active) "  # noqa: S608
            f"FROM ({sql}) per_enterprise GROUP BY 1, 2",
            params,
        )
        for year, bucket, enterprises, active in cursor.fetchall():
            buckets[year][bucket] += enterprises
            active_drawn[year] += active or 0
    draws = dict(
        scope_draws(scope)
        .values("task__year")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("task__year", "n")
    )
    if not buckets:
        return []
    register = active_register_size()
    return [
        YearFrequency(
            year=year,
            register=register,
            zero=max(0, register - active_drawn[year]),
            once=buckets[year][1],
            twice=buckets[year][2],
            three_plus=buckets[year][3],
            draws=draws.get(year, 0),
        )
        for year in sorted(buckets)
    ]


def active_register_size() -> int:
    """How many enterprises are active (存续) in the register: an exact COUNT of the 10^6-row
    table (≈ 80 ms), so kept in the cache under the data fingerprint of the reports — every
    change to the register goes through a service that records an audit event, which makes a
    new key."""
    return cached_figures(
        "active-register",
        Enterprise.objects.filter(status=Enterprise.Status.ACTIVE).count,
    )


def _repeat_pairs(scope):
    """(year, enterprise) pairs drawn two or more times, most often first (HAVING count ≥ 2)."""
    return (
        _selections(scope)
        .annotate(y=F("draw__task__year"))
        .values("y", "enterprise_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
    )


def repeat_count(*, scope) -> int:
    return _repeat_pairs(scope).order_by().count()


def repeat_inspections(*, scope, limit: int | None = None, offset: int = 0) -> list[RepeatRow]:
    """Enterprises drawn by two or more completed draws of the same year (latest year, most
    often, USCC first), at most ``limit`` from ``offset``. The repeated pairs are found in the
    database; only their selections are then read."""
    pairs = list(
        _repeat_pairs(scope)
        .order_by("-y", "-n", "enterprise__uscc")
        .values_list("y", "enterprise_id")[offset : None if limit is None else offset + limit]
    )
    if not pairs:
        return []
    wanted = set(pairs)
    by_key: dict[tuple, list] = defaultdict(list)
    names = {}
    for pk, year, enterprise_id, uscc, name, draw_id, number, task_name, at in (
        _selections(scope)
        .filter(enterprise_id__in={e for _y, e in pairs})
        .values_list(
            "pk",
            "draw__task__year",
            "enterprise_id",
            "enterprise__uscc",
            "enterprise__name",
            "draw_id",
            "draw__task__number",
            "draw__task__name",
            "draw__completed_at",
        )
    ):
        if (year, enterprise_id) in wanted:
            by_key[(year, enterprise_id)].append((pk, draw_id, number, task_name, at))
            names[enterprise_id] = (uscc, name)
    merged: dict[int, int] = {}
    selection_ids = {row[0] for rows in by_key.values() for row in rows}
    for visit_id, selection_id in JointVisit.selections.through.objects.filter(
        drawselection_id__in=selection_ids
    ).values_list("jointvisit_id", "drawselection_id"):
        merged[selection_id] = visit_id
    out = []
    for (year, enterprise_id), rows in by_key.items():
        rows.sort(key=lambda r: (r[4], r[1]))
        visits = {merged.get(r[0]) for r in rows}
        uscc, name = names[enterprise_id]
        out.append(
            RepeatRow(
                year=year,
                enterprise_id=enterprise_id,
                uscc=uscc,
                name=name,
                times=len(rows),
                draws=[
                    {
                        "draw_id": draw_id,
                        "task_number": number,
                        "task_name": task_name,
                        "date": timezone.localtime(at).date() if at else None,
                    }
                    for _pk, draw_id, number, task_name, at in rows
                ],
                joint=len(visits) == 1 and None not in visits,
            )
        )
    out.sort(key=lambda r: (-r.year, -r.times, r.uscc))
    return out
