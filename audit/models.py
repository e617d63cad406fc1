import hashlib
import json
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import models

from core.append_only import AppendOnlyError, AppendOnlyModel

__all__ = ["GENESIS_HASH", "AppendOnlyError", "AuditEvent"]

GENESIS_HASH = "0" * 64


class AuditEvent(AppendOnlyModel):
    """One security or business event. Append-only and hash-chained:

    hash = SHA-256(canonical JSON of the row's fields + previous hash). The table can only grow
    (model guard everywhere, database trigger on PostgreSQL and SQLite, and no privilege but
    SELECT and INSERT for the runtime role), each row's ``mac`` and the signed checkpoints
    outside the database anchor it (audit/checkpoints.py), and ``manage.py verify_audit_chain``
    recomputes the chain against them.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"
        DENIED = "denied", "拒绝"

    seq = models.PositiveBigIntegerField("序号", unique=True)
    occurred_at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField("操作人姓名", max_length=200, blank=True)
    actor_roles = models.CharField("操作时角色", max_length=200, blank=True)
    source_ip = models.CharField("来源IP", max_length=64, blank=True)
    event_type = models.CharField("事件类型", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    outcome = models.CharField("结果", max_length=16, choices=Outcome, default=Outcome.SUCCESS)
    reason = models.TextField("原因", blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    prev_hash = models.CharField("前一哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64, unique=True)
    # HMAC of ``hash`` under a key only the application servers hold (audit/checkpoints.py):
    # someone with the database credentials can recompute hashes but not this. Not hashed;
    # empty on events written before it existed.
    mac = models.CharField("密钥签名", max_length=64, null=True, blank=True, editable=False)

    append_only_noun = "审计事件"

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type}"

    # --- hashing -----------------------------------------------------------------------------
    def canonical_payload(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "actor_roles": self.actor_roles,
            "source_ip": self.source_ip,
            "event_type": self.event_type,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "outcome": self.outcome,
            "reason": self.reason,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(
            self.canonical_payload(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
