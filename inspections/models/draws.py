"""Draws of enterprises and inspector teams (抽取), WGDRAW-1 (docs/draws.md).

A Draw goes committed (名单已冻结: manifests and the secret's hash fixed, no randomness yet) →
completed (已抽取) → optionally voided (已作废, with a reason and a second lead-section member).
Once completed nothing of it changes: the model refuses updates except the one void transition,
the querysets refuse ``update()`` and ``delete()``, and the child rows (witnesses, selections,
team members, replacements, joint visits) are append-only. A post-draw recusal is a new
DrawReplacement row, never an edit of the team.
"""

from django.conf import settings
from django.db import models

from core.append_only import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet
from enterprises.models import ProfessionalQualification, RiskTier

__all__ = [
    "Draw",
    "DrawPopulationNames",
    "DrawReplacement",
    "DrawSelection",
    "DrawTeamMember",
    "DrawWitness",
    "ImmutableError",
    "JointVisit",
]


class ImmutableError(AppendOnlyError):
    """A completed draw (or one of its records) cannot be edited or deleted."""


class DrawRecord(AppendOnlyModel):
    """The records of a draw: witnesses, selections, teams, replacements, merges."""

    append_only_noun = "抽取记录"
    append_only_error = ImmutableError

    class Meta:
        abstract = True


