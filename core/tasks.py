"""Background jobs of the shell: notification e-mail (``core.mail``). Both are safe to run
twice; no ETA/countdown tasks."""

from typing import Any

from celery import shared_task

from .mail import notification_email_deliver
from .mail import notification_email_sweep as sweep


@shared_task(
    name="core.tasks.notification_email_send",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def notification_email_send(notification_id: int) -> str:
    """Send one notification's e-mail (idempotent: claimed by one conditional UPDATE)."""
    return notification_email_deliver(notification_id=notification_id)


@shared_task(name="core.tasks.notification_email_sweep", acks_late=True, ignore_result=True)
def notification_email_sweep() -> dict[str, Any]:
    """Queue e-mails of notifications written by set-based SQL; re-queue lost / failed ones."""
    return sweep()
