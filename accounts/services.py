"""Users, roles, passwords and login throttling. Every change writes its audit event in the
same transaction."""

import secrets
import string
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.models import AuditEvent
from audit.services import audit_record, changes_between, model_snapshot

from .models import LoginAddressThrottle, LoginThrottle, Section, User
from .roles import ADMIN_ROLES, Role
from .signals import password_was_reset
from .validators import password_history_remember

_USER_FIELDS = ["username", "full_name", "section_id", "mobile", "email", "is_active"]


def normalise_username(username: str) -> str:
    """How a user name is compared everywhere (login, throttle, creation): full-width folded
    to ASCII (NFKC), case folded, surrounding spaces — the ideographic one too — removed. So
    ``ＺhangWei　`` is ``zhangwei`` and its failures count against one name."""
    return unicodedata.normalize("NFKC", username or "").casefold().strip()[:150]


# --- Login throttling (docs/security.md, "Login failures") ------------------------------------
@dataclass(frozen=True)
class LoginRefusal:
    """Why an attempt is refused before its password is looked at."""

    code: str  # "locked" (this name from this address), "address_blocked", "backoff"
    until: datetime


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_ADDRESS_WINDOW_MINUTES)


def _lockout() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _unknown_locked_until(gate: LoginAddressThrottle, name: str, now: datetime) -> datetime | None:
    entry = gate.unknown_names.get(name) or {}
    until = parse_datetime(entry.get("locked_until") or "")
    return until if until and until > now else None


def login_refusal(*, username: str, address: str) -> LoginRefusal | None:
    """The refusal an attempt for ``username`` from ``address`` gets before any password check:
    the address is stopped, the address must wait (backoff), or the name is locked for this
    address. None: the password may be checked. Two indexed reads."""
    name, now = normalise_username(username), timezone.now()
    gate = LoginAddressThrottle.objects.filter(address=address).first()
    if gate is not None:
        if gate.blocked_until and gate.blocked_until > now:
            return LoginRefusal("address_blocked", gate.blocked_until)
        if gate.next_attempt_at and gate.next_attempt_at > now:
            return LoginRefusal("backoff", gate.next_attempt_at)
        until = _unknown_locked_until(gate, name, now)
        if until:
            return LoginRefusal("locked", until)
    throttle = LoginThrottle.objects.filter(username=name, address=address).first()
    if throttle is not None and throttle.is_locked() and throttle.locked_until:
        return LoginRefusal("locked", throttle.locked_until)
    return None


def _summarise_unknown(gate: LoginAddressThrottle, now: datetime) -> None:
    """One event for a closed window's failures on names that do not exist (the first of them
    was recorded when it happened), so guessing names cannot grow the audit log per attempt."""
    if gate.unknown_failures > 1:
        audit_record(
            event_type="auth.login_failed_summary",
            outcome=AuditEvent.Outcome.FAILURE,
            reason=f"不存在的用户名登录失败 {gate.unknown_failures} 次",
            source_ip=gate.address,
            detail={
                "address": gate.address,
                "window_start": gate.window_started_at,
                "window_end": now,
                "unknown_failures": gate.unknown_failures,
                "names": sorted(gate.unknown_names)[:20],
            },
        )


def _address_gate(address: str, now: datetime) -> LoginAddressThrottle:
    """The address's row, locked, with a closed window rolled over."""
    gate, _ = LoginAddressThrottle.objects.select_for_update().get_or_create(
        address=address, defaults={"window_started_at": now}
    )
    window_end = gate.window_started_at + _window()
    if gate.blocked_until and gate.blocked_until > window_end:
        window_end = gate.blocked_until
    if window_end <= now:
        _summarise_unknown(gate, now)
        gate.window_started_at = now
        gate.failures = gate.unknown_failures = 0
        gate.next_attempt_at = gate.blocked_until = None
        # Keep the names still counting or locked, so that a name that does not exist locks
        # exactly like one that does (the lock must not tell which names exist).
        gate.unknown_names = {
            name: entry
            for name, entry in gate.unknown_names.items()
            if (parse_datetime(entry.get("last") or "") or now) > now - _lockout()
            or _unknown_locked_until(gate, name, now)
        }
    return gate


def _known_name_failure(*, user: User, name: str, address: str, now: datetime) -> bool:
    throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(
        username=name, address=address
    )
    expired_lock = throttle.locked_until and throttle.locked_until <= now
    stale = throttle.last_failure_at and throttle.last_failure_at <= now - _lockout()
    if expired_lock or stale:
        throttle.failures, throttle.locked_until = 0, None  # a fresh run of failures
    throttle.failures += 1
    throttle.last_failure_at = now
    audit_record(
        event_type="auth.login_failed",
        actor_name=name,
        obj=user,
        outcome=AuditEvent.Outcome.FAILURE,
        detail={"username": name, "address": address, "failures": throttle.failures},
    )
    locked: bool = throttle.failures >= settings.LOGIN_FAILURE_LIMIT
    if locked:
        throttle.locked_until = now + _lockout()
        audit_record(
            event_type="auth.lockout",
            actor_name=name,
            obj=user,
            outcome=AuditEvent.Outcome.DENIED,
            reason=f"连续 {throttle.failures} 次登录失败（仅对来源地址 {address} 锁定）",
            detail={"username": name, "address": address, "locked_until": throttle.locked_until},
        )
    throttle.save()
    return locked


