"""Beat's daily checkpoint of the audit chain (``audit-checkpoint``, docs/contracts.md §5)."""

import logging

from celery import shared_task
from django.db import transaction

from .models import AuditEvent
from .services import audit_checkpoint_create, audit_record

logger = logging.getLogger(__name__)


@shared_task
def audit_checkpoint() -> str:
    """Verify and, when intact, write a signed checkpoint outside the database. Safe to run
    twice: a second run writes a second checkpoint of the same head, which changes nothing."""
    result, path = audit_checkpoint_create()
    with transaction.atomic():
        audit_record(
            event_type="audit.chain_verified",
            actor_name="celery beat",
            outcome=AuditEvent.Outcome.SUCCESS if result.ok else AuditEvent.Outcome.FAILURE,
            detail={
                "checked": result.checked,
                "broken_seq": result.broken_seq,
                "problem": result.problem,
                "checkpoint": path.name if path else None,
            },
        )
    if path is None:
        # Loud in the worker's log; the 审计管理员 sees it at the next verification too.
        logger.error("audit chain BROKEN at seq %s: %s", result.broken_seq, result.problem)
        return f"BROKEN at seq {result.broken_seq}"
    return str(path)