class Draw(models.Model):
    append_only_noun = "抽取记录"
    append_only_error = ImmutableError

    class Status(models.TextChoices):
        COMMITTED = "committed", "名单已冻结（待摇号）"
        COMPLETED = "completed", "已抽取"
        VOIDED = "voided", "已作废"

    class DiceKind(models.TextChoices):
        D6 = "d6", "普通骰子（1–6）"
        D10 = "d10", "十面骰子（0–9）"

    task = models.ForeignKey(
        "inspections.Task", verbose_name="抽查任务", on_delete=models.PROTECT, related_name="draws"
    )
    attempt = models.PositiveSmallIntegerField("第几次抽取", default=1)
    status = models.CharField(
        "状态", max_length=16, choices=Status, default=Status.COMMITTED, db_index=True
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    draw_date = models.DateField("抽取基准日", help_text="风险等级按此日确定")
    window_start = models.DateField("检查开始日期")
    window_end = models.DateField("检查结束日期")
    rounding = models.CharField("取整规则", max_length=16)
    rounding_text = models.CharField("取整规则说明", max_length=200, blank=True)
    inspectors_per_enterprise = models.PositiveSmallIntegerField("每户检查人员数")
    tiers = models.JSONField("各等级总数、比例、抽取数", default=dict)
    rate_sources = models.JSONField("比例来源", default=dict)
    excluded = models.JSONField("不纳入抽取的企业", default=list)
    required_qualifications = models.JSONField("所需专业资质", default=list)
    expert_specialties = models.JSONField("需抽取专家的专业", default=list)
    attributes = models.JSONField("名单属性列", default=list)
    manifest = models.BinaryField("企业名单 manifest.csv")
    manifest_sha256 = models.CharField("企业名单 SHA-256", max_length=64)
    population_count = models.PositiveIntegerField("名单总户数")
    inspectors_manifest = models.BinaryField("人员名单 inspectors.csv")
    inspectors_sha256 = models.CharField("人员名单 SHA-256", max_length=64)
    experts_manifest = models.BinaryField("专家名单 experts.csv")
    experts_sha256 = models.CharField("专家名单 SHA-256", max_length=64)
    secret = models.CharField("服务器随机数", max_length=64, editable=False)
    secret_sha256 = models.CharField("服务器随机数承诺 SHA-256", max_length=64)
    committed_at = models.DateTimeField("冻结时间", auto_now_add=True)
    dice_kind = models.CharField("骰子类型", max_length=4, choices=DiceKind, blank=True)
    dice = models.CharField("骰子数字", max_length=200, blank=True)
    seed_string = models.TextField("种子串 S", blank=True)
    document = models.JSONField("抽取结果 draw.json", null=True, blank=True)
    completed_at = models.DateTimeField("抽取时间", null=True, blank=True)
    # No max_length here: a changed field makes SQLite rebuild the table, which drops the draw's
    # guard triggers (the void form bounds the reason).
    void_reason = models.TextField("作废理由", blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="作废操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    void_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="作废批准人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    # A large draw is performed by a background task (inspections.tasks_draws): the witnesses'
    # inputs are recorded here when the operator submits them, once, and never change.
    perform_request = models.JSONField(
        "后台抽取输入（见证人、骰子）", null=True, blank=True, editable=False
    )
    perform_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="后台抽取提交人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    perform_requested_at = models.DateTimeField("后台抽取提交时间", null=True, blank=True)

    # Only the void and complete transitions below change a draw; never a queryset update.
    objects = AppendOnlyQuerySet.as_manager()

    # Fields the void transition may set; everything else is frozen once completed.
    VOID_FIELDS = frozenset({"status", "void_reason", "voided_by", "void_approver", "voided_at"})
    COMPLETE_FIELDS = frozenset(
        {"status", "dice_kind", "dice", "seed_string", "document", "completed_at"}
    )
    # Set once on a committed draw when its perform step is sent to the background.
    REQUEST_FIELDS = frozenset({"perform_request", "perform_requested_by", "perform_requested_at"})

    class Meta:
        verbose_name = "抽取"
        verbose_name_plural = "抽取"
        ordering = ["-committed_at", "-id"]
        constraints = [
            # Exactly one live draw per task: two people drawing at once cannot both succeed.
            models.UniqueConstraint(
                fields=["task"],
                condition=models.Q(status__in=["committed", "completed"]),
                name="draw_one_live_per_task",
            ),
            models.UniqueConstraint(fields=["task", "attempt"], name="draw_task_attempt_unique"),
            models.CheckConstraint(
                name="draw_void_has_reason_and_second_person",
                condition=~models.Q(status="voided")
                | (
                    ~models.Q(void_reason="")
                    & models.Q(void_approver__isnull=False)
                    & ~models.Q(void_approver=models.F("operator"))
                ),
            ),
            models.CheckConstraint(
                name="draw_completed_has_seed",
                condition=~models.Q(status="completed") | ~models.Q(seed_string=""),
            ),
        ]

    def __str__(self) -> str:
        return f"抽取#{self.pk}（{self.task_id}）"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            original = type(self).objects.get(pk=self.pk)
            changed = self._changed_fields(original)
            allowed = set()
            if original.status == self.Status.COMMITTED:
                if self.status == self.Status.COMPLETED:
                    allowed = self.COMPLETE_FIELDS
                elif self.status == self.Status.VOIDED:
                    allowed = self.VOID_FIELDS
                elif original.perform_requested_at is None:
                    allowed = self.REQUEST_FIELDS
            elif original.status == self.Status.COMPLETED and self.status == self.Status.VOIDED:
                allowed = self.VOID_FIELDS
            if changed - allowed:
                raise ImmutableError(
                    f"已{original.get_status_display()}的抽取不能修改（{', '.join(sorted(changed))}）。"
                )
            kwargs["update_fields"] = sorted(changed) or ["status"]
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("抽取记录不能删除，只能作废。", code="append_only_delete")

    def _changed_fields(self, original) -> set[str]:
        changed = set()
        for f in self._meta.concrete_fields:
            old, new = getattr(original, f.attname), getattr(self, f.attname)
            if isinstance(old, memoryview):
                old = bytes(old)
            if isinstance(new, memoryview):
                new = bytes(new)
            if old != new:
                changed.add(f.name)
        return changed

    @property
    def is_live(self) -> bool:
        return self.status != self.Status.VOIDED

    def required_qualification_labels(self) -> list[str]:
        """The required professional qualifications by their Chinese names, for display."""
        labels = dict(ProfessionalQualification.choices)
        return [labels.get(code, code) for code in self.required_qualifications]


class DrawWitness(DrawRecord):
    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="witnesses")
    order = models.PositiveSmallIntegerField("序号")
    name = models.CharField("见证人", max_length=64)
    organisation = models.CharField("单位/身份", max_length=100, blank=True)

    class Meta:
        verbose_name = "见证人"
        verbose_name_plural = "见证人"
        ordering = ["draw", "order"]

    def __str__(self) -> str:
        return self.name


class DrawSelection(DrawRecord):
    """One selected enterprise: its tier, ticket, and place in the ticket order."""

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="selections")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name="企业", on_delete=models.PROTECT, related_name="+"
    )
    uscc = models.CharField("统一社会信用代码", max_length=18)
    tier = models.CharField("风险等级", max_length=1, choices=RiskTier)
    ticket = models.CharField("号签 SHA-256", max_length=64)
    order = models.PositiveIntegerField("号签顺序")

    class Meta:
        verbose_name = "抽中企业"
        verbose_name_plural = "抽中企业"
        ordering = ["draw", "order"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "enterprise"], name="draw_selection_unique")
        ]

    def __str__(self) -> str:
        return f"{self.uscc} {self.tier}"


