"""Annual plans (抽查计划), tasks (抽查任务) and sampling rates (抽查比例).

Names other code relies on (docs/contracts.md): Plan, PlanAmendment, Task, SamplingRate,
TaskRateOverride, TaskKind, Rounding.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.bounds import REASON_TEXT, REPORT_TEXT, RULE_TEXT
from enterprises.models import CheckMethod, Enterprise, RiskTier

__all__ = [
    "Plan",
    "PlanAmendment",
    "Rounding",
    "SamplingRate",
    "Task",
    "TaskKind",
    "TaskRateOverride",
]

RATE_VALIDATORS = [
    MinValueValidator(Decimal("0.0001")),
    MaxValueValidator(Decimal("1")),
]


def filing_upload_to(instance, filename: str) -> str:
    """Referenced by migration 0001 (the filing document was a FileField until 0005)."""
    return f"plans/{instance.year}/filing-{instance.pk or 'new'}.pdf"


class Plan(models.Model):
    """An annual spot-check plan, drafted and filed (备案) by the lead section (art. 6(1))."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        FILED = "filed", "已备案"
        IN_PROGRESS = "in_progress", "执行中"
        COMPLETED = "completed", "已完成"

    year = models.PositiveSmallIntegerField(
        "年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    number = models.CharField("计划编号", max_length=64, unique=True)
    name = models.CharField("计划名称", max_length=200)
    lead_section = models.ForeignKey(
        "accounts.Section", verbose_name="牵头股室", on_delete=models.PROTECT, related_name="+"
    )
    scope = models.TextField("抽查范围和比例", max_length=REPORT_TEXT, blank=True)
    remarks = models.TextField("其他说明", max_length=REPORT_TEXT, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status, default=Status.DRAFT)
    filed_on = models.DateField("备案日期", null=True, blank=True)
    filing_number = models.CharField("备案文号", max_length=64, blank=True)
    filing_authority = models.CharField("备案机关", max_length=100, blank=True)
    # Stored like every upload (core.uploads: sniffed, capped, never replaced, permission-checked).
    filing_file = models.ForeignKey(
        "core.StoredFile",
        verbose_name="备案文件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="起草人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "抽查计划"
        verbose_name_plural = "抽查计划"
        ordering = ["-year", "number"]
        constraints = [
            models.CheckConstraint(
                name="plan_filed_has_filing",
                condition=models.Q(status="draft")
                | (models.Q(filed_on__isnull=False) & ~models.Q(filing_number="")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def is_frozen(self) -> bool:
        """Filed (or later) plans change only through a recorded amendment."""
        return self.status != self.Status.DRAFT


class PlanAmendment(models.Model):
    """A recorded change to a filed plan or one of its tasks (计划变更)."""

    plan = models.ForeignKey(
        Plan, verbose_name="计划", on_delete=models.PROTECT, related_name="amendments"
    )
    task = models.ForeignKey(
        "inspections.Task",
        verbose_name="任务",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amendments",
    )
    reason = models.TextField("变更理由", max_length=REASON_TEXT)
    changes = models.JSONField("变更内容", default=dict)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="变更人", on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField("变更时间", auto_now_add=True)

    class Meta:
        verbose_name = "计划变更记录"
        verbose_name_plural = "计划变更记录"
        ordering = ["plan", "made_at", "id"]
        constraints = [
            models.CheckConstraint(name="amendment_has_reason", condition=~models.Q(reason="")),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.made_at:%Y-%m-%d}"

    def change_rows(self) -> list[tuple[str, str, str]]:
        """(what, before, after) in words, for the screen and the PDF."""
        rows = []
        for key, pair in sorted((self.changes or {}).items()):
            before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
            labels = _choice_labels(key)
            rows.append(
                (_change_label(key), _change_value(before, labels), _change_value(after, labels))
            )
        return rows


def _change_label(key: str) -> str:
    if key == "task_added":
        return "新增任务"
    if key.startswith("rate_"):
        return f"{key.removeprefix('rate_')}类特别抽查比例"
    for model in (Plan, Task):
        try:
            # A reverse relation has no verbose_name: AttributeError, caught below.
            return str(model._meta.get_field(key.removesuffix("_id")).verbose_name)  # type: ignore[union-attr]
        except Exception:  # noqa: S112 - not a field of this model
            continue
    return key


def _choice_labels(key: str) -> dict:
    known = {
        "enterprise_types": Enterprise.EnterpriseType,
        "scales": Enterprise.Scale,
        "methods": CheckMethod,
        "kind": TaskKind,
        "rounding": Rounding,
        "unrated_tier": RiskTier,
        "status": Plan.Status,
    }
    choices = known.get(key)
    return dict(choices.choices) if choices else {}


def _change_value(value, labels: dict | None = None) -> str:
    labels = labels or {}
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return "、".join(str(labels.get(v, v)) for v in value)
    if isinstance(value, str) and value in labels:
        return str(labels[value])
    if isinstance(value, dict) and "rate" in value:
        rate = (Decimal(str(value["rate"])) * 100).normalize()
        return f"{format(rate, 'f')}%（依据：{value.get('legal_basis', '')}）"
    if value is True:
        return "是"
    if value is False:
        return "否"
    return str(value)


class TaskKind(models.TextChoices):
    DIRECTED = "directed", "定向"
    NON_DIRECTED = "non_directed", "不定向"


class Rounding(models.TextChoices):
    CEIL = "ceil", "向上取整（每个非空等级至少抽取1户）"
    HALF_UP = "half_up", "四舍五入"


class Task(models.Model):
    """A spot-check task (抽查任务) inside a plan, or ad hoc with a recorded reason.

    ``number`` is in the bureau's style 舞工信商抽〔2026〕1号 (``year`` + ``seq``).
    Filters (directed tasks only) narrow the population computed from the items' trades and
    licence types: see ``inspections.selectors.task_population``.
    """

    plan = models.ForeignKey(
        Plan,
        verbose_name="所属计划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    adhoc_reason = models.TextField(
        "计划外任务理由",
        max_length=REASON_TEXT,
        blank=True,
        help_text="不属于年度计划的任务必须说明理由（如投诉举报、上级交办）",
    )
    year = models.PositiveSmallIntegerField("年度")
    seq = models.PositiveIntegerField("年度序号")
    number = models.CharField("任务编号", max_length=64, unique=True)
    name = models.CharField("任务名称", max_length=200)
    check_items = models.ManyToManyField(
        "enterprises.CheckItem", verbose_name="检查事项", related_name="tasks"
    )
    kind = models.CharField("抽查类型", max_length=16, choices=TaskKind, default=TaskKind.DIRECTED)
    # Filters of a directed task (empty = no restriction on that attribute).
    enterprise_types = models.JSONField("主体类型", default=list, blank=True)
    scales = models.JSONField("规模", default=list, blank=True)
    trades = models.ManyToManyField(
        "enterprises.Trade", verbose_name="行业", blank=True, related_name="+"
    )
    townships = models.ManyToManyField(
        "enterprises.Township", verbose_name="乡镇/街道", blank=True, related_name="+"
    )
    licence_types = models.JSONField("许可证/专项库", default=list, blank=True)
    lead_section = models.ForeignKey(
        "accounts.Section", verbose_name="牵头实施股室", on_delete=models.PROTECT, related_name="+"
    )
    cooperating_sections = models.ManyToManyField(
        "accounts.Section", verbose_name="配合股室", blank=True, related_name="+"
    )
    window_start = models.DateField("实施开始日期")
    window_end = models.DateField("实施结束日期")
    methods = models.JSONField("检查方式", default=list, help_text="CheckMethod 代码列表")
    content = models.TextField(
        "检查内容", max_length=RULE_TEXT, blank=True, help_text="留空时使用检查事项的检查内容"
    )
    schedule = models.TextField(
        "工作安排", max_length=RULE_TEXT, blank=True, help_text="检查方案中的时间和步骤安排"
    )
    inspectors_per_enterprise = models.PositiveSmallIntegerField(
        "每户检查人员数", default=2, validators=[MinValueValidator(2), MaxValueValidator(9)]
    )
    rounding = models.CharField("取整规则", max_length=16, choices=Rounding, default=Rounding.CEIL)
    unrated_tier = models.CharField(
        "未评级企业按",
        max_length=1,
        choices=RiskTier,
        blank=True,
        help_text="留空：存在未评级企业时不得抽取",
    )
    same_item_once_per_year = models.BooleanField("同一事项同一企业每年至多抽查一次", default=True)
    annual_cap = models.PositiveSmallIntegerField(
        "每户每年被本局抽查次数上限", null=True, blank=True
    )
    publish_selected_list = models.BooleanField("公开抽取名单", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "抽查任务"
        verbose_name_plural = "抽查任务"
        ordering = ["-year", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["year", "seq"], name="task_year_seq_unique"),
            models.CheckConstraint(
                name="task_plan_or_reason",
                condition=models.Q(plan__isnull=False) | ~models.Q(adhoc_reason=""),
            ),
            models.CheckConstraint(
                name="task_window_order",
                condition=models.Q(window_end__gte=models.F("window_start")),
            ),
            models.CheckConstraint(
                name="task_two_inspectors", condition=models.Q(inspectors_per_enterprise__gte=2)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def is_adhoc(self) -> bool:
        return self.plan_id is None


class SamplingRate(models.Model):
    """The bureau-wide default rate of a tier from a date (art. 8). Never updated: a change is a
    new row, so the table keeps its history. The rate of a day is the latest row effective on or
    before it."""

    tier = models.CharField("风险等级", max_length=1, choices=RiskTier)
    rate = models.DecimalField(
        "抽查比例", max_digits=5, decimal_places=4, validators=RATE_VALIDATORS
    )
    effective_from = models.DateField("生效日期")
    basis = models.CharField("依据/说明", max_length=255)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    set_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = "默认抽查比例"
        verbose_name_plural = "默认抽查比例"
        ordering = ["tier", "-effective_from", "-id"]
        constraints = [
            models.CheckConstraint(
                name="sampling_rate_range", condition=models.Q(rate__gt=0, rate__lte=1)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier} {self.rate} {self.effective_from}"


class TaskRateOverride(models.Model):
    """A task's own rate for a tier; only with a legal basis (art. 8 法律法规规章有特别规定的)."""

    task = models.ForeignKey(
        Task, verbose_name="任务", on_delete=models.CASCADE, related_name="rate_overrides"
    )
    tier = models.CharField("风险等级", max_length=1, choices=RiskTier)
    rate = models.DecimalField(
        "抽查比例", max_digits=5, decimal_places=4, validators=RATE_VALIDATORS
    )
    legal_basis = models.TextField("法律法规规章依据", max_length=RULE_TEXT)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    set_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = "任务特别抽查比例"
        verbose_name_plural = "任务特别抽查比例"
        ordering = ["task", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["task", "tier"], name="task_rate_override_unique"),
            models.CheckConstraint(
                name="task_rate_override_basis", condition=~models.Q(legal_basis="")
            ),
            models.CheckConstraint(
                name="task_rate_override_range", condition=models.Q(rate__gt=0, rate__lte=1)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.tier} {self.rate}"
