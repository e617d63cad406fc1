"""Changes to plans, tasks and sampling rates. Each function is one transaction with its audit
event; a filed plan changes only through a recorded amendment (PlanAmendment) with a reason."""

from __future__ import annotations

import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Section, User
from accounts.roles import BUSINESS_READERS
from audit.services import audit_record, changes_between, model_snapshot
from core.bounds import bounds_check
from core.pdf import doc_number
from core.uploads import file_store, register_file_purpose
from enterprises.models import RiskTier

from ..models import Plan, PlanAmendment, Rounding, SamplingRate, Task, TaskRateOverride
from ..selectors.plans import can_edit_scheme, task_has_draws

TASK_NUMBER_PREFIX = "舞工信商抽"

# The filing receipt of a plan: a PDF any business reader may open.
FILING_PURPOSE = "plan_filing"
register_file_purpose(
    FILING_PURPOSE, kinds={"pdf"}, can_read=lambda user, stored: user.has_role(*BUSINESS_READERS)
)

ROUNDING_RULES = {
    Rounding.CEIL: "n = ⌈N × 比例⌉（向上取整，N > 0 时每个等级至少抽取 1 户）",
    Rounding.HALF_UP: "n = N × 比例 四舍五入（可能为 0 户）",
}

# Fields that define who can be drawn and how many: frozen once the task has a draw.
DRAW_FIELDS = (
    "kind",
    "window_start",  # the inspectors' eligibility was checked over the window
    "window_end",
    "enterprise_types",
    "scales",
    "licence_types",
    "inspectors_per_enterprise",
    "rounding",
    "unrated_tier",
    "same_item_once_per_year",
    "annual_cap",
)
DRAW_M2M = ("check_items", "trades", "townships")
TASK_M2M = (*DRAW_M2M, "cooperating_sections")


# --- The count rule (art. 8) ---------------------------------------------------------------------


def task_tier_counts(
    *, populations: dict[str, int], rates: dict[str, Decimal], rounding: str = Rounding.CEIL
) -> dict[str, int]:
    """n per tier from N and the rate, in exact decimal arithmetic (never floats).

    ``ceil``: n = ⌈N × rate⌉ for N > 0, so every non-empty tier is inspected at least once.
    ``half_up``: n = N × rate rounded half up (0.5 → 1). n never exceeds N; N = 0 gives 0.
    """
    if rounding not in Rounding.values:
        raise ValueError(f"unknown rounding rule {rounding!r}")
    mode = ROUND_CEILING if rounding == Rounding.CEIL else ROUND_HALF_UP
    out = {}
    with localcontext() as ctx:
        ctx.prec = 50
        for tier, population in populations.items():
            population = int(population)
            if population < 0:
                raise ValueError(f"negative population for tier {tier}")
            if population == 0:
                out[tier] = 0
                continue
            if tier not in rates:
                raise ValueError(f"no sampling rate for tier {tier}")
            rate = rates[tier]
            if not isinstance(rate, Decimal):
                raise TypeError("rates must be Decimal (never float)")
            if not (Decimal(0) < rate <= Decimal(1)):
                raise ValueError(f"rate {rate} for tier {tier} is outside (0, 1]")
            n = int((Decimal(population) * rate).to_integral_value(rounding=mode))
            out[tier] = min(n, population)
    return out


def rounding_rule_text(rounding: str) -> str:
    return ROUNDING_RULES[Rounding(rounding)]


# --- Plans ---------------------------------------------------------------------------------------

PLAN_CONTENT_FIELDS = ("year", "number", "name", "scope", "remarks")


def _lead_section(actor: User) -> Section:
    if actor.section is not None and actor.section.is_lead:
        return actor.section
    lead = Section.objects.filter(is_lead=True).first()
    if lead is None:
        raise ValidationError("系统中尚未设置牵头股室。")
    return lead


def _amend(
    *, plan: Plan, task: Task | None, actor: User, reason: str, changes: dict[str, Any]
) -> PlanAmendment:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("计划已备案，修改须填写变更理由。")
    amendment = PlanAmendment.objects.create(
        plan=plan, task=task, reason=reason, changes=changes, made_by=actor
    )
    audit_record(
        event_type="plan.amend",
        actor=actor,
        obj=plan,
        reason=reason,
        detail={"amendment": amendment.pk, "task": task.pk if task else None, "changes": changes},
    )
    return amendment


