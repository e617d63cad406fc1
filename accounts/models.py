from typing import ClassVar, Self

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from .roles import Role


class Section(models.Model):
    """A section (股室) of the bureau, e.g. 市场运行股. Exactly one is the lead section."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64, unique=True)
    is_lead = models.BooleanField("牵头股室", default=False)
    phone = models.CharField("联系电话", max_length=32, blank=True)
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "股室"
        verbose_name_plural = "股室"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_lead"], condition=models.Q(is_lead=True), name="one_lead_section"
            )
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of the bureau's staff. Roles are Django groups (accounts.roles.Role)."""

    full_name = models.CharField("姓名", max_length=64)
    section = models.ForeignKey(
        Section,
        verbose_name="股室",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    mobile = models.CharField("手机号", max_length=20, blank=True)
    # A password set by someone else (initial or reset) must be changed at the next login.
    must_change_password = models.BooleanField("下次登录须修改密码", default=True)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    is_demo = models.BooleanField("演示账户", default=False)

    objects: ClassVar[UserManager[Self]] = UserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        ordering = ["username"]

    def __str__(self) -> str:
        return f"{self.full_name}（{self.username}）" if self.full_name else self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def role_names(self) -> frozenset[str]:
        """The user's role names, cached per instance (one query per request)."""
        if not hasattr(self, "_role_names"):
            self._role_names = frozenset(self.groups.values_list("name", flat=True))
        return self._role_names

    def has_role(self, *roles: str) -> bool:
        return self.is_active and bool(self.role_names() & set(roles))

    @property
    def is_read_only(self) -> bool:
        return Role.DISCIPLINE in self.role_names()


class PasswordHistory(models.Model):
    """The hashes of an account's last passwords (``PASSWORD_HISTORY_COUNT``), so that a new
    password cannot be a recent one again. Hashes only, like the account's own; written and
    pruned by ``accounts.validators.PasswordHistoryValidator``."""

    user = models.ForeignKey(
        User, verbose_name="用户", on_delete=models.CASCADE, related_name="password_history"
    )
    password = models.CharField("密码哈希", max_length=128)
    created_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        indexes = [models.Index(fields=["user", "-id"], name="password_history_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d}"


class LoginThrottle(models.Model):
    """Failed logins of one existing user name from one address. The account lock of 等保
    (``LOGIN_FAILURE_LIMIT`` failures in a row) applies to that address only, so nobody can
    lock an administrator out from elsewhere. Names that do not exist are counted in the
    address's row instead (``LoginAddressThrottle.unknown_names``): guessing names cannot grow
    this table."""

    username = models.CharField("用户名", max_length=150)
    address = models.CharField("来源地址", max_length=64, default="")
    failures = models.PositiveIntegerField("连续失败次数", default=0)
    last_failure_at = models.DateTimeField("最近失败时间", null=True)
    locked_until = models.DateTimeField("锁定至", null=True)

    class Meta:
        verbose_name = "登录失败计数"
        verbose_name_plural = "登录失败计数"
        constraints = [
            models.UniqueConstraint(
                fields=["username", "address"], name="login_throttle_name_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.username} @ {self.address}"

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class LoginAddressThrottle(models.Model):
    """Every failed login from one address in the current window, whatever the name: the
    per-address backoff (``next_attempt_at``) and limit (``blocked_until``) that slow and stop
    password spraying. Failures on names that do not exist are aggregated here, one entry per
    name in ``unknown_names`` ({name: {"failures", "last", "locked_until"}}), bounded by the
    window's limit."""

    address = models.CharField("来源地址", max_length=64, unique=True)
    window_started_at = models.DateTimeField("统计窗口开始")
    failures = models.PositiveIntegerField("窗口内失败次数", default=0)
    unknown_failures = models.PositiveIntegerField("不存在用户名的失败次数", default=0)
    unknown_names = models.JSONField("不存在的用户名", default=dict)
    last_failure_at = models.DateTimeField("最近失败时间", null=True)
    next_attempt_at = models.DateTimeField("下次允许尝试", null=True)
    blocked_until = models.DateTimeField("暂停登录至", null=True)

    class Meta:
        verbose_name = "来源地址登录失败计数"
        verbose_name_plural = "来源地址登录失败计数"

    def __str__(self) -> str:
        return self.address

    def is_blocked(self) -> bool:
        return self.blocked_until is not None and self.blocked_until > timezone.now()


class UserRequest(HttpRequest):
    """For type annotations only: a request past the login middleware, whose ``user`` is a
    ``User`` (``HttpRequest.user`` is typed as any user or anonymous)."""

    user: User
