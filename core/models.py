from django.conf import settings
from django.db import models
from django.db.models import Q

from .append_only import AppendOnlyModel


class Notification(models.Model):
    """An in-app notification (the bell), e-mailed too when e-mail is configured
    (``core.mail``; the intranet may have no mail server). ``key`` makes a job that sends the
    same notice twice write it once.

    E-mail state: NULL = not looked at yet (rows written by set-based SQL, e.g. the deadline
    scan; ``core.mail.notification_email_sweep`` picks them up), then ``queued`` → ``sending``
    → ``sent`` / ``failed`` (retried up to ``core.mail.MAX_ATTEMPTS``), or ``skipped`` with the
    reason in ``email_error`` (no address, inactive user, e-mail disabled)."""

    class EmailState(models.TextChoices):
        QUEUED = "queued", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"
        SKIPPED = "skipped", "不发送"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    key = models.CharField("去重键", max_length=200)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=300, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    # E-mail delivery. Nullable or with a database default: raw INSERTs that name only the
    # columns above stay valid and leave the state NULL = "to be looked at by the sweep".
    email_state = models.CharField(
        "邮件状态", max_length=10, choices=EmailState, null=True, blank=True
    )
    email_to = models.CharField("邮件地址", max_length=254, blank=True, db_default="")
    email_attempts = models.PositiveSmallIntegerField("发送次数", db_default=0)
    email_claimed_at = models.DateTimeField("最近发送尝试", null=True, blank=True)
    email_sent_at = models.DateTimeField("邮件发送时间", null=True, blank=True)
    email_error = models.CharField("邮件未发送原因", max_length=500, blank=True, db_default="")

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once")
        ]
        indexes = [
            # Small partial indexes: almost every row ends sent or skipped.
            models.Index(
                fields=["id"],
                condition=Q(email_state__isnull=True),
                name="notification_email_new",
            ),
            models.Index(
                fields=["email_state", "id"],
                condition=Q(email_state__in=["queued", "sending", "failed"]),
                name="notification_email_open",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class StoredFile(AppendOnlyModel):
    """An uploaded or generated file, kept outside the web root and served only through a
    permission-checked view. Content is never replaced: a new version is a new row that names
    the one it supersedes (art. 13: records archived, never silently replaced)."""

    id = models.UUIDField(primary_key=True, editable=False)
    purpose = models.CharField("用途", max_length=64, db_index=True)
    original_name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    path = models.CharField("存储路径", max_length=300, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    supersedes = models.ForeignKey(
        "self",
        verbose_name="替代的文件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )

    append_only_noun = "归档文件"
    append_only_delete_hint = "；文件只增不删，新版本请重新上传"

    class Meta:
        verbose_name = "文件"
        verbose_name_plural = "文件"
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name
