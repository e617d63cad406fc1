from django.utils import timezone

from .models import Notification


def notification_send(*, recipient, key: str, title: str, body: str = "", link: str = "") -> bool:
    """Send once per (recipient, key); returns True if it was new. Safe to run twice."""
    _, created = Notification.objects.get_or_create(
        recipient=recipient,
        key=key[:200],
        defaults={"title": title[:200], "body": body, "link": link[:300]},
    )
    return created


def notification_mark_read(*, recipient, notification_id: int) -> None:
    Notification.objects.filter(pk=notification_id, recipient=recipient, read_at=None).update(
        read_at=timezone.now()
    )
