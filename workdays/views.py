from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role
from core.params import MAX_DATE, MIN_DATE, param_int
from core.permissions import ALL_ROLES, role_required

from . import selectors, services
from .forms import CalendarDraftForm, DiscardForm
from .models import CalendarYear


def _can_enter(user) -> bool:
    return user.has_role(*services.ENTER_ROLES)


@role_required(*ALL_ROLES)
def calendar_index(request):
    today = timezone.localdate()
    by_year = selectors.year_rows()
    next_year = today.year + 1
    return render(
        request,
        "workdays/calendar_index.html",
        {
            "by_year": by_year,
            "next_year": next_year,
            "next_year_published": any(r.is_published for r in by_year.get(next_year, [])),
            "next_year_draft": next((r for r in by_year.get(next_year, []) if r.is_draft), None),
            "can_enter": _can_enter(request.user),
            "drafts": selectors.pending_drafts(),
        },
    )


@role_required(*ALL_ROLES)
def calendar_year(request, year: int):
    if not MIN_DATE.year <= year <= MAX_DATE.year:  # ``year + 1`` of a huge int overflows
        raise Http404(_("没有该年份的节假日安排。"))
    days = selectors.effective_days(year)
    revisions = CalendarYear.objects.filter(year=year).select_related("entered_by", "approved_by")
    if days is None and not revisions:
        raise Http404(_("没有该年份的节假日安排。"))
    published = next((r for r in revisions if r.is_published), None)
    return render(
        request,
        "workdays/calendar_year.html",
        {
            "year": year,
            "published": published,
            "months": selectors.month_grid(year, days) if days else [],
            "revisions": revisions,
            "weekdays": selectors.WEEKDAYS,
            "can_enter": _can_enter(request.user),
            "working_total": sum(1 for d in (days or {}).values() if d.is_working),
            "has_previous": CalendarYear.objects.filter(year=year - 1).exists(),
            "has_next": CalendarYear.objects.filter(year=year + 1).exists(),
        },
    )


@role_required(*ALL_ROLES)
def calendar_revision(request, pk: int):
    record = get_object_or_404(
        CalendarYear.objects.select_related("entered_by", "approved_by"), pk=pk
    )
    days = selectors.revision_days(record)
    own = {d: info for d, info in days.items() if d.year == record.year}
    previous_december = sorted(
        (info for d, info in days.items() if d.year != record.year), key=lambda i: i.date
    )
    published = (
        CalendarYear.objects.filter(year=record.year, status=CalendarYear.Status.PUBLISHED)
        .exclude(pk=record.pk)
        .first()
    )
    user = request.user
    # Publication waits on the approvals flow; the page shows the open request.
    pending = selectors.calendar_pending(record) if record.is_draft else None
    return render(
        request,
        "workdays/calendar_revision.html",
        {
            "record": record,
            "months": selectors.month_grid(record.year, own),
            "weekdays": selectors.WEEKDAYS,
            "previous_december": previous_december,
            "diff_plain": selectors.diff_against_plain(days),
            "published": published,
            "diff_published": (
                selectors.diff_between(selectors.revision_days(published), days)
                if published
                else None
            ),
            "can_edit": record.is_draft and _can_enter(user) and record.entered_by_id == user.pk,
            "pending": pending,
            "can_request": record.is_draft and _can_enter(user) and pending is None,
            "can_discard": record.is_draft and user.has_role(*services.APPROVE_ROLES),
            "can_correct": record.is_published and _can_enter(user),
            "discard_form": DiscardForm(),
        },
    )


def _save_draft(request, form, record=None):
    data = form.cleaned_data
    kwargs = {
        "actor": request.user,
        "notice_title": data["notice_title"],
        "notice_number": data["notice_number"],
        "arrangement": data["arrangement"],
        "reason": data["reason"],
    }
    try:
        if record is None:
            return services.calendar_draft_create(year=data["year"], **kwargs)
        return services.calendar_draft_update(calendar_year=record, **kwargs)
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


@role_required(Role.SYSTEM_ADMIN)
def calendar_draft_new(request):
    today = timezone.localdate()
    correct = param_int(request.GET, "correct", maximum=9999)
    initial = {"year": today.year + 1}
    fixed_year = None
    is_correction = False
    if correct is not None:
        source = get_object_or_404(CalendarYear, year=correct, status=CalendarYear.Status.PUBLISHED)
        initial = {
            "year": source.year,
            "notice_title": source.notice_title,
            "notice_number": source.notice_number,
            **CalendarDraftForm.initial_from(services.arrangement_of(source)),
        }
        fixed_year, is_correction = source.year, True
    else:
        initial["notice_title"] = f"国务院办公厅关于{initial['year']}年部分节假日安排的通知"
    form = CalendarDraftForm(request.POST or None, initial=initial, fixed_year=fixed_year)
    if request.method == "POST" and form.is_valid():
        record = _save_draft(request, form)
        if record is not None:
            messages.success(
                request, _("已保存为草稿，请另一位系统管理员或安全管理员核对后审批发布。")
            )
            return redirect("workdays:calendar_revision", pk=record.pk)
    return render(
        request,
        "workdays/calendar_form.html",
        {"form": form, "is_correction": is_correction, "record": None},
    )


@role_required(Role.SYSTEM_ADMIN)
def calendar_draft_edit(request, pk: int):
    record = get_object_or_404(CalendarYear, pk=pk)
    if not record.is_draft:
        raise PermissionDenied(_("已发布的安排不能修改；如需更正，请提交更正修订版。"))
    if record.entered_by_id != request.user.pk:
        raise PermissionDenied(_("只有录入人可以修改该草稿。"))
    initial = {
        "year": record.year,
        "notice_title": record.notice_title,
        "notice_number": record.notice_number,
        "reason": record.reason,
        **CalendarDraftForm.initial_from(services.arrangement_of(record)),
    }
    form = CalendarDraftForm(request.POST or None, initial=initial, fixed_year=record.year)
    if (
        request.method == "POST"
        and form.is_valid()
        and _save_draft(request, form, record) is not None
    ):
        messages.success(request, _("草稿已更新。"))
        return redirect("workdays:calendar_revision", pk=record.pk)
    return render(
        request,
        "workdays/calendar_form.html",
        {"form": form, "is_correction": record.revision > 1, "record": record},
    )


@require_POST
@role_required(*services.ENTER_ROLES)
def calendar_request(request, pk: int):
    """Ask for the draft's publication; another admin decides it on the approvals page."""
    record = get_object_or_404(CalendarYear, pk=pk)
    try:
        approval = services.calendar_year_request(actor=request.user, calendar_year=record)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("workdays:calendar_revision", pk=record.pk)
    messages.success(
        request,
        _("发布申请已提交，待另一位系统管理员或安全管理员在其本人账户的“审批事项”中审批。"),
    )
    return redirect("approvals:detail", pk=approval.pk)


@require_POST
@role_required(Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)
def calendar_discard(request, pk: int):
    record = get_object_or_404(CalendarYear, pk=pk)
    form = DiscardForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写作废原因。"))
        return redirect("workdays:calendar_revision", pk=record.pk)
    try:
        services.calendar_draft_discard(
            actor=request.user, calendar_year=record, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("草稿已作废。"))
    return redirect("workdays:calendar_revision", pk=record.pk)
