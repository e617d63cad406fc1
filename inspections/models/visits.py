"""Visits (检查), per-item results, evidence, lead transfers, follow-up, review and archive.

Names other code relies on (docs/contracts.md, "Visits"): Visit, VisitMember, VisitSelection,
VisitItemResult, ResultCategory, NonCooperation, VisitEvidence, LeadTransfer, FollowUp,
VisitReview, VisitArchive, VisitArchiveDocument, SignerRole, SigningForm.

A Visit is one enterprise, one team and every item of the tasks that selected it (art. 3, a
JointVisit gives one visit). Its state moves only through ``inspections.services.visits``; every
write bumps ``version`` (optimistic locking: a stale writer is told, never silently overwritten).
Evidence, reviews and archive documents are append-only.
"""

from django.conf import settings
from django.db import models

from core.append_only import AppendOnlyModel
from core.bounds import NOTE_TEXT, REASON_TEXT, REPORT_TEXT
from enterprises.models import CheckMethod

__all__ = [
    "FollowUp",
    "LeadTransfer",
    "NonCooperation",
    "ResultCategory",
    "SignerRole",
    "SigningForm",
    "Visit",
    "VisitArchive",
    "VisitArchiveDocument",
    "VisitEvidence",
    "VisitItemResult",
    "VisitMember",
    "VisitReview",
    "VisitSelection",
]

# Joins labels of result categories, and the sub-reasons inside full-width brackets.
RESULT_JOINER = "；"
SUBREASON_JOINER = "、"


