"""Roster screens. 系统管理员 maintains; the business roles and 纪检派驻组 read."""

import io
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Section
from accounts.roles import Role
from core.paging import page_of
from core.params import param_int, param_text
from core.permissions import READERS, role_required

from . import selectors, services
from .forms import (
    AgencyForm,
    CertificateForm,
    EligibilityForm,
    ExpertForm,
    ImportForm,
    InspectorForm,
    RecusalEndForm,
    RecusalForm,
    StatusEndForm,
    StatusPeriodForm,
    TrainingForm,
)
from .history import describe_all
from .importers import roster_export_xlsx, write_roster
from .models import Agency, Certificate, Expert, Inspector, Recusal, StatusPeriod, Training

ADMIN = Role.SYSTEM_ADMIN


def _is_admin(request) -> bool:
    return request.user.has_role(ADMIN)


def _form_page(request, form, *, title, back, inspector=None):
    return render(
        request,
        "inspectors/form.html",
        {"form": form, "title": title, "back": back, "inspector": inspector},
    )


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- Roster --------------------------------------------------------------------------------
@role_required(*READERS)
def inspector_list(request):
    today = timezone.localdate()
    query = param_text(request.GET, "q")
    section = Section.objects.filter(pk=param_int(request.GET, "section")).first()
    state = request.GET.get("state", "")
    rows = []
    for inspector in selectors.roster_list(query=query, section=section):
        period = selectors.status_on(inspector, today)
        if state == "active" and period is not None:
            continue
        if state == "inactive" and period is None:
            continue
        cert = selectors.certificate_of_day(inspector, today)
        days_left = (cert.valid_through() - today).days if cert else None
        rows.append(
            {"inspector": inspector, "period": period, "cert": cert, "days_left": days_left}
        )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "inspectors/inspector_list.html",
        {
            "page": page,
            "q": query,
            "section": section,
            "state": state,
            "sections": Section.objects.filter(is_active=True),
            "is_admin": _is_admin(request),
            "today": today,
        },
    )


@role_required(*READERS)
def inspector_detail(request, pk: int):
    inspector = get_object_or_404(
        Inspector.objects.select_related("section", "user").prefetch_related(
            "check_items",
            "trades",
            "certificates",
            "trainings",
            Prefetch(
                "status_periods",
                queryset=StatusPeriod.objects.select_related("created_by").order_by("-start"),
            ),
            Prefetch(
                "recusals",
                queryset=Recusal.objects.select_related("enterprise", "approved_by"),
            ),
        ),
        pk=pk,
    )
    today = timezone.localdate()
    is_admin = _is_admin(request)
    return render(
        request,
        "inspectors/inspector_detail.html",
        {
            "inspector": inspector,
            "is_admin": is_admin,
            "id_number": inspector.id_number if is_admin else inspector.id_number_masked,
            "period": selectors.status_on(inspector, today),
            "current_cert": selectors.certificate_of_day(inspector, today),
            "today": today,
            "history": describe_all(selectors.inspector_history(inspector)[:100]),
        },
    )


@role_required(ADMIN)
def inspector_add(request):
    form = InspectorForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            inspector = services.inspector_create(actor=request.user, **form.service_fields())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"已新增执法检查人员 {inspector.name}。")
            return redirect("inspectors:detail", pk=inspector.pk)
    return _form_page(request, form, title="新增执法检查人员", back="inspectors:list")


