"""What the publication services share: the status names and the role check."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from ..models import PublicationRecord

Status = PublicationRecord.Status
Alert = PublicationRecord.Alert


def _require(actor, roles, message: str) -> None:
    if actor is not None and not actor.has_role(*roles):
        raise PermissionDenied(message)