def plan_create(
    *, actor: User, year: int, number: str, name: str, scope: str = "", remarks: str = ""
) -> Plan:
    with transaction.atomic():
        plan = Plan.objects.create(
            year=year,
            number=number.strip(),
            name=name.strip(),
            scope=scope,
            remarks=remarks,
            lead_section=_lead_section(actor),
            created_by=actor,
        )
        audit_record(
            event_type="plan.create",
            actor=actor,
            obj=plan,
            detail={"after": model_snapshot(plan, (*PLAN_CONTENT_FIELDS, "lead_section_id"))},
        )
    return plan


def plan_update(*, actor: User, plan: Plan, reason: str = "", **fields: Any) -> Plan:
    """Change the plan's content. A filed plan needs ``reason`` and records an amendment."""
    unknown = set(fields) - set(PLAN_CONTENT_FIELDS)
    if unknown:
        raise ValueError(f"not plan content fields: {sorted(unknown)}")
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.status == Plan.Status.COMPLETED:
            raise ValidationError("计划已完成，不能再修改。")
        before = model_snapshot(plan, PLAN_CONTENT_FIELDS)
        for name, value in fields.items():
            setattr(plan, name, value)
        plan.full_clean()
        plan.save()
        changes = changes_between(before, model_snapshot(plan, PLAN_CONTENT_FIELDS))
        if not changes:
            return plan
        if plan.is_frozen:
            _amend(plan=plan, task=None, actor=actor, reason=reason, changes=changes)
        else:
            audit_record(
                event_type="plan.update", actor=actor, obj=plan, detail={"changes": changes}
            )
    return plan


def plan_file(
    *,
    actor: User,
    plan: Plan,
    filed_on: datetime.date,
    filing_number: str,
    filing_authority: str = "",
    document: Any = None,  # an uploaded file, or None
) -> Plan:
    """Record the filing (备案) with the higher authority: draft → filed. Freezes the content.
    ``document`` (the filing receipt or approval, a PDF) is optional."""
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != Plan.Status.DRAFT:
            raise ValidationError("只有草稿状态的计划可以备案。")
        if not plan.tasks.exists():
            raise ValidationError("计划中还没有抽查任务，不能备案。")
        if not filing_number.strip():
            raise ValidationError("请填写备案文号。")
        if filed_on > timezone.localdate():
            raise ValidationError("备案日期不能晚于今天。")
        plan.status = Plan.Status.FILED
        plan.filed_on = filed_on
        plan.filing_number = filing_number.strip()
        plan.filing_authority = filing_authority.strip()
        if document is not None:
            plan.filing_file = file_store(upload=document, purpose=FILING_PURPOSE, actor=actor)
        plan.save()
        audit_record(
            event_type="plan.file",
            actor=actor,
            obj=plan,
            detail={
                "filed_on": filed_on,
                "filing_number": plan.filing_number,
                "filing_authority": plan.filing_authority,
                "document_sha256": plan.filing_file.sha256 if plan.filing_file else "",
                "tasks": list(plan.tasks.values_list("number", flat=True)),
            },
        )
    return plan


def _transition(*, actor: User, plan: Plan, source: str, target: str, event: str) -> Plan:
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != source:
            raise ValidationError(f"计划当前状态为“{plan.get_status_display()}”，不能执行此操作。")
        plan.status = target
        plan.save(update_fields=["status", "updated_at"])
        audit_record(
            event_type=event, actor=actor, obj=plan, detail={"before": source, "after": target}
        )
    return plan


def plan_start(*, actor: User, plan: Plan) -> Plan:
    return _transition(
        actor=actor,
        plan=plan,
        source=Plan.Status.FILED,
        target=Plan.Status.IN_PROGRESS,
        event="plan.start",
    )


def plan_complete(*, actor: User, plan: Plan) -> Plan:
    return _transition(
        actor=actor,
        plan=plan,
        source=Plan.Status.IN_PROGRESS,
        target=Plan.Status.COMPLETED,
        event="plan.complete",
    )


# --- Tasks ---------------------------------------------------------------------------------------


def task_number(year: int, seq: int) -> str:
    return doc_number(TASK_NUMBER_PREFIX, year, seq)


def _task_snapshot(task: Task) -> dict[str, Any]:
    data = model_snapshot(task)
    for name in ("created_at", "updated_at", "created_by_id"):
        data.pop(name, None)
    data["lead_section"] = str(task.lead_section)
    data.pop("lead_section_id", None)
    for name in TASK_M2M:  # readable names, so an amendment reads as what changed
        data[name] = sorted(str(obj) for obj in getattr(task, name).all())
    return data


def _set_m2m(task: Task, m2m: dict[str, Any]) -> None:
    for name, values in m2m.items():
        if name not in TASK_M2M:
            raise ValueError(f"unknown relation {name}")
        getattr(task, name).set(values)


