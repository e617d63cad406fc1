"""Views of plans, tasks, the inspection scheme and sampling rates.

Writes: the lead section (牵头股室) only, except the scheme, which the task's own sections may
also edit. Reads: every business reader, the discipline group included.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role
from core.errors import error_messages
from core.params import param_int, param_text
from core.pdf import pdf_response, render_pdf
from core.permissions import READERS, role_required
from enterprises.models import CheckMethod, RiskTier

from .. import selectors
from ..forms.plans import (
    PlanFileForm,
    PlanForm,
    RateOverrideForm,
    SamplingRateForm,
    SchemeForm,
    TaskForm,
)
from ..models import Plan, Task
from ..selectors import visits as visit_selectors
from ..services import plans as services

LEAD = Role.LEAD_SECTION


def _form_errors_to(form, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


# --- Plans ---------------------------------------------------------------------------------------


@role_required(*READERS)
def plan_list(request):
    year = param_int(request.GET, "year", maximum=9999)
    plans = selectors.plan_list(year=year)
    years = sorted(set(Plan.objects.values_list("year", flat=True)), reverse=True)
    return render(
        request,
        "inspections/plan_list.html",
        {"plans": plans, "years": years, "year": year, "can_edit": request.user.has_role(LEAD)},
    )


@role_required(LEAD)
def plan_create(request):
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "amendment_reason"}
        try:
            plan = services.plan_create(actor=request.user, **data)
        except ValidationError as exc:
            _form_errors_to(form, exc)
        else:
            messages.success(request, _("已创建抽查计划草稿。"))
            return redirect("inspections:plan_detail", plan.pk)
    return render(request, "inspections/plan_form.html", {"form": form, "plan": None})


@role_required(*READERS)
def plan_detail(request, pk: int):
    plan = get_object_or_404(Plan.objects.select_related("lead_section", "created_by"), pk=pk)
    tasks = selectors.task_list(plan=plan)
    amendments = plan.amendments.select_related("made_by", "task")
    return render(
        request,
        "inspections/plan_detail.html",
        {
            "plan": plan,
            "tasks": tasks,
            "amendments": amendments,
            "can_edit": request.user.has_role(LEAD) and plan.status != Plan.Status.COMPLETED,
            "is_lead": request.user.has_role(LEAD),
        },
    )


@role_required(LEAD)
def plan_update(request, pk: int):
    plan = get_object_or_404(Plan, pk=pk)
    if plan.status == Plan.Status.COMPLETED:
        messages.error(request, _("计划已完成，不能再修改。"))
        return redirect("inspections:plan_detail", plan.pk)
    form = PlanForm(request.POST or None, instance=Plan.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("amendment_reason", "")
        try:
            services.plan_update(actor=request.user, plan=plan, reason=reason, **data)
        except ValidationError as exc:
            _form_errors_to(form, exc)
        else:
            messages.success(
                request, _("已记录计划变更。") if plan.is_frozen else _("已保存计划。")
            )
            return redirect("inspections:plan_detail", plan.pk)
    return render(request, "inspections/plan_form.html", {"form": form, "plan": plan})


@role_required(LEAD)
def plan_file(request, pk: int):
    plan = get_object_or_404(Plan, pk=pk)
    form = PlanFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_file(actor=request.user, plan=plan, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_to(form, exc)
        else:
            messages.success(request, _("计划已备案，内容已冻结；此后修改须记录变更理由。"))
            return redirect("inspections:plan_detail", plan.pk)
    return render(request, "inspections/plan_file.html", {"form": form, "plan": plan})


@role_required(LEAD)
@require_POST
def plan_start(request, pk: int):
    plan = get_object_or_404(Plan, pk=pk)
    try:
        services.plan_start(actor=request.user, plan=plan)
        messages.success(request, _("计划已开始执行。"))
    except ValidationError as exc:
        error_messages(request, exc)
    return redirect("inspections:plan_detail", plan.pk)


@role_required(LEAD)
@require_POST
def plan_complete(request, pk: int):
    plan = get_object_or_404(Plan, pk=pk)
    try:
        services.plan_complete(actor=request.user, plan=plan)
        messages.success(request, _("计划已完成。"))
    except ValidationError as exc:
        error_messages(request, exc)
    return redirect("inspections:plan_detail", plan.pk)


def _plan_pdf_context(plan: Plan) -> dict:
    tasks = list(selectors.task_list(plan=plan).prefetch_related("cooperating_sections"))
    day = plan.filed_on or timezone.localdate()
    rates = selectors.sampling_rates_on(day)
    return {
        "plan": plan,
        "tasks": tasks,
        "rate_rows": [(tier.label, rates.get(tier.value)) for tier in RiskTier],
        "today": timezone.localdate(),
    }


@role_required(*READERS)
def plan_pdf(request, pk: int):
    plan = get_object_or_404(Plan.objects.select_related("lead_section"), pk=pk)
    pdf = render_pdf("inspections/plan_pdf.html", _plan_pdf_context(plan))
    return pdf_response(pdf, f"抽查计划-{plan.year}-{plan.pk}.pdf")


# --- Tasks ---------------------------------------------------------------------------------------


@role_required(*READERS)
def task_list(request):
    q = param_text(request.GET, "q")
    year = param_int(request.GET, "year", maximum=9999)
    tasks = selectors.task_list(q=q, year=year)
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "inspections/task_list.html",
        {"page": page, "q": q, "year": year, "can_edit": request.user.has_role(LEAD)},
    )


@role_required(LEAD)
def task_create(request):
    plan = None
    plan_id = request.GET.get("plan") or request.POST.get("plan")
    if plan_id and str(plan_id).isdigit():
        plan = Plan.objects.filter(pk=plan_id).first()
    form = TaskForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        fields, m2m = form.service_kwargs()
        try:
            task = services.task_create(
                actor=request.user,
                plan=form.cleaned_data.get("plan"),
                reason=form.cleaned_data.get("amendment_reason", ""),
                m2m=m2m,
                **fields,
            )
        except ValidationError as exc:
            _form_errors_to(form, exc)
        else:
            messages.success(request, _("已创建抽查任务 %(number)s。") % {"number": task.number})
            return redirect("inspections:task_detail", task.pk)
    return render(request, "inspections/task_form.html", {"form": form, "task": None, "plan": plan})


def _task(pk: int) -> Task:
    return get_object_or_404(
        Task.objects.select_related("plan", "lead_section", "created_by").prefetch_related(
            "check_items__trades", "trades", "townships", "cooperating_sections", "rate_overrides"
        ),
        pk=pk,
    )


def _task_count_context(task: Task, day) -> dict:
    summary = selectors.task_population_summary(task=task, day=day)
    rates = selectors.task_rates(task=task, day=day)
    counts, count_error = {}, ""
    try:
        counts = services.task_tier_counts(
            populations=summary.by_tier,
            rates={t: r.rate for t, r in rates.items()},
            rounding=task.rounding,
        )
    except ValueError as exc:
        count_error = str(exc)
    rows = [
        {
            "tier": tier,
            "label": RiskTier(tier).label,
            "population": summary.by_tier.get(tier, 0),
            "rate": rates.get(tier),
            "count": counts.get(tier),
        }
        for tier in RiskTier.values
    ]
    return {
        "summary": summary,
        "tier_rows": rows,
        "count_total": sum(counts.values()),
        "count_error": count_error,
        "rounding_rule": services.rounding_rule_text(task.rounding),
        "day": day,
    }


def _draw_links(task: Task) -> dict:
    """Links to the task's draws, when the draws part is installed (its URL names)."""
    try:
        draw_url = reverse("inspections:draw_task", args=[task.pk])
    except NoReverseMatch:
        return {"draw_url": None, "draws": []}
    draws = getattr(task, "draws", None)
    rows = []
    if draws is not None:
        for draw in draws.order_by("attempt"):
            rows.append({"draw": draw, "url": reverse("inspections:draw_detail", args=[draw.pk])})
    return {"draw_url": draw_url, "draws": rows}