def _unknown_name_failure(*, gate: LoginAddressThrottle, name: str, now: datetime) -> bool:
    entry = dict(gate.unknown_names.get(name) or {})
    last = parse_datetime(entry.get("last") or "")
    if (last and last <= now - _lockout()) or (
        entry.get("locked_until") and not _unknown_locked_until(gate, name, now)
    ):
        entry = {}
    entry["failures"] = entry.get("failures", 0) + 1
    entry["last"] = now.isoformat()
    locked: bool = entry["failures"] >= settings.LOGIN_FAILURE_LIMIT
    if locked:
        entry["locked_until"] = (now + _lockout()).isoformat()
    gate.unknown_names = {**gate.unknown_names, name: entry}
    gate.unknown_failures += 1
    if gate.unknown_failures == 1:  # the window's first; the rest go into its summary
        audit_record(
            event_type="auth.login_failed",
            actor_name=name,
            outcome=AuditEvent.Outcome.FAILURE,
            detail={"username": name, "address": gate.address, "unknown": True},
        )
    return locked


@transaction.atomic
def login_failure_register(*, username: str, address: str) -> bool:
    """Count a failed login of ``username`` from ``address``; True if the name is now locked
    for that address.

    An existing name: its (name, address) row, an audit event per failure, the lock after
    ``LOGIN_FAILURE_LIMIT`` in a row. A name that does not exist locks the same way (neither
    the message nor the lock tells an outsider whether an account exists) but is counted in the
    address's row, with one audit event per address and window. Every failure also counts for
    the address: backoff beyond ``LOGIN_FAILURE_LIMIT`` in the window, and a stop for one
    window at ``LOGIN_ADDRESS_FAILURE_LIMIT`` (``auth.address_blocked``).
    """
    name, now = normalise_username(username), timezone.now()
    gate = _address_gate(address, now)
    user = User.objects.filter(username=name).only("pk", "username").first()
    if user is not None:
        locked = _known_name_failure(user=user, name=name, address=address, now=now)
    else:
        locked = _unknown_name_failure(gate=gate, name=name, now=now)
    gate.failures += 1
    gate.last_failure_at = now
    beyond = gate.failures - settings.LOGIN_FAILURE_LIMIT
    if beyond > 0:
        wait = min(settings.LOGIN_BACKOFF_MAX_SECONDS, 2 ** (beyond - 1))
        gate.next_attempt_at = now + timedelta(seconds=wait)
    if gate.failures >= settings.LOGIN_ADDRESS_FAILURE_LIMIT and not gate.is_blocked():
        gate.blocked_until = now + _window()
        audit_record(
            event_type="auth.address_blocked",
            outcome=AuditEvent.Outcome.DENIED,
            reason=f"{settings.LOGIN_ADDRESS_WINDOW_MINUTES} 分钟内登录失败 {gate.failures} 次",
            source_ip=address,
            detail={
                "address": address,
                "failures": gate.failures,
                "unknown_failures": gate.unknown_failures,
                "blocked_until": gate.blocked_until,
            },
        )
    gate.save()
    return locked


def login_success_register(*, username: str, address: str) -> None:
    """A successful login ends the name's run of failures from that address (the address's
    own count stays: one valid account must not reset a spraying address)."""
    LoginThrottle.objects.filter(username=normalise_username(username), address=address).delete()


@transaction.atomic
def login_throttle_prune() -> dict[str, Any]:
    """Delete throttle rows whose window and lock have ended (daily job; safe to run twice),
    writing the summary of a window's failures on names that do not exist first."""
    now = timezone.now()
    idle = now - max(_window(), _lockout())
    done = LoginAddressThrottle.objects.filter(last_failure_at__lte=idle).filter(
        Q(blocked_until__isnull=True) | Q(blocked_until__lte=now)
    )
    for gate in done.filter(unknown_failures__gt=1).select_for_update().iterator():
        _summarise_unknown(gate, now)
    addresses, _ = done.delete()
    names, _ = (
        LoginThrottle.objects.filter(last_failure_at__lte=now - _lockout())
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .delete()
    )
    return {"addresses": addresses, "names": names}


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
        username=normalise_username(username),
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


