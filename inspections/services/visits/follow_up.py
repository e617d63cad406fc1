"""Lead transfers (线索移交, art. 11), follow-up of problems found (art. 16) and the result
categories' maintenance. Allowed after submission too: they are separate records.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from audit.services import audit_record
from core.bounds import bounds_check, single_line

from ...models import FollowUp, LeadTransfer, ResultCategory, Visit
from ...selectors import visits as selectors
from ...signals import visits_changed
from .common import VisitError

# --- lead transfers and follow-up (after submit too: they are separate records) ------------------


def _require_case_worker(actor, visit: Visit) -> None:
    if not selectors.can_follow_up(actor, visit):
        raise PermissionDenied("只有检查组成员或本股室人员可以登记线索移送和后续处置。")


def transfer_create(
    *, actor, visit: Visit, department: str, content: str, sent_on=None
) -> LeadTransfer:
    """Art. 11: a lead for another department (移交/移送)."""
    _require_case_worker(actor, visit)
    department, content = (department or "").strip(), (content or "").strip()
    if not department or not content:
        raise VisitError("请填写接收部门和移送内容。")
    transfer = LeadTransfer(
        visit=visit,
        department=single_line(department),
        content=content,
        sent_on=sent_on,
        status=LeadTransfer.Status.SENT if sent_on else LeadTransfer.Status.DRAFT,
        created_by=actor,
    )
    bounds_check(transfer, ["department", "content", "sent_on"])
    with transaction.atomic():
        transfer.save()
        visits_changed.send(sender=Visit, visit_ids=[visit.pk])
        audit_record(
            event_type="visit.transfer_create",
            actor=actor,
            obj=transfer,
            detail={
                "after": {
                    "visit": visit.pk,
                    "department": department,
                    "content": content,
                    "sent_on": sent_on,
                    "status": transfer.status,
                }
            },
        )
    return transfer


def transfer_update(
    *,
    actor,
    transfer: LeadTransfer,
    status: str,
    sent_on=None,
    receipt: str = "",
    replied_on=None,
) -> LeadTransfer:
    _require_case_worker(actor, transfer.visit)
    if status not in LeadTransfer.Status.values:
        raise VisitError("移送状态无效。")
    with transaction.atomic():
        transfer = LeadTransfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.status == LeadTransfer.Status.CLOSED:
            raise VisitError("已办结的移送不能再修改。")
        before = {
            "status": transfer.status,
            "sent_on": transfer.sent_on,
            "receipt": transfer.receipt,
            "replied_on": transfer.replied_on,
        }
        transfer.status = status
        transfer.sent_on = sent_on or transfer.sent_on
        transfer.receipt = (receipt or "").strip() or transfer.receipt
        transfer.replied_on = replied_on or transfer.replied_on
        if status != LeadTransfer.Status.DRAFT and not transfer.sent_on:
            raise VisitError("请填写移送日期。")
        if status in (LeadTransfer.Status.REPLIED, LeadTransfer.Status.CLOSED) and not (
            transfer.receipt
        ):
            raise VisitError("请填写回执或回复情况。")
        bounds_check(transfer, ["sent_on", "receipt", "replied_on"])
        transfer.save()
        audit_record(
            event_type="visit.transfer_update",
            actor=actor,
            obj=transfer,
            detail={
                "before": before,
                "after": {
                    "status": transfer.status,
                    "sent_on": transfer.sent_on,
                    "receipt": transfer.receipt,
                    "replied_on": transfer.replied_on,
                },
            },
        )
    return transfer


def follow_up_add(
    *, actor, visit: Visit, measures: list[str], detail: str = "", due_on=None
) -> list[FollowUp]:
    """Art. 16: one or more measures. 无需后续处置 closes at once and cannot be combined."""
    _require_case_worker(actor, visit)
    measures = [m for m in dict.fromkeys(measures or []) if m]
    if not measures:
        raise VisitError("请至少选择一项后续处置措施。")
    if any(m not in FollowUp.Measure.values for m in measures):
        raise VisitError("后续处置措施无效。")
    if FollowUp.Measure.NONE in measures and len(measures) > 1:
        raise VisitError("“无需后续处置”不能与其他措施同时选择。")
    if visit.status in (Visit.Status.SCHEDULED,):
        raise VisitError("检查尚未开始，不能登记后续处置。")
    bounds_check(FollowUp(detail=(detail or "").strip(), due_on=due_on), ["detail", "due_on"])
    today = timezone.localdate()
    created = []
    with transaction.atomic():
        for measure in measures:
            none = measure == FollowUp.Measure.NONE
            if not none and measure != FollowUp.Measure.STOP_AND_REPORT and due_on is None:
                raise VisitError(f"“{FollowUp.Measure(measure).label}”须填写期限。")
            created.append(
                FollowUp.objects.create(
                    visit=visit,
                    measure=measure,
                    detail=(detail or "").strip(),
                    due_on=None if none else due_on,
                    closed=none,
                    closed_on=today if none else None,
                    outcome="无需后续处置" if none else "",
                    created_by=actor,
                )
            )
        visits_changed.send(sender=Visit, visit_ids=[visit.pk])
        audit_record(
            event_type="visit.follow_up_add",
            actor=actor,
            obj=visit,
            detail={"after": {"measures": measures, "due_on": due_on, "detail": detail}},
        )
    return created


def follow_up_close(*, actor, follow_up: FollowUp, outcome: str, closed_on=None) -> FollowUp:
    _require_case_worker(actor, follow_up.visit)
    outcome = (outcome or "").strip()
    if not outcome:
        raise VisitError("办结须填写处置结果。")
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.closed:
            return follow_up
        follow_up.outcome = outcome
        follow_up.closed = True
        follow_up.closed_on = closed_on or timezone.localdate()
        bounds_check(follow_up, ["outcome", "closed_on"])
        follow_up.save(update_fields=["outcome", "closed", "closed_on"])
        visits_changed.send(sender=Visit, visit_ids=[follow_up.visit_id])
        audit_record(
            event_type="visit.follow_up_close",
            actor=actor,
            obj=follow_up,
            detail={
                "before": {"closed": False},
                "after": {"closed": True, "outcome": outcome, "closed_on": follow_up.closed_on},
            },
        )
    return follow_up


def result_category_update(
    *, actor, category: ResultCategory, label: str, exclusive: bool
) -> ResultCategory:
    """Admins edit a category's label (the code is stable)."""
    if not actor.has_role(Role.SYSTEM_ADMIN):
        raise PermissionDenied("只有系统管理员可以维护检查结果类别。")
    label = (label or "").strip()
    if not label:
        raise VisitError("名称不能为空。")
    with transaction.atomic():
        before = {"label": category.label, "exclusive": category.exclusive}
        category.label, category.exclusive = label, bool(exclusive)
        category.save(update_fields=["label", "exclusive"])
        audit_record(
            event_type="visit.result_category_update",
            actor=actor,
            obj=category,
            detail={"before": before, "after": {"label": label, "exclusive": bool(exclusive)}},
        )
    return category
