from celery import shared_task

from .services import certificate_expiry_notify as _notify


@shared_task(name="inspectors.tasks.certificate_expiry_notify")
def certificate_expiry_notify() -> int:
    """Daily: certificates expiring within 30 days → notifications (idempotent)."""
    return _notify()
