"""Users, roles, passwords and login throttling. Every change writes its audit event in the
same transaction."""

import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record, changes_between, model_snapshot

from .models import LoginThrottle, Section, User
from .roles import ADMIN_ROLES, Role
from .validators import password_history_remember

_USER_FIELDS = ["username", "full_name", "section_id", "mobile", "email", "is_active"]


def _normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:150]


# --- Login throttling ------------------------------------------------------------------------
def login_is_locked(*, username: str) -> bool:
    throttle = LoginThrottle.objects.filter(username=_normalise_username(username)).first()
    return bool(throttle and throttle.is_locked())


@transaction.atomic
def login_failure_register(*, username: str) -> bool:
    """Count a failed login; lock the name after LOGIN_FAILURE_LIMIT failures.

    Names that do not exist are counted and locked the same way, so that neither the message
    nor the timing tells an outsider whether an account exists. Returns True if now locked.
    """
    name = _normalise_username(username)
    now = timezone.now()
    throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(username=name)
    if throttle.locked_until and throttle.locked_until <= now:
        throttle.failures = 0  # an expired lock starts a fresh count
        throttle.locked_until = None
    throttle.failures += 1
    throttle.last_failure_at = now
    user = User.objects.filter(username=name).first()
    audit_record(
        event_type="auth.login_failed",
        actor=None,
        actor_name=name,
        object_type="accounts.user" if user else "",
        object_id=user.pk if user else "",
        outcome=AuditEvent.Outcome.FAILURE,
        detail={"username": name, "failures": throttle.failures},
    )
    locked = False
    if throttle.failures >= settings.LOGIN_FAILURE_LIMIT:
        throttle.locked_until = now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        locked = True
        audit_record(
            event_type="auth.lockout",
            actor_name=name,
            object_type="accounts.user" if user else "",
            object_id=user.pk if user else "",
            outcome=AuditEvent.Outcome.DENIED,
            reason=f"连续 {throttle.failures} 次登录失败",
            detail={"username": name, "locked_until": throttle.locked_until},
        )
    throttle.save()
    return locked


def login_success_register(*, username: str) -> None:
    LoginThrottle.objects.filter(username=_normalise_username(username)).delete()


# --- Users -----------------------------------------------------------------------------------
def generate_initial_password() -> str:
    """A random password that satisfies the policy (all four character classes)."""
    alphabet = string.ascii_letters + string.digits + "!@#%^&*-_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(12))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(not c.isalnum() for c in candidate)
        ):
            return candidate


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    full_name: str,
    section: Section | None = None,
    mobile: str = "",
    email: str = "",
) -> tuple[User, str]:
    """Create a user with a one-time initial password (returned once, never stored in clear)."""
    password = generate_initial_password()
    user = User(
        username=_normalise_username(username),
        full_name=full_name.strip(),
        section=section,
        mobile=mobile.strip(),
        email=email.strip(),
        must_change_password=True,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_record(
        event_type="user.created",
        actor=actor,
        obj=user,
        detail={"after": model_snapshot(user, _USER_FIELDS)},
    )
    return user, password


@transaction.atomic
def user_update(*, actor: User, user: User, **fields) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    before = model_snapshot(user, _USER_FIELDS)
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean()
    user.save()
    changes = changes_between(before, model_snapshot(user, _USER_FIELDS))
    if changes:
        audit_record(event_type="user.updated", actor=actor, obj=user, detail={"changes": changes})
    return user


@transaction.atomic
def user_set_roles(*, actor: User, user: User, roles: list[str], reason: str = "") -> User:
    """Grant exactly ``roles`` to ``user``. Only a security admin may, and never to themself."""
    if not actor.has_role(Role.SECURITY_ADMIN):
        raise PermissionDenied("只有安全管理员可以授予角色。")
    if actor.pk == user.pk:
        raise ValidationError("不能修改自己的角色。")
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise ValidationError(f"未知角色：{'、'.join(sorted(unknown))}")
    if len(wanted & ADMIN_ROLES) > 1:
        raise ValidationError("系统管理员、安全管理员、审计管理员三个角色不得由同一人兼任。")
    before = sorted(user.groups.values_list("name", flat=True))
    user.groups.set(Group.objects.filter(name__in=wanted))
    after = sorted(wanted)
    if before != after:
        audit_record(
            event_type="auth.roles_changed",
            actor=actor,
            obj=user,
            reason=reason,
            detail={"before": before, "after": after},
        )
    if hasattr(user, "_role_names"):
        del user._role_names
    return user


@transaction.atomic
def user_reset_password(*, actor: User, user: User) -> str:
    """A security admin resets a forgotten password (the intranet may have no e-mail).
    The new password is shown once and must be changed at the next login."""
    if not actor.has_role(Role.SECURITY_ADMIN):
        raise PermissionDenied("只有安全管理员可以重置密码。")
    password = generate_initial_password()
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    LoginThrottle.objects.filter(username=user.username).delete()
    audit_record(event_type="auth.password_reset", actor=actor, obj=user)
    return password


@transaction.atomic
def user_change_password(*, user: User, new_password: str) -> None:
    validate_password(new_password, user)
    password_history_remember(user)
    user.set_password(new_password)
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    audit_record(event_type="auth.password_changed", actor=user, obj=user)


@transaction.atomic
def section_save(*, actor: User, section: Section) -> Section:
    created = section.pk is None
    before = {} if created else model_snapshot(Section.objects.get(pk=section.pk))
    section.full_clean()
    section.save()
    after = model_snapshot(section)
    audit_record(
        event_type="section.created" if created else "section.updated",
        actor=actor,
        obj=section,
        detail={"changes": changes_between(before, after)},
    )
    return section
