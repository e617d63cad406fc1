"""Requests that need a second person, and their decisions. Every change is one transaction
with its audit event; the kind's own change (``perform``) runs inside the approval's."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from core.services import notification_send

from .models import ApprovalRequest
from .registry import approval_kind
from .selectors import decider_refusal

REASON_MAX = 500


def _reason(text: str, *, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(f"请填写{what}。")
    if len(text) > REASON_MAX:
        raise ValidationError(f"{what}不能超过 {REASON_MAX} 字（现为 {len(text)} 字）。")
    return text


def _detail(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "kind": request.kind,
        "object_type": request.object_type,
        "object_id": request.object_id,
        "object_label": request.object_label,
    }


def _tell(
    users: Iterable[User], *, request: ApprovalRequest, step: str, title: str, body: str
) -> None:
    link = reverse("approvals:detail", args=[request.pk])
    for user in {u.pk: u for u in users}.values():
        notification_send(
            recipient=user, key=f"approval-{request.pk}-{step}", title=title, body=body, link=link
        )


def _possible_deciders(request: ApprovalRequest, roles: Iterable[str]) -> list[User]:
    from .selectors import can_decide

    if request.approver_id:
        candidates = User.objects.filter(pk=request.approver_id, is_active=True)
    else:
        candidates = User.objects.filter(is_active=True, groups__name__in=roles).distinct()
    return [u for u in candidates.exclude(pk=request.requested_by_id) if can_decide(u, request)]


@transaction.atomic
def approval_request(
    *,
    actor: User,
    kind: str,
    object_id: object,
    reason: str,
    payload: dict[str, Any] | None = None,
    approver: User | None = None,
) -> ApprovalRequest:
    """Ask for a change of ``kind`` on one object. The kind says who may ask and which roles
    decide; the possible deciders and the kind's watchers are notified."""
    spec = approval_kind(kind)
    obj = spec.load(str(object_id))
    if obj is None:
        raise ValidationError("申请的对象不存在。")
    reason = _reason(reason, what="申请理由")
    spec.check_request(actor=actor, obj=obj)
    spec.check_payload(actor=actor, obj=obj, payload=payload or {})
    roles = frozenset(spec.approver_roles(actor=actor, obj=obj))
    if not roles:
        raise ValidationError("没有可以审批该申请的角色。")
    if approver is not None and (approver.pk == actor.pk or not approver.has_role(*roles)):
        raise ValidationError(f"指定的审批人须是{'、'.join(sorted(roles))}中的另一人。")
    now = timezone.now()
    same = ApprovalRequest.objects.select_for_update().filter(
        kind=kind, object_type=spec.object_type, object_id=str(obj.pk), state="pending"
    )
    for old in same:
        if old.is_open:
            raise ValidationError(
                f"已有一份待审批的申请（{old.requested_by.display_name}，"
                f"{timezone.localtime(old.requested_at):%Y-%m-%d %H:%M}），请等待其办结或撤回。"
            )
        old.state, old.decided_at = ApprovalRequest.State.EXPIRED, now
        old.save(update_fields=["state", "decided_at"])
        audit_record(event_type="approval.expired", obj=old, detail=_detail(old))
    request = ApprovalRequest.objects.create(
        kind=kind,
        object_type=spec.object_type,
        object_id=str(obj.pk),
        object_label=spec.describe(obj)[:200],
        payload=payload or {},
        reason=reason,
        requested_by=actor,
        requested_at=now,
        approver=approver,
        expires_at=now + timedelta(days=settings.APPROVAL_REQUEST_DAYS),
    )
    request.approver_roles.set(Group.objects.filter(name__in=roles))
    audit_record(
        event_type="approval.requested",
        actor=actor,
        obj=request,
        reason=reason,
        detail={**_detail(request), "approver_roles": sorted(roles)},
    )
    title = f"待审批：{spec.label}（{request.object_label}）"
    body = f"{actor.display_name} 申请{spec.label}，理由：{reason}"
    _tell(
        _possible_deciders(request, roles),
        request=request,
        step="requested",
        title=title,
        body=body,
    )
    _tell(
        spec.watchers(obj),
        request=request,
        step="requested",
        title=f"{spec.label}：已提出申请",
        body=body,
    )
    return request


@transaction.atomic
def approval_decide(
    *, actor: User, request: ApprovalRequest, approve: bool, reason: str = ""
) -> tuple[ApprovalRequest, dict[str, Any]]:
    """Approve (the kind's change runs now, in this transaction) or refuse (reason required),
    by someone other than the requester holding an approver role, in their own session.
    Returns the request and what the kind shows the approver once (e.g. a one-time password)."""
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    spec = approval_kind(request.kind)
    refusal = decider_refusal(actor, request)
    if refusal:
        raise PermissionDenied(refusal)
    reason = _reason(reason, what="拒绝理由") if not approve else (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError(f"审批意见不能超过 {REASON_MAX} 字。")
    obj = spec.load(request.object_id)
    if obj is None:
        raise ValidationError("申请的对象已不存在。")
    result: dict[str, Any] = {}
    if approve:
        # The requester must still be allowed to ask (a role may have been withdrawn since),
        # and the object must still be in a state the request makes sense for.
        try:
            spec.check_request(actor=request.requested_by, obj=obj)
        except PermissionDenied as exc:
            raise ValidationError(f"申请人已不再有权提出该申请：{exc}") from exc
        except ValidationError as exc:
            raise ValidationError(
                "申请提出后对象已变化：" + "；".join(exc.messages) + "请拒绝该申请。"
            ) from exc
        result = spec.perform(actor=actor, obj=obj, request=request) or {}
    request.state = ApprovalRequest.State.APPROVED if approve else ApprovalRequest.State.REFUSED
    request.decided_by, request.decided_at, request.decision_reason = actor, timezone.now(), reason
    request.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
    audit_record(
        event_type=f"approval.{request.state}",
        actor=actor,
        obj=request,
        reason=reason,
        detail={**_detail(request), "requested_by": request.requested_by.display_name},
    )
    verdict = "已批准" if approve else "已拒绝"
    body = f"{actor.display_name} {verdict} {request.requested_by.display_name} 申请的{spec.label}"
    body += "。" if approve else f"，理由：{reason}"
    title = f"{spec.label}：{verdict}"
    _tell(
        [request.requested_by, *spec.watchers(obj)],
        request=request,
        step=request.state,
        title=title,
        body=body,
    )
    return request, result


@transaction.atomic
def approval_withdraw(*, actor: User, request: ApprovalRequest) -> ApprovalRequest:
    """The requester takes back a request still waiting for a decision."""
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if request.requested_by_id != actor.pk:
        raise PermissionDenied("只有申请人可以撤回申请。")
    if request.state != ApprovalRequest.State.PENDING:
        raise ValidationError(f"该申请{request.get_state_display()}，不能撤回。")
    request.state, request.decided_at = ApprovalRequest.State.WITHDRAWN, timezone.now()
    request.save(update_fields=["state", "decided_at"])
    audit_record(event_type="approval.withdrawn", actor=actor, obj=request, detail=_detail(request))
    spec = approval_kind(request.kind)
    obj = spec.load(request.object_id)
    _tell(
        spec.watchers(obj) if obj is not None else [],
        request=request,
        step="withdrawn",
        title=f"{spec.label}：申请已撤回",
        body=f"{actor.display_name} 撤回了{spec.label}的申请。",
    )
    return request
