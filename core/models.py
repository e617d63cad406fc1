from django.conf import settings
from django.db import models

from .append_only import AppendOnlyModel


class Notification(models.Model):
    """An in-app notification (the intranet may have no e-mail). ``key`` makes a job that sends
    the same notice twice write it once."""

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

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once")
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
