"""The daily deadline job against a real Redis broker and a real Celery worker (threads).

Runs only when REDIS_URL is set (settings then use Redis for the broker and the cache lock);
a SQLite-only run without Redis skips it and says why."""

import os

import pytest

from accounts.roles import Role
from core.models import Notification
from disclosure.models import PublicationRecord
from tests.disclosure_publication_fixtures import D

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="needs a real Redis (set REDIS_URL, e.g. redis://127.0.0.1:6379/8) for the broker",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker(celery_worker_threads):
    return celery_worker_threads


def test_the_daily_job_on_a_real_worker_reminds_then_escalates_once(
    worker, make_record, users, inspector_user
):
    from disclosure.tasks import deadline_scan

    record = make_record(check_end=D(2026, 10, 3))  # deadline 2026-11-03
    staff, head = users[Role.SECTION_STAFF], users[Role.SECTION_HEAD]

    counts = deadline_scan.delay("2026-10-28").get(timeout=60)
    assert counts["reminder"] == 1
    record.refresh_from_db()
    assert record.alert == PublicationRecord.Alert.REMINDER
    assert (
        Notification.objects.filter(recipient=inspector_user, key__contains="reminder").count() == 1
    )
    assert (
        Notification.objects.filter(recipient=staff, key__contains="reminder-digest").count() == 1
    )
    assert not Notification.objects.filter(recipient=head).exists()

    # Two runs at once on two worker threads: the lock lets one scan through at a time and the
    # state and the notifications are the same as after one run.
    first, second = deadline_scan.delay("2026-11-04"), deadline_scan.delay("2026-11-04")
    results = [first.get(timeout=60), second.get(timeout=60)]
    assert any(r.get("overdue") == 1 for r in results)
    record.refresh_from_db()
    assert record.alert == PublicationRecord.Alert.OVERDUE
    escalation = Notification.objects.filter(recipient=head, key__startswith="disclosure:overdue")
    assert escalation.count() == 1
    assert "逾期" in escalation.get().title

    deadline_scan.delay("2026-11-04").get(timeout=60)  # and once more, later: nothing new
    assert Notification.objects.filter(key__startswith="disclosure:overdue:").count() == 1
    assert Notification.objects.filter(key__startswith="disclosure:overdue-digest:").count() == 2
    assert Notification.objects.filter(key__startswith="disclosure:reminder").count() == 2