class ResultCategory(models.Model):
    """The provincial platform's vocabulary of check results. ``code`` is stable (exports use
    it); ``label`` is admin-editable. A category with children needs at least one sub-reason."""

    code = models.SlugField("代码", max_length=48, unique=True)
    label = models.CharField("名称", max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级结果（子原因时填写）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    exclusive = models.BooleanField("排他（不能与其他结果同时选择）", default=False)
    is_problem = models.BooleanField("属于发现问题", default=False)
    order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "检查结果类别"
        verbose_name_plural = "检查结果类别"
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label


class SignerRole(models.TextChoices):
    LEGAL_REPRESENTATIVE = "legal_rep", "法定代表人"
    PERSON_IN_CHARGE = "in_charge", "负责人"
    AUTHORISED = "authorised", "授权人"


class SigningForm(models.TextChoices):
    SIGNATURE = "signature", "签名"
    SEAL = "seal", "盖章"
    UNSIGNED = "unsigned", "未签"


class Visit(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "待检查"
        IN_PROGRESS = "in_progress", "检查中"
        SUBMITTED = "submitted", "待审核"
        RETURNED = "returned", "退回"
        APPROVED = "approved", "已审核"
        ARCHIVED = "archived", "已归档"

    EDITABLE = frozenset({Status.SCHEDULED, Status.IN_PROGRESS, Status.RETURNED})
    APPROVED_STATES = frozenset({Status.APPROVED, Status.ARCHIVED})

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name="企业", on_delete=models.PROTECT, related_name="+"
    )
    task = models.ForeignKey(
        "inspections.Task",
        verbose_name="主任务",
        on_delete=models.PROTECT,
        related_name="visits",
        help_text="联合检查时为保留检查组的抽取所属任务",
    )
    tasks = models.ManyToManyField(
        "inspections.Task", verbose_name="涉及任务", related_name="visits_all"
    )
    joint_visit = models.OneToOneField(
        "inspections.JointVisit",
        verbose_name="联合检查",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visit",
    )
    section = models.ForeignKey(
        "accounts.Section", verbose_name="实施股室", on_delete=models.PROTECT, related_name="+"
    )
    check_items = models.ManyToManyField(
        "enterprises.CheckItem", verbose_name="检查事项", related_name="+"
    )
    status = models.CharField(
        "状态", max_length=16, choices=Status, default=Status.SCHEDULED, db_index=True
    )
    window_start = models.DateField("检查时间窗开始")
    window_end = models.DateField("检查时间窗结束")
    planned_on = models.DateField("计划检查日期", null=True, blank=True)
    notice_seq = models.PositiveIntegerField("通知书序号")
    notice_year = models.PositiveSmallIntegerField("通知书年度")
    notice_number = models.CharField("检查通知书文号", max_length=64, unique=True)
    notice_date = models.DateField("通知书日期")
    check_start = models.DateField("检查开始日期", null=True, blank=True)
    check_end = models.DateField(
        "检查结束日期", null=True, blank=True, help_text="公示期限（20个工作日）自此日起算"
    )
    place = models.CharField("检查地点", max_length=255, blank=True)
    summary = models.TextField("核查情况", max_length=REPORT_TEXT, blank=True)
    signer_name = models.CharField("签字人姓名", max_length=64, blank=True)
    signer_role = models.CharField("签字人身份", max_length=16, choices=SignerRole, blank=True)
    signing_form = models.CharField("确认方式", max_length=16, choices=SigningForm, blank=True)
    unsigned_reason = models.TextField("未签原因", max_length=REASON_TEXT, blank=True)
    witness_name = models.CharField("见证人", max_length=64, blank=True)
    witness_detail = models.CharField("见证人单位/身份", max_length=100, blank=True)
    signature = models.ForeignKey(
        "core.StoredFile",
        verbose_name="签名图像",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_page = models.ForeignKey(
        "core.StoredFile",
        verbose_name="签字页照片/扫描件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField("版本", default=1)
    started_at = models.DateTimeField("开始录入时间", null=True, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField("审核通过时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="最后修改人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "检查"
        verbose_name_plural = "检查"
        ordering = ["window_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notice_year", "notice_seq"], name="visit_notice_seq_unique"
            ),
            models.CheckConstraint(
                name="visit_check_dates_order",
                condition=models.Q(check_start__isnull=True)
                | models.Q(check_end__isnull=True)
                | models.Q(check_end__gte=models.F("check_start")),
            ),
            # A draft may hold 未签 before the reason is typed; a submitted record may not.
            models.CheckConstraint(
                name="visit_unsigned_has_reason",
                condition=~models.Q(signing_form="unsigned")
                | ~models.Q(unsigned_reason="")
                | models.Q(status__in=["scheduled", "in_progress", "returned"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notice_number} {self.enterprise_id}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def is_approved(self) -> bool:
        return self.status in self.APPROVED_STATES

    def result_for(self, item):
        item_id = getattr(item, "pk", item)
        return self.results.filter(check_item_id=item_id).first()

    def result_text_for(self, item) -> str:
        """The item's result as the publication platform wants it (see
        ``VisitItemResult.result_text``); "" when not recorded."""
        result = self.result_for(item)
        return result.result_text() if result else ""


class VisitSelection(models.Model):
    """Which draw selection(s) a visit comes from. A selection gets one visit, ever (the unique
    constraint is what makes creating visits twice harmless)."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="visit_selections")
    selection = models.OneToOneField(
        "inspections.DrawSelection",
        verbose_name="抽中企业",
        on_delete=models.PROTECT,
        related_name="visit_link",
    )

    class Meta:
        verbose_name = "检查来源抽取"
        verbose_name_plural = "检查来源抽取"

    def __str__(self) -> str:
        return f"{self.visit_id} ← {self.selection_id}"


class VisitMember(models.Model):
    """A team member (the drawn team with post-draw replacements applied), with what was
    recorded on site: present or not, and the certificate number as shown (art. 10)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="members")
    inspector = models.ForeignKey(
        "inspectors.Inspector", verbose_name="检查人员", on_delete=models.PROTECT, related_name="+"
    )
    staff_number = models.CharField("人员编号", max_length=32)
    position = models.PositiveSmallIntegerField("排序")
    present = models.BooleanField("到场", default=False)
    certificate_number = models.CharField("出示的执法证号", max_length=64, blank=True)

    class Meta:
        verbose_name = "检查组成员"
        verbose_name_plural = "检查组成员"
        ordering = ["visit", "position"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "inspector"], name="visit_member_unique")
        ]

    def __str__(self) -> str:
        return self.staff_number


class VisitItemResult(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="results")
    check_item = models.ForeignKey(
        "enterprises.CheckItem", verbose_name="检查事项", on_delete=models.PROTECT, related_name="+"
    )
    order = models.PositiveSmallIntegerField("排序", default=0)
    method = models.CharField("实际检查方式", max_length=16, choices=CheckMethod, blank=True)
    checked = models.TextField("检查内容（实际检查了什么）", max_length=NOTE_TEXT, blank=True)
    finding = models.TextField("检查发现", max_length=NOTE_TEXT, blank=True)
    categories = models.ManyToManyField(
        ResultCategory, verbose_name="检查结果", blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "检查事项结果"
        verbose_name_plural = "检查事项结果"
        ordering = ["visit", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "check_item"], name="visit_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.visit_id}/{self.check_item_id}"

    def result_text(self, categories=None) -> str:
        """Labels joined with "；"; sub-reasons inside full-width brackets after their parent:
        发现问题待后续处理（未按规定公示应当公示的信息）."""
        chosen = list(categories if categories is not None else self.categories.all())
        return result_text(chosen)


def result_text(categories) -> str:
    chosen = sorted(categories, key=lambda c: (c.order, c.code))
    parents = [c for c in chosen if c.parent_id is None]
    children: dict[int, list] = {}
    for c in chosen:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    parts = []
    seen = {p.pk for p in parents}
    for parent in parents:
        subs = children.get(parent.pk, [])
        text = parent.label
        if subs:
            text += "（" + SUBREASON_JOINER.join(s.label for s in subs) + "）"
        parts.append(text)
    for parent_id, subs in children.items():  # a sub-reason whose parent was not stored
        if parent_id not in seen:
            parent = subs[0].parent
            parts.append(f"{parent.label}（{SUBREASON_JOINER.join(s.label for s in subs)}）")
    return RESULT_JOINER.join(parts)


class NonCooperation(models.Model):
    """Serious non-cooperation (不配合检查情节严重, art. 12): the case, what happened, evidence."""

    class Case(models.TextChoices):
        REFUSED_ENTRY = "refused_entry", "拒绝检查人员或其委托的专业机构进入被检查场所"
        REFUSED_MATERIALS = "refused_materials", "拒绝提供相关材料"
        UNTRUE_MATERIALS = "untrue_materials", "不如实或不按要求提供情况或相关材料"
        OTHER_OBSTRUCTION = "other", "其他阻挠、妨碍抽查工作致使无法正常进行"

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="non_cooperations")
    case = models.CharField("情形", max_length=24, choices=Case)
    occurred_on = models.DateField("发生日期")
    description = models.TextField("经过", max_length=NOTE_TEXT)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "不配合检查情节严重记录"
        verbose_name_plural = "不配合检查情节严重记录"
        ordering = ["visit", "recorded_at", "id"]

    def __str__(self) -> str:
        return self.get_case_display()


class VisitEvidence(AppendOnlyModel):
    """An evidence file of a visit. Never replaced: a new version is a new row whose file
    ``supersedes`` the old one (core.uploads)."""

    append_only_noun = "检查证据"

    class Kind(models.TextChoices):
        PHOTO = "photo", "现场照片"
        DOCUMENT = "document", "书证材料"
        AUDIO = "audio", "录音"
        SIGNATURE = "signature", "电子签名"
        SIGNED_PAGE = "signed_page", "签字页"
        NON_COOPERATION = "non_cooperation", "不配合检查证据"
        PENALTY = "penalty", "行政处罚决定书"
        OTHER = "other", "其他"

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField("类型", max_length=24, choices=Kind)
    description = models.CharField("说明", max_length=200, blank=True)
    file = models.OneToOneField(
        "core.StoredFile", verbose_name="文件", on_delete=models.PROTECT, related_name="+"
    )
    non_cooperation = models.ForeignKey(
        NonCooperation,
        verbose_name="所证明的不配合情形",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "检查证据"
        verbose_name_plural = "检查证据"
        ordering = ["visit", "added_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_id}"


class LeadTransfer(models.Model):
    """A lead found during the check, transferred to the competent department (art. 11)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "待移送"
        SENT = "sent", "已移送"
        REPLIED = "replied", "已回复"
        CLOSED = "closed", "已办结"

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="transfers")
    department = models.CharField("接收部门", max_length=100)
    content = models.TextField("移送内容", max_length=NOTE_TEXT)
    sent_on = models.DateField("移送日期", null=True, blank=True)
    receipt = models.TextField("回执/回复情况", max_length=NOTE_TEXT, blank=True)
    replied_on = models.DateField("回复日期", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "线索移送"
        verbose_name_plural = "线索移送"
        ordering = ["visit", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="transfer_sent_has_date",
                condition=models.Q(status="draft") | models.Q(sent_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.get_status_display()}"


class FollowUp(models.Model):
    """A follow-up measure (后续处置, art. 16). 无需后续处置 is closed as soon as it is chosen."""

    class Measure(models.TextChoices):
        NONE = "none", "无需后续处置"
        STOP_AND_REPORT = "stop_report", "停止检查反馈日常监管部门"
        ORDER_CORRECTION = "order_correction", "责令（限期）改正"
        CASE_TRANSFER = "case_transfer", "移送办案机构"
        NOTIFY_OTHER = "notify_other", "抄告其他部门"
        OTHER = "other", "其他"

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="follow_ups")
    measure = models.CharField("处置措施", max_length=24, choices=Measure)
    detail = models.TextField("措施说明", max_length=NOTE_TEXT, blank=True)
    due_on = models.DateField("期限", null=True, blank=True)
    outcome = models.TextField("处置结果", max_length=NOTE_TEXT, blank=True)
    closed = models.BooleanField("已办结", default=False)
    closed_on = models.DateField("办结日期", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "后续处置"
        verbose_name_plural = "后续处置"
        ordering = ["visit", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="follow_up_closed_has_date",
                condition=models.Q(closed=False) | models.Q(closed_on__isnull=False),
            ),
            models.CheckConstraint(
                name="follow_up_none_is_closed",
                condition=~models.Q(measure="none") | models.Q(closed=True),
            ),
        ]

    def __str__(self) -> str:
        return self.get_measure_display()


class VisitReview(AppendOnlyModel):
    """One review decision by the section head (股室负责人); history of returns kept."""

    append_only_noun = "审核记录"

    class Decision(models.TextChoices):
        APPROVE = "approve", "审核通过"
        RETURN = "return", "退回"

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField("审核意见", max_length=16, choices=Decision)
    reason = models.TextField("理由/意见", max_length=REASON_TEXT, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", auto_now_add=True)
    visit_version = models.PositiveIntegerField("审核时的版本")

    class Meta:
        verbose_name = "审核记录"
        verbose_name_plural = "审核记录"
        ordering = ["visit", "reviewed_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="review_return_has_reason",
                condition=~models.Q(decision="return") | ~models.Q(reason=""),
            ),
        ]

    def __str__(self) -> str:
        return self.get_decision_display()


class VisitArchive(AppendOnlyModel):
    """The archive (卷宗, art. 13) of an approved visit: its number and, in
    VisitArchiveDocument, the document list. ``snapshot`` freezes the record as approved."""

    append_only_noun = "归档卷宗"

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="archive")
    year = models.PositiveSmallIntegerField("年度")
    seq = models.PositiveIntegerField("年度序号")
    number = models.CharField("卷宗号", max_length=64, unique=True)
    snapshot = models.JSONField("归档时的检查记录")
    snapshot_sha256 = models.CharField("记录 SHA-256", max_length=64)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="归档人", on_delete=models.PROTECT, related_name="+"
    )
    archived_at = models.DateTimeField("归档时间", auto_now_add=True)

    class Meta:
        verbose_name = "检查卷宗"
        verbose_name_plural = "检查卷宗"
        ordering = ["-year", "-seq"]
        constraints = [
            models.UniqueConstraint(fields=["year", "seq"], name="visit_archive_seq_unique")
        ]

    def __str__(self) -> str:
        return self.number


class VisitArchiveDocument(AppendOnlyModel):
    """One document of an archive, in order. Documents added later (a penalty decision, a
    correction) are new rows; nothing is replaced."""

    append_only_noun = "卷宗文件"

    archive = models.ForeignKey(VisitArchive, on_delete=models.PROTECT, related_name="documents")
    order = models.PositiveSmallIntegerField("序号")
    title = models.CharField("文件名称", max_length=200)
    file = models.ForeignKey(
        "core.StoredFile", verbose_name="文件", on_delete=models.PROTECT, related_name="+"
    )
    pages = models.PositiveIntegerField("页数", null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="归档人", on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField("归档时间", auto_now_add=True)

    class Meta:
        verbose_name = "卷宗文件"
        verbose_name_plural = "卷宗文件"
        ordering = ["archive", "order"]
        constraints = [
            models.UniqueConstraint(fields=["archive", "order"], name="archive_document_order")
        ]

    def __str__(self) -> str:
        return self.title
