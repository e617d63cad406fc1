from typing import Any

from django.utils import timezone

from .mail import REASON_IN_APP_ONLY, initial_state, queue_on_commit
from .models import Notification


def notification_send(
    *, recipient: Any, key: str, title: str, body: str = "", link: str = "", email: bool = True
) -> bool:
    """Send once per (recipient, key); returns True if it was new. Safe to run twice.

    The notification is in-app (the bell); when e-mail is enabled and the recipient is active
    with an address it is also e-mailed (``core.mail``): the Celery task is queued when the
    caller's transaction commits, never if it rolls back. ``email=False`` keeps it in-app."""
    if email:
        state = initial_state(recipient)
    else:
        state = {"email_state": Notification.EmailState.SKIPPED, "email_error": REASON_IN_APP_ONLY}
    notification, created = Notification.objects.get_or_create(
        recipient=recipient,
        key=key[:200],
        defaults={"title": title[:200], "body": body, "link": link[:300], **state},
    )
    if created and notification.email_state == Notification.EmailState.QUEUED:
        queue_on_commit([notification.pk])
    return created


def notification_mark_read(*, recipient: Any, notification_id: int) -> bool:
    """Mark one of the recipient's notifications read. False when the recipient has no such
    notification (someone else's, or none): the caller must not report success then."""
    mine = Notification.objects.filter(pk=notification_id, recipient=recipient)
    mine.filter(read_at=None).update(read_at=timezone.now())
    return mine.exists()
