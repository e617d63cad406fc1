"""E-mail delivery of notifications (docs/disclosure.md, "Notifications by e-mail").

Every ``core.Notification`` is in-app first (the bell). When e-mail is enabled
(``settings.NOTIFICATION_EMAIL_ENABLED``: in production only when ``EMAIL_URL`` names a mail
server) a plain-text Chinese e-mail with a link to the object goes to recipients who have an
address and are active:

- ``core.services.notification_send`` decides at once (``queued`` or ``skipped`` with the
  reason) and queues the Celery task ``core.tasks.notification_email_send(notification_id)``
  with ``transaction.on_commit`` — nothing is queued if the caller's transaction rolls back.
- Rows written by set-based SQL (the deadline scan's ``INSERT … SELECT``) start with a NULL
  state; ``notification_email_sweep`` (run right after the scan, and by beat every 10 minutes)
  decides them the same way and queues them, and re-queues lost or failed ones.
- ``notification_email_deliver`` is idempotent: it claims the row with one conditional UPDATE
  (queued / failed / a stale ``sending``) and sends only if the claim succeeded, so running it
  twice — or on two workers at once — sends one e-mail. It records the attempt count, the time
  sent and the failure reason; a failed e-mail is retried up to ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User

from .background import task_named
from .models import Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
STALE_AFTER = dt.timedelta(minutes=10)  # a queued / sending row older than this is re-queued
SWEEP_LIMIT = 2000  # e-mails queued per sweep run; the next run (10 minutes later) does more

REASON_DISABLED = "邮件通知未启用（未配置邮件服务器）"
REASON_NO_ADDRESS = "用户未登记电子邮箱"
REASON_INACTIVE = "用户已停用"
REASON_IN_APP_ONLY = "仅站内通知"


def email_enabled() -> bool:
    return bool(getattr(settings, "NOTIFICATION_EMAIL_ENABLED", False))


def email_status() -> tuple[bool, str]:
    """(enabled, a sentence for the admin screens)."""
    if email_enabled():
        return True, _("通知同时以电子邮件发送给已登记邮箱的用户。")
    return False, _(
        "邮件通知未启用：未配置邮件服务器（环境变量 EMAIL_URL），通知只在系统内显示（铃铛）。"
    )


def skip_reason(user: User) -> str:
    """Why ``user`` gets no e-mail ("" when one is sent)."""
    if not email_enabled():
        return REASON_DISABLED
    if not getattr(user, "is_active", False):
        return REASON_INACTIVE
    if not (getattr(user, "email", "") or "").strip():
        return REASON_NO_ADDRESS
    return ""


def initial_state(user: User) -> dict[str, Any]:
    """The e-mail fields of a new notification for ``user`` (used by ``notification_send``)."""
    reason = skip_reason(user)
    if reason:
        return {"email_state": Notification.EmailState.SKIPPED, "email_error": reason}
    return {
        "email_state": Notification.EmailState.QUEUED,
        "email_to": user.email.strip(),
        "email_claimed_at": timezone.now(),
    }


def queue_on_commit(notification_ids: list[int]) -> None:
    """Queue the e-mail tasks once the current transaction commits (at once in autocommit)."""
    if notification_ids:
        ids = list(notification_ids)
        transaction.on_commit(lambda: dispatch(ids))


def dispatch(notification_ids: Iterable[int]) -> int:
    """Send one Celery message per notification; a broker failure is logged and left to the
    sweep (the rows stay ``queued`` and are re-queued when stale)."""
    notification_email_send = task_named("core.tasks.notification_email_send")
    sent = 0
    for pk in notification_ids:
        try:
            notification_email_send.delay(pk)
        except Exception:  # the broker is down: the sweep re-queues stale rows
            logger.exception("could not queue notification e-mail %s", pk)
        else:
            sent += 1
    return sent


def absolute_link(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    base = (getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{base}{link}" if base and link.startswith("/") else link


def build_message(notification: Notification, address: str) -> EmailMessage:
    recipient = notification.recipient
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("【双随机、一公开】%(title)s") % {"title": notification.title}
        body = render_to_string(
            "core/mail/notification.txt",
            {
                "name": recipient.display_name,
                "title": notification.title,
                "body": notification.body,
                "url": absolute_link(notification.link),
                "created_at": timezone.localtime(notification.created_at),
                "bureau": settings.BUREAU_NAME,
            },
        )
    # Header injection: a subject never carries a line break.
    subject = " ".join(subject.split())[:200]
    return EmailMessage(subject=subject, body=body, to=[address])


def _claimable(now: dt.datetime) -> Q:
    S = Notification.EmailState
    return (
        Q(email_state__in=[S.QUEUED, S.FAILED])
        | Q(email_state=S.SENDING, email_claimed_at__lt=now - STALE_AFTER)
    ) & Q(email_attempts__lt=MAX_ATTEMPTS)


def notification_email_deliver(*, notification_id: int) -> str:
    """Send the e-mail of one notification; returns the resulting state (or "missing").
    Idempotent: only the caller whose conditional UPDATE claims the row sends."""
    S = Notification.EmailState
    now = timezone.now()
    claimed = Notification.objects.filter(_claimable(now), pk=notification_id).update(
        email_state=S.SENDING, email_attempts=F("email_attempts") + 1, email_claimed_at=now
    )
    rows = Notification.objects.filter(pk=notification_id)
    if not claimed:
        state = rows.values_list("email_state", flat=True).first()
        return state or "missing"
    notification = rows.select_related("recipient").get()
    reason = skip_reason(notification.recipient)  # checked again: the address may be gone
    if reason:
        rows.update(email_state=S.SKIPPED, email_error=reason)
        return S.SKIPPED
    address = notification.recipient.email.strip()
    try:
        build_message(notification, address).send(fail_silently=False)
    except Exception as exc:  # SMTP refused, timed out, bad address …: recorded, retried
        logger.warning("notification e-mail %s failed: %s", notification_id, exc)
        error = f"{type(exc).__name__}: {exc}"[:500]
        rows.update(email_state=S.FAILED, email_error=error, email_to=address)
        return S.FAILED
    rows.update(email_state=S.SENT, email_sent_at=timezone.now(), email_error="", email_to=address)
    return S.SENT


def notification_email_sweep(*, limit: int = SWEEP_LIMIT) -> dict[str, Any]:
    """Decide the notifications written without a state (set-based SQL), and re-queue stale
    and failed ones. Bounded: partial indexes on the open states, at most ``limit`` queued."""
    S = Notification.EmailState
    now = timezone.now()
    new = Notification.objects.filter(email_state__isnull=True)
    counts = {"skipped": 0, "queued": 0, "requeued": 0}
    if not email_enabled():
        counts["skipped"] = new.update(email_state=S.SKIPPED, email_error=REASON_DISABLED)
        return counts
    counts["skipped"] += new.filter(recipient__is_active=False).update(
        email_state=S.SKIPPED, email_error=REASON_INACTIVE
    )
    counts["skipped"] += new.filter(recipient__email="").update(
        email_state=S.SKIPPED, email_error=REASON_NO_ADDRESS
    )
    ids = list(new.order_by("id").values_list("id", flat=True)[:limit])
    if ids:
        Notification.objects.filter(pk__in=ids, email_state__isnull=True).update(
            email_state=S.QUEUED,
            email_to=Subquery(User.objects.filter(pk=OuterRef("recipient_id")).values("email")[:1]),
            email_claimed_at=now,
        )
        counts["queued"] = len(ids)
    room = max(limit - len(ids), 0)
    stale = list(
        Notification.objects.filter(
            email_state__in=[S.QUEUED, S.SENDING, S.FAILED],
            email_claimed_at__lt=now - STALE_AFTER,
            email_attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("id")
        .values_list("id", flat=True)[:room]
    )
    counts["requeued"] = len(stale)
    queue_on_commit(ids + stale)
    return counts


def email_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``manage.py check``: say when notification e-mail is off (an intranet without a mail
    server is a valid set-up, so it is information, not a warning), and warn when e-mail is on
    without ``SITE_URL`` (the links in the e-mails would be relative)."""
    if not email_enabled():
        return [
            checks.Info(
                "邮件通知未启用：未配置邮件服务器（EMAIL_URL），通知只在系统内显示。",
                hint="配置 EMAIL_URL=smtp://主机:端口 后重启（docs/disclosure.md）。",
                id="core.I001",
            )
        ]
    if not getattr(settings, "SITE_URL", "") and not settings.DEBUG:
        return [
            checks.Warning(
                "邮件通知已启用，但未设置 SITE_URL：邮件中的链接将是相对路径。",
                hint="设置 SITE_URL=https://本系统域名 。",
                id="core.W001",
            )
        ]
    return []
