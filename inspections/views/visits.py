"""Views of visits: the inspector's list for today, the recording page (autosave with htmx,
signature canvas, evidence upload), review, follow-up, lead transfers, archive and the PDFs.

Who: the team's inspectors record; the section head of the visit's section reviews; the section's
staff and head (and the team) keep lead transfers and follow-up; every business reader reads
(the discipline group included; its writes are refused by middleware before any view runs).
"""

from __future__ import annotations

import hashlib
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.middleware import session_activity_skip
from accounts.roles import Role
from core.errors import error_messages
from core.params import param_choice, param_int, param_text
from core.pdf import pdf_response
from core.permissions import READERS, role_required

from ..forms.visits import (
    ArchiveDocumentForm,
    CategoryForm,
    EvidenceForm,
    FollowUpCloseForm,
    FollowUpForm,
    NonCooperationForm,
    RescheduleForm,
    ReviewForm,
    SignedPageForm,
    TransferForm,
    TransferUpdateForm,
    VersionForm,
    VisitRecordForm,
)
from ..models import (
    Draw,
    FollowUp,
    LeadTransfer,
    NonCooperation,
    ResultCategory,
    Task,
    Visit,
    VisitEvidence,
)
from ..selectors import visits as selectors
from ..services import visits as services
from ..tasks.visits import visits_batch_pdf

INSPECTOR = Role.INSPECTOR
HEAD = Role.SECTION_HEAD
CASE_WORKERS = (Role.INSPECTOR, Role.SECTION_STAFF, Role.SECTION_HEAD)
CREATORS = (Role.LEAD_SECTION, Role.SECTION_STAFF, Role.SECTION_HEAD)
BATCH_SYNC_LIMIT = 30  # visits; a bigger batch is rendered by the worker (docs/visits.md)


def _visit(pk: int) -> Visit:
    try:
        return selectors.visit_detail(pk)
    except Visit.DoesNotExist:
        raise Http404 from None


def _team_visit(request, pk: int) -> Visit:
    """The visit, if the user is on its team (谁检查、谁录入); 403 otherwise."""
    visit = _visit(pk)
    if not selectors.can_record(request.user, visit):
        raise PermissionDenied(_("只有本次检查组的执法检查人员可以录入。"))
    return visit