@role_required(*READERS)
def task_detail(request, pk: int):
    task = _task(pk)
    day = timezone.localdate()
    context = {
        "task": task,
        "is_lead": request.user.has_role(LEAD),
        "can_edit": request.user.has_role(LEAD)
        and not (task.plan and task.plan.status == Plan.Status.COMPLETED),
        "can_edit_scheme": selectors.can_edit_scheme(request.user, task),
        "has_draws": selectors.task_has_draws(task),
        "excluded": selectors.task_population_excluded(task=task),
        "unrated": selectors.task_population_unrated(task=task, day=day)[:200],
        "override_form": RateOverrideForm(),
        "methods": [CheckMethod(m).label for m in task.methods if m in CheckMethod.values],
        "amendments": task.amendments.select_related("made_by"),
        "filter_lines": selectors.task_filter_lines(task),
        **_draw_links(task),
        **_task_count_context(task, day),
    }
    return render(request, "inspections/task_detail.html", context)


@role_required(LEAD)
def task_update(request, pk: int):
    task = _task(pk)
    if task.plan and task.plan.status == Plan.Status.COMPLETED:
        messages.error(request, _("计划已完成，任务不能再修改。"))
        return redirect("inspections:task_detail", task.pk)
    form = TaskForm(request.POST or None, instance=Task.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        fields, m2m = form.service_kwargs()
        try:
            services.task_update(
                actor=request.user,
                task=task,
                reason=form.cleaned_data.get("amendment_reason", ""),
                m2m=m2m,
                **fields,
            )
        except ValidationError as exc:
            _form_errors_to(form, exc)
        else:
            messages.success(request, _("已保存抽查任务。"))
            return redirect("inspections:task_detail", task.pk)
    return render(
        request, "inspections/task_form.html", {"form": form, "task": task, "plan": task.plan}
    )


@role_required(LEAD)
@require_POST
def task_delete(request, pk: int):
    task = get_object_or_404(Task, pk=pk)
    plan_id = task.plan_id
    try:
        services.task_delete(actor=request.user, task=task)
    except ValidationError as exc:
        error_messages(request, exc)
        return redirect("inspections:task_detail", task.pk)
    messages.success(request, _("已删除抽查任务。"))
    if plan_id:
        return redirect("inspections:plan_detail", plan_id)
    return redirect("inspections:task_list")


@role_required(LEAD)
@require_POST
def task_rate_override(request, pk: int):
    task = get_object_or_404(Task, pk=pk)
    form = RateOverrideForm(request.POST)
    if form.is_valid():
        try:
            services.task_rate_override_set(actor=request.user, task=task, **form.cleaned_data)
        except ValidationError as exc:
            error_messages(request, exc)
        else:
            messages.success(request, _("已设置特别抽查比例。"))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)  # type: ignore[arg-type]  # ErrorList yields text
    return redirect("inspections:task_detail", task.pk)