class DrawPopulationNames(DrawRecord):
    """The names of the frozen population's enterprises as they were at the freeze (the manifest
    holds codes only), written once with the draw: the public list shows these, so a later
    rename does not change what was drawn and published. Draws frozen before this table existed
    have none (the public list then shows current names, labelled as such)."""

    draw = models.OneToOneField(Draw, on_delete=models.PROTECT, related_name="population_names")
    # JSON {uscc: name}, sorted by code; bytes like the manifests (one blob, cheap at 10^6 rows).
    names = models.BinaryField("冻结时的企业名称 names.json")
    names_sha256 = models.CharField("企业名称 SHA-256", max_length=64)

    class Meta:
        verbose_name = "冻结时的企业名称"
        verbose_name_plural = "冻结时的企业名称"

    def __str__(self) -> str:
        return f"{self.draw_id} names"


class DrawTeamMember(DrawRecord):
    """An inspector drawn for a selected enterprise at the draw (never changed afterwards)."""

    selection = models.ForeignKey(DrawSelection, on_delete=models.PROTECT, related_name="members")
    inspector = models.ForeignKey(
        "inspectors.Inspector", verbose_name="检查人员", on_delete=models.PROTECT, related_name="+"
    )
    staff_number = models.CharField("人员编号", max_length=32)
    position = models.PositiveSmallIntegerField("排序")

    class Meta:
        verbose_name = "抽中检查人员"
        verbose_name_plural = "抽中检查人员"
        ordering = ["selection", "position"]

    def __str__(self) -> str:
        return self.staff_number


class DrawReplacement(DrawRecord):
    """A post-draw recusal: ``out`` leaves, ``into`` (the next in the same ranking) comes in."""

    selection = models.ForeignKey(
        DrawSelection, on_delete=models.PROTECT, related_name="replacements"
    )
    out = models.ForeignKey(
        "inspectors.Inspector", verbose_name="回避人员", on_delete=models.PROTECT, related_name="+"
    )
    into = models.ForeignKey(
        "inspectors.Inspector", verbose_name="替补人员", on_delete=models.PROTECT, related_name="+"
    )
    # No max_length here either (see Draw.void_reason): the request's form and the approvals
    # request bound the reason.
    reason = models.TextField("回避理由")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="批准人", on_delete=models.PROTECT, related_name="+"
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "抽取后回避替补"
        verbose_name_plural = "抽取后回避替补"
        ordering = ["made_at", "id"]
        constraints = [
            models.CheckConstraint(name="replacement_has_reason", condition=~models.Q(reason="")),
            models.CheckConstraint(
                name="replacement_approver_not_operator",
                condition=~models.Q(approver=models.F("made_by")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.out_id} → {self.into_id}"


class JointVisit(DrawRecord):
    """One visit for an enterprise selected by several tasks with overlapping windows (art. 3)."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name="企业", on_delete=models.PROTECT, related_name="+"
    )
    selections = models.ManyToManyField(DrawSelection, verbose_name="合并的抽取", related_name="+")
    base_selection = models.ForeignKey(
        DrawSelection, verbose_name="保留检查组的抽取", on_delete=models.PROTECT, related_name="+"
    )
    team = models.JSONField("合并后检查组（人员编号）", default=list)
    added = models.JSONField("因专业资质增加的人员", default=list)
    missing = models.JSONField("仍缺少的专业资质", default=list)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    merged_at = models.DateTimeField("合并时间", auto_now_add=True)

    class Meta:
        verbose_name = "联合检查（一次抽查、全面体检）"
        verbose_name_plural = "联合检查"
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"联合检查 {self.enterprise_id}"
