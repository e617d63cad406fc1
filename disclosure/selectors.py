"""Reads for the publication screens: who sees which records, batches and rows (section
scoping). Pages and capped counts: ``core.paging``."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.roles import Role
from approvals.models import ApprovalRequest
from approvals.selectors import approvals_open_for

from .models import ExportBatch, ExportBatchItem, PublicationRecord

# --- publication: who sees which records (section scoping) ------------------------------------
#
# 谁检查、谁录入、谁公示: an inspector sees the records of the visits he or she checked; the
# staff (业务股室) and head (股室负责人) of a section see their section's records; the lead
# section (牵头股室), the discipline group (纪检派驻组, read-only), the system admin (runs the
# scan, maintains the calendar) and the audit admin see every record. A user holding several
# roles sees the union. Objects outside the scope answer 404 (their existence is not revealed).

ALL_RECORDS_ROLES = (Role.LEAD_SECTION, Role.DISCIPLINE, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN)
SECTION_ROLES = (Role.SECTION_STAFF, Role.SECTION_HEAD)


def sees_all_records(user) -> bool:
    return user.has_role(*ALL_RECORDS_ROLES)


def record_scope(user, *, record: str = "") -> Q | None:
    """The records ``user`` may see as a condition (None: all). ``record`` is the path to the
    record from the queried model, e.g. "record" for batch items."""
    if sees_all_records(user):
        return None
    prefix = f"{record}__" if record else ""
    condition = Q(pk__in=[])
    if user.has_role(*SECTION_ROLES) and user.section_id:
        condition |= Q(**{f"{prefix}section_id": user.section_id})
    if user.has_role(Role.INSPECTOR):
        through = PublicationRecord.inspectors.through
        condition |= Q(
            Exists(
                through.objects.filter(
                    publicationrecord_id=OuterRef(f"{record}_id" if record else "pk"),
                    user_id=user.pk,
                )
            )
        )
    return condition


def _scoped(qs, user, *, record: str = ""):
    condition = record_scope(user, record=record)
    return qs if condition is None else qs.filter(condition)


def records_for(
    user: User, qs: QuerySet[PublicationRecord] | None = None
) -> QuerySet[PublicationRecord]:
    return _scoped(qs if qs is not None else PublicationRecord.objects.all(), user)


def record_for(user, pk: int, qs=None) -> PublicationRecord:
    """The record if ``user`` may see it, else 404."""
    return get_object_or_404(records_for(user, qs), pk=pk)


# --- corrections waiting on the approvals flow (kind ``disclosure.correction``) ---------------

CORRECTION_KIND = "disclosure.correction"


def correction_pending(record: PublicationRecord) -> ApprovalRequest | None:
    """The correction of ``record`` waiting for its section head, if any."""
    return approvals_open_for(kind=CORRECTION_KIND, object_ids=[record.pk]).get(str(record.pk))


def records_with_pending_correction() -> Q:
    """A condition on records: a correction of it waits for approval (the list's filter)."""
    pending = ApprovalRequest.objects.filter(
        kind=CORRECTION_KIND, state=ApprovalRequest.State.PENDING
    ).values_list("object_id", flat=True)
    return Q(pk__in=[int(pk) for pk in pending])


def batches_for(user):
    """Batches with at least one visible row (or created by ``user``)."""
    qs = ExportBatch.objects.all()
    condition = record_scope(user, record="record")
    if condition is None:
        return qs
    rows = ExportBatchItem.objects.filter(condition, batch_id=OuterRef("pk"))
    return qs.filter(Q(Exists(rows)) | Q(created_by=user))


def batch_for(user, pk: int, qs=None) -> ExportBatch:
    qs = qs if qs is not None else ExportBatch.objects.all()
    return get_object_or_404(qs.filter(pk__in=batches_for(user).values("pk")), pk=pk)


def batch_items_for(user, batch: ExportBatch):
    return _scoped(ExportBatchItem.objects.filter(batch=batch), user, record="record")


def batch_is_whole(user, batch: ExportBatch) -> bool:
    """Every row of the batch is visible to ``user`` (a section's own batch): only then may a
    section act on it (feedback, publication date) or download its files."""
    condition = record_scope(user, record="record")
    if condition is None:
        return True
    return not ExportBatchItem.objects.filter(batch=batch).exclude(condition).exists()


# --- bounded counts and pages (no COUNT(*) over the whole table per page view) -----------------
