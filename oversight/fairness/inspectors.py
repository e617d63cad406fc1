"""Who was assigned how often compared with chance, over the draws of a ``Scope``."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models.expressions import RawSQL

from inspections.models import Draw, DrawReplacement
from inspectors.models import Inspector

from .statistics import (
    ChiSquare,
    InspectorStat,
    TeamModel,
    chi_square_test,
    draw_team_models,
    fairness_verdict,
    inspector_statistics,
)


def scope_draws(scope):
    """Completed (not voided) draws whose draw took place in the period; the section filter
    is the task's lead section (牵头实施股室)."""
    qs = Draw.objects.filter(
        status=Draw.Status.COMPLETED,
        completed_at__date__gte=scope.start,
        completed_at__date__lte=scope.end,
    )
    if scope.section is not None:
        qs = qs.filter(task__lead_section=scope.section)
    if scope.task is not None:
        qs = qs.filter(task=scope.task)
    return qs


@dataclass
class InspectorRow:
    staff_number: str
    name: str
    section: str
    inspector_id: int | None
    stat: InspectorStat
    replaced_in: int = 0
    replaced_out: int = 0


@dataclass
class InspectorFairness:
    rows: list[InspectorRow]
    test: ChiSquare
    verdict: list[tuple[str, str]]
    draws: int
    teams: int
    slots: int

    @property
    def flagged(self) -> list[InspectorRow]:
        return [r for r in self.rows if r.stat.flag_high]


def _team_documents(scope) -> list[tuple[int, dict, bytes]]:
    """(draw id, the part of draw.json the replay needs, inspectors.csv) per draw in scope.
    On PostgreSQL only the teams' ``uscc`` and ``drawn`` leave the database (a draw.json also
    carries every team's ranking, skips and experts, and the tickets: ~40 times more to parse)."""
    qs = scope_draws(scope).order_by("completed_at", "id")
    if connection.vendor != "postgresql":
        return [
            (pk, document, bytes(csv))
            for pk, document, csv in qs.values_list("id", "document", "inspectors_manifest")
        ]
    rows = qs.annotate(
        usccs=RawSQL("jsonb_path_query_array(document, '$.teams[*].uscc')", ()),
        drawn=RawSQL("jsonb_path_query_array(document, '$.teams[*].drawn')", ()),
        k=RawSQL("document -> 'inspectors_per_enterprise'", ()),
        required=RawSQL("document -> 'required_qualifications'", ()),
    ).values_list("id", "usccs", "drawn", "k", "required", "inspectors_manifest")
    out = []
    for pk, usccs, drawn, k, required, csv in rows:
        if isinstance(usccs, str):  # psycopg returns jsonb parsed; a plain str would be JSON
            usccs, drawn, k, required = (json.loads(v) for v in (usccs, drawn, k, required))
        document = {
            "inspectors_per_enterprise": k,
            "required_qualifications": required or [],
            "teams": [
                {"uscc": u, "drawn": d} for u, d in zip(usccs or [], drawn or [], strict=True)
            ],
        }
        out.append((pk, document, bytes(csv)))
    return out


def inspector_fairness(*, scope) -> InspectorFairness:
    draws = _team_documents(scope)
    teams: list[TeamModel] = []
    for _draw_id, document, inspectors_csv in draws:
        if document:
            teams.extend(draw_team_models(document=document, inspectors_csv=inspectors_csv))
    stats = inspector_statistics(teams)
    people = {
        i.staff_number: i
        for i in Inspector.objects.filter(staff_number__in=list(stats)).select_related("section")
    }
    moves_in: defaultdict[str, int] = defaultdict(int)
    moves_out: defaultdict[str, int] = defaultdict(int)
    for out_number, in_number in DrawReplacement.objects.filter(
        selection__draw__in=[draw_id for draw_id, _doc, _csv in draws]
    ).values_list("out__staff_number", "into__staff_number"):
        moves_out[out_number] += 1
        moves_in[in_number] += 1
    rows = []
    for staff, stat in stats.items():
        person = people.get(staff)
        rows.append(
            InspectorRow(
                staff_number=staff,
                name=person.name if person else staff,
                section=person.section.name if person and person.section_id else "",
                inspector_id=person.pk if person else None,
                stat=stat,
                replaced_in=moves_in[staff],
                replaced_out=moves_out[staff],
            )
        )
    rows.sort(key=lambda r: (-(r.stat.residual or 0.0), r.staff_number))
    # Pooling takes ties of the expected count in staff-number order (not in table order).
    test = chi_square_test(
        (r.stat.observed, r.stat.expected) for r in sorted(rows, key=lambda r: r.staff_number)
    )
    return InspectorFairness(
        rows=rows,
        test=test,
        verdict=fairness_verdict(rows, test),
        draws=len(draws),
        teams=len(teams),
        slots=sum(len(t.drawn) for t in teams),
    )
