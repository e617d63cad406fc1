"""What the publication services share: the status names, the role check and the record scope."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied

from accounts.models import User

from ..models import PublicationRecord
from ..selectors import records_for

Status = PublicationRecord.Status
Alert = PublicationRecord.Alert


def _require(actor: User | None, roles: Iterable[str], message: str) -> None:
    if actor is not None and not actor.has_role(*roles):
        raise PermissionDenied(message)


def _require_record(actor: User, record: PublicationRecord) -> None:
    """The role is not enough: the record must be in ``actor``'s scope (their section's records,
    or the visits they checked; disclosure.selectors.record_scope), as the pages already ask."""
    if actor is not None and not records_for(actor).filter(pk=record.pk).exists():
        raise PermissionDenied(f"公示记录“{record}”不属于您所在股室或您参与的检查，不能处理。")
