"""The nightly re-verification of every draw (oversight/tasks.py)."""

import pytest

from audit.models import AuditEvent
from oversight.selectors import review as selectors_review
from oversight.tasks import draws_verify_all
from tests.test_oversight_review import tamper

pytestmark = pytest.mark.usefixtures("visits_today")


def failures():
    return AuditEvent.objects.filter(event_type=selectors_review.VERIFICATION_FAILED)


def test_an_intact_draw_passes_and_the_run_is_recorded(draw):
    assert draws_verify_all() == {"checked": 1, "failed": 0}
    assert not failures().exists()
    run = AuditEvent.objects.get(event_type="oversight.draws_verified")
    assert run.detail == {"checked": 1, "failed": 0}


def test_a_draw_altered_in_the_database_raises_the_flag_once_without_anyone_viewing_it(draw):
    forged = bytes(draw.manifest).replace(b",D", b",A", 1)
    tamper("UPDATE inspections_draw SET manifest = %s WHERE id = %s", [forged, draw.pk])

    assert draws_verify_all(chunk=1) == {"checked": 1, "failed": 1}
    assert list(failures().values_list("object_id", flat=True)) == [str(draw.pk)]
    assert selectors_review.red_flags().failing_draws == 1

    # Run twice (a retried or duplicated job): the same failure is not recorded again.
    assert draws_verify_all() == {"checked": 1, "failed": 1}
    assert failures().count() == 1
