"""Receivers of accounts' own signals that reach above accounts (core's notifications)."""

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from audit.models import AuditEvent
from core.services import notification_send

from .models import User
from .signals import password_was_reset


@receiver(password_was_reset)
def tell_the_holder_of_a_password_reset(
    sender: Any, user: User, actor: User, event: AuditEvent, **kwargs: Any
) -> None:
    notification_send(
        recipient=user,
        key=f"password-reset-{event.seq}",
        title="您的密码已被重置",
        body=f"{actor.display_name} 于 {timezone.localtime():%Y-%m-%d %H:%M} 重置了您的登录密码；"
        "一次性密码由管理员当面交给您，首次登录须修改。如非本人申请，请立即联系安全管理员。",
    )
