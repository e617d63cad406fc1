"""Guards and audit hooks that must hold however a change is made (views, shell, admin)."""

from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed
from django.dispatch import Signal, receiver
from django.http import HttpRequest

from audit.services import audit_record

from .models import User
from .roles import ADMIN_ROLES

# Sent inside the reset's transaction with ``user``, ``actor`` and the audit ``event``; the
# holder's notification is sent by accounts.receivers (notifications live above accounts).
password_was_reset = Signal()


@receiver(m2m_changed, sender=User.groups.through)
def refuse_two_admin_roles(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """三员分立: the system, security and audit admin roles are mutually exclusive."""
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # group.user_set.add(...): instance is the group, pk_set are users
        if instance.name not in ADMIN_ROLES:
            return
        clash = User.objects.filter(pk__in=pk_set, groups__name__in=ADMIN_ROLES).exclude(
            groups=instance
        )
        if clash.exists():
            raise ValidationError("系统管理员、安全管理员、审计管理员三个角色不得由同一人兼任。")
        return
    names = set(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
    names |= set(instance.groups.values_list("name", flat=True))
    if len(names & ADMIN_ROLES) > 1:
        raise ValidationError("系统管理员、安全管理员、审计管理员三个角色不得由同一人兼任。")


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_record(event_type="auth.login", actor=user, obj=user)


@receiver(user_logged_out)
def audit_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        reason = getattr(request, "logout_reason", "") if request is not None else ""
        audit_record(event_type="auth.logout", actor=user, obj=user, reason=reason)
