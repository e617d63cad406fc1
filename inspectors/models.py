"""The inspector roster (执法检查人员名录库, art. 5) and the expert / agency roster (art. 9).

Other apps rely on these names: Inspector (staff_number, name, user, section, id_number,
is_expert, can_lead, check_items, trades, professional_qualifications, max_checks_per_task,
max_checks_per_year), StatusPeriod, Certificate, Training, Recusal, Expert, Agency (code).
Eligibility is computed in ``inspectors.selectors``; nothing here is deleted by the UI.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.append_only import append_only_refusal
from core.bounds import NOTE_TEXT
from enterprises.models import ProfessionalQualification, group_name_normalise

from . import crypto


class Inspector(models.Model):
    """A certified law-enforcement officer of the bureau."""

    staff_number = models.CharField(
        "人员编号", max_length=32, unique=True, help_text="抽取按人员编号排序后随机"
    )
    name = models.CharField("姓名", max_length=64)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="登录账户",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspector",
    )
    section = models.ForeignKey(
        "accounts.Section", verbose_name="所在股室", on_delete=models.PROTECT, related_name="+"
    )
    # Fernet token; read and write through ``id_number`` (never logged, masked on screen).
    id_number_encrypted = models.TextField("身份证号（密文）", blank=True, editable=False)
    id_number_digest = models.CharField(
        "身份证号摘要", max_length=64, blank=True, editable=False, db_index=True
    )
    mobile = models.CharField("手机号", max_length=20, blank=True)
    position = models.CharField("职务/岗位", max_length=64, blank=True)
    joined_on = models.DateField("从事执法工作日期", null=True, blank=True)
    check_items = models.ManyToManyField(
        "enterprises.CheckItem", verbose_name="可检查事项", blank=True, related_name="+"
    )
    trades = models.ManyToManyField(
        "enterprises.Trade", verbose_name="可检查行业", blank=True, related_name="+"
    )
    professional_qualifications = models.JSONField(
        "专业资质", default=list, blank=True, help_text="ProfessionalQualification 代码列表"
    )
    is_expert = models.BooleanField("业务专家", default=False)
    can_lead = models.BooleanField("可任检查组长", default=False)
    max_checks_per_task = models.PositiveSmallIntegerField(
        "单个任务最多检查户数", null=True, blank=True, help_text="留空则用系统默认值"
    )
    max_checks_per_year = models.PositiveSmallIntegerField(
        "每年最多检查户数", null=True, blank=True, help_text="留空则用系统默认值"
    )
    remarks = models.TextField("备注", max_length=NOTE_TEXT, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "执法检查人员"
        verbose_name_plural = "执法检查人员名录库"
        ordering = ["staff_number"]

    def __str__(self) -> str:
        return f"{self.name}（{self.staff_number}）"

    @property
    def id_number(self) -> str:
        if not hasattr(self, "_id_number"):
            self._id_number = crypto.decrypt(self.id_number_encrypted)
        return self._id_number

    @id_number.setter
    def id_number(self, value: str) -> None:
        value = (value or "").strip().upper()
        self._id_number = value
        self.id_number_encrypted = crypto.encrypt(value)
        self.id_number_digest = crypto.digest(value)

    @property
    def id_number_masked(self) -> str:
        return crypto.mask_id_number(self.id_number)

    @property
    def task_limit(self) -> int:
        return self.max_checks_per_task or settings.INSPECTOR_MAX_CHECKS_PER_TASK

    @property
    def year_limit(self) -> int:
        return self.max_checks_per_year or settings.INSPECTOR_MAX_CHECKS_PER_YEAR

    def professional_qualification_labels(self) -> list[str]:
        labels = dict(ProfessionalQualification.choices)
        return [labels.get(code, code) for code in self.professional_qualifications]


class StatusPeriod(models.Model):
    """A dated period off the active roster. 在岗 is the absence of any period on a day.

    休假 has an end date; 停职 may be open (ended later); 调离 and 退休 are open-ended.
    """

    class Status(models.TextChoices):
        LEAVE = "leave", "休假"
        SUSPENDED = "suspended", "停职"
        TRANSFERRED = "transferred", "调离"
        RETIRED = "retired", "退休"

    inspector = models.ForeignKey(
        Inspector, verbose_name="人员", on_delete=models.PROTECT, related_name="status_periods"
    )
    status = models.CharField("状态", max_length=16, choices=Status)
    start = models.DateField("开始日期")
    end = models.DateField("结束日期", null=True, blank=True, help_text="含当日；留空表示持续")
    reason = models.CharField("事由", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "人员状态"
        verbose_name_plural = "人员状态"
        ordering = ["inspector", "-start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="status_period_end_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status="leave") | Q(end__isnull=False), name="leave_has_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.period_text()}"

    def period_text(self) -> str:
        return (
            f"{self.start:%Y-%m-%d}至{self.end:%Y-%m-%d}"
            if self.end
            else f"{self.start:%Y-%m-%d}起"
        )

    def covers(self, day) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, start, end) -> bool:
        return self.start <= end and (self.end is None or self.end >= start)


class Certificate(models.Model):
    """An enforcement certificate (执法证). Valid from issue through expiry, both inclusive."""

    inspector = models.ForeignKey(
        Inspector, verbose_name="人员", on_delete=models.PROTECT, related_name="certificates"
    )
    cert_type = models.CharField("证件类型", max_length=64, default="河南省行政执法证")
    number = models.CharField("证号", max_length=64)
    issued_on = models.DateField("发证日期")
    expires_on = models.DateField("有效期至")
    issuer = models.CharField("发证机关", max_length=100, blank=True, default="河南省人民政府")
    revoked_on = models.DateField(
        "注销/收回日期", null=True, blank=True, help_text="证件被收回时填写；当日起失效"
    )

    class Meta:
        verbose_name = "执法证"
        verbose_name_plural = "执法证"
        ordering = ["inspector", "-expires_on"]
        constraints = [
            models.UniqueConstraint(fields=["cert_type", "number"], name="certificate_unique"),
            models.CheckConstraint(
                condition=Q(expires_on__gte=models.F("issued_on")), name="certificate_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cert_type} {self.number}"

    def valid_through(self):
        """The last day the certificate is valid."""
        if self.revoked_on and self.revoked_on <= self.expires_on:
            return self.revoked_on - timedelta(days=1)
        return self.expires_on

    def covers(self, start, end) -> bool:
        return self.issued_on <= start and end <= self.valid_through()


class Training(models.Model):
    """A training record (能力培训, art. 5)."""

    inspector = models.ForeignKey(
        Inspector, verbose_name="人员", on_delete=models.PROTECT, related_name="trainings"
    )
    course = models.CharField("培训内容", max_length=200)
    held_on = models.DateField("培训日期")
    hours = models.DecimalField("学时", max_digits=5, decimal_places=1)
    provider = models.CharField("培训机构", max_length=100, blank=True)
    certificate = models.CharField("结业证书编号", max_length=64, blank=True)

    class Meta:
        verbose_name = "培训记录"
        verbose_name_plural = "培训记录"
        ordering = ["-held_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="training_hours")]

    def __str__(self) -> str:
        return f"{self.held_on} {self.course}"


class Expert(models.Model):
    """A professional (专业技术人员) who may be drawn or assigned for specialised items."""

    code = models.CharField("编号", max_length=32, unique=True, help_text="抽取按编号排序后随机")
    name = models.CharField("姓名", max_length=64)
    organisation = models.CharField("工作单位", max_length=200)
    field = models.CharField("专业领域", max_length=100)
    qualification = models.CharField("职称/资格", max_length=200, blank=True)
    professional_qualifications = models.JSONField("专业资质", default=list, blank=True)
    contact = models.CharField("联系方式", max_length=64, blank=True)
    valid_from = models.DateField("入库日期")
    valid_until = models.DateField("有效期至", null=True, blank=True, help_text="含当日")
    is_active = models.BooleanField("在库", default=True)

    class Meta:
        verbose_name = "专业技术人员"
        verbose_name_plural = "专业技术人员"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Agency(models.Model):
    """A professional agency (委托专业机构) under contract."""

    code = models.CharField("编号", max_length=32, unique=True, help_text="抽取按编号排序后随机")
    name = models.CharField("机构名称", max_length=200)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    field = models.CharField("专业领域", max_length=100)
    qualification = models.CharField("资质", max_length=200, blank=True)
    professional_qualifications = models.JSONField("专业资质", default=list, blank=True)
    contact = models.CharField("联系人及电话", max_length=100, blank=True)
    contract_start = models.DateField("合同起始日期")
    contract_end = models.DateField("合同终止日期", help_text="含当日")
    is_active = models.BooleanField("在库", default=True)

    class Meta:
        verbose_name = "委托专业机构"
        verbose_name_plural = "委托专业机构"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class RecusalQuerySet(models.QuerySet):
    def delete(self):
        raise append_only_refusal(self.model, "delete")


class Recusal(models.Model):
    """A recusal declaration (回避). Names one person (inspector, expert or agency) and exactly one
    of: one enterprise, every enterprise of a legal representative (exact trimmed name), every
    enterprise of a group (``Enterprise.group_name``, exact normalised name). Ended, never
    deleted."""

    class Reason(models.TextChoices):
        KINSHIP = "kinship", "亲属关系"
        FORMER_EMPLOYMENT = "former_employment", "曾任职"
        INTEREST = "interest", "利害关系"
        OTHER = "other", "其他"

    inspector = models.ForeignKey(
        Inspector,
        verbose_name="执法人员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recusals",
    )
    expert = models.ForeignKey(
        Expert,
        verbose_name="专业技术人员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recusals",
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name="专业机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recusals",
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name="回避企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    legal_representative = models.CharField(
        "回避法定代表人",
        max_length=64,
        blank=True,
        help_text="填写后，该法定代表人名下的全部企业均回避",
    )
    group = models.CharField(
        "回避集团",
        max_length=200,
        blank=True,
        default="",
        help_text="填写后，名录库中“所属集团”为该名称的全部企业均回避",
    )
    reason = models.CharField("回避事由", max_length=32, choices=Reason)
    reason_detail = models.CharField("事由说明", max_length=200, blank=True)
    declared_on = models.DateField("申报日期")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="批准人",
        on_delete=models.PROTECT,
        related_name="+",
    )
    ended_on = models.DateField("终止日期", null=True, blank=True, help_text="终止日起不再回避")
    end_reason = models.CharField("终止理由", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = RecusalQuerySet.as_manager()
    # Ended (``services.recusal_end``), never deleted: refused on the instance and the queryset.
    append_only_noun = "回避申报"
    append_only_delete_hint = "，只能终止"

    class Meta:
        verbose_name = "回避申报"
        verbose_name_plural = "回避申报"
        ordering = ["-declared_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(inspector__isnull=False, expert__isnull=True, agency__isnull=True)
                    | Q(inspector__isnull=True, expert__isnull=False, agency__isnull=True)
                    | Q(inspector__isnull=True, expert__isnull=True, agency__isnull=False)
                ),
                name="recusal_one_person",
            ),
            models.CheckConstraint(
                condition=(
                    Q(enterprise__isnull=False, legal_representative="", group="")
                    | (Q(enterprise__isnull=True, group="") & ~Q(legal_representative=""))
                    | (Q(enterprise__isnull=True, legal_representative="") & ~Q(group=""))
                ),
                name="recusal_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"回避 {self.target_text()}"

    @property
    def scope(self) -> str:
        """What the declaration names: ``enterprise``, ``legal_representative`` or ``group``."""
        if self.enterprise_id:
            return "enterprise"
        return "group" if self.group else "legal_representative"

    def target_text(self) -> str:
        if self.enterprise_id and self.enterprise:
            return self.enterprise.name
        if self.group:
            return f"集团“{self.group}”全部企业"
        return f"法定代表人“{self.legal_representative}”名下全部企业"

    def delete(self, *args, **kwargs):
        raise append_only_refusal(type(self), "delete")

    def is_in_force_for(self, start) -> bool:
        """Honoured for a window starting ``start`` unless ended on or before that day."""
        return self.ended_on is None or self.ended_on > start

    def matches(self, enterprise) -> bool:
        if self.enterprise_id:
            return self.enterprise_id == enterprise.pk
        if self.group:
            return group_name_normalise(getattr(enterprise, "group_name", "")) == self.group
        return (enterprise.legal_representative or "").strip() == self.legal_representative.strip()
