"""The register's pages. Who may do what (docs/enterprises.md, "Access"):

- read (list, detail, check items): every business reader (牵头股室, 业务股室, 执法检查人员,
  股室负责人, 纪检派驻组, 系统管理员);
- edit, import, add tiers/licences, maintain check items: 牵头股室 and 业务股室;
- export (personal contact data): 牵头股室, 业务股室, 股室负责人, 纪检派驻组.
Tiers appear only on these internal pages, never on a public one.
"""

import tempfile

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role
from audit.selectors import audit_events_for_object
from core.paging import page_of
from core.params import param_choice, param_text
from core.permissions import READERS, role_required
from core.spreadsheets import OUTCOME_LABELS

from . import selectors, services
from .exports import enterprise_export, template_write
from .forms import (
    CheckItemForm,
    EnterpriseForm,
    ImportUploadForm,
    LicenceForm,
    ListFilterForm,
    RiskAssessmentForm,
)
from .importers import IMPORTERS
from .models import CheckItem, CheckMethod, Enterprise, ImportBatch
from .tasks import import_batch_run

EDITORS = (Role.LEAD_SECTION, Role.SECTION_STAFF)
EXPORTERS = (Role.LEAD_SECTION, Role.SECTION_STAFF, Role.SECTION_HEAD, Role.DISCIPLINE)
PAGE_SIZE = 50
PREVIEW_PAGE_SIZE = 50  # rows of an import preview per page
# Files above this size are previewed and applied by the Celery worker (progress bar).
SYNC_MAX_BYTES = getattr(settings, "IMPORT_SYNC_MAX_BYTES", 1024 * 1024)


def _can_edit(user) -> bool:
    return user.has_role(*EDITORS)


@role_required(*READERS)
def enterprise_list(request):
    form = ListFilterForm(request.GET or None, licence_types=selectors.licence_types())
    params = form.params() if request.GET else {}
    today = timezone.localdate()
    qs = selectors.enterprise_search(params=params, on=today).select_related("township")
    rows, next_after, prev_before = selectors.keyset_page(
        qs,
        after=param_text(request.GET, "after"),
        before=param_text(request.GET, "before"),
        size=PAGE_SIZE,
    )
    tiers = selectors.tier_of_day(on=today, enterprise_ids=[e.pk for e in rows])
    for e in rows:
        e.tier_today = tiers.get(e.pk)
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    base = query.urlencode()
    return render(
        request,
        "enterprises/enterprise_list.html",
        {
            "form": form,
            "rows": rows,
            "next_url": f"?{base}&after={next_after}" if next_after else "",
            "prev_url": f"?{base}&before={prev_before}" if prev_before else "",
            "first_url": f"?{base}"
            if request.GET.get("after") or request.GET.get("before")
            else "",
            "export_query": base,
            "can_edit": _can_edit(request.user),
            "can_export": request.user.has_role(*EXPORTERS),
        },
    )


@role_required(*READERS)
def enterprise_detail(request, pk):
    enterprise = get_object_or_404(Enterprise.objects.select_related("township", "section"), pk=pk)
    today = timezone.localdate()
    return render(
        request,
        "enterprises/enterprise_detail.html",
        {
            "e": enterprise,
            "trades": enterprise.trades.all(),
            "tier_today": selectors.current_tier(enterprise=enterprise, on=today),
            "history": selectors.tier_history(enterprise=enterprise),
            "licences": enterprise.licences.order_by("licence_type", "number"),
            "events": audit_events_for_object(obj=enterprise)[:50],
            "can_edit": _can_edit(request.user),
            "tier_form": RiskAssessmentForm(initial={"effective_date": today}),
            "licence_form": LicenceForm(),
            "today": today,
        },
    )


