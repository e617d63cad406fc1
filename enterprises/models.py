"""The enterprise register (检查对象名录库) and the check-item list (随机抽查事项清单).

Other apps rely on these names: Enterprise (uscc, name, legal_representative, group_name,
group_uscc, township, trades, enterprise_type, scale, status, section), group_name_normalise, RiskAssessment / RiskTier, Licence, CheckItem
(trades, methods, required_qualification, section), CheckMethod, Trade, Township.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bounds import NOTE_TEXT, REPORT_TEXT, RULE_TEXT

from .uscc import uscc_check


def group_name_normalise(value) -> str:
    """The form a group name (所属集团) is stored and matched in: trimmed, inner runs of
    whitespace (also U+3000) collapsed to one space — what the import's text cleaning does."""
    return " ".join(str(value or "").split())


# The register's names and addresses: one line each (issue 21 item 9).
ONE_LINE_FIELDS = (
    "name",
    "legal_representative",
    "contact_person",
    "contact_phone",
    "registered_address",
    "business_address",
)


class RiskTier(models.TextChoices):
    A = "A", "A 低风险"
    B = "B", "B 中风险"
    C = "C", "C 中高风险"
    D = "D", "D 高风险"


class CheckMethod(models.TextChoices):
    ONSITE = "onsite", "实地核查"
    WRITTEN = "written", "书面检查"
    ONLINE = "online", "网络监测"
    AGENCY = "agency", "委托专业机构"
    OTHER_DEPARTMENT = "other_dept", "采用其他部门检查结果"


class ProfessionalQualification(models.TextChoices):
    """Professional qualifications some check items require of at least one team member."""

    HAZARDOUS_CHEMICALS = "hazchem", "危险化学品"
    SPECIAL_EQUIPMENT = "special_equipment", "特种设备"
    CIVIL_EXPLOSIVES = "explosives", "民用爆炸物品"
    REFINED_OIL = "refined_oil", "成品油安全"
    VEHICLE_DISMANTLING = "dismantling", "机动车拆解"