@role_required(LEAD)
@require_POST
def task_rate_override_remove(request, pk: int, tier: str):
    task = get_object_or_404(Task, pk=pk)
    if tier not in RiskTier.values:
        raise Http404
    try:
        services.task_rate_override_remove(
            actor=request.user, task=task, tier=tier, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        error_messages(request, exc)
    else:
        messages.success(request, _("已恢复默认抽查比例。"))
    return redirect("inspections:task_detail", task.pk)


# --- The inspection scheme (检查方案, art. 6(4)) --------------------------------------------------


def _scheme_context(task: Task) -> dict:
    items = list(task.check_items.all())
    return {
        "task": task,
        "items": items,
        "methods": [CheckMethod(m).label for m in task.methods if m in CheckMethod.values],
        "rounding_rule": services.rounding_rule_text(task.rounding),
        "filter_lines": selectors.task_filter_lines(task),
        "rates": list(selectors.task_rates(task=task, day=timezone.localdate()).values()),
        "today": timezone.localdate(),
        "schedule": visit_selectors.task_scheme_schedule(task=task),
    }


@role_required(*READERS)
def task_scheme(request, pk: int):
    task = _task(pk)
    context = _scheme_context(task)
    context["can_edit_scheme"] = selectors.can_edit_scheme(request.user, task)
    return render(request, "inspections/task_scheme.html", context)


@role_required(*READERS)
def task_scheme_pdf(request, pk: int):
    task = _task(pk)
    pdf = render_pdf("inspections/task_scheme_pdf.html", _scheme_context(task))
    return pdf_response(pdf, f"检查方案-{task.year}-{task.seq}.pdf")


@role_required(LEAD, Role.SECTION_STAFF)
def task_scheme_edit(request, pk: int):
    task = _task(pk)
    if not selectors.can_edit_scheme(request.user, task):
        raise PermissionDenied(_("只有牵头股室和任务的实施股室可以编辑检查方案。"))
    form = SchemeForm(request.POST or None, instance=Task.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        services.task_scheme_update(actor=request.user, task=task, **form.cleaned_data)
        messages.success(request, _("已保存检查方案。"))
        return redirect("inspections:task_scheme", task.pk)
    return render(request, "inspections/task_scheme_form.html", {"form": form, "task": task})


# --- Sampling rates -------------------------------------------------------------------------------


@role_required(*READERS)
def sampling_rates(request):
    today = timezone.localdate()
    current = selectors.sampling_rates_on(today)
    rows = [{"tier": t, "rate": current.get(t.value)} for t in RiskTier]
    form = SamplingRateForm(initial={"effective_from": today})
    return render(
        request,
        "inspections/plan_rates.html",
        {
            "rows": rows,
            "history": selectors.sampling_rate_history(),
            "form": form,
            "can_edit": request.user.has_role(LEAD),
            "today": today,
        },
    )


@role_required(LEAD)
@require_POST
def sampling_rate_set(request):
    form = SamplingRateForm(request.POST)
    if form.is_valid():
        try:
            services.sampling_rate_set(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            error_messages(request, exc)
        else:
            messages.success(request, _("已设置默认抽查比例，原比例保留在历史记录中。"))
    else:
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(
                    request, f"{form.fields[field].label if field in form.fields else ''} {error}"
                )
    return redirect("inspections:sampling_rates")