@role_required(ADMIN)
def inspector_edit(request, pk: int):
    inspector = get_object_or_404(Inspector, pk=pk)
    form = InspectorForm(data=request.POST or None, instance=Inspector.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.inspector_update(
                actor=request.user, inspector=inspector, **form.service_fields()
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "人员信息已保存。")
            return redirect("inspectors:detail", pk=pk)
    return _form_page(request, form, title=f"编辑：{inspector}", back="inspectors:list",
                      inspector=inspector)  # fmt: skip


@role_required(ADMIN)
def status_add(request, pk: int):
    inspector = get_object_or_404(Inspector, pk=pk)
    form = StatusPeriodForm(
        data=request.POST or None, initial={"status": request.GET.get("status", "leave")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.status_period_add(actor=request.user, inspector=inspector, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "状态已登记，按日期自动生效。")
            return redirect("inspectors:detail", pk=pk)
    return _form_page(request, form, title=f"登记状态：{inspector}", back="inspectors:list",
                      inspector=inspector)  # fmt: skip


@role_required(ADMIN)
def status_end(request, period_pk: int):
    period = get_object_or_404(StatusPeriod.objects.select_related("inspector"), pk=period_pk)
    form = StatusEndForm(data=request.POST or None, initial={"end": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.status_period_end(actor=request.user, period=period, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "状态结束日期已登记。")
            return redirect("inspectors:detail", pk=period.inspector_id)
    return _form_page(
        request,
        form,
        title=f"结束{period.get_status_display()}：{period.inspector}",
        back="inspectors:list",
        inspector=period.inspector,
    )


@role_required(ADMIN)
def certificate_edit(request, pk: int | None = None, cert_pk: int | None = None):
    if cert_pk:
        certificate = get_object_or_404(Certificate, pk=cert_pk)
        inspector = certificate.inspector
    else:
        inspector = get_object_or_404(Inspector, pk=pk)
        certificate = Certificate(inspector=inspector)
    form = CertificateForm(data=request.POST or None, instance=certificate)
    if request.method == "POST" and form.is_valid():
        try:
            services.certificate_save(actor=request.user, certificate=form.instance)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "执法证已保存。")
            return redirect("inspectors:detail", pk=inspector.pk)
    return _form_page(request, form, title=f"执法证：{inspector}", back="inspectors:list",
                      inspector=inspector)  # fmt: skip


@role_required(ADMIN)
def training_add(request, pk: int):
    inspector = get_object_or_404(Inspector, pk=pk)
    form = TrainingForm(data=request.POST or None, instance=Training(inspector=inspector))
    if request.method == "POST" and form.is_valid():
        services.training_add(actor=request.user, training=form.instance)
        messages.success(request, "培训记录已登记。")
        return redirect("inspectors:detail", pk=pk)
    return _form_page(request, form, title=f"登记培训：{inspector}", back="inspectors:list",
                      inspector=inspector)  # fmt: skip


def _recusal_add(request, *, owner: dict, back, title):
    form = RecusalForm(
        data=request.POST or None,
        instance=Recusal(**owner),
        initial={"declared_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.recusal_declare(actor=request.user, recusal=form.instance)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "回避申报已登记，此后的抽取将排除该人员。")
            return redirect(back)
    return _form_page(request, form, title=title, back="inspectors:list")


@role_required(ADMIN)
def recusal_add(request, pk: int):
    inspector = get_object_or_404(Inspector, pk=pk)
    return _recusal_add(
        request,
        owner={"inspector": inspector},
        back=inspector_url(inspector),
        title=f"回避申报：{inspector}",
    )


@role_required(ADMIN)
def expert_recusal_add(request, pk: int):
    expert = get_object_or_404(Expert, pk=pk)
    return _recusal_add(
        request,
        owner={"expert": expert},
        back="inspectors:expert_list",
        title=f"回避申报：{expert}",
    )


@role_required(ADMIN)
def agency_recusal_add(request, pk: int):
    agency = get_object_or_404(Agency, pk=pk)
    return _recusal_add(
        request,
        owner={"agency": agency},
        back="inspectors:agency_list",
        title=f"回避申报：{agency}",
    )


def inspector_url(inspector) -> str:
    return reverse("inspectors:detail", args=[inspector.pk])


@role_required(ADMIN)
def recusal_end(request, recusal_pk: int):
    recusal = get_object_or_404(Recusal, pk=recusal_pk)
    form = RecusalEndForm(data=request.POST or None, initial={"ended_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.recusal_end(
                actor=request.user,
                recusal=recusal,
                ended_on=form.cleaned_data["ended_on"],
                reason=form.cleaned_data["end_reason"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "回避申报已终止（记录保留）。")
            if recusal.inspector_id:
                return redirect("inspectors:detail", pk=recusal.inspector_id)
            return redirect("inspectors:recusal_list")
    return _form_page(request, form, title=f"终止回避：{recusal.target_text()}",
                      back="inspectors:recusal_list")  # fmt: skip


@role_required(*READERS)
def recusal_list(request):
    recusals = Recusal.objects.select_related(
        "inspector", "expert", "agency", "enterprise", "approved_by"
    )
    return render(
        request,
        "inspectors/recusal_list.html",
        {"recusals": recusals, "is_admin": _is_admin(request), "today": timezone.localdate()},
    )


# --- Certificates, training, changes ----------------------------------------------------------
@role_required(*READERS)
def certificate_expiring(request):
    today = timezone.localdate()
    rows = [
        {"cert": c, "days_left": (c.valid_through() - today).days}
        for c in selectors.certificates_expiring(today=today)
    ]
    return render(request, "inspectors/certificate_expiring.html", {"rows": rows, "today": today})


@role_required(*READERS)
def training_report(request):
    today = timezone.localdate()
    year = param_int(request.GET, "year", default=today.year, minimum=2000, maximum=today.year + 1)
    return render(
        request,
        "inspectors/training_report.html",
        {
            "year": year,
            "years": range(today.year, today.year - 6, -1),
            "rows": selectors.training_by_year(year=year),
        },
    )


@role_required(*READERS)
def roster_changes(request):
    page = Paginator(selectors.roster_changes(), 50).get_page(request.GET.get("page"))
    rows = describe_all(page.object_list)
    owners = {r["event"].detail.get("inspector") for r in rows} | {
        int(r["event"].object_id)
        for r in rows
        if r["event"].object_type == "inspectors.inspector" and r["event"].object_id.isdigit()
    }
    names = {i.pk: str(i) for i in Inspector.objects.filter(pk__in=owners - {None})}
    for row in rows:
        event = row["event"]
        owner = event.detail.get("inspector")
        if owner is None and event.object_type == "inspectors.inspector":
            owner = int(event.object_id)
        row["inspector_id"] = owner if owner in names else None
        row["object_name"] = names.get(owner) or _member_name(event)
    return render(request, "inspectors/changes.html", {"page": page, "rows": rows})


def _member_name(event) -> str:
    after = event.detail.get("after") or {}
    if event.object_type in ("inspectors.expert", "inspectors.agency"):
        return f"{after.get('name', '')}（{after.get('code', '')}）"
    return ""


# --- Experts and agencies -------------------------------------------------------------------
MEMBER_KINDS = {
    "expert": (Expert, ExpertForm, "专业技术人员"),
    "agency": (Agency, AgencyForm, "委托专业机构"),
}


def _member_list(request, kind):
    model, _form, title = MEMBER_KINDS[kind]
    members = model.objects.prefetch_related(
        Prefetch("recusals", queryset=Recusal.objects.select_related("enterprise"))
    )
    return render(
        request,
        "inspectors/member_list.html",
        {
            "kind": kind, "title": title, "members": members, "is_admin": _is_admin(request),
            "today": timezone.localdate(),
        },
    )  # fmt: skip


def _member_edit(request, kind, pk=None):
    model, form_class, title = MEMBER_KINDS[kind]
    member = get_object_or_404(model, pk=pk) if pk else model()
    form = form_class(data=request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_save(actor=request.user, member=form.instance)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"{title}已保存。")
            return redirect(f"inspectors:{kind}_list")
    return _form_page(request, form, title=f"{title}：{member if pk else '新增'}",
                      back=f"inspectors:{kind}_list")  # fmt: skip


@role_required(*READERS)
def expert_list(request):
    return _member_list(request, "expert")


@role_required(*READERS)
def agency_list(request):
    return _member_list(request, "agency")


@role_required(ADMIN)
def expert_edit(request, pk: int | None = None):
    return _member_edit(request, "expert", pk)


@role_required(ADMIN)
def agency_edit(request, pk: int | None = None):
    return _member_edit(request, "agency", pk)


# --- Export -------------------------------------------------------------------------------------
@role_required(*READERS)
def roster_export(request):
    content = roster_export_xlsx(actor=request.user, unmasked=_is_admin(request))
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    return _attachment(response, f"执法检查人员名录_{timezone.localdate():%Y%m%d}.xlsx")


def _attachment(response, name: str):
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


# --- Import: upload → preview → confirm (all or nothing) -------------------------------------
@role_required(ADMIN)
def roster_import(request):
    form = ImportForm(data=request.POST or None, files=request.FILES or None)
    preview = batch = None
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.roster_upload_store(
                actor=request.user, upload=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            preview = services.roster_preview(batch=batch)
    elif request.method == "GET" and request.GET.get("file"):
        # Another page of the uploader's preview: the kept file is read again (bounded, streamed).
        batch = selectors.roster_import_batch_for(request.user, request.GET["file"])
        if not batch.stored_path:  # removed by the prune (or never kept): the batch says why
            messages.error(request, batch.message or batch.get_status_display())
            return redirect("inspectors:import")
        preview = services.roster_preview(batch=batch)
    kept = preview.results if preview is not None else []
    page = page_of(
        request,
        fetch=lambda offset, limit: kept[offset : offset + limit],
        count=lambda: len(kept),
        per_page=PREVIEW_PAGE_SIZE,
    )
    return render(
        request,
        "inspectors/import.html",
        {
            "form": form,
            "preview": preview,
            "batch": batch,
            "page": page,
            "shown_all": preview is None or len(kept) >= preview.counts["total"],
        },
    )


PREVIEW_PAGE_SIZE = 50  # rows of the roster preview per page


@role_required(ADMIN)
def roster_template(request):
    buffer = io.BytesIO()
    write_roster(buffer, unmasked=False, template=True)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    return _attachment(response, "执法检查人员导入模板.xlsx")


@require_POST
@role_required(ADMIN)
def roster_import_confirm(request):
    # Only the uploader confirms their file (another administrator's upload answers 404).
    batch = selectors.roster_import_batch_for(request.user, request.POST.get("file_id"))
    try:
        written = services.roster_import_confirm(
            actor=request.user, batch_id=batch.pk, expected_sha256=request.POST.get("sha256", "")
        )
    except services.ImportRefused:
        messages.error(request, "文件有错误，未导入任何数据。请修改后重新上传。")
        return redirect("inspectors:import")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("inspectors:import")
    messages.success(
        request, f"导入完成：新增 {written['created']} 人，更新 {written['updated']} 人。"
    )
    return redirect("inspectors:list")


@role_required(*READERS)
def eligibility_check(request):
    """Who could be drawn for an enterprise, items and window — and why not (the same selector
    the draw calls)."""
    form = EligibilityForm(data=request.GET or None)
    results = None
    if request.GET and form.is_valid():
        data = form.cleaned_data
        results = selectors.inspector_eligibility(
            start=data["start"], end=data["end"], check_items=list(data["check_items"]),
            enterprise=data["enterprise"],
        )  # fmt: skip
    return render(
        request,
        "inspectors/eligibility.html",
        {
            "form": form,
            "results": results,
            "eligible_count": sum(r.eligible for r in results or []),
            "labels": dict(selectors.QUALIFICATION_LABELS),
        },
    )