class Township(models.Model):
    """A township or street of Wugang (乡镇/街道)."""

    code = models.CharField("代码", max_length=16, unique=True)
    name = models.CharField("名称", max_length=32, unique=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "乡镇/街道"
        verbose_name_plural = "乡镇/街道"
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Trade(models.Model):
    """A supervised trade (监管行业), e.g. 成品油零售."""

    code = models.CharField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64, unique=True)
    section = models.ForeignKey(
        "accounts.Section",
        verbose_name="主管股室",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trades",
    )
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "监管行业"
        verbose_name_plural = "监管行业"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Enterprise(models.Model):
    """A supervised enterprise. ``uscc`` holds the 18-character 统一社会信用代码, or the legacy
    15-digit 注册号 where no USCC exists."""

    class EnterpriseType(models.TextChoices):
        COMPANY = "company", "企业"
        INDIVIDUAL = "individual", "个体工商户"
        COOPERATIVE = "cooperative", "农民专业合作社"
        OTHER = "other", "其他"

    class Scale(models.TextChoices):
        ABOVE = "above", "规上"
        BELOW = "below", "规下"
        LARGE = "large", "大型"
        MEDIUM = "medium", "中型"
        SMALL = "small", "小型"
        MICRO = "micro", "微型"

    class Status(models.TextChoices):
        ACTIVE = "active", "存续（在业）"
        SUSPENDED = "suspended", "停业"
        DEREGISTERED = "deregistered", "注销"
        REVOKED = "revoked", "吊销"
        CANCELLED = "cancelled", "撤销"
        MOVED_OUT = "moved_out", "迁出"

    uscc = models.CharField("统一社会信用代码/注册号", max_length=18, unique=True)
    uscc_override_reason = models.CharField(
        "校验位不符的确认理由",
        max_length=200,
        blank=True,
        help_text="代码校验位不符但确属真实代码（如2016年前登记）时必填",
    )
    # No btree index on the name: searches use the bigram GIN index (PostgreSQL), lists order
    # by USCC, and every index costs on each imported row (docs/enterprises.md).
    name = models.CharField("企业名称", max_length=200)
    legal_representative = models.CharField("法定代表人/负责人", max_length=64, blank=True)
    # 所属集团: a recusal may name a group (inspectors.Recusal.group), matched on this exact
    # (normalised) name. ``db_default`` so that inserts naming only the older columns (the
    # PostgreSQL COPY of the import) still store "".
    group_name = models.CharField(
        "所属集团",
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="集团（母公司）名称；同一集团的企业须填写完全相同的名称，回避申报按此名称匹配",
    )
    group_uscc = models.CharField(
        "集团统一社会信用代码",
        max_length=18,
        blank=True,
        default="",
        db_default="",
        help_text="可空；集团（母公司）的统一社会信用代码",
    )
    contact_person = models.CharField("联系人", max_length=64, blank=True)
    contact_phone = models.CharField("联系电话", max_length=32, blank=True)
    registered_address = models.CharField("注册地址", max_length=255, blank=True)
    business_address = models.CharField("经营地址", max_length=255, blank=True)
    # The (township, uscc) and (section, uscc) composites below serve the FK lookups too.
    township = models.ForeignKey(
        Township,
        verbose_name="乡镇/街道",
        on_delete=models.PROTECT,
        related_name="enterprises",
        db_index=False,
    )
    trades = models.ManyToManyField(Trade, verbose_name="监管行业", related_name="enterprises")
    enterprise_type = models.CharField(
        "主体类型", max_length=16, choices=EnterpriseType, default=EnterpriseType.COMPANY
    )
    scale = models.CharField("规模", max_length=16, choices=Scale, blank=True)
    status = models.CharField("登记状态", max_length=16, choices=Status, default=Status.ACTIVE)
    section = models.ForeignKey(
        "accounts.Section",
        verbose_name="责任股室",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enterprises",
        db_index=False,
    )
    remarks = models.TextField("备注", max_length=NOTE_TEXT, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "监管企业"
        verbose_name_plural = "监管企业"
        ordering = ["uscc"]
        # The list pages by keyset on uscc; each filter has an index leading with it so that
        # "filter + ORDER BY uscc LIMIT n" is an index range read even at 10^6 rows.
        indexes = [
            models.Index(fields=["township", "uscc"], name="ent_township_uscc"),
            models.Index(fields=["status", "uscc"], name="ent_status_uscc"),
            models.Index(fields=["enterprise_type", "uscc"], name="ent_type_uscc"),
            models.Index(fields=["scale", "uscc"], name="ent_scale_uscc"),
            models.Index(fields=["section", "uscc"], name="ent_section_uscc"),
            models.Index(fields=["group_name", "uscc"], name="ent_group_uscc"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"

    def clean(self) -> None:
        self.group_name = group_name_normalise(self.group_name)
        if self.group_uscc:
            check = uscc_check(self.group_uscc)
            if check.error:
                raise ValidationError({"group_uscc": check.error})
            self.group_uscc = check.value
        if self.group_uscc and not self.group_name:
            raise ValidationError({"group_name": _("填写集团统一社会信用代码时须填写所属集团名称")})


class RiskAssessment(models.Model):
    """One risk-tier assessment. The tier of a day is the latest assessment effective on or
    before that day (``enterprises.selectors.tier_of_day``). Tiers are internal, never public."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="assessments"
    )
    tier = models.CharField("风险等级", max_length=1, choices=RiskTier)
    effective_date = models.DateField("生效日期")
    source = models.CharField("来源", max_length=100)
    reason = models.CharField("理由", max_length=255, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "风险等级评定"
        verbose_name_plural = "风险等级评定"
        ordering = ["enterprise", "-effective_date", "-id"]
        indexes = [models.Index(fields=["enterprise", "-effective_date", "-id"])]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.tier} {self.effective_date}"


class Licence(models.Model):
    """A licence or filing (许可证/备案) of an enterprise; licence types form 专项库."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="licences"
    )
    licence_type = models.CharField("许可证名称", max_length=100, db_index=True)
    number = models.CharField("证号", max_length=100)
    issued_on = models.DateField("发证日期", null=True, blank=True)
    expires_on = models.DateField("有效期至", null=True, blank=True)
    issuer = models.CharField("发证机关", max_length=100, blank=True)

    class Meta:
        verbose_name = "许可证"
        verbose_name_plural = "许可证"
        constraints = [
            models.UniqueConstraint(fields=["licence_type", "number"], name="licence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.licence_type} {self.number}"


class CheckItem(models.Model):
    """An item of the 随机抽查事项清单. ``trades`` (and optionally ``licence_types``) structure
    the object scope, so a task's population can be computed from its items."""

    class Status(models.TextChoices):
        VALID = "valid", "有效"
        INVALID = "invalid", "失效"

    code = models.CharField("事项编码", max_length=32, unique=True)
    name = models.CharField("事项名称", max_length=200)
    sub_items = models.TextField("抽查子项", max_length=REPORT_TEXT, blank=True)
    legal_basis = models.TextField("抽查依据", max_length=RULE_TEXT)
    inspecting_body = models.CharField(
        "抽查主体", max_length=100, default="舞钢市工业信息化和商务局"
    )
    object_scope = models.CharField("抽查对象", max_length=255, blank=True)
    trades = models.ManyToManyField(Trade, verbose_name="适用行业", related_name="check_items")
    licence_types = models.JSONField("适用许可证类型", default=list, blank=True)
    content = models.TextField("检查内容", max_length=RULE_TEXT, blank=True)
    key_points = models.TextField("检查要点", max_length=RULE_TEXT, blank=True)
    methods = models.JSONField("检查方式", default=list, help_text="CheckMethod 代码列表")
    default_ratio = models.DecimalField(
        "默认抽查比例", max_digits=5, decimal_places=4, null=True, blank=True
    )
    frequency = models.CharField("抽查频次", max_length=64, blank=True)
    required_qualification = models.CharField(
        "所需专业资质", max_length=32, choices=ProfessionalQualification, blank=True
    )
    section = models.ForeignKey(
        "accounts.Section",
        verbose_name="责任股室",
        on_delete=models.PROTECT,
        related_name="check_items",
    )
    status = models.CharField("状态", max_length=16, choices=Status, default=Status.VALID)
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "检查事项"
        verbose_name_plural = "随机抽查事项清单"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ImportBatch(models.Model):
    """One uploaded file on its way through preview → confirm (or a background import).

    Generic over ``kind`` so other registers (the inspector roster) can reuse the flow."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "已预览"
        QUEUED = "queued", "排队中"
        RUNNING = "running", "处理中"
        APPLIED = "applied", "已导入"
        FAILED = "failed", "失败"
        CANCELLED = "cancelled", "已取消"

    # What each kind imports; the importers (enterprises/importers.py) take their titles from
    # here, so the model never imports the code that reads files into it.
    KIND_TITLES = {
        "enterprises": "监管企业",
        "tiers": "风险等级评定",
        "licences": "许可证",
        "check_items": "随机抽查事项",
        "inspectors": "执法检查人员名录",  # the roster's pending file (inspectors.services)
    }

    kind = models.CharField("类型", max_length=32)
    filename = models.CharField("文件名", max_length=255)
    stored_path = models.CharField("存储路径", max_length=500)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveBigIntegerField("大小（字节）", default=0)
    status = models.CharField("状态", max_length=16, choices=Status, default=Status.PREVIEWED)
    counts = models.JSONField("统计", default=dict, blank=True)
    errors = models.JSONField("错误（前若干条）", default=list, blank=True)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    rows_read = models.PositiveIntegerField("已读取行数", default=0)
    heartbeat_at = models.DateTimeField("最近进展时间", null=True, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"

    @property
    def busy(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def stall_minutes(self) -> int:
        return settings.IMPORT_STALL_SECONDS // 60

    def stalled(self, *, now=None) -> bool:
        """Busy with no progress for ``IMPORT_STALL_SECONDS``: the worker is down or died, and
        the page stops polling and says so instead of waiting forever."""
        if not self.busy:
            return False
        last = self.heartbeat_at or self.created_at
        return ((now or timezone.now()) - last).total_seconds() > settings.IMPORT_STALL_SECONDS

    def get_kind_display(self) -> str:
        return self.KIND_TITLES.get(self.kind, self.kind)
