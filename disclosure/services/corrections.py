"""Corrections of published results (更正, art. 17) and enterprises' objections (异议) with their
re-checks (复查).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from approvals.models import ApprovalRequest
from approvals.services import approval_request
from audit.services import audit_record
from core.bounds import bounds_check

from ..models import Objection, PublicationRecord, PublicationVersion
from ..selectors import CORRECTION_KIND, records_for
from .common import Status, _require, _require_record

RESULT_MAX = 500

PROPOSE_ROLES = (Role.INSPECTOR, Role.SECTION_STAFF, Role.SECTION_HEAD)
APPROVE_ROLES = (Role.SECTION_HEAD,)
OBJECTION_ROLES = (Role.LEAD_SECTION, Role.SECTION_STAFF, Role.INSPECTOR, Role.SECTION_HEAD)
RECHECK_ROLES = (Role.INSPECTOR, Role.SECTION_HEAD)


# --- corrections (art. 17) --------------------------------------------------------------------
#
# A correction is asked for on the approvals flow (kind ``disclosure.correction``, declared in
# ``disclosure/approval_kinds.py``): the proposed text waits in the request's payload, a head of
# the record's section other than the proposer decides it in their own session, and only the
# approval creates the new version (the refused or withdrawn proposal never becomes a version).


def correction_propose(
    *,
    actor: User,
    record: PublicationRecord,
    result_text: str,
    reason: str,
    objection: Objection | None = None,
) -> ApprovalRequest:
    """Ask for a new version of ``record``'s result (approved later by a head of the record's
    section other than ``actor``)."""
    result_text = (result_text or "").strip()
    current = record.current_version
    payload = {
        "result_text": result_text,
        # The version the correction replaces: another change meanwhile makes it stale.
        "base": current.pk if current else None,
        "objection": objection.pk if objection is not None else None,
        "summary": f"{record.enterprise_name}（{record.uscc}）{record.check_item}：检查结果由"
        f"“{current.result_text if current else ''}”更正为“{result_text}”",
        "link": reverse("disclosure:publication_detail", args=[record.pk]),
    }
    return approval_request(
        actor=actor, kind=CORRECTION_KIND, object_id=record.pk, reason=reason, payload=payload
    )


def correction_check_request(*, actor: User, obj: PublicationRecord) -> None:
    _require(actor, PROPOSE_ROLES, "只有检查人员、业务股室或股室负责人可以提出更正。")
    if not records_for(actor).filter(pk=obj.pk).exists():
        raise PermissionDenied("只能对本人或本股室的公示记录提出更正。")
    if obj.section_id is None:
        raise ValidationError("该公示记录没有责任股室，无法确定审批更正的股室负责人。")
    if obj.current_version_id is None:
        raise ValidationError("该公示记录还没有检查结果，不能更正。")


def correction_check_payload(
    *, actor: User, obj: PublicationRecord, payload: dict[str, Any]
) -> None:
    result_text = payload.get("result_text") or ""
    if not result_text:
        raise ValidationError("请填写更正后的检查结果（请在公示记录页面提出更正）。")
    if len(result_text) > RESULT_MAX:
        raise ValidationError(f"更正后的检查结果不能超过 {RESULT_MAX} 字。")
    if payload.get("base") != obj.current_version_id:
        raise ValidationError("公示记录的当前结果已变化，请刷新页面后重新提出更正。")
    if obj.current_version and obj.current_version.result_text == result_text:
        raise ValidationError("更正后的检查结果与当前结果相同。")
    objection = payload.get("objection")
    if objection is not None and not obj.objections.filter(pk=objection).exists():
        raise ValidationError("来源异议不属于该公示记录。")


def correction_approver_roles(*, actor: User, obj: PublicationRecord) -> frozenset[str]:
    return frozenset(APPROVE_ROLES)


def correction_check_decider(
    *, actor: User, obj: PublicationRecord, request: ApprovalRequest
) -> None:
    """Only a head of the record's own section decides (art. 17: 股室负责人 of 谁检查、谁公示)."""
    if obj is None or actor.section_id is None or actor.section_id != obj.section_id:
        raise PermissionDenied("只有该公示记录责任股室的股室负责人可以审批更正。")