def _back(visit: Visit, anchor: str = "", *, page: str = "inspections:visit_detail"):
    response = redirect(page, visit.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _run_form(request, form, action, *, done: str, invalid: str) -> None:
    """The posted-form pattern of the visit pages: an invalid form shows ``invalid``; a valid
    one calls ``action(cleaned_data)``, whose refusal (ValidationError) shows its reasons and
    whose success shows ``done``."""
    if not form.is_valid():
        messages.error(request, invalid)
        return
    try:
        action(form.cleaned_data)
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(request, done)


# --- lists -------------------------------------------------------------------------------------


@role_required(*READERS)
def visit_list(request):
    status = param_choice(request.GET, "status", Visit.Status.values)
    q = param_text(request.GET, "q")
    visits = selectors.visit_list(status=status, q=q, task_id=param_int(request.GET, "task"))
    page = Paginator(visits, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "inspections/visit_list.html",
        {
            "page": page,
            "status": status,
            "q": q,
            "statuses": Visit.Status.choices,
            "is_inspector": request.user.has_role(INSPECTOR),
            "is_head": request.user.has_role(HEAD),
        },
    )


@role_required(INSPECTOR)
def visit_today(request):
    """我的今日检查: what an inspector has to do now, tablet-sized."""
    visits = selectors.my_visits_today(request.user)
    return render(
        request,
        "inspections/visit_today.html",
        {
            "visits": visits,
            "today": timezone.localdate(),
        },
    )


@role_required(HEAD)
def visit_review_queue(request):
    visits = selectors.review_queue(request.user)
    return render(request, "inspections/visit_review_queue.html", {"visits": visits})


@role_required(*READERS)
def task_visits(request, pk: int):
    task = get_object_or_404(Task, pk=pk)
    visits = selectors.visit_list(task_id=task.pk)
    draws = Draw.objects.filter(task=task, status=Draw.Status.COMPLETED)
    return render(
        request,
        "inspections/visit_task.html",
        {
            "task": task,
            "visits": visits,
            "draws": draws,
            "can_create": selectors.can_create(request.user, task),
        },
    )


@require_POST
@role_required(*CREATORS)
def task_visits_create(request, pk: int):
    task = get_object_or_404(Task, pk=pk)
    created = 0
    try:
        for draw in Draw.objects.filter(task=task, status=Draw.Status.COMPLETED):
            created += len(services.visits_create_for_draw(actor=request.user, draw=draw))
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        if created:
            messages.success(request, _("已生成 %(n)d 条检查记录。") % {"n": created})
        else:
            messages.info(request, _("没有需要生成的检查记录（已全部生成或尚无完成的抽取）。"))
    return redirect("inspections:task_visits", task.pk)


# --- one visit ---------------------------------------------------------------------------------


def _detail_context(request, visit: Visit, **extra) -> dict:
    user = request.user
    can_record = selectors.can_record(user, visit)
    archive = getattr(visit, "archive", None) if visit.status == Visit.Status.ARCHIVED else None
    return {
        "visit": visit,
        "members": selectors.visit_members(visit),
        "results": selectors.visit_results(visit),
        "evidence": selectors.current_evidence(visit),
        "evidence_history": selectors.evidence_history(visit),
        "non_cooperations": selectors.visit_non_cooperations(visit),
        "transfers": selectors.visit_transfers(visit),
        "follow_ups": selectors.visit_follow_ups(visit),
        "reviews": list(visit.reviews.select_related("reviewer")),
        "archive": archive,
        "archive_documents": list(archive.documents.select_related("file")) if archive else [],
        "can_record": can_record and visit.is_editable,
        "is_team": can_record,
        "can_review": selectors.can_review(user, visit) and visit.status == Visit.Status.SUBMITTED,
        "can_archive": selectors.can_archive(user, visit) and visit.status == Visit.Status.APPROVED,
        "can_follow_up": selectors.can_follow_up(user, visit)
        and visit.status != Visit.Status.SCHEDULED,
        "can_add_archive": archive is not None and selectors.can_follow_up(user, visit),
        "can_reschedule": selectors.can_reschedule(user, visit),
        "reschedule_form": RescheduleForm(
            initial={"version": visit.version, "planned_on": visit.planned_on}
        ),
        "review_form": ReviewForm(initial={"version": visit.version}),
        "transfer_form": TransferForm(),
        "follow_up_form": FollowUpForm(),
        "archive_form": ArchiveDocumentForm(),
        "problems": services.submit_problems(visit) if can_record and visit.is_editable else [],
        "transfer_statuses": LeadTransfer.Status.choices,
        **extra,
    }


@role_required(*READERS)
def visit_detail(request, pk: int):
    visit = _visit(pk)
    return render(request, "inspections/visit_detail.html", _detail_context(request, visit))


def _record_form(visit: Visit, data=None) -> VisitRecordForm:
    return VisitRecordForm(
        data,
        visit=visit,
        members=selectors.visit_members(visit),
        results=selectors.visit_results(visit),
        categories=ResultCategory.objects.filter(is_active=True).order_by("order", "code"),
    )


def _record_context(request, visit: Visit, form: VisitRecordForm, **extra) -> dict:
    return {
        "visit": visit,
        "form": form,
        "result_rows": form.result_rows(selectors.category_tree()),
        "version": visit.version,
        "evidence": selectors.current_evidence(visit),
        "non_cooperations": selectors.visit_non_cooperations(visit),
        "evidence_form": EvidenceForm(),
        "signed_page_form": SignedPageForm(initial={"version": visit.version}),
        "non_cooperation_form": NonCooperationForm(initial={"occurred_on": timezone.localdate()}),
        "problems": services.submit_problems(visit),
        "reviews": list(visit.reviews.select_related("reviewer")),
        **extra,
    }


@role_required(INSPECTOR)
def visit_record(request, pk: int):
    """The recording page. POST = the save button (without JavaScript); autosave posts to
    ``visit_autosave``. A stale version is refused with the conflict message and the posted
    input shown again, so nothing is lost."""
    visit = _team_visit(request, pk)
    if not visit.is_editable:
        messages.info(request, _("该检查记录已提交或已审核，只能查看。"))
        return redirect("inspections:visit_detail", visit.pk)
    if request.method == "POST":
        form = _record_form(visit, request.POST)
        conflict = False
        if form.is_valid():
            try:
                data = form.service_data()
                visit, changed = services.visit_save_draft(
                    actor=request.user,
                    visit=visit,
                    version=data["version"],
                    fields=data["fields"],
                    members=data["members"],
                    results=data["results"],
                )
            except ValidationError as exc:
                conflict = isinstance(exc, services.VisitConflict)
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("已保存。") if changed else _("没有需要保存的修改。"))
                return redirect("inspections:visit_record", visit.pk)
        # The posted input stays in the form; the version shown is still the one posted, so a
        # second save after a conflict is refused again until the page is reloaded.
        return render(
            request,
            "inspections/visit_record.html",
            _record_context(request, _visit(pk), form, conflict=conflict),
            status=409 if conflict else 200,
        )
    return render(
        request,
        "inspections/visit_record.html",
        _record_context(request, visit, _record_form(visit)),
    )