def _validate_task(task: Task, m2m: dict[str, Any]) -> None:
    task.full_clean(exclude=["year", "seq", "number"])
    items = m2m.get("check_items")
    if items is not None and not list(items):
        raise ValidationError("至少选择一个检查事项。")
    if task.plan and task.window_start.year != task.plan.year:
        raise ValidationError("任务实施时间应在计划年度内。")


def _check_directed(task: Task) -> None:
    if task.kind != "directed":
        return
    if not (
        task.enterprise_types
        or task.scales
        or task.licence_types
        or task.trades.exists()
        or task.townships.exists()
    ):
        raise ValidationError("定向抽查须至少设置一个筛选条件；不设条件请选择不定向抽查。")


def task_create(
    *, actor: User, plan: Plan | None, reason: str = "", m2m: dict[str, Any], **fields: Any
) -> Task:
    """Create a task in ``plan`` (or ad hoc with ``adhoc_reason``); numbered 舞工信商抽〔年〕n号.
    Adding a task to a filed plan is an amendment and needs ``reason``."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                if plan is not None:
                    plan = Plan.objects.select_for_update().get(pk=plan.pk)
                    if plan.status == Plan.Status.COMPLETED:
                        raise ValidationError("计划已完成，不能再增加任务。")
                    fields["adhoc_reason"] = ""
                task = Task(plan=plan, created_by=actor, **fields)
                task.year = plan.year if plan else task.window_start.year
                _validate_task(task, m2m)
                last = Task.objects.filter(year=task.year).aggregate(m=Max("seq"))["m"] or 0
                task.seq = last + 1
                task.number = task_number(task.year, task.seq)
                task.save()
                _set_m2m(task, m2m)
                _check_directed(task)
                after = _task_snapshot(task)
                if plan is not None and plan.is_frozen:
                    _amend(
                        plan=plan,
                        task=task,
                        actor=actor,
                        reason=reason,
                        changes={"task_added": [None, task.number]},
                    )
                audit_record(
                    event_type="task.create", actor=actor, obj=task, detail={"after": after}
                )
            return task
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def task_update(
    *,
    actor: User,
    task: Task,
    reason: str = "",
    m2m: dict[str, Any] | None = None,
    **fields: Any,
) -> Task:
    """Change a task. In a filed plan this is an amendment (``reason``). Once the task has a
    draw, the fields that decide who is drawn and how many are frozen."""
    m2m = m2m or {}
    with transaction.atomic():
        task = Task.objects.select_for_update(of=("self",)).select_related("plan").get(pk=task.pk)
        if task.plan and task.plan.status == Plan.Status.COMPLETED:
            raise ValidationError("计划已完成，任务不能再修改。")
        before = _task_snapshot(task)
        for name, value in fields.items():
            if name in ("plan", "plan_id", "year", "seq", "number", "created_by"):
                raise ValueError(f"{name} cannot be changed")
            setattr(task, name, value)
        _validate_task(task, m2m)
        task.save()
        _set_m2m(task, m2m)
        _check_directed(task)
        after = _task_snapshot(task)
        changes = changes_between(before, after)
        if not changes:
            return task
        if task_has_draws(task):
            frozen = [n for n in (*DRAW_FIELDS, *DRAW_M2M) if n in changes]
            if frozen:
                raise ValidationError("任务已抽取，抽取范围和数量相关内容不能再修改。")
        if task.plan and task.plan.is_frozen:
            _amend(plan=task.plan, task=task, actor=actor, reason=reason, changes=changes)
        audit_record(event_type="task.update", actor=actor, obj=task, detail={"changes": changes})
    return task


def task_scheme_update(
    *, actor: User, task: Task, methods: list[Any], content: str, schedule: str
) -> Task:
    """Edit the inspection scheme (检查方案, art. 6(4)): methods, content and schedule."""
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if not can_edit_scheme(actor, task):
            raise PermissionDenied(
                f"只有牵头股室或任务“{task.number}”的实施股室、配合股室可以修改检查方案。"
            )
        before = model_snapshot(task, ("methods", "content", "schedule"))
        task.methods, task.content, task.schedule = list(methods), content, schedule
        task.save(update_fields=["methods", "content", "schedule", "updated_at"])
        changes = changes_between(before, model_snapshot(task, ("methods", "content", "schedule")))
        if changes:
            audit_record(
                event_type="task.scheme_update", actor=actor, obj=task, detail={"changes": changes}
            )
    return task


def task_delete(*, actor: User, task: Task) -> None:
    with transaction.atomic():
        task = Task.objects.select_for_update(of=("self",)).select_related("plan").get(pk=task.pk)
        if task.plan and task.plan.is_frozen:
            raise ValidationError("计划已备案，任务不能删除。")
        if task_has_draws(task):
            raise ValidationError("任务已抽取，不能删除。")
        snapshot = _task_snapshot(task)
        audit_record(event_type="task.delete", actor=actor, obj=task, detail={"before": snapshot})
        task.rate_overrides.all().delete()
        task.delete()


# --- Sampling rates ------------------------------------------------------------------------------

# The art. 8 defaults (A 1%, B 3%, C 10%, D 20%) are created by migration 0001.


def _check_rate(rate: Any) -> Decimal:
    if not isinstance(rate, Decimal):
        raise TypeError("rates must be Decimal")
    if not (Decimal(0) < rate <= Decimal(1)):
        raise ValidationError("抽查比例应大于0%且不超过100%。")
    return rate


def sampling_rate_set(
    *, actor: User, tier: str, rate: Decimal, effective_from: datetime.date, basis: str
) -> SamplingRate:
    """A new default rate for a tier from a date; the earlier rows stay as history."""
    if tier not in RiskTier.values:
        raise ValidationError("风险等级无效。")
    if not basis.strip():
        raise ValidationError("请填写依据或说明。")
    _check_rate(rate)
    bounds_check(
        SamplingRate(effective_from=effective_from, basis=basis.strip()),
        ["effective_from", "basis"],
    )
    with transaction.atomic():
        previous = (
            SamplingRate.objects.filter(tier=tier, effective_from__lte=effective_from)
            .order_by("-effective_from", "-id")
            .first()
        )
        row = SamplingRate.objects.create(
            tier=tier, rate=rate, effective_from=effective_from, basis=basis.strip(), set_by=actor
        )
        audit_record(
            event_type="sampling_rate.set",
            actor=actor,
            obj=row,
            detail={
                "tier": tier,
                "effective_from": effective_from,
                "before": str(previous.rate) if previous else None,
                "after": str(rate),
                "basis": row.basis,
            },
        )
    return row


def task_rate_override_set(
    *, actor: User, task: Task, tier: str, rate: Decimal, legal_basis: str, reason: str = ""
) -> TaskRateOverride:
    """A task's own rate for a tier, only with the legal basis (art. 8)."""
    if tier not in RiskTier.values:
        raise ValidationError("风险等级无效。")
    legal_basis = (legal_basis or "").strip()
    if not legal_basis:
        raise ValidationError("特别抽查比例必须写明法律法规规章依据。")
    _check_rate(rate)
    bounds_check(TaskRateOverride(legal_basis=legal_basis), ["legal_basis"])
    with transaction.atomic():
        task = Task.objects.select_for_update(of=("self",)).select_related("plan").get(pk=task.pk)
        if task_has_draws(task):
            raise ValidationError("任务已抽取，抽查比例不能再修改。")
        existing = task.rate_overrides.filter(tier=tier).first()
        before = (
            {"rate": str(existing.rate), "legal_basis": existing.legal_basis} if existing else None
        )
        override, _ = TaskRateOverride.objects.update_or_create(
            task=task,
            tier=tier,
            defaults={"rate": rate, "legal_basis": legal_basis, "set_by": actor},
        )
        after = {"rate": str(rate), "legal_basis": legal_basis}
        if task.plan and task.plan.is_frozen:
            _amend(
                plan=task.plan,
                task=task,
                actor=actor,
                reason=reason or legal_basis,
                changes={f"rate_{tier}": [before, after]},
            )
        audit_record(
            event_type="task.rate_override_set",
            actor=actor,
            obj=task,
            detail={"tier": tier, "before": before, "after": after},
        )
    return override


def task_rate_override_remove(*, actor: User, task: Task, tier: str, reason: str = "") -> None:
    with transaction.atomic():
        task = Task.objects.select_for_update(of=("self",)).select_related("plan").get(pk=task.pk)
        if task_has_draws(task):
            raise ValidationError("任务已抽取，抽查比例不能再修改。")
        existing = task.rate_overrides.filter(tier=tier).first()
        if existing is None:
            return
        before = {"rate": str(existing.rate), "legal_basis": existing.legal_basis}
        if task.plan and task.plan.is_frozen:
            _amend(
                plan=task.plan,
                task=task,
                actor=actor,
                reason=reason,
                changes={f"rate_{tier}": [before, None]},
            )
        existing.delete()
        audit_record(
            event_type="task.rate_override_remove",
            actor=actor,
            obj=task,
            detail={"tier": tier, "before": before},
        )
