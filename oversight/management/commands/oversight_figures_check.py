"""Check that the precomputed report figures agree with the source tables (docs/reports.md).

Compares, for every task, the figures, the result mix and the problem breakdowns read from
``oversight.models.VisitFigures`` with the same ones computed from the sources
(``oversight.reports_reference``). Exits with an error listing the differences; ``--repair``
first rewrites every row from the sources (one set-based pass)."""

from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inspections.models import Task
from oversight import reports
from oversight import reports_reference as reference
from oversight.figures import visit_figures_refresh


def differences(task_ids: list[int]) -> list[str]:
    out = []
    ours, theirs = reports.task_figures(task_ids), reference.reference_task_figures(task_ids)
    for pk in task_ids:
        a, b = asdict(ours[pk]), asdict(theirs[pk])
        out += [f"task {pk}: {k} = {a[k]}, sources say {b[k]}" for k in a if a[k] != b[k]]
    if reports.category_mix(task_ids) != reference.reference_category_mix(task_ids):
        out.append("result mix differs")
    ours_by, theirs_by = reports.problems_by(task_ids), reference.reference_problems_by(task_ids)
    out += [f"problems by {k} differ" for k in ours_by if ours_by[k] != theirs_by[k]]
    return out


class Command(BaseCommand):
    help = "Compare the precomputed report figures with the source tables."

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="rewrite every row from the sources first"
        )

    def handle(self, *args, repair=False, **options):
        if repair:
            with transaction.atomic():
                rows = visit_figures_refresh(visit_ids=None)
            self.stdout.write(f"rewrote {rows} rows")
        task_ids = list(Task.objects.values_list("pk", flat=True))
        found = differences(task_ids)
        for line in found:
            self.stdout.write(line)
        if found:
            raise CommandError(f"the report figures disagree with the sources ({len(found)})")
        self.stdout.write(f"the report figures of {len(task_ids)} tasks agree with the sources")
