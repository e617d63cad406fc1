"""Approval requests: asked by one person, decided by another in their own session."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.permissions import ALL_ROLES, role_required

from .forms import ApprovalRequestForm, DecisionForm
from .models import ApprovalRequest
from .registry import approval_kind
from .selectors import approvals_to_decide, approvals_visible, can_view, decider_refusal
from .services import approval_decide, approval_request, approval_withdraw


def _visible_or_403(request, pk: int) -> ApprovalRequest:
    approval = get_object_or_404(ApprovalRequest.objects.select_related("requested_by"), pk=pk)
    if not can_view(request.user, approval):
        raise PermissionDenied("您无权查看该审批申请。")
    return approval


@role_required(*ALL_ROLES)
def approval_list(request):
    page = Paginator(approvals_visible(request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "approvals/list.html",
        {"to_decide": approvals_to_decide(request.user), "page": page},
    )


@role_required(*ALL_ROLES)
def approval_detail(request, pk: int):
    approval = _visible_or_403(request, pk)
    refusal = decider_refusal(request.user, approval)
    return render(
        request,
        "approvals/detail.html",
        {
            "approval": approval,
            "label": approval_kind(approval.kind).label,
            "roles": sorted(approval.approver_roles.values_list("name", flat=True)),
            "form": DecisionForm() if not refusal else None,
            "why_not": refusal if approval.is_open else "",
            "can_withdraw": approval.is_open and approval.requested_by_id == request.user.pk,
        },
    )


@require_POST
@role_required(*ALL_ROLES)
def approval_create(request):
    """Ask for a change (the kind says who may ask). Back to the asking page on a refusal."""
    form = ApprovalRequestForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    if not form.is_valid():
        messages.error(request, _("请填写申请理由（不超过 500 字）。"))
        return redirect(back or "approvals:list")
    try:
        approval = approval_request(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            object_id=form.cleaned_data["object_id"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect(back or "approvals:list")
    messages.success(request, _("申请已提交，等待另一位有权审批的人员在其本人会话中审批。"))
    return redirect("approvals:detail", pk=approval.pk)


@require_POST
@role_required(*ALL_ROLES)
def approval_decide_view(request, pk: int):
    approval = _visible_or_403(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择批准或拒绝。"))
        return redirect("approvals:detail", pk=pk)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        approval, result = approval_decide(
            actor=request.user,
            request=approval,
            approve=approve,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("approvals:detail", pk=pk)
    kind = approval_kind(approval.kind)
    if approve and kind.result_template:
        # Shown once, in this answer only (never stored, never in a later page).
        return render(
            request,
            "approvals/decided.html",
            {"approval": approval, "label": kind.label, "result": result, "kind": kind},
        )
    messages.success(request, _("已批准。") if approve else _("已拒绝。"))
    return redirect("approvals:detail", pk=pk)


@require_POST
@role_required(*ALL_ROLES)
def approval_withdraw_view(request, pk: int):
    approval = _visible_or_403(request, pk)
    try:
        approval_withdraw(actor=request.user, request=approval)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("申请已撤回。"))
    return redirect("approvals:detail", pk=pk)
