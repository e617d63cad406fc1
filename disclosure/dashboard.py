"""Dashboard panel: open publication records by deadline alert."""

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from accounts.roles import BUSINESS_READERS
from core.extensions import Panel

from .models import PublicationRecord
from .selectors import records_for


def publication_panel(request) -> list[Panel]:
    """Open publication records by alert level, counted over exactly the records the user's
    publication list shows (``selectors.records_for``: the one scope of who sees what)."""
    user = request.user
    if not user.has_role(*BUSINESS_READERS):
        return []
    Alert = PublicationRecord.Alert
    counts = records_for(
        user, PublicationRecord.objects.filter(first_published_on__isnull=True)
    ).aggregate(
        reminder=Count("pk", filter=Q(alert=Alert.REMINDER)),
        due_today=Count("pk", filter=Q(alert=Alert.DUE_TODAY)),
        overdue=Count("pk", filter=Q(alert=Alert.OVERDUE)),
        undetermined=Count("pk", filter=Q(deadline__isnull=True)),
    )
    return [
        Panel(
            title=_("公示期限"),
            template="disclosure/_dashboard_publication.html",
            context={"counts": counts},
            order=10 if counts["overdue"] or counts["due_today"] else 60,
        )
    ]


def panels(request) -> list[Panel]:
    return publication_panel(request)