def _lock_admin_accounts() -> None:
    """Lock every admin account, always in the same order (by id), before a change that may
    take an admin role away: two such changes at once then run one after the other — the second
    sees the first's result — and cannot deadlock by locking the same rows in another order."""
    list(
        User.objects.select_for_update(of=("self",))
        .filter(groups__name__in=ADMIN_ROLES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _keep_admin_roles_held(*, user: User, losing: set[str]) -> None:
    """三员分立 needs every admin role held by someone: refuse to leave one of ``losing`` (roles
    ``user`` is about to lose, by deactivation or by a role change) with no active account.
    The caller has locked the admin accounts first (``_lock_admin_accounts``)."""
    for role in sorted(losing & ADMIN_ROLES):
        others = User.objects.filter(groups__name=role, is_active=True).exclude(pk=user.pk)
        if not others.exists():
            raise ValidationError(
                f"{user.display_name} 是最后一个在用的{role}账户，不能停用或取消其{role}角色"
                f"（三员分立：必须始终有人履行{role}职责）。请先为另一人授予{role}角色。"
            )


@transaction.atomic
def user_update(*, actor: User, user: User, **fields: Any) -> User:
    if fields.get("is_active") is False:
        _lock_admin_accounts()
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active and fields.get("is_active") is False:
        if actor.pk == user.pk:
            raise ValidationError("不能停用自己的账户。")
        _keep_admin_roles_held(user=user, losing=set(user.role_names()))
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
    _lock_admin_accounts()
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = sorted(user.groups.values_list("name", flat=True))
    if locked.is_active:
        _keep_admin_roles_held(user=locked, losing=set(before) - wanted)
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


SELF_RESET_REFUSED = "不能通过重置功能修改自己的密码：请使用“修改密码”，输入当前密码后设置新密码。"
ADMIN_RESET_NEEDS_APPROVAL = (
    "该账户是管理员（系统管理员、安全管理员或审计管理员）：重置其密码须由另一类管理员在其"
    "本人会话中批准，请提交“申请重置密码”。"
)


def _password_reset(*, actor: User, user: User, detail: dict[str, Any] | None = None) -> str:
    """Give ``user`` a one-time password (returned once, never stored in clear) that must be
    changed at the next login; lift its login locks; audit; tell the holder. Inside the
    caller's transaction."""
    password = generate_initial_password()
    password_history_remember(user)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    LoginThrottle.objects.filter(username=user.username).delete()
    event = audit_record(event_type="auth.password_reset", actor=actor, obj=user, detail=detail)
    # The holder is told through core's notifications, which sit above accounts: a signal.
    password_was_reset.send(sender=User, user=user, actor=actor, event=event)
    return password


@transaction.atomic
def user_reset_password(*, actor: User, user: User) -> str:
    """A security admin resets a forgotten password (the intranet may have no e-mail).
    The new password is shown once and must be changed at the next login. Never one's own
    (that is the change with the current password) and never an admin's: that takes a second
    admin's approval (``admin_password_reset_*``, approvals kind
    ``accounts.admin_password_reset``)."""
    if not actor.has_role(Role.SECURITY_ADMIN):
        raise PermissionDenied("只有安全管理员可以重置密码。")
    if actor.pk == user.pk:
        raise ValidationError(SELF_RESET_REFUSED)
    if user.role_names() & ADMIN_ROLES:
        raise ValidationError(ADMIN_RESET_NEEDS_APPROVAL)
    return _password_reset(actor=actor, user=user)


# --- 三员分立 for the admins themselves: an admin's password reset needs a second admin --------
# The approvals kind (accounts/approval_kinds.py) calls these; approvals records the request,
# checks requester ≠ approver and the approver's role, and audits each step.
ADMIN_PASSWORD_RESET_REQUESTERS = (Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN)


def admin_password_reset_check_request(*, actor: User, obj: User) -> None:
    """Who may ask: the security or system admin (who keep the accounts), for another person's
    admin account."""
    if not actor.has_role(*ADMIN_PASSWORD_RESET_REQUESTERS):
        raise PermissionDenied("只有安全管理员或系统管理员可以申请重置管理员密码。")
    if actor.pk == obj.pk:
        raise ValidationError(SELF_RESET_REFUSED)
    if not obj.role_names() & ADMIN_ROLES:
        raise ValidationError("该账户不是管理员账户，由安全管理员直接重置密码即可。")


def admin_password_reset_approver_roles(*, actor: User, obj: User) -> frozenset[str]:
    """An admin of another admin role than the requester's."""
    return frozenset(ADMIN_ROLES - actor.role_names())


def admin_password_reset_check_decider(*, actor: User, obj: User, request: Any) -> None:
    if actor.pk == obj.pk:
        raise PermissionDenied("不能审批重置自己密码的申请。")


def admin_password_reset_watchers(obj: User) -> list[User]:
    """The account holder and every active audit admin are told of each step."""
    auditors = User.objects.filter(is_active=True, groups__name=Role.AUDIT_ADMIN)
    return [obj, *auditors.exclude(pk=obj.pk).order_by("pk")]


def admin_password_reset_perform(*, actor: User, obj: User, request: Any) -> dict[str, Any]:
    """The approved reset, inside the approval's transaction. The one-time password goes to the
    approver only (shown once): the requester never sees it, so nobody who started a reset
    learns the password alone."""
    user = User.objects.select_for_update().get(pk=obj.pk)
    password = _password_reset(
        actor=actor,
        user=user,
        detail={
            "approval": request.pk,
            "requested_by": request.requested_by.display_name,
            "approved_by": actor.display_name,
        },
    )
    return {"password": password, "target": user}


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
