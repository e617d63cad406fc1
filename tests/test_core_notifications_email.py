"""Notifications by e-mail (core.mail): queued after commit, never on rollback; idempotent
delivery with attempts, sent time and failure reason; no e-mail without an address; e-mail
switched off in production without a mail server."""

import datetime as dt
import os
import smtplib
import subprocess
import sys
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from core import mail as core_mail
from core.models import Notification
from core.services import notification_send

S = Notification.EmailState


@pytest.fixture
def alice(make_user):
    return make_user(username="alice", full_name="王小丽", email="alice@wugang.example")


@pytest.fixture
def nobody(make_user):
    return make_user(username="nobody", full_name="无邮箱", email="")


def send(user, key="k1", **fields):
    return notification_send(
        recipient=user,
        key=key,
        title=fields.get("title", "公示期限临近：舞钢市某加油站（成品油零售）"),
        body=fields.get("body", "公示期限 2026-11-03。"),
        link=fields.get("link", "/disclosure/publications/7/"),
    )


def test_mail_is_sent_after_commit_with_a_chinese_plain_text_body_and_the_link(
    alice, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        assert send(alice)
        assert mail.outbox == []  # nothing before the commit
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@wugang.example"]
    assert "公示期限临近：舞钢市某加油站（成品油零售）" in message.subject
    assert "\n" not in message.subject
    assert message.content_subtype == "plain"
    assert message.body.startswith("王小丽：")
    assert "公示期限 2026-11-03。" in message.body
    assert "http://testserver/disclosure/publications/7/" in message.body
    assert settings.BUREAU_NAME in message.body
    n = Notification.objects.get(recipient=alice, key="k1")
    assert n.email_state == S.SENT
    assert n.email_attempts == 1
    assert n.email_sent_at is not None and n.email_error == ""
    assert n.email_to == "alice@wugang.example"


def test_no_mail_when_the_transaction_rolls_back(alice, eager, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send(alice)
        raise RuntimeError("boom")
    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.filter(recipient=alice).exists()


def test_sending_the_same_notification_twice_mails_once(
    alice, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert send(alice) is True
        assert send(alice) is False  # same key: not new, nothing queued
    assert len(mail.outbox) == 1


def test_delivery_is_idempotent(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the task is not run here
        send(alice)
    n = Notification.objects.get(recipient=alice)
    assert n.email_state == S.QUEUED and mail.outbox == []
    assert core_mail.notification_email_deliver(notification_id=n.pk) == S.SENT
    assert core_mail.notification_email_deliver(notification_id=n.pk) == S.SENT
    from core.tasks import notification_email_send

    assert notification_email_send(n.pk) == S.SENT  # the task body, run again
    assert len(mail.outbox) == 1
    n.refresh_from_db()
    assert n.email_attempts == 1


def test_user_without_address_gets_the_bell_only(nobody, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert send(nobody)
    assert callbacks == []  # no task queued at all
    assert mail.outbox == []
    n = Notification.objects.get(recipient=nobody)
    assert n.email_state == S.SKIPPED and n.email_error == core_mail.REASON_NO_ADDRESS
    assert n.read_at is None  # still in the bell


def test_inactive_user_and_in_app_only_notices_are_not_mailed(
    make_user, alice, django_capture_on_commit_callbacks
):
    gone = make_user(username="gone", email="gone@wugang.example", is_active=False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send(gone)
        notification_send(recipient=alice, key="self", title="批量打印文件已生成", email=False)
    assert callbacks == [] and mail.outbox == []
    assert Notification.objects.get(recipient=gone).email_error == core_mail.REASON_INACTIVE
    assert Notification.objects.get(recipient=alice).email_error == core_mail.REASON_IN_APP_ONLY


def test_failure_is_recorded_and_retried_up_to_the_limit(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        send(alice)
    n = Notification.objects.get(recipient=alice)
    refused = smtplib.SMTPRecipientsRefused({"alice@wugang.example": (550, b"no such user")})
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=refused):
        assert core_mail.notification_email_deliver(notification_id=n.pk) == S.FAILED
    n.refresh_from_db()
    assert n.email_state == S.FAILED and n.email_attempts == 1
    assert "SMTPRecipientsRefused" in n.email_error and "no such user" in n.email_error
    assert n.email_sent_at is None
    # A retry that works clears the error.
    assert core_mail.notification_email_deliver(notification_id=n.pk) == S.SENT
    n.refresh_from_db()
    assert n.email_attempts == 2 and n.email_error == "" and len(mail.outbox) == 1


def test_a_failing_address_is_given_up_after_max_attempts(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        send(alice)
    n = Notification.objects.get(recipient=alice)
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("连接超时")):
        for _ in range(core_mail.MAX_ATTEMPTS + 2):
            core_mail.notification_email_deliver(notification_id=n.pk)
    n.refresh_from_db()
    assert n.email_state == S.FAILED and n.email_attempts == core_mail.MAX_ATTEMPTS
    assert "连接超时" in n.email_error


def test_mail_text_is_not_html_escaped(alice, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(alice, title="A&B <加油站>", body="结果：“未发现问题”&更正")
    body = mail.outbox[0].body
    assert "A&B <加油站>" in body and "结果：“未发现问题”&更正" in body
    assert "&amp;" not in body and "&lt;" not in body


@override_settings(NOTIFICATION_EMAIL_ENABLED=False)
def test_email_disabled_keeps_everything_in_app_and_check_says_so(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send(alice)
    assert callbacks == [] and mail.outbox == []
    n = Notification.objects.get(recipient=alice)
    assert n.email_state == S.SKIPPED and n.email_error == core_mail.REASON_DISABLED
    assert [m.id for m in core_mail.email_settings_check()] == ["core.I001"]
    assert core_mail.email_status()[0] is False


@override_settings(DEBUG=False, SITE_URL="")
def test_check_warns_when_mail_is_on_without_a_site_url():
    assert [m.id for m in core_mail.email_settings_check()] == ["core.W001"]


# --- the sweep: notifications written by set-based SQL -----------------------------------------


def _raw(user, key):
    """A notification as the deadline scan's INSERT … SELECT writes it (no e-mail columns)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notification._meta.db_table} "
            "(recipient_id, key, title, body, link, created_at) VALUES (%s, %s, %s, '', '', %s)",
            [
                user.pk,
                key,
                "今日为公示期限：测试",
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
    return Notification.objects.get(recipient=user, key=key)


def test_sweep_decides_and_queues_rows_written_without_a_state(
    alice, nobody, make_user, eager, django_capture_on_commit_callbacks
):
    gone = make_user(username="gone2", email="g@wugang.example", is_active=False)
    a, b, c = _raw(alice, "raw-a"), _raw(nobody, "raw-b"), _raw(gone, "raw-c")
    assert a.email_state is None and a.email_attempts == 0 and a.email_error == ""
    with django_capture_on_commit_callbacks(execute=True):
        counts = core_mail.notification_email_sweep()
    assert counts == {"skipped": 2, "queued": 1, "requeued": 0}
    assert [m.to for m in mail.outbox] == [["alice@wugang.example"]]
    for row in (a, b, c):
        row.refresh_from_db()
    assert a.email_state == S.SENT and a.email_to == "alice@wugang.example"
    assert (b.email_state, b.email_error) == (S.SKIPPED, core_mail.REASON_NO_ADDRESS)
    assert (c.email_state, c.email_error) == (S.SKIPPED, core_mail.REASON_INACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        assert core_mail.notification_email_sweep() == {"skipped": 0, "queued": 0, "requeued": 0}
    assert len(mail.outbox) == 1


def test_sweep_requeues_lost_and_failed_mail_but_not_fresh_or_exhausted(
    alice, eager, django_capture_on_commit_callbacks
):
    old = timezone.now() - dt.timedelta(hours=1)
    lost = _raw(alice, "lost")
    fresh = _raw(alice, "fresh")
    exhausted = _raw(alice, "exhausted")
    Notification.objects.filter(pk=lost.pk).update(email_state=S.QUEUED, email_claimed_at=old)
    Notification.objects.filter(pk=fresh.pk).update(
        email_state=S.QUEUED, email_claimed_at=timezone.now()
    )
    Notification.objects.filter(pk=exhausted.pk).update(
        email_state=S.FAILED, email_claimed_at=old, email_attempts=core_mail.MAX_ATTEMPTS
    )
    with django_capture_on_commit_callbacks(execute=True):
        counts = core_mail.notification_email_sweep()
    assert counts["requeued"] == 1
    lost.refresh_from_db()
    assert lost.email_state == S.SENT and len(mail.outbox) == 1


@override_settings(NOTIFICATION_EMAIL_ENABLED=False)
def test_sweep_with_email_disabled_marks_new_rows_skipped(alice):
    row = _raw(alice, "off")
    assert core_mail.notification_email_sweep()["skipped"] == 1
    row.refresh_from_db()
    assert row.email_state == S.SKIPPED and row.email_error == core_mail.REASON_DISABLED


def test_broker_failure_leaves_the_row_queued_for_the_sweep(
    alice, django_capture_on_commit_callbacks
):
    with (
        mock.patch("core.tasks.notification_email_send.delay", side_effect=OSError("broker")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send(alice)
    n = Notification.objects.get(recipient=alice)
    assert n.email_state == S.QUEUED and mail.outbox == []


def test_sweep_runs_every_ten_minutes_in_beat():
    from config.celery_app import app

    entry = app.conf.beat_schedule["core-notification-email-sweep"]
    assert entry["task"] == "core.tasks.notification_email_sweep"
    assert entry["schedule"].minute == {0, 10, 20, 30, 40, 50}


# --- settings per environment ---------------------------------------------------------------


def _settings_in(module: str, extra_env: dict) -> dict:
    from cryptography.fernet import Fernet

    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "EMAIL_URL", "EMAIL_BACKEND"}
        },
        "DJANGO_SETTINGS_MODULE": module,
        "SECRET_KEY": "prod-test-" + "k" * 60,
        "ALLOWED_HOSTS": "inspect.wugang.example",
        "DATABASE_URL": "",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        **extra_env,
    }
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "from django.core.checks import run_checks; "
        "print(json.dumps([s.EMAIL_BACKEND, s.NOTIFICATION_EMAIL_ENABLED, "
        "getattr(s, 'EMAIL_HOST', ''), [m.id for m in run_checks() if m.id.startswith('core.')]]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    import json

    backend, enabled, host, ids = json.loads(result.stdout.strip().splitlines()[-1])
    return {"backend": backend, "enabled": enabled, "host": host, "checks": ids}


def test_production_without_a_mail_server_disables_email_and_check_says_so():
    values = _settings_in("config.settings.production", {})
    assert values["enabled"] is False
    assert values["backend"] == "django.core.mail.backends.dummy.EmailBackend"
    assert "core.I001" in values["checks"]


def test_production_with_a_mail_server_sends_by_smtp():
    values = _settings_in(
        "config.settings.production",
        {"EMAIL_URL": "smtp://mail.intranet:25", "SITE_URL": "https://inspect.wugang.example"},
    )
    assert values["enabled"] is True and values["host"] == "mail.intranet"
    assert values["backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["checks"] == []


def test_development_writes_mail_to_files():
    values = _settings_in("config.settings.local", {})
    assert values["backend"] == "django.core.mail.backends.filebased.EmailBackend"
    assert values["enabled"] is True
