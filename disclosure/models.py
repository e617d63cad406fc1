"""Publication of inspection results (art. 6(6), 15, 17): docs/disclosure.md.

- ``PublicationRecord``: one per approved result (one enterprise × one check item of a visit),
  with its 20-working-day deadline, the calendar revision used, the status on the credit
  platform and the deadline alert the daily scan has reached. The export fields are a snapshot
  taken at approval (archived material is never edited in place).
- ``PublicationVersion``: the result text of a record. Version 1 is the approved result; every
  correction (更正, art. 17) is a further version with its reason and approver. All versions
  stay; the record points at its current version and at the version the platform published.
- ``ExportBatch`` / ``ExportBatchItem``: a file sent to the 公示系统协同监管平台 (xlsx + JSON),
  who, when, which records and versions, the files' SHA-256.
- ``FeedbackImport``: the platform's answer (accepted / rejected rows with errors).
- ``Objection``: an enterprise's 异议 to a published result and its 复查.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.bounds import REASON_TEXT, REPORT_TEXT

__all__ = [
    "ExportBatch",
    "ExportBatchItem",
    "FeedbackImport",
    "Objection",
    "PublicationRecord",
    "PublicationVersion",
]


class PublicationRecord(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待报送"
        SENT = "sent", "已报送"
        PUBLISHED = "published", "已公示"
        REJECTED = "rejected", "被退回"

    class Alert(models.TextChoices):
        NONE = "", "—"
        REMINDER = "reminder", "临近期限"
        DUE_TODAY = "due_today", "今日到期"
        OVERDUE = "overdue", "已逾期"

    # The source result (G's inspections.VisitItemResult); kept as ids so an archived record
    # never depends on later edits of the working tables.
    visit_id = models.PositiveBigIntegerField("检查记录ID", db_index=True)
    result_id = models.PositiveBigIntegerField("检查结果ID", unique=True)
    task = models.ForeignKey(
        "inspections.Task", verbose_name="抽查任务", on_delete=models.PROTECT, related_name="+"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name="企业", on_delete=models.PROTECT, related_name="+"
    )
    section = models.ForeignKey(
        "accounts.Section",
        verbose_name="责任股室",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="检查人员", blank=True, related_name="+"
    )
    # Snapshot of the platform's fields at approval.
    plan_number = models.CharField("抽查计划编号", max_length=64, blank=True)
    plan_name = models.CharField("抽查计划名称", max_length=200, blank=True)
    task_number = models.CharField("抽查任务编号", max_length=64)
    task_name = models.CharField("抽查任务名称", max_length=200)
    task_kind = models.CharField("抽查类型", max_length=16)
    uscc = models.CharField("统一社会信用代码", max_length=18, db_index=True)
    enterprise_name = models.CharField("企业名称", max_length=200, db_index=True)
    check_item = models.CharField("检查事项", max_length=200)
    check_end = models.DateField("抽查完成日期")

    deadline = models.DateField("公示期限", null=True, blank=True, db_index=True)
    deadline_pending_year = models.PositiveSmallIntegerField(
        "期限待定（缺少年份）", null=True, blank=True
    )
    calendar_revision = models.ForeignKey(
        "workdays.CalendarYear",
        verbose_name="所用日历版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        "公示状态", max_length=12, choices=Status, default=Status.PENDING, db_index=True
    )
    current_version = models.ForeignKey(
        "PublicationVersion",
        verbose_name="当前版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_version = models.ForeignKey(
        "PublicationVersion",
        verbose_name="已公示版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_batch = models.ForeignKey(
        "ExportBatch",
        verbose_name="最近报送批次",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField("报送时间", null=True, blank=True)
    first_published_on = models.DateField("首次公示日期", null=True, blank=True)
    published_on = models.DateField("公示日期", null=True, blank=True)
    rejection_error = models.TextField("退回原因", blank=True)
    alert = models.CharField("期限提醒", max_length=10, choices=Alert, blank=True, default="")
    approved_at = models.DateTimeField("审核通过时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "公示记录"
        verbose_name_plural = "公示记录"
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["status", "deadline"], name="pubrec_status_deadline"),
            # The few records not yet published, by task: the reports' "overdue" count.
            models.Index(
                fields=["task", "deadline"],
                condition=Q(first_published_on__isnull=True),
                name="pubrec_open_task_deadline",
            ),
            # The deadline page's groupings (by section, inspector, month) read only these
            # columns of the records whose check ended in the period: an index-only scan of this
            # narrow index instead of the wide table (PostgreSQL; elsewhere a plain index).
            models.Index(
                fields=["check_end"],
                include=["deadline", "first_published_on", "section", "task", "id"],
                name="pubrec_check_end_deadlines",
            ),
            # The deadline page's list of open records, earliest deadline first: read in index
            # order, stopping after a page, instead of sorting every open record.
            models.Index(
                fields=["deadline", "id"],
                condition=Q(first_published_on__isnull=True),
                name="pubrec_open_deadline",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="pubrec_deadline_or_pending",
                condition=Q(deadline__isnull=False) | Q(deadline_pending_year__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_number} {self.enterprise_name} {self.check_item}"

    @property
    def deadline_label(self) -> str:
        if self.deadline:
            return self.deadline.isoformat()
        return f"待定（{self.deadline_pending_year}年节假日安排未发布）"

    @property
    def is_open(self) -> bool:
        """Not yet published for the first time: the deadline still runs."""
        return self.first_published_on is None

    @property
    def on_time(self) -> bool | None:
        """True/False once published (or overdue), None while it can still be on time."""
        if self.first_published_on and self.deadline:
            return self.first_published_on <= self.deadline
        return None


class PublicationVersion(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "待审批"
        APPROVED = "approved", "已生效"
        REJECTED = "rejected", "未批准"

    record = models.ForeignKey(
        PublicationRecord,
        verbose_name="公示记录",
        on_delete=models.PROTECT,
        related_name="versions",
    )
    number = models.PositiveSmallIntegerField("版本号")
    status = models.CharField("状态", max_length=10, choices=Status, default=Status.APPROVED)
    result_text = models.CharField("检查结果", max_length=500)
    is_correction = models.BooleanField("更正", default=False)
    reason = models.TextField("更正原因", max_length=REASON_TEXT, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    objection = models.ForeignKey(
        "Objection",
        verbose_name="来源异议",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "公示结果版本"
        verbose_name_plural = "公示结果版本"
        ordering = ["record", "number"]
        constraints = [
            models.UniqueConstraint(fields=["record", "number"], name="pubversion_unique"),
            models.CheckConstraint(
                name="pubversion_correction_has_reason",
                condition=Q(is_correction=False) | ~Q(reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} v{self.number}"

    @property
    def remark(self) -> str:
        """备注 of the export: 更正 + reason for a correction."""
        return f"更正：{self.reason}" if self.is_correction else ""


class ExportBatch(models.Model):
    class Status(models.TextChoices):
        BUILDING = "building", "生成中"
        DONE = "done", "已生成"
        FAILED = "failed", "失败"

    number = models.CharField("批次号", max_length=32, unique=True)
    status = models.CharField("状态", max_length=10, choices=Status, default=Status.BUILDING)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    row_count = models.PositiveIntegerField("行数", default=0)
    correction_count = models.PositiveIntegerField("更正行数", default=0)
    since = models.DateField("完成日期起", null=True, blank=True)
    xlsx_file = models.ForeignKey(
        "core.StoredFile",
        verbose_name="xlsx 文件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    json_file = models.ForeignKey(
        "core.StoredFile",
        verbose_name="JSON 文件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    xlsx_sha256 = models.CharField("xlsx SHA-256", max_length=64, blank=True)
    json_sha256 = models.CharField("JSON SHA-256", max_length=64, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报送人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "报送批次"
        verbose_name_plural = "报送批次"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class ExportBatchItem(models.Model):
    class Outcome(models.TextChoices):
        WAITING = "", "待反馈"
        ACCEPTED = "accepted", "已接收"
        REJECTED = "rejected", "被退回"

    batch = models.ForeignKey(
        ExportBatch, verbose_name="批次", on_delete=models.PROTECT, related_name="items"
    )
    record = models.ForeignKey(
        PublicationRecord, verbose_name="公示记录", on_delete=models.PROTECT, related_name="items"
    )
    version = models.ForeignKey(
        PublicationVersion, verbose_name="版本", on_delete=models.PROTECT, related_name="+"
    )
    row = models.PositiveIntegerField("行号")  # Excel row number (header = 1)
    outcome = models.CharField("反馈", max_length=10, choices=Outcome, blank=True, default="")
    error = models.TextField("错误信息", blank=True)

    class Meta:
        verbose_name = "报送明细"
        verbose_name_plural = "报送明细"
        ordering = ["batch", "row"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "record"], name="batchitem_once"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.row}"


class FeedbackImport(models.Model):
    batch = models.ForeignKey(
        ExportBatch,
        verbose_name="批次",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
    )
    file = models.ForeignKey(
        "core.StoredFile", verbose_name="反馈文件", on_delete=models.PROTECT, related_name="+"
    )
    accepted = models.PositiveIntegerField("接收", default=0)
    rejected = models.PositiveIntegerField("退回", default=0)
    unmatched = models.JSONField("未匹配的行", default=list, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "平台反馈"
        verbose_name_plural = "平台反馈"
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.imported_at:%Y-%m-%d %H:%M}"


class Objection(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "已受理"
        RECHECKED = "rechecked", "已复查"

    record = models.ForeignKey(
        PublicationRecord,
        verbose_name="公示记录",
        on_delete=models.PROTECT,
        related_name="objections",
    )
    received_on = models.DateField("收到日期")
    content = models.TextField("异议内容", max_length=REPORT_TEXT)
    status = models.CharField("状态", max_length=10, choices=Status, default=Status.RECEIVED)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    recheck_on = models.DateField("复查日期", null=True, blank=True)
    recheck_result = models.TextField("复查结论", max_length=REPORT_TEXT, blank=True)
    changes_result = models.BooleanField("复查改变结果", default=False)
    recheck_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复查人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "异议"
        verbose_name_plural = "异议"
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return f"{self.record} {self.received_on}"
