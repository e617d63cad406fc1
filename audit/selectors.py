from django.db.models import QuerySet

from .models import AuditEvent


def audit_events_for_object(*, obj) -> QuerySet[AuditEvent]:
    """An object's own change history, newest first (shown on the object's page)."""
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("-seq")
