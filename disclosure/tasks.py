"""Background jobs of publication (docs/disclosure.md, "Deadline scan").

- ``deadline_scan`` — daily (beat, 07:30 Asia/Shanghai) and on demand: creates records missed
  by the ``visit_approved`` receiver, marks reminder / due today / overdue and notifies once per
  event. A cache lock (Redis in production) lets
  only one scan run at a time; ``acks_late`` + ``reject_on_worker_lost`` redeliver the message
  if a worker dies mid-run, and every step is idempotent, so nothing is lost or doubled.
  Its notifications are e-mailed too: the scan ends with ``core.mail.notification_email_sweep``
  (reminders, due today and overdue escalations reach inboxes when e-mail is configured).
- ``export_batch_build`` — writes a big batch's files (progress on the batch page).

No ETA/countdown tasks: Redis redelivers those after its visibility timeout.
"""

import datetime as dt
import logging
import uuid

from celery import shared_task
from django.core.cache import cache

from core.mail import notification_email_sweep

from . import services

logger = logging.getLogger(__name__)

SCAN_LOCK_KEY = "disclosure:deadline-scan:lock"
SCAN_LOCK_SECONDS = 20 * 60  # longer than any scan; released at the end of a normal run


def run_scan_locked(today=None) -> dict:
    """The scan under the lock; returns its counts or {"skipped": "locked"}."""
    token = uuid.uuid4().hex
    if not cache.add(SCAN_LOCK_KEY, token, SCAN_LOCK_SECONDS):
        logger.info("deadline scan already running; skipped")
        return {"skipped": "locked"}
    try:
        created = services.publication_sweep_missing()
        counts = services.deadline_scan(today=today)
        counts["created"] = created
    finally:
        if cache.get(SCAN_LOCK_KEY) == token:
            cache.delete(SCAN_LOCK_KEY)
    try:
        # The scan writes its notifications with set-based SQL (no e-mail state): decide and
        # queue their e-mails now (core.mail; the beat sweep every 10 minutes catches up too).
        counts["email"] = notification_email_sweep()
    except Exception:  # e-mail must not undo the scan; the periodic sweep retries
        logger.exception("notification e-mail sweep failed")
    return counts


@shared_task(
    name="disclosure.tasks.deadline_scan",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=False,
)
def deadline_scan(today: str | None = None) -> dict:
    """Daily and on-demand scan (``today`` as YYYY-MM-DD for tests and catch-up runs)."""
    return run_scan_locked(dt.date.fromisoformat(today) if today else None)


@shared_task(name="disclosure.tasks.export_batch_build", acks_late=True, reject_on_worker_lost=True)
def export_batch_build(batch_id: int) -> None:
    services.batch_build(batch_id=batch_id)
