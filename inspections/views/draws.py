"""Views of the draw: start (freeze + hashes) → witnesses and dice → result with teams,
certificate PDF, evidence zip; void and post-draw recusal requests (decided on the approvals
pages, in the approver's own session), joint visit; the public selected list.

Writes: 牵头股室 only (art. 6(2)). Reads: business readers; the evidence package and the
certificate: 牵头股室 and 纪检派驻组 (the package carries tiers and staff numbers).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role
from core.errors import error_messages
from core.pdf import pdf_response, render_pdf
from core.permissions import READERS, role_required

from ..forms.draws import ReplaceForm, SeedForm, VoidForm
from ..models import Draw, DrawSelection, Task
from ..selectors import draws as selectors
from ..services import draws as services

LEAD = Role.LEAD_SECTION
EVIDENCE_ROLES = (Role.LEAD_SECTION, Role.DISCIPLINE)


def _draw(pk: int) -> Draw:
    return get_object_or_404(Draw.objects.select_related("task", "operator"), pk=pk)


@role_required(*READERS)
def draw_list(request):
    draws = selectors.draws_for_discipline().order_by("-committed_at", "-id")
    return render(request, "inspections/draw_list.html", {"draws": draws[:200]})


@role_required(*READERS)
def draw_task(request, pk: int):
    """The draw page of a task: its live draw, earlier (voided) draws, or the start button."""
    task = get_object_or_404(Task, pk=pk)
    live = selectors.live_draw(task)
    if live is not None:
        return redirect("inspections:draw_detail", live.pk)
    return render(
        request,
        "inspections/draw_task.html",
        {
            "task": task,
            "draws": selectors.draw_list(task=task),
            "is_lead": request.user.has_role(LEAD),
            "commit": services.draw_commit_status(task=task),
            "commit_in_background": services.draw_commit_runs_in_background(),
        },
    )


@role_required(LEAD)
@require_POST
def draw_commit(request, pk: int):
    """冻结名单: in the request, or for a large register (estimated) queued for the background
    task; the task page then polls its status fragment."""
    task = get_object_or_404(Task, pk=pk)
    background = services.draw_commit_runs_in_background()
    try:
        if background:
            services.draw_commit_request(actor=request.user, task=task)
        else:
            draw = services.draw_commit(actor=request.user, task=task)
    except ValidationError as exc:
        error_messages(request, exc)
        return redirect("inspections:draw_task", task.pk)
    if background:
        status = services.draw_commit_status(task=task)
        if status is not None and status["state"] == "running":
            messages.success(
                request, _("已提交，名单正在后台冻结，本页显示进度，完成后自动转到抽取页面。")
            )
        # done: the task page forwards to the draw; failed (e.g. the queue is down): the
        # status on the task page says why and offers the button again
        return redirect("inspections:draw_task", task.pk)
    messages.success(request, _("名单已冻结。请向见证人展示并打印两个哈希值，然后现场掷骰。"))
    return redirect("inspections:draw_detail", draw.pk)


@role_required(*READERS)
def draw_commit_status(request, pk: int):
    """The status fragment of a background commit, polled by htmx every 2 s while it runs; once
    the draw exists the page is sent to it (HX-Redirect), a failure shows the reason."""
    task = get_object_or_404(Task, pk=pk)
    commit = services.draw_commit_status(task=task)
    response = render(
        request,
        "inspections/_draw_commit_status.html",
        {"task": task, "commit": commit, "is_lead": request.user.has_role(LEAD)},
    )
    if commit is not None and commit["state"] == "done":
        response["HX-Redirect"] = reverse("inspections:draw_detail", args=[commit["draw"].pk])
    return response


def _detail_context(request, draw: Draw, **extra) -> dict:
    context = {
        "draw": draw,
        "task": draw.task,
        "tiers": [(t, draw.tiers.get(t, {})) for t in ("A", "B", "C", "D")],
        "is_lead": request.user.has_role(LEAD),
        "can_evidence": request.user.has_role(*EVIDENCE_ROLES),
        "other_draws": selectors.draw_list(task=draw.task).exclude(pk=draw.pk),
    }
    if draw.status == Draw.Status.COMMITTED:
        context["seed_form"] = extra.pop("seed_form", None) or SeedForm()
        context["failure"] = selectors.draw_failure(draw)
        context["progress"] = selectors.draw_progress(draw)
        context["in_background"] = services.draw_runs_in_background(draw)
        if context["progress"] is not None:
            context["queue"] = services.draw_perform_queue_state(draw)
    else:
        context["teams"] = selectors.draw_teams(draw)
        context["witnesses"] = list(draw.witnesses.all())
        context["problems"] = selectors.draw_verification(draw)
    context["void_form"] = extra.pop("void_form", None) or VoidForm(draw=draw, user=request.user)
    pending = selectors.draw_pending_approvals(draw)
    context["pending_void"] = pending["void"]
    for team in context.get("teams", []):
        team["pending"] = pending["replacements"].get(str(team["selection"].pk))
    context.update(extra)
    return context


@role_required(*READERS)
def draw_detail(request, pk: int):
    draw = _draw(pk)
    return render(request, "inspections/draw_detail.html", _detail_context(request, draw))


@role_required(LEAD)
@require_POST
def draw_perform(request, pk: int):
    draw = _draw(pk)
    form = SeedForm(request.POST)
    background = services.draw_runs_in_background(draw)
    if form.is_valid():
        perform = services.draw_perform_request if background else services.draw_perform
        try:
            perform(
                actor=request.user,
                draw=draw,
                witnesses=form.witnesses(),
                dice_kind=form.cleaned_data["dice_kind"],
                dice=form.cleaned_data["dice"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            if background:
                messages.success(
                    request,
                    _("骰子数字和见证人已记录，不能更改；抽取正在后台计算，本页显示进度。"),
                )
            else:
                messages.success(request, _("抽取完成。结果已固定，不能修改。"))
            return redirect("inspections:draw_detail", draw.pk)
    draw = _draw(pk)
    return render(
        request,
        "inspections/draw_detail.html",
        _detail_context(request, draw, seed_form=form),
        status=400 if draw.status == Draw.Status.COMMITTED else 200,
    )


@role_required(*READERS)
def draw_status(request, pk: int):
    """The progress fragment of a background draw, polled by htmx every 2 s. When the draw is
    no longer being computed (completed, failed, voided) the page is told to reload."""
    draw = _draw(pk)
    progress = selectors.draw_progress(draw)
    if progress is None:
        response = HttpResponse(_("后台计算已结束，正在刷新页面……"))
        response["HX-Refresh"] = "true"
        return response
    return render(
        request,
        "inspections/_draw_progress.html",
        {
            "draw": draw,
            "progress": progress,
            "queue": services.draw_perform_queue_state(draw),
            "is_lead": request.user.has_role(LEAD),
        },
    )


@role_required(LEAD)
@require_POST
def draw_perform_requeue(request, pk: int):
    """重新提交后台计算: queue a recorded background draw again (its queueing failed, or it has
    shown no result for a while)."""
    draw = _draw(pk)
    try:
        services.draw_perform_requeue(actor=request.user, draw=draw)
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(request, _("已重新提交后台计算，本页显示进度。"))
    return redirect("inspections:draw_detail", draw.pk)


@role_required(LEAD)
@require_POST
def draw_void(request, pk: int):
    """作废申请: recorded, then approved or refused by another 牵头股室 member on the approvals
    page in their own session; only the approval voids the draw."""
    draw = _draw(pk)
    form = VoidForm(request.POST, draw=draw, user=request.user)
    if form.is_valid():
        try:
            approval = services.draw_void_request(
                actor=request.user,
                draw=draw,
                reason=form.cleaned_data["reason"],
                approver=form.cleaned_data["approver"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("作废申请已提交，须由另一名牵头股室人员在其本人账户中批准后才作废。"),
            )
            return redirect("approvals:detail", approval.pk)
    return render(
        request,
        "inspections/draw_detail.html",
        _detail_context(request, draw, void_form=form),
        status=400,
    )


@role_required(LEAD)
def draw_replace(request, pk: int, selection_pk: int):
    """回避替补申请: recorded, then approved by a 牵头股室 member or 股室负责人 other than the
    requester in their own session; only the approval replaces the member."""
    draw = _draw(pk)
    selection = get_object_or_404(
        DrawSelection.objects.select_related("enterprise", "draw"), pk=selection_pk, draw=draw
    )
    if draw.status != Draw.Status.COMPLETED:
        messages.error(request, _("只有已完成且未作废的抽取可以回避替补。"))
        return redirect("inspections:draw_detail", draw.pk)
    team = next(t for t in selectors.draw_teams(draw) if t["selection"].pk == selection.pk)
    form = ReplaceForm(request.POST or None, members=team["current"], user=request.user)
    if request.method == "POST" and form.is_valid():
        out = next(m for m in team["current"] if str(m.pk) == form.cleaned_data["out"])
        try:
            approval = services.draw_replace_request(
                actor=request.user,
                selection=selection,
                out=out,
                reason=form.cleaned_data["reason"],
                approver=form.cleaned_data["approver"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("%(out)s 的回避替补申请已提交，批准后按同一排序替补。") % {"out": out},
            )
            return redirect("approvals:detail", approval.pk)
    pending = selectors.draw_pending_approvals(draw)
    return render(
        request,
        "inspections/draw_replace.html",
        {
            "draw": draw,
            "team": team,
            "selection": selection,
            "form": form,
            "pending": pending["replacements"].get(str(selection.pk)),
        },
        status=400 if request.method == "POST" else 200,
    )


@role_required(LEAD)
@require_POST
def draw_joint_visit(request, pk: int, selection_pk: int):
    draw = _draw(pk)
    selection = get_object_or_404(DrawSelection, pk=selection_pk, draw=draw)
    try:
        visit = services.joint_visit_merge(actor=request.user, selection=selection)
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(
            request,
            _("已合并为一次联合检查，检查组：%(team)s") % {"team": "、".join(visit.team)},
        )
    return redirect("inspections:draw_detail", draw.pk)


@role_required(*EVIDENCE_ROLES)
def draw_evidence(request, pk: int):
    draw = _draw(pk)
    if draw.document is None:
        raise Http404(_("尚未抽取"))
    data = selectors.evidence_zip(draw)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="draw-{draw.pk}-evidence.zip"'
    return response


@role_required(*EVIDENCE_ROLES)
def draw_certificate(request, pk: int):
    """抽取结果确认单 (or, before the dice, the 名单冻结确认单 with the two hashes)."""
    draw = _draw(pk)
    context = {
        "draw": draw,
        "task": draw.task,
        "tiers": [(t, draw.tiers.get(t, {})) for t in ("A", "B", "C", "D")],
    }
    if draw.document is not None:
        context["teams"] = selectors.draw_teams(draw)
        context["witnesses"] = list(draw.witnesses.all())
    pdf = render_pdf(
        "inspections/draw_certificate_pdf.html",
        context,
        request=request,
        extra_css=".hash { word-break: break-all; font-size: 8.5pt; }",
    )
    return pdf_response(pdf, f"抽取结果确认单-{draw.pk}.pdf")


@login_not_required
def draw_public(request, pk: int):
    """The published selected list (抽取名单): names and codes only — never tiers or teams. The
    names are those frozen with the draw (older draws: today's, labelled), and the page says
    whether the draw verifies (re-run, cached per draw)."""
    draw = get_object_or_404(
        Draw.objects.select_related("task"),
        pk=pk,
        status=Draw.Status.COMPLETED,
        task__publish_selected_list=True,
    )
    selections, names_frozen = selectors.published_selections(draw)
    return render(
        request,
        "inspections/draw_public.html",
        {
            "draw": draw,
            "task": draw.task,
            "selections": selections,
            "names_frozen": names_frozen,
            "verification": selectors.draw_public_verification(draw),
        },
    )
