from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class ApprovalRequest(models.Model):
    """A change that needs a second person: asked by one, decided by another holding one of the
    approver roles, in their own session. What the change is comes from its kind
    (``core.extensions.ApprovalKind``, collected from ``<app>/approval_kinds.py``); the row keeps
    who asked what about which object, who decided, when and why. The payload never holds
    secrets (a reset password is shown once to the approver and never stored)."""

    class State(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REFUSED = "refused", "已拒绝"
        WITHDRAWN = "withdrawn", "已撤回"
        EXPIRED = "expired", "已过期"

    kind = models.CharField("类型", max_length=64)
    object_type = models.CharField("对象类型", max_length=100)
    object_id = models.CharField("对象", max_length=64)
    object_label = models.CharField("对象名称", max_length=200)
    payload = models.JSONField("参数", default=dict, blank=True)
    reason = models.TextField("申请理由", max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人",
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    approver_roles = models.ManyToManyField(Group, verbose_name="审批角色", related_name="+")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="指定审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField("状态", max_length=10, choices=State, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("办结时间", null=True, blank=True)
    decision_reason = models.TextField("审批意见", max_length=500, blank=True)
    expires_at = models.DateTimeField("有效期至")

    class Meta:
        verbose_name = "审批申请"
        verbose_name_plural = "审批申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            # The two-person rule, also against a write past the services.
            models.CheckConstraint(
                condition=~Q(decided_by=F("requested_by")), name="approval_not_by_requester"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["approved", "refused"], decided_by__isnull=False)
                | Q(state__in=["pending", "withdrawn", "expired"], decided_by__isnull=True),
                name="approval_decided_by_matches_state",
            ),
            models.UniqueConstraint(
                fields=["kind", "object_type", "object_id"],
                condition=Q(state="pending"),
                name="approval_one_pending_per_object",
            ),
        ]
        indexes = [models.Index(fields=["state", "-requested_at"], name="approval_state_recent")]

    def __str__(self) -> str:
        return f"{self.object_label}（{self.get_state_display()}）"

    @property
    def is_open(self) -> bool:
        """Pending and not past its expiry: it can still be decided."""
        return self.state == self.State.PENDING and self.expires_at > timezone.now()

    @property
    def kind_label(self) -> str:
        from .registry import approval_kinds

        kind = approval_kinds().get(self.kind)
        return kind.label if kind else self.kind

    @property
    def shown_state(self) -> str:
        if self.state == self.State.PENDING and not self.is_open:
            return self.State.EXPIRED.label
        return self.get_state_display()