def _autosave_activity(request, visit: Visit) -> None:
    """The idle logout (accounts.middleware.IdleSessionMiddleware) counts this autosave only if
    its form differs from the previous one sent for this visit in this session."""
    sent = sorted(
        (name, request.POST.getlist(name))
        for name in request.POST
        if name not in ("csrfmiddlewaretoken", "version")
    )
    digest = hashlib.sha256(json.dumps(sent, ensure_ascii=False).encode()).hexdigest()
    key = f"visit-autosave-{visit.pk}"
    if request.session.get(key) == digest:
        session_activity_skip(request)
    else:
        request.session[key] = digest


@require_POST
@role_required(INSPECTOR)
def visit_autosave(request, pk: int):
    """htmx: saves the draft on every change and every 30 s. Returns the status line and the new
    version (out-of-band). Only an autosave that carries something new is the user's activity:
    the timer resending the same form does not keep an unattended page logged in."""
    visit = _team_visit(request, pk)
    _autosave_activity(request, visit)
    form = _record_form(visit, request.POST)
    state, message = "ok", ""
    if not form.is_valid():
        state = "error"
        message = "；".join(
            f"{form.fields[k].label}：{'；'.join(v)}" if k in form.fields else "；".join(v)  # type: ignore[arg-type]  # ErrorList yields text
            for k, v in form.errors.items()
        )
    else:
        data = form.service_data()
        try:
            visit, changed = services.visit_save_draft(
                actor=request.user,
                visit=visit,
                version=data["version"],
                fields=data["fields"],
                members=data["members"],
                results=data["results"],
            )
        except services.VisitConflict as exc:
            state, message = "conflict", " ".join(exc.messages)
        except ValidationError as exc:
            state, message = "error", "；".join(exc.messages)
        else:
            state = "saved" if changed else "ok"
    html = render_to_string(
        "inspections/_visit_autosave.html",
        {
            "visit": visit,
            "state": state,
            "message": message,
            "now": timezone.localtime(),
            "problems": services.submit_problems(visit) if state in ("saved", "ok") else None,
        },
        request=request,
    )
    return HttpResponse(html)


@require_POST
@role_required(*CASE_WORKERS, Role.LEAD_SECTION)
def visit_reschedule(request, pk: int):
    visit = _visit(pk)
    _run_form(
        request,
        RescheduleForm(request.POST),
        lambda data: services.visit_reschedule(actor=request.user, visit=visit, **data),
        done=_("已调整计划检查日期。"),
        invalid=_("请填写有效的计划检查日期。"),
    )
    return _back(visit)


@require_POST
@role_required(INSPECTOR)
def visit_start(request, pk: int):
    visit = _team_visit(request, pk)
    form = VersionForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        services.visit_start(actor=request.user, visit=visit, version=form.cleaned_data["version"])
    except ValidationError as exc:
        error_messages(request, exc)
        return _back(visit)
    return redirect("inspections:visit_record", visit.pk)


@require_POST
@role_required(INSPECTOR)
def visit_submit(request, pk: int):
    visit = _team_visit(request, pk)
    form = VersionForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        visit, now = services.visit_submit(
            actor=request.user, visit=visit, version=form.cleaned_data["version"]
        )
    except ValidationError as exc:
        error_messages(request, exc)
        return redirect("inspections:visit_record", visit.pk)
    if now:
        messages.success(request, _("已提交，等待股室负责人审核。提交后本人不能再修改。"))
    else:
        messages.info(request, _("该检查记录已经提交，无需重复提交。"))
    return _back(visit)


