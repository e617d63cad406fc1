"""Nightly re-verification of every performed draw, so that a draw altered behind the
application's back raises the discipline group's red flag even if nobody has opened it."""

from celery import shared_task

from audit.services import audit_record
from inspections.models import Draw

from .selectors.review import LARGE_FIELDS, draw_failure_note, verify_draws

CHUNK = 50


def draws_verify_all(*, chunk: int = CHUNK) -> dict:
    """Verify every draw that has a result (completed or voided after completion), in chunks
    by id; record each failure once (``draw_failure_note``) and one summary event. Safe to run
    twice: an unchanged failure is not recorded again."""
    checked = failed = 0
    last_id = 0
    base = Draw.objects.filter(document__isnull=False).select_related("task").order_by("id")
    while True:
        draws = list(base.filter(id__gt=last_id).defer(*LARGE_FIELDS)[:chunk])
        if not draws:
            break
        for draw in draws:
            draw.has_document = True  # type: ignore[attr-defined]  # read by _has_document
        for draw_id, problems in verify_draws(draws).items():
            checked += 1
            if problems:
                failed += 1
                draw_failure_note(next(d for d in draws if d.pk == draw_id), problems)
        last_id = draws[-1].pk
    audit_record(
        event_type="oversight.draws_verified",
        object_type="oversight.job",
        object_id="draws_verify_all",
        detail={"checked": checked, "failed": failed},
    )
    return {"checked": checked, "failed": failed}


@shared_task(name="oversight.tasks.draws_verify_all")
def draws_verify_all_task() -> dict:
    return draws_verify_all()