@role_required(*EDITORS)
def enterprise_edit(request, pk=None):
    enterprise = get_object_or_404(Enterprise, pk=pk) if pk else None
    form = EnterpriseForm(request.POST or None, instance=enterprise)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "trades"}
        try:
            enterprise = services.enterprise_save(
                actor=request.user,
                data=data,
                trades=form.cleaned_data["trades"],
                enterprise=enterprise,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "已保存。")
            return redirect("enterprises:detail", enterprise.pk)
    return render(
        request, "enterprises/enterprise_form.html", {"form": form, "enterprise": enterprise}
    )


@require_POST
@role_required(*EDITORS)
def tier_add(request, pk):
    enterprise = get_object_or_404(Enterprise, pk=pk)
    form = RiskAssessmentForm(request.POST)
    if form.is_valid():
        services.risk_assessment_add(actor=request.user, enterprise=enterprise, **form.cleaned_data)
        messages.success(request, "已记录风险等级评定。")
    else:
        messages.error(
            request,
            "风险等级评定未保存：" + "；".join(e for errs in form.errors.values() for e in errs),
        )
    return redirect("enterprises:detail", pk)


@require_POST
@role_required(*EDITORS)
def licence_add(request, pk):
    enterprise = get_object_or_404(Enterprise, pk=pk)
    form = LicenceForm(request.POST)
    if form.is_valid():
        try:
            services.licence_save(actor=request.user, enterprise=enterprise, data=form.cleaned_data)
            messages.success(request, "已添加许可证。")
        except ValidationError as exc:
            messages.error(request, "许可证未保存：" + "；".join(exc.messages))
    else:
        messages.error(
            request, "许可证未保存：" + "；".join(e for errs in form.errors.values() for e in errs)
        )
    return redirect("enterprises:detail", pk)


@role_required(*EXPORTERS)
def enterprise_export_view(request):
    form = ListFilterForm(request.GET or None, licence_types=selectors.licence_types())
    params = form.params() if request.GET else {}
    qs = selectors.enterprise_search(params=params, on=timezone.localdate())
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    enterprise_export(qs, spool)
    spool.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(spool, as_attachment=True, filename=f"监管企业名录-{stamp}.xlsx")


# --- check items ------------------------------------------------------------------------------


@role_required(*READERS)
def check_item_list(request):
    q = param_text(request.GET, "q")
    status = param_choice(request.GET, "status", CheckItem.Status.values)
    items = selectors.check_items(params={"q": q, "status": status})
    labels = dict(CheckMethod.choices)
    for item in items:
        item.method_labels = [labels.get(m, m) for m in item.methods]
    return render(
        request,
        "enterprises/check_item_list.html",
        {"items": items, "can_edit": _can_edit(request.user), "q": q},
    )


@role_required(*READERS)
def check_item_detail(request, pk):
    item = get_object_or_404(CheckItem.objects.select_related("section"), pk=pk)
    labels = dict(CheckMethod.choices)
    return render(
        request,
        "enterprises/check_item_detail.html",
        {
            "item": item,
            "method_labels": [labels.get(m, m) for m in item.methods],
            "events": audit_events_for_object(obj=item)[:50],
            "can_edit": selectors.can_maintain_check_item(request.user, item.section),
        },
    )


@role_required(*EDITORS)
def check_item_edit(request, pk=None):
    item = get_object_or_404(CheckItem, pk=pk) if pk else None
    if item is not None and not selectors.can_maintain_check_item(request.user, item.section):
        raise PermissionDenied(
            _("检查事项“%(name)s”由%(section)s维护，只有牵头股室或该股室的业务股室人员可以修改。")
            % {"name": item.name, "section": item.section}
        )
    form = CheckItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "trades"}
        try:
            item = services.check_item_save(
                actor=request.user, data=data, trades=form.cleaned_data["trades"], item=item
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "已保存。")
            return redirect("enterprises:check_item_detail", item.pk)
    return render(request, "enterprises/check_item_form.html", {"form": form, "item": item})


# --- import -----------------------------------------------------------------------------------


