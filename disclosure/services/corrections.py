"""Corrections of published results (更正, art. 17) and enterprises' objections (异议) with their
re-checks (复查).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role
from audit.services import audit_record
from core.bounds import bounds_check

from ..models import Objection, PublicationRecord, PublicationVersion
from .common import Status, _require

PROPOSE_ROLES = (Role.INSPECTOR, Role.SECTION_STAFF, Role.SECTION_HEAD)
APPROVE_ROLES = (Role.SECTION_HEAD,)
OBJECTION_ROLES = (Role.LEAD_SECTION, Role.SECTION_STAFF, Role.INSPECTOR, Role.SECTION_HEAD)
RECHECK_ROLES = (Role.INSPECTOR, Role.SECTION_HEAD)


# --- corrections (art. 17) --------------------------------------------------------------------


def correction_propose(
    *, actor, record: PublicationRecord, result_text: str, reason: str, objection=None
) -> PublicationVersion:
    """A new version of an approved result (waiting for the section head's approval)."""
    _require(actor, PROPOSE_ROLES, "只有检查人员、业务股室或股室负责人可以提出更正。")
    result_text, reason = result_text.strip(), reason.strip()
    if not reason:
        raise ValidationError("请填写更正原因。")
    if not result_text:
        raise ValidationError("请填写更正后的检查结果。")
    with transaction.atomic():
        record = PublicationRecord.objects.select_for_update().get(pk=record.pk)
        if record.versions.filter(status=PublicationVersion.Status.PROPOSED).exists():
            raise ValidationError("该记录已有待审批的更正，请先审批或驳回。")
        current = record.current_version
        if current and current.result_text == result_text:
            raise ValidationError("更正后的检查结果与当前结果相同。")
        number = (
            record.versions.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        version = PublicationVersion.objects.create(
            record=record,
            number=number,
            status=PublicationVersion.Status.PROPOSED,
            result_text=result_text,
            is_correction=True,
            reason=reason,
            created_by=actor,
            objection=objection,
        )
        audit_record(
            event_type="publication.correction_propose",
            actor=actor,
            obj=record,
            reason=reason,
            detail={
                "before": current.result_text if current else "",
                "after": result_text,
                "version": number,
            },
        )
    return version


def correction_decide(*, actor, version: PublicationVersion, approve: bool) -> PublicationVersion:
    """The section head approves (the version becomes current and goes into the next batch
    marked 更正) or rejects it. The proposer may not approve their own correction."""
    _require(actor, APPROVE_ROLES, "只有股室负责人可以审批更正。")
    with transaction.atomic():
        version = PublicationVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != PublicationVersion.Status.PROPOSED:
            raise ValidationError("该更正已处理。")
        if actor is not None and version.created_by_id == actor.pk:
            raise ValidationError("不能审批自己提出的更正，请由另一位股室负责人审批。")
        record = PublicationRecord.objects.select_for_update().get(pk=version.record_id)
        version.approved_by = actor
        version.approved_at = timezone.now()
        if approve:
            version.status = PublicationVersion.Status.APPROVED
            record.current_version = version
            record.status = Status.PENDING
            record.rejection_error = ""
            record.save(update_fields=["current_version", "status", "rejection_error"])
        else:
            version.status = PublicationVersion.Status.REJECTED
        version.save(update_fields=["status", "approved_by", "approved_at"])
        audit_record(
            event_type="publication.correction_approve"
            if approve
            else "publication.correction_reject",
            actor=actor,
            obj=record,
            reason=version.reason,
            detail={"version": version.number, "after": version.result_text},
        )
    return version


# --- objections and re-checks -----------------------------------------------------------------


def objection_record(*, actor, record: PublicationRecord, received_on: dt.date, content: str):
    _require(actor, OBJECTION_ROLES, "您的角色不能登记异议。")
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
    actor,
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
