from functools import cache

from django.apps import apps
from django.db.models import Model, QuerySet

from .models import AuditEvent


@cache
def _former_names() -> dict[str, tuple[str, ...]]:
    """Every name of each object type that has had more than one. A model that moved to another
    app declares its old labels as ``audit_former_object_types``: the events already written
    keep the old name (their hash covers it), so a history reads all of them."""
    groups: dict[str, tuple[str, ...]] = {}
    for model in apps.get_models():
        former = tuple(getattr(model, "audit_former_object_types", ()))
        if former:
            names = (model._meta.label_lower, *former)
            for name in names:
                groups[name] = names
    return groups


def object_type_names(object_type: str) -> tuple[str, ...]:
    """The object type and the names it had before (``disclosure.calendaryear`` ↔
    ``workdays.calendaryear``)."""
    return _former_names().get(object_type, (object_type,))


def audit_events_for_object(*, obj: Model) -> QuerySet[AuditEvent]:
    """An object's own change history, newest first (shown on the object's page)."""
    return AuditEvent.objects.filter(
        object_type__in=object_type_names(obj._meta.label_lower), object_id=str(obj.pk)
    ).order_by("-seq")