@require_POST
@role_required(INSPECTOR)
def visit_signature(request, pk: int):
    """The signature canvas posts a PNG (visits.js); answers JSON with the new version."""
    visit = _team_visit(request, pk)
    upload = request.FILES.get("signature")
    version = request.POST.get("version", "")
    if upload is None or not version.isdigit():
        return JsonResponse({"error": _("没有收到签名图像。")}, status=400)
    try:
        visit = services.visit_signature_capture(
            actor=request.user,
            visit=visit,
            version=int(version),
            png=upload.read(2 * 1024 * 1024 + 1),
        )
    except services.VisitConflict as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=409)
    except ValidationError as exc:
        return JsonResponse({"error": "；".join(exc.messages)}, status=400)

    return JsonResponse(
        {
            "version": visit.version,
            "url": reverse("core:file_download", args=[visit.signature_id]) + "?inline=1",
            "message": _("签名已保存。"),
        }
    )


@require_POST
@role_required(INSPECTOR)
def visit_signed_page(request, pk: int):
    visit = _team_visit(request, pk)
    _run_form(
        request,
        SignedPageForm(request.POST, request.FILES),
        lambda data: services.visit_signed_page_upload(
            actor=request.user, visit=visit, version=data["version"], upload=data["file"]
        ),
        done=_("签字页已上传。"),
        invalid=_("请选择签字页照片或扫描件。"),
    )
    return redirect("inspections:visit_record", visit.pk)


@require_POST
@role_required(INSPECTOR)
def visit_evidence(request, pk: int):
    visit = _team_visit(request, pk)

    def add(data):
        non_cooperation = supersedes = None
        if data.get("non_cooperation"):
            non_cooperation = get_object_or_404(
                NonCooperation, pk=data["non_cooperation"], visit=visit
            )
        if data.get("supersedes"):
            supersedes = get_object_or_404(VisitEvidence, pk=data["supersedes"], visit=visit)
        services.evidence_add(
            actor=request.user,
            visit=visit,
            upload=data["file"],
            kind=data["kind"],
            description=data["description"],
            non_cooperation=non_cooperation,
            supersedes=supersedes,
        )

    _run_form(
        request,
        EvidenceForm(request.POST, request.FILES),
        add,
        done=_("证据已上传。"),
        invalid=_("请选择要上传的文件。"),
    )
    return _back(visit, "evidence", page="inspections:visit_record")


@require_POST
@role_required(INSPECTOR)
def visit_non_cooperation(request, pk: int):
    visit = _team_visit(request, pk)
    _run_form(
        request,
        NonCooperationForm(request.POST),
        lambda data: services.non_cooperation_record(actor=request.user, visit=visit, **data),
        done=_("已记录不配合情形。请上传证据（提交前必须有证据）。"),
        invalid=_("请完整填写不配合情形、日期和经过。"),
    )
    return _back(visit, "non-cooperation", page="inspections:visit_record")


