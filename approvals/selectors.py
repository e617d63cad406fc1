"""Reads of approval requests, with the user's scope applied once."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role

from .models import ApprovalRequest
from .registry import approval_kind

# Who sees every request: the discipline group supervises, the audit admin audits.
SEE_ALL = (Role.DISCIPLINE, Role.AUDIT_ADMIN)


def approvals_visible(user: User) -> QuerySet[ApprovalRequest]:
    """The requests ``user`` may read: their own, those their roles may decide, those they
    decided; all of them for the discipline group and the audit admin."""
    requests = ApprovalRequest.objects.select_related("requested_by", "decided_by", "approver")
    if user.has_role(*SEE_ALL):
        return requests
    mine = (
        Q(requested_by=user)
        | Q(decided_by=user)
        | Q(approver=user)
        | Q(approver_roles__name__in=user.role_names())
    )
    ids = ApprovalRequest.objects.filter(mine).values("pk")
    return requests.filter(pk__in=ids)


def can_view(user: User, request: ApprovalRequest) -> bool:
    if not approvals_visible(user).filter(pk=request.pk).exists():
        return False
    if user.has_role(*SEE_ALL) or user.pk in (
        request.requested_by_id,
        request.decided_by_id,
        request.approver_id,
    ):
        return True
    # Seen through an approver role only: the kind may narrow it (e.g. to the object's section).
    kind = approval_kind(request.kind)
    obj = kind.load(request.object_id)
    try:
        kind.check_viewer(actor=user, obj=obj)
    except (PermissionDenied, ValidationError):
        return False
    return True


def decider_refusal(user: User, request: ApprovalRequest) -> str:
    """Why ``user`` may not decide ``request`` now ("" when they may): the two-person rule, the
    named approver, the approver roles, and the kind's own rule."""
    if not request.is_open:
        return f"该申请{request.shown_state}，不能再审批。"
    if user.pk == request.requested_by_id:
        return "不能审批自己提出的申请（须由另一人在其本人会话中审批）。"
    if request.approver_id and user.pk != request.approver_id:
        return "该申请指定了其他审批人。"
    roles = {group.name for group in request.approver_roles.all()}  # prefetched in lists
    if not user.has_role(*roles):
        return f"只有{'、'.join(sorted(roles))}可以审批该申请。"
    kind = approval_kind(request.kind)
    try:
        kind.check_decider(actor=user, obj=kind.load(request.object_id), request=request)
    except (PermissionDenied, ValidationError) as exc:
        return "；".join(getattr(exc, "messages", None) or [str(exc)])
    return ""


def can_decide(user: User, request: ApprovalRequest) -> bool:
    return decider_refusal(user, request) == ""


def approvals_to_decide(user: User, *, limit: int = 50) -> list[ApprovalRequest]:
    """Open requests ``user`` may decide (the approver's dashboard), newest first."""
    candidates = (
        ApprovalRequest.objects.filter(
            state=ApprovalRequest.State.PENDING,
            expires_at__gt=timezone.now(),
            approver_roles__name__in=user.role_names(),
        )
        .exclude(requested_by=user)
        .filter(Q(approver__isnull=True) | Q(approver=user))
        .select_related("requested_by")
        .prefetch_related("approver_roles")
        .distinct()
        .order_by("-requested_at", "-id")[:limit]
    )
    return [r for r in candidates if can_decide(user, r)]


def approvals_requested_open(user: User) -> QuerySet[ApprovalRequest]:
    """``user``'s own requests still waiting for a decision."""
    return ApprovalRequest.objects.filter(
        requested_by=user, state=ApprovalRequest.State.PENDING, expires_at__gt=timezone.now()
    ).order_by("-requested_at", "-id")


def approvals_open_for(*, kind: str, object_ids: Iterable[object]) -> dict[str, ApprovalRequest]:
    """The open request of ``kind`` for each of ``object_ids`` that has one (by object id as a
    string): the page of the object shows it instead of offering a second request."""
    requests = ApprovalRequest.objects.filter(
        kind=kind,
        object_id__in=[str(pk) for pk in object_ids],
        state=ApprovalRequest.State.PENDING,
        expires_at__gt=timezone.now(),
    ).select_related("requested_by", "approver")
    return {r.object_id: r for r in requests}