def correction_check_viewer(*, actor: User, obj: PublicationRecord | None) -> None:
    """A head sees the request only for a record they may see (another section's answers 403)."""
    if obj is None or not records_for(actor).filter(pk=obj.pk).exists():
        raise PermissionDenied("您无权查看该公示记录的更正申请。")


def correction_perform(
    *, actor: User, obj: PublicationRecord, request: ApprovalRequest
) -> dict[str, Any]:
    """The approved correction: a new current version, back to 待报送 for the next batch
    (marked 更正). The public page keeps the published version until this one is published."""
    record = PublicationRecord.objects.select_for_update().get(pk=obj.pk)
    payload = request.payload
    if record.current_version_id != payload.get("base"):
        raise ValidationError(
            f"申请提出后公示记录“{record.enterprise_name} · {record.check_item}”的当前结果已变化"
            "（已有其他更正生效），请拒绝该申请并重新提出更正。"
        )
    before = record.current_version.result_text if record.current_version else ""
    number = (record.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = PublicationVersion.objects.create(
        record=record,
        number=number,
        status=PublicationVersion.Status.APPROVED,
        result_text=payload["result_text"],
        is_correction=True,
        reason=request.reason,
        created_by=request.requested_by,
        approved_by=actor,
        approved_at=timezone.now(),
        objection_id=payload.get("objection"),
    )
    record.current_version = version
    record.status = Status.PENDING
    record.rejection_error = ""
    record.save(update_fields=["current_version", "status", "rejection_error"])
    audit_record(
        event_type="publication.correction_approve",
        actor=actor,
        obj=record,
        reason=request.reason,
        detail={
            "before": before,
            "after": version.result_text,
            "version": number,
            "requested_by": request.requested_by.username,
            "approval": request.pk,
        },
    )
    return {}


# --- objections and re-checks -----------------------------------------------------------------


def objection_record(
    *, actor: User, record: PublicationRecord, received_on: dt.date, content: str
) -> Objection:
    _require(actor, OBJECTION_ROLES, "您的角色不能登记异议。")
    _require_record(actor, record)
    if not content.strip():
        raise ValidationError("请填写异议内容。")
    if record.published_version_id is None:
        raise ValidationError("只能对已公示的结果登记异议。")
    if received_on > timezone.localdate():
        raise ValidationError("收到日期不能晚于今天。")
    published = record.first_published_on or record.published_on
    if published and received_on < published:
        raise ValidationError(
            _("收到日期（%(received)s）不能早于公示日期（%(published)s）。")
            % {"received": received_on.isoformat(), "published": published.isoformat()}
        )
    objection = Objection(
        record=record, received_on=received_on, content=content.strip(), recorded_by=actor
    )
    bounds_check(objection, ["received_on", "content"])
    with transaction.atomic():
        objection.save()
        audit_record(
            event_type="publication.objection_record",
            actor=actor,
            obj=objection,
            detail={"record": record.pk, "received_on": received_on},
        )
    return objection


def objection_recheck(
    *,
    actor: User,
    objection: Objection,
    recheck_on: dt.date,
    conclusion: str,
    new_result_text: str = "",
) -> Objection:
    """Record the 复查; a changed result becomes a correction proposal (art. 17 path)."""
    _require(actor, RECHECK_ROLES, "只有检查人员或股室负责人可以登记复查。")
    if not conclusion.strip():
        raise ValidationError("请填写复查结论。")
    with transaction.atomic():
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        _require_record(actor, objection.record)
        if objection.status == Objection.Status.RECHECKED:
            raise ValidationError("该异议已登记复查结果。")
        if recheck_on < objection.received_on:
            raise ValidationError("复查日期不能早于收到异议的日期。")
        objection.status = Objection.Status.RECHECKED
        objection.recheck_on = recheck_on
        objection.recheck_result = conclusion.strip()
        objection.recheck_by = actor
        objection.changes_result = bool(new_result_text.strip())
        bounds_check(objection, ["recheck_on", "recheck_result"])
        objection.save()
        if objection.changes_result:
            correction_propose(
                actor=actor,
                record=objection.record,
                result_text=new_result_text,
                reason=f"异议复查：{conclusion.strip()}",
                objection=objection,
            )
        audit_record(
            event_type="publication.objection_recheck",
            actor=actor,
            obj=objection,
            detail={"changes_result": objection.changes_result, "conclusion": conclusion},
        )
    return objection