@require_POST
@role_required(HEAD)
def visit_review(request, pk: int):
    visit = _visit(pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for message in field_errors:
                messages.error(request, message)  # type: ignore[arg-type]  # ErrorList yields text
        return _back(visit, "review")
    data = form.cleaned_data
    try:
        if data["decision"] == "approve":
            visit = services.visit_approve(
                actor=request.user, visit=visit, version=data["version"], opinion=data["reason"]
            )
            if visit.status == Visit.Status.ARCHIVED:
                messages.success(
                    request, _("审核通过，已归档（卷宗号 %(n)s）。") % {"n": visit.archive.number}
                )
            else:
                messages.warning(request, _("审核通过；归档未完成，请稍后点击“归档”。"))
        else:
            services.visit_return(
                actor=request.user, visit=visit, version=data["version"], reason=data["reason"]
            )
            messages.success(request, _("已退回检查组修改。"))
    except ValidationError as exc:
        error_messages(request, exc)
    return _back(visit)


@require_POST
@role_required(HEAD, Role.SECTION_STAFF)
def visit_archive(request, pk: int):
    visit = _visit(pk)
    try:
        visit = services.visit_archive(actor=request.user, visit=visit)
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(request, _("已归档（卷宗号 %(n)s）。") % {"n": visit.archive.number})
    return _back(visit, "archive")


@require_POST
@role_required(*CASE_WORKERS)
def visit_archive_add(request, pk: int):
    visit = _visit(pk)
    _run_form(
        request,
        ArchiveDocumentForm(request.POST, request.FILES),
        lambda data: services.archive_document_add(
            actor=request.user, visit=visit, upload=data["file"], title=data["title"]
        ),
        done=_("已补充归档材料。"),
        invalid=_("请填写文件名称并选择文件。"),
    )
    return _back(visit, "archive")


@require_POST
@role_required(*CASE_WORKERS)
def visit_transfer_create(request, pk: int):
    visit = _visit(pk)
    _run_form(
        request,
        TransferForm(request.POST),
        lambda data: services.transfer_create(actor=request.user, visit=visit, **data),
        done=_("已登记线索移送。"),
        invalid=_("请填写接收部门和移送内容。"),
    )
    return _back(visit, "transfers")


@require_POST
@role_required(*CASE_WORKERS)
def visit_transfer_update(request, pk: int, transfer_pk: int):
    visit = _visit(pk)
    transfer = get_object_or_404(LeadTransfer, pk=transfer_pk, visit=visit)
    _run_form(
        request,
        TransferUpdateForm(request.POST),
        lambda data: services.transfer_update(actor=request.user, transfer=transfer, **data),
        done=_("已更新移送状态。"),
        invalid=_("移送信息不完整。"),
    )
    return _back(visit, "transfers")


@require_POST
@role_required(*CASE_WORKERS)
def visit_follow_up_add(request, pk: int):
    visit = _visit(pk)
    _run_form(
        request,
        FollowUpForm(request.POST),
        lambda data: services.follow_up_add(actor=request.user, visit=visit, **data),
        done=_("已登记后续处置。"),
        invalid=_("请至少选择一项后续处置措施。"),
    )
    return _back(visit, "follow-ups")


@require_POST
@role_required(*CASE_WORKERS)
def visit_follow_up_close(request, pk: int, follow_up_pk: int):
    visit = _visit(pk)
    follow_up = get_object_or_404(FollowUp, pk=follow_up_pk, visit=visit)
    _run_form(
        request,
        FollowUpCloseForm(request.POST),
        lambda data: services.follow_up_close(actor=request.user, follow_up=follow_up, **data),
        done=_("后续处置已办结。"),
        invalid=_("办结须填写处置结果。"),
    )
    return _back(visit, "follow-ups")


# --- documents ---------------------------------------------------------------------------------

PDF_KINDS = {
    "notice": ("notice",),
    "form": ("form",),
    "onsite": ("onsite",),
    "all": ("notice", "form", "onsite"),
}


@role_required(*READERS)
def visit_pdf(request, pk: int, kind: str):
    visit = _visit(pk)
    if kind not in PDF_KINDS:
        raise Http404
    blank = request.GET.get("blank") == "1"
    pdf = selectors.visit_pdf(visit, PDF_KINDS[kind], filled=not blank)
    names = {
        "notice": "检查通知书",
        "form": "企业执法检查登记表",
        "onsite": "实地核查记录表",
        "all": "检查文书",
    }
    return pdf_response(pdf, f"{names[kind]}-{visit.enterprise.name}.pdf")


@role_required(*READERS)
def task_visits_pdf(request, pk: int):
    """Batch printing: every notice and form (and on-site record) of a task as one PDF."""
    task = get_object_or_404(Task, pk=pk)
    kinds = PDF_KINDS.get(request.GET.get("kind", "all"), PDF_KINDS["all"])
    visits = list(selectors.visit_list(task_id=task.pk))
    if not visits:
        messages.info(request, _("该任务还没有检查记录。"))
        return redirect("inspections:task_visits", task.pk)
    blank = request.GET.get("blank") == "1"
    if len(visits) > BATCH_SYNC_LIMIT:
        visits_batch_pdf.delay(task.pk, list(kinds), not blank, request.user.pk)
        messages.info(
            request,
            _("共 %(n)d 户企业的文书正在后台生成，完成后将在“通知”中提供下载。")
            % {"n": len(visits)},
        )
        return redirect("inspections:task_visits", task.pk)
    pdf = selectors.visits_pdf(visits, kinds, filled=not blank)
    return pdf_response(pdf, f"检查文书-{task.number}.pdf")


# --- result categories (admins) ----------------------------------------------------------------


@role_required(*READERS)
def category_list(request):
    return render(
        request,
        "inspections/visit_categories.html",
        {
            "tree": selectors.category_tree(),
            "can_edit": request.user.has_role(Role.SYSTEM_ADMIN),
        },
    )


@require_POST
@role_required(Role.SYSTEM_ADMIN)
def category_update(request, pk: int):
    category = get_object_or_404(ResultCategory, pk=pk)
    form = CategoryForm(request.POST)
    if form.is_valid():
        try:
            services.result_category_update(
                actor=request.user, category=category, **form.cleaned_data
            )
        except ValidationError as exc:
            error_messages(request, exc)
        else:
            messages.success(request, _("已修改检查结果类别名称（代码不变）。"))
    else:
        messages.error(request, _("名称不能为空。"))
    return redirect("inspections:visit_categories")
