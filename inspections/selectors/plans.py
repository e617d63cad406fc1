"""Reads for plans, tasks, sampling rates and a task's population.

The population of a task (抽查对象范围) — the contract other code relies on:

1. **Scope of the items.** An enterprise is in the scope of a check item when it belongs to one
   of the item's trades or holds a licence/filing of one of the item's licence types (a union:
   whether an operator of the trade holds the licence is often what the item checks, so the
   unlicensed must stay in scope). An item with neither trades nor licence types covers every
   enterprise of the bureau. A joint task (several items) covers the union of its items' scopes.
   To draw only from a sub-register (专项库), a directed task filters on the licence type.
2. **Filters (directed tasks only, art. 7).** Enterprise types, scales, trades, townships and
   licence types (sub-registers). An empty filter does not restrict. A non-directed task ignores
   the filters: all supervised enterprises in the items' scope.
3. **Supervised status.** Only enterprises whose registration status is 存续（在业） are
   supervised and drawn. The others in scope are *excluded* and listed with their reason
   (``task_population_excluded``): 注销/吊销/撤销/迁出 are no longer the bureau's objects (the
   result vocabulary has its own categories for them); 停业 enterprises cannot be inspected on
   site and are recorded so the lead section sees them.

Frequency exclusions (same item once a year, the annual cap) depend on earlier draws and are
applied by the draw (``inspections.selectors.draws``), which lists them with this function's
exclusions.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from accounts.roles import Role
from enterprises.models import CheckItem, Enterprise, Licence, RiskTier
from enterprises.selectors import tier_subquery

from ..models import Plan, SamplingRate, Task

# Registered enterprises are supervised, 停业 included (issue 5: "not 注销/吊销/撤销/迁出"): a
# closed shop is still checked, and the visit records 已关闭停业或正在组织清算.
SUPERVISED_STATUSES = (Enterprise.Status.ACTIVE, Enterprise.Status.SUSPENDED)

EXCLUSION_REASONS: dict[str, str] = {
    Enterprise.Status.DEREGISTERED: "注销：已不属于监管对象",
    Enterprise.Status.REVOKED: "吊销：已不属于监管对象",
    Enterprise.Status.CANCELLED: "撤销：已不属于监管对象",
    Enterprise.Status.MOVED_OUT: "迁出：已不属于本局监管对象",
}


@dataclass(frozen=True)
class Excluded:
    enterprise: Enterprise
    code: str
    reason: str


@dataclass(frozen=True)
class RateUsed:
    tier: str
    rate: Decimal
    source: str  # "default" or "override"
    basis: str

    @property
    def label(self) -> str:
        return str(RiskTier(self.tier).label)


# --- Plans and tasks ---------------------------------------------------------------------------


def plan_list(*, year: int | None = None, status: str = "") -> QuerySet[Plan]:
    plans = Plan.objects.select_related("lead_section")
    if year:
        plans = plans.filter(year=year)
    if status:
        plans = plans.filter(status=status)
    return plans


def task_list(*, plan: Plan | None = None, year: int | None = None, q: str = "") -> QuerySet[Task]:
    tasks = Task.objects.select_related("plan", "lead_section").prefetch_related("check_items")
    if plan is not None:
        tasks = tasks.filter(plan=plan)
    if year:
        tasks = tasks.filter(year=year)
    if q:
        tasks = tasks.filter(Q(name__icontains=q) | Q(number__icontains=q))
    return tasks


def in_task_sections(user: User, task: Task) -> bool:
    """Whether ``user`` sits in the section that implements ``task`` or in one of its
    cooperating sections (the scope of a 业务股室 or 股室负责人 over a task's objects)."""
    section_id = getattr(user, "section_id", None)
    if not section_id:
        return False
    return (
        section_id == task.lead_section_id
        or task.cooperating_sections.filter(pk=section_id).exists()
    )


def can_edit_scheme(user: User, task: Task) -> bool:
    """The 检查方案 (art. 6(4)): the lead section, or the staff of the task's sections."""
    if user.is_read_only:
        return False
    if user.has_role(Role.LEAD_SECTION):
        return True
    return user.has_role(Role.SECTION_STAFF) and in_task_sections(user, task)


def task_has_draws(task: Task) -> bool:
    """True once any draw exists for the task (the draws app adds ``Task.draws``)."""
    related = getattr(task, "draws", None)
    return bool(related is not None and task.pk and related.exists())


# --- Population ----------------------------------------------------------------------------------


def _items_scope(items: Iterable[CheckItem]) -> Q | None:
    """Q over Enterprise for the union of the items' scopes; None when there are no items."""
    trade_ids, licence_types, any_item = set(), set(), False
    for item in items:
        any_item = True
        item_trades = {t.pk for t in item.trades.all()}
        item_licences = {lt for lt in (item.licence_types or []) if lt}
        if not item_trades and not item_licences:
            return Q()  # a bureau-wide item: every enterprise
        trade_ids |= item_trades
        licence_types |= item_licences
    if not any_item:
        return None
    # Correlated EXISTS, not ``pk IN (subquery)``: PostgreSQL cannot turn an OR of IN-subqueries
    # into semi-joins, and once the subquery's ids outgrow work_mem (about 10^6 enterprises in
    # a trade) it re-scans them for every enterprise — a draw's population query then ran for
    # hours. EXISTS probes the (enterprise, trade) / licence index once per enterprise.
    scope = Q(pk__in=[])
    if trade_ids:
        through = Enterprise.trades.through.objects.filter(
            enterprise_id=OuterRef("pk"), trade_id__in=sorted(trade_ids)
        )
        scope |= Q(Exists(through))
    if licence_types:
        holders = Licence.objects.filter(
            enterprise_id=OuterRef("pk"), licence_type__in=sorted(licence_types)
        )
        scope |= Q(Exists(holders))
    return scope


def _task_scope(task: Task) -> QuerySet[Enterprise]:
    items = task.check_items.prefetch_related("trades")
    scope = _items_scope(items)
    if scope is None:
        return Enterprise.objects.none()
    enterprises = Enterprise.objects.filter(scope)
    if task.kind == "directed":
        if task.enterprise_types:
            enterprises = enterprises.filter(enterprise_type__in=task.enterprise_types)
        if task.scales:
            enterprises = enterprises.filter(scale__in=task.scales)
        trade_ids = list(task.trades.values_list("pk", flat=True))
        if trade_ids:
            enterprises = enterprises.filter(
                pk__in=Enterprise.trades.through.objects.filter(trade_id__in=trade_ids).values(
                    "enterprise_id"
                )
            )
        township_ids = list(task.townships.values_list("pk", flat=True))
        if township_ids:
            enterprises = enterprises.filter(township_id__in=township_ids)
        if task.licence_types:
            enterprises = enterprises.filter(
                pk__in=Licence.objects.filter(licence_type__in=task.licence_types).values(
                    "enterprise_id"
                )
            )
    return enterprises


def task_population(*, task: Task) -> QuerySet[Enterprise]:
    """The supervised enterprises in the task's scope (see the module docstring)."""
    return _task_scope(task).filter(status__in=SUPERVISED_STATUSES).order_by("uscc")


def task_population_excluded(*, task: Task) -> list[Excluded]:
    """Enterprises in the task's scope that are not drawn, each with its reason."""
    out = []
    for enterprise in _task_scope(task).exclude(status__in=SUPERVISED_STATUSES).order_by("uscc"):
        out.append(
            Excluded(
                enterprise=enterprise,
                code=f"status:{enterprise.status}",
                reason=EXCLUSION_REASONS.get(enterprise.status, enterprise.get_status_display()),
            )
        )
    return out


def with_tier(enterprises: QuerySet[Enterprise], *, day: datetime.date) -> QuerySet[Enterprise]:
    """Annotate ``tier`` (None when unrated on ``day``): the latest assessment effective on or
    before ``day`` (``enterprises.selectors.tier_subquery``)."""
    return enterprises.annotate(tier=tier_subquery(day))


@dataclass(frozen=True)
class PopulationSummary:
    day: datetime.date
    by_tier: dict[str, int]  # counted tiers, unrated ones included when the task says so
    unrated: int  # enterprises with no tier on the day
    unrated_as: str  # "" (blocks the draw) or the tier they count as
    total: int

    @property
    def blocked_by_unrated(self) -> bool:
        return self.unrated > 0 and not self.unrated_as


def task_population_summary(*, task: Task, day: datetime.date) -> PopulationSummary:
    counts = {tier: 0 for tier in RiskTier.values}
    unrated = 0
    # tier: annotated by with_tier, which the plugin does not follow (here and below).
    rows = with_tier(task_population(task=task), day=day).values_list("tier", flat=True)  # type: ignore[misc]
    for tier in rows:
        if tier is None:
            unrated += 1
        else:
            counts[tier] += 1
    if task.unrated_tier and unrated:
        counts[task.unrated_tier] += unrated
    return PopulationSummary(
        day=day,
        by_tier=counts,
        unrated=unrated,
        unrated_as=task.unrated_tier,
        total=sum(counts.values()) + (0 if task.unrated_tier else unrated),
    )


def task_population_unrated(*, task: Task, day: datetime.date) -> QuerySet[Enterprise]:
    return with_tier(task_population(task=task), day=day).filter(tier__isnull=True)  # type: ignore[misc]


# --- Rates ---------------------------------------------------------------------------------------


def sampling_rates_on(day: datetime.date) -> dict[str, SamplingRate]:
    """The bureau-wide default rate of each tier on ``day`` (tiers without one are missing)."""
    out: dict[str, SamplingRate] = {}
    for row in SamplingRate.objects.filter(effective_from__lte=day).order_by(
        "tier", "-effective_from", "-id"
    ):
        out.setdefault(row.tier, row)
    return out


def sampling_rate_history() -> QuerySet[SamplingRate]:
    return SamplingRate.objects.select_related("set_by").order_by("-effective_from", "-id", "tier")


def task_rates(*, task: Task, day: datetime.date) -> dict[str, RateUsed]:
    """The rate of each tier for the task on ``day``: its override (with the legal basis) or the
    bureau default of that day."""
    out = {}
    for tier, row in sampling_rates_on(day).items():
        out[tier] = RateUsed(tier=tier, rate=row.rate, source="default", basis=row.basis)
    for override in task.rate_overrides.all():
        out[override.tier] = RateUsed(
            tier=override.tier, rate=override.rate, source="override", basis=override.legal_basis
        )
    return dict(sorted(out.items()))


def check_item_choices() -> QuerySet[CheckItem]:
    return CheckItem.objects.filter(status=CheckItem.Status.VALID).select_related("section")


def licence_type_choices() -> list[str]:
    """Known licence types: from the register's licences and the items' scopes."""
    names = set(Licence.objects.values_list("licence_type", flat=True).distinct())
    for types in CheckItem.objects.values_list("licence_types", flat=True):
        names.update(t for t in (types or []) if t)
    return sorted(names)


def task_filter_lines(task: Task) -> list[tuple[str, str]]:
    """The directed task's filters in words: [(what, values)]; empty for non-directed tasks."""
    if task.kind != "directed":
        return []
    types = dict(Enterprise.EnterpriseType.choices)
    scales = dict(Enterprise.Scale.choices)
    lines = [
        ("主体类型", "、".join(str(types.get(v, v)) for v in task.enterprise_types)),
        ("规模", "、".join(str(scales.get(v, v)) for v in task.scales)),
        ("行业", "、".join(t.name for t in task.trades.all())),
        ("乡镇/街道", "、".join(t.name for t in task.townships.all())),
        ("许可证/专项库", "、".join(task.licence_types)),
    ]
    return [(label, values) for label, values in lines if values]
