"""Background jobs of accounts. Safe to run twice."""

from typing import Any

from celery import shared_task


@shared_task(name="accounts.tasks.login_throttle_prune", acks_late=True, ignore_result=True)
def login_throttle_prune() -> dict[str, Any]:
    """Delete login-throttle rows whose window and lock have ended (daily)."""
    from .services import login_throttle_prune as prune

    return prune()