def _importer(kind):
    if kind not in IMPORTERS:
        raise Http404
    return IMPORTERS[kind]


@role_required(*EDITORS)
def template_download(request, kind):
    importer = _importer(kind)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    template_write(kind, spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=f"{importer.title}导入模板.xlsx")


@role_required(*EDITORS)
def import_start(request, kind):
    importer = _importer(kind)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.import_batch_create(
                actor=request.user, kind=kind, upload=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            if batch.size <= SYNC_MAX_BYTES:
                services.import_batch_preview(batch_id=batch.pk)
            else:
                import_batch_run.delay(batch.pk, "preview")
            return redirect("enterprises:import_preview", batch.pk)
    recent = selectors.import_batches_for(request.user).filter(kind=kind)
    recent = recent.select_related("created_by")[:10]
    return render(
        request,
        "enterprises/import_start.html",
        {
            "form": form,
            "importer": importer,
            "kind": kind,
            "kinds": [(k, i.title) for k, i in IMPORTERS.items()],
            "recent": recent,
            "max_mb": settings.UPLOAD_MAX_BYTES // 1024 // 1024,
        },
    )


def _batch_for(request, pk) -> ImportBatch:
    # The registers' batches only (the roster's, kind "inspectors", have their own screens), and
    # only the user's own uploads: another's batch answers 404.
    return get_object_or_404(
        selectors.import_batches_for(request.user).filter(kind__in=IMPORTERS), pk=pk
    )


@role_required(*EDITORS)
def import_preview(request, pk):
    batch = _batch_for(request, pk)
    summary = batch.counts or {}
    counts = summary.get("counts", {})
    kept = summary.get("rows", [])  # at most services.PREVIEW_ROWS_KEPT, shown a page at a time
    page = page_of(
        request,
        fetch=lambda offset, limit: kept[offset : offset + limit],
        count=lambda: len(kept),
        per_page=PREVIEW_PAGE_SIZE,
    )
    rows = list(page.object_list)
    for row in rows:
        row["label"] = OUTCOME_LABELS.get(row["outcome"], row["outcome"])
    context = {
        "batch": batch,
        "importer": _importer(batch.kind),
        "counts": counts,
        "rows": rows,
        "page": page,
        "errors": batch.errors,
        "can_confirm": batch.status == ImportBatch.Status.PREVIEWED
        and not batch.errors
        and (counts.get("new", 0) or counts.get("updated", 0)),
        "busy": batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING),
    }
    if request.headers.get("HX-Request"):
        if context["busy"]:
            return render(request, "enterprises/_import_progress.html", context)
        response = render(request, "enterprises/_import_progress.html", context)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "enterprises/import_preview.html", context)


@require_POST
@role_required(*EDITORS)
def import_confirm(request, pk):
    batch = _batch_for(request, pk)
    if batch.status != ImportBatch.Status.PREVIEWED or batch.errors:
        messages.error(request, "该批次不能确认导入（有错误或已处理）。")
        return redirect("enterprises:import_preview", pk)
    if batch.size <= SYNC_MAX_BYTES:
        applied = services.import_batch_apply(batch_id=batch.pk, actor=request.user)
        batch.refresh_from_db()
        if not applied:
            messages.error(request, _("该批次已由另一次确认开始导入，本次未重复导入。"))
        elif batch.status == ImportBatch.Status.APPLIED:
            messages.success(request, f"导入完成：{batch.message}。")
        else:
            messages.error(request, f"导入失败：{batch.message}")
    elif ImportBatch.objects.filter(pk=pk, status=ImportBatch.Status.PREVIEWED).update(
        status=ImportBatch.Status.QUEUED, progress=0, confirmed_by=request.user
    ):
        import_batch_run.delay(batch.pk, "apply")
        messages.success(request, "已开始在后台导入，请稍候。")
    else:
        messages.error(request, _("该批次已由另一次确认开始导入，本次未重复导入。"))
    return redirect("enterprises:import_preview", pk)
