"""Publication views: records and deadlines, batches, feedback, corrections, objections, the
deadline scan on demand, and the public results page (一公开, no login).

Every list and object is scoped by ``selectors.record_scope`` (谁检查、谁录入、谁公示: inspectors
see their own visits' records, section staff and heads their section's, the lead section, the
discipline group and the admins all); another section's object answers 404. Lists never COUNT
the whole table: capped filter counts and pages without a total."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import BUSINESS_READERS, Role
from core.bounds import DATE_VALIDATORS, REASON_TEXT, REPORT_TEXT
from core.errors import error_messages
from core.mail import email_status
from core.paging import bounded_page, capped_count
from core.params import param_choice, param_text
from core.permissions import role_required

from . import selectors as sel
from . import services as svc
from .models import ExportBatch, Objection, PublicationRecord
from .tasks import run_scan_locked

READERS = tuple(BUSINESS_READERS)
PAGE_SIZE = 50


# --- forms ------------------------------------------------------------------------------------


class BatchForm(forms.Form):
    since = forms.DateField(
        validators=DATE_VALIDATORS,
        label="抽查完成日期起",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="留空：报送全部待报送和被退回的结果",
    )


class FeedbackForm(forms.Form):
    file = forms.FileField(
        label="平台反馈表（xlsx）",
        help_text="列：抽查任务编号、统一社会信用代码、检查事项、处理结果（接收/退回）、错误信息、公示日期",
    )


class PublishedForm(forms.Form):
    published_on = forms.DateField(
        validators=DATE_VALIDATORS, label="公示日期", widget=forms.DateInput(attrs={"type": "date"})
    )


class CorrectionForm(forms.Form):
    result_text = forms.CharField(label="更正后的检查结果", max_length=500)
    reason = forms.CharField(
        label="更正原因", max_length=REASON_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )


class ObjectionForm(forms.Form):
    received_on = forms.DateField(
        validators=DATE_VALIDATORS, label="收到日期", widget=forms.DateInput(attrs={"type": "date"})
    )
    content = forms.CharField(
        label="异议内容", max_length=REPORT_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )


class RecheckForm(forms.Form):
    recheck_on = forms.DateField(
        validators=DATE_VALIDATORS, label="复查日期", widget=forms.DateInput(attrs={"type": "date"})
    )
    conclusion = forms.CharField(
        label="复查结论", max_length=REPORT_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )
    new_result_text = forms.CharField(
        label="更正后的检查结果",
        max_length=500,
        required=False,
        help_text="复查改变结果时填写，将作为更正提交股室负责人审批",
    )


# --- records ----------------------------------------------------------------------------------

FILTERS = {
    "pending": Q(status=PublicationRecord.Status.PENDING),
    "sent": Q(status=PublicationRecord.Status.SENT),
    "published": Q(status=PublicationRecord.Status.PUBLISHED),
    "rejected": Q(status=PublicationRecord.Status.REJECTED),
    "reminder": Q(alert=PublicationRecord.Alert.REMINDER, first_published_on__isnull=True),
    "due_today": Q(alert=PublicationRecord.Alert.DUE_TODAY, first_published_on__isnull=True),
    "overdue": Q(alert=PublicationRecord.Alert.OVERDUE, first_published_on__isnull=True),
    "undetermined": Q(deadline__isnull=True),
}
FILTER_LABELS = {
    "pending": "待报送",
    "sent": "已报送",
    "published": "已公示",
    "rejected": "被退回",
    "reminder": "临近期限",
    "due_today": "今日到期",
    "overdue": "已逾期",
    "undetermined": "期限待定",
    "corrections": "更正待审批",
}


def _scope_label(user) -> str:
    if sel.sees_all_records(user):
        return _("全部股室的公示记录")
    parts = []
    if user.has_role(*sel.SECTION_ROLES) and user.section_id:
        parts.append(_("本股室（%(name)s）的公示记录") % {"name": user.section.name})
    if user.has_role(Role.INSPECTOR):
        parts.append(_("本人参加检查的公示记录"))
    return "；".join(parts) or _("没有可查看的公示记录（未设置股室）")


@role_required(*READERS)
def publication_list(request):
    user = request.user
    scoped = sel.records_for(user)
    qs = scoped.select_related("current_version", "section")
    key = param_choice(request.GET, "f", (*FILTERS, "corrections"))
    if key == "corrections":
        qs = qs.filter(sel.records_with_pending_correction())
    elif key:
        qs = qs.filter(FILTERS[key]).distinct()
    q = param_text(request.GET, "q")
    if q:
        qs = qs.filter(
            Q(enterprise_name__contains=q) | Q(uscc__iexact=q) | Q(task_number__contains=q)
        )
    counts = {name: capped_count(scoped.filter(cond)) for name, cond in FILTERS.items()}
    ordered = qs.order_by(F("deadline").asc(nulls_last=True), "id")
    page = bounded_page(ordered, request.GET.get("page"), PAGE_SIZE)
    can_scan = user.has_role(*svc.SCAN_ROLES)
    email_on, email_note = email_status()
    return render(
        request,
        "disclosure/publication_list.html",
        {
            "page": page,
            "filter": key,
            "q": q,
            "filters": [(k, FILTER_LABELS[k], counts.get(k)) for k in FILTER_LABELS],
            "rate": svc.on_time_rate(records=scoped),
            "today": timezone.localdate(),
            "scope_label": _scope_label(user),
            "can_scan": can_scan,
            "can_send": user.has_role(*svc.SEND_ROLES),
            # The lead section and the system admin see whether reminders also go by e-mail.
            "email_note": email_note if can_scan else "",
            "email_on": email_on,
        },
    )


@role_required(*READERS)
def publication_detail(request, pk: int):
    record = sel.record_for(
        request.user,
        pk,
        PublicationRecord.objects.select_related(
            "current_version", "published_version", "calendar_revision", "section", "last_batch"
        ),
    )
    versions = record.versions.select_related("created_by", "approved_by", "objection")
    user = request.user
    # The proposal waits on the approvals flow; the page shows it and links to its decision.
    pending = sel.correction_pending(record)
    return render(
        request,
        "disclosure/publication_detail.html",
        {
            "record": record,
            "versions": versions,
            "pending_correction": pending,
            "items": record.items.select_related("batch", "version").order_by("-batch_id"),
            "objections": record.objections.select_related("recorded_by", "recheck_by"),
            "inspectors": record.inspectors.all(),
            "can_propose": user.has_role(*svc.PROPOSE_ROLES) and pending is None,
            "can_object": user.has_role(*svc.OBJECTION_ROLES) and record.published_version_id,
            "can_recheck": user.has_role(*svc.RECHECK_ROLES),
            "correction_form": CorrectionForm(),
            "objection_form": ObjectionForm(initial={"received_on": timezone.localdate()}),
            "recheck_form": RecheckForm(initial={"recheck_on": timezone.localdate()}),
        },
    )


@require_POST
@role_required(*svc.PROPOSE_ROLES)
def correction_propose(request, pk: int):
    record = sel.record_for(request.user, pk)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写更正后的检查结果和更正原因。"))
        return redirect("disclosure:publication_detail", pk)
    try:
        svc.correction_propose(actor=request.user, record=record, **form.cleaned_data)
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(
            request,
            _("更正申请已提交，待本股室另一位股室负责人在其本人账户的“审批事项”中审批。"),
        )
    return redirect("disclosure:publication_detail", pk)


@require_POST
@role_required(*svc.OBJECTION_ROLES)
def objection_create(request, pk: int):
    record = sel.record_for(request.user, pk)
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写收到日期和异议内容。"))
        return redirect("disclosure:publication_detail", pk)
    try:
        svc.objection_record(actor=request.user, record=record, **form.cleaned_data)
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(request, _("异议已登记。"))
    return redirect("disclosure:publication_detail", pk)


@require_POST
@role_required(*svc.RECHECK_ROLES)
def objection_recheck(request, pk: int):
    objection = get_object_or_404(
        Objection.objects.filter(record__in=sel.records_for(request.user).values("pk")), pk=pk
    )
    form = RecheckForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写复查日期和复查结论。"))
        return redirect("disclosure:publication_detail", objection.record_id)
    try:
        svc.objection_recheck(actor=request.user, objection=objection, **form.cleaned_data)
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(request, _("复查结果已登记。"))
    return redirect("disclosure:publication_detail", objection.record_id)


@require_POST
@role_required(*svc.SCAN_ROLES)
def scan_now(request):
    counts = run_scan_locked()
    if counts.get("skipped"):
        messages.warning(request, _("期限检查正在运行，请稍后刷新。"))
    else:
        messages.success(
            request,
            _("期限检查完成：临近 %(r)s 条，今日到期 %(d)s 条，逾期 %(o)s 条。")
            % {"r": counts["reminder"], "d": counts["due_today"], "o": counts["overdue"]},
        )
    return redirect("disclosure:publication_list")


# --- batches ----------------------------------------------------------------------------------


def _send_section(user):
    """(allowed, section): the lead section sends every section's results (section None); a
    section's staff send their own section's only."""
    if not user.has_role(*svc.SEND_ROLES):
        return False, None
    if user.has_role(Role.LEAD_SECTION):
        return True, None
    return bool(user.section_id), user.section


@role_required(*READERS)
def batch_list(request):
    user = request.user
    batches = sel.batches_for(user).select_related("created_by").order_by("-created_at", "-id")
    page = bounded_page(batches, request.GET.get("page"), PAGE_SIZE)
    can_send, section = _send_section(user)
    return render(
        request,
        "disclosure/batch_list.html",
        {
            "page": page,
            "form": BatchForm(),
            "can_send": can_send,
            "send_section": section,
            "waiting": capped_count(svc.exportable_records(section=section)) if can_send else "0",
        },
    )


@require_POST
@role_required(*svc.SEND_ROLES)
def batch_create(request):
    form = BatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("日期格式不正确。"))
        return redirect("disclosure:batch_list")
    allowed, section = _send_section(request.user)
    if not allowed:
        raise PermissionDenied(_("未设置股室，不能报送。"))
    batch = svc.batch_create(actor=request.user, since=form.cleaned_data["since"], section=section)
    if batch is None:
        messages.warning(request, _("没有待报送的结果。"))
        return redirect("disclosure:batch_list")
    svc.batch_start(batch)
    messages.success(
        request,
        _("报送批次 %(n)s 已生成（%(c)s 行）。") % {"n": batch.number, "c": batch.row_count},
    )
    return redirect("disclosure:batch_detail", batch.pk)


@role_required(*READERS)
def batch_detail(request, pk: int):
    user = request.user
    batch = sel.batch_for(
        user, pk, ExportBatch.objects.select_related("created_by", "xlsx_file", "json_file")
    )
    items = sel.batch_items_for(user, batch)
    page = bounded_page(
        items.select_related("record", "version").order_by("row"),
        request.GET.get("page"),
        PAGE_SIZE,
    )
    whole = sel.batch_is_whole(user, batch)
    return render(
        request,
        "disclosure/batch_detail.html",
        {
            "batch": batch,
            "page": page,
            "rejected": items.filter(outcome="rejected").select_related("record"),
            "feedback": batch.feedback.select_related("imported_by", "file") if whole else [],
            "whole": whole,
            "can_download": whole,
            "can_send": whole and user.has_role(*svc.SEND_ROLES),
            "feedback_form": FeedbackForm(),
            "published_form": PublishedForm(initial={"published_on": timezone.localdate()}),
        },
    )


@role_required(*READERS)
def batch_progress(request, pk: int):
    batch = sel.batch_for(request.user, pk)
    return render(
        request,
        "disclosure/_batch_progress.html",
        {"batch": batch, "can_download": sel.batch_is_whole(request.user, batch)},
    )


def _own_batch(request, pk: int) -> ExportBatch:
    """A batch the user may act on: visible (else 404) and wholly within the user's scope
    (else 403: a batch with other sections' rows is handled by the lead section)."""
    batch = sel.batch_for(request.user, pk)
    if not sel.batch_is_whole(request.user, batch):
        raise PermissionDenied(_("本批次包含其他股室的记录，请由牵头股室登记平台反馈。"))
    return batch


@require_POST
@role_required(*svc.SEND_ROLES)
def batch_feedback(request, pk: int):
    batch = _own_batch(request, pk)
    form = FeedbackForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择平台反馈文件。"))
        return redirect("disclosure:batch_detail", pk)
    try:
        feedback = svc.feedback_import(
            actor=request.user, upload=form.cleaned_data["file"], batch=batch
        )
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(
            request,
            _("反馈已导入：接收 %(a)s 行，退回 %(r)s 行，未匹配 %(u)s 行。")
            % {"a": feedback.accepted, "r": feedback.rejected, "u": len(feedback.unmatched)},
        )
    return redirect("disclosure:batch_detail", pk)


@require_POST
@role_required(*svc.SEND_ROLES)
def batch_published(request, pk: int):
    batch = _own_batch(request, pk)
    form = PublishedForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写公示日期。"))
        return redirect("disclosure:batch_detail", pk)
    try:
        count = svc.batch_mark_published(
            actor=request.user, batch=batch, published_on=form.cleaned_data["published_on"]
        )
    except (ValidationError, PermissionDenied) as exc:
        error_messages(request, exc)
    else:
        messages.success(request, _("已登记公示 %(c)s 行。") % {"c": count})
    return redirect("disclosure:batch_detail", pk)


# --- the public page (一公开) -------------------------------------------------------------------


@login_not_required
def public_results(request):
    """Published results only: task, type, item, enterprise name and USCC, result, date.
    Never risk tiers, inspectors' or legal representatives' data, evidence or unpublished
    records (the query reads only the snapshot fields and the published version)."""
    qs = PublicationRecord.objects.filter(published_version__isnull=False).values(
        "task_number",
        "task_name",
        "task_kind",
        "check_item",
        "enterprise_name",
        "uscc",
        "published_version__result_text",
        "published_on",
        "check_end",
    )
    q = param_text(request.GET, "q")
    if q:
        qs = qs.filter(Q(enterprise_name__contains=q) | Q(uscc__iexact=q))
    page = Paginator(qs.order_by("-published_on", "task_number", "uscc", "check_item"), 50)
    page = page.get_page(request.GET.get("page"))
    return render(request, "disclosure/public_results.html", {"page": page, "q": q})
