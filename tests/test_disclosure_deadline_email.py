"""The deadline scan's reminders and escalations reach inboxes too (the scan writes its
notifications with set-based SQL; the sweep at its end queues their e-mails), once per event."""

import os

import pytest
from django.core import mail

from accounts.roles import Role
from core.models import Notification
from disclosure.tasks import run_scan_locked
from tests.disclosure_publication_fixtures import D, frozen


@pytest.fixture
def addresses(users, inspector_user):
    people = {
        "inspector": inspector_user,
        "staff": users[Role.SECTION_STAFF],
        "head": users[Role.SECTION_HEAD],
    }
    for name, user in people.items():
        user.email = f"{name}@wugang.example"
        user.save(update_fields=["email"])
    return people


def inbox(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def scan(day, capture):
    with frozen(day), capture(execute=True):
        return run_scan_locked()


def test_reminder_then_escalation_by_email_once_per_event(
    make_record, addresses, eager, django_capture_on_commit_callbacks
):
    record = make_record(check_end=D(2026, 10, 3))  # deadline 2026-11-03
    counts = scan(D(2026, 10, 28), django_capture_on_commit_callbacks)
    assert counts["reminder"] == 1 and counts["email"]["queued"] == 2

    (reminder,) = inbox("inspector@wugang.example")
    assert "公示期限临近" in reminder.subject and record.enterprise_name in reminder.subject
    assert f"http://testserver/disclosure/publications/{record.pk}/" in reminder.body
    assert "公示期限 2026-11-03" in reminder.body
    (digest,) = inbox("staff@wugang.example")
    assert "本股室新增1条" in digest.subject
    assert "http://testserver/disclosure/publications/?f=reminder" in digest.body
    assert inbox("head@wugang.example") == []  # no escalation for a reminder

    scan(D(2026, 10, 28), django_capture_on_commit_callbacks)  # the same day again
    assert len(mail.outbox) == 2

    scan(D(2026, 11, 4), django_capture_on_commit_callbacks)  # overdue: escalation
    subjects = [m.subject for m in inbox("inspector@wugang.example")]
    assert len(subjects) == 2 and "公示已逾期" in subjects[1]
    (escalation,) = inbox("head@wugang.example")
    assert "逾期未公示" in escalation.subject
    assert "?f=overdue" in escalation.body
    assert len(inbox("staff@wugang.example")) == 2
    total = len(mail.outbox)
    scan(D(2026, 11, 4), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == total
    sent = Notification.objects.filter(email_state=Notification.EmailState.SENT)
    assert sent.count() == total and not sent.filter(email_attempts__gt=1).exists()


def test_scan_recipients_without_an_address_keep_the_bell_only(
    make_record, users, inspector_user, eager, django_capture_on_commit_callbacks
):
    make_record(check_end=D(2026, 10, 3))
    counts = scan(D(2026, 10, 28), django_capture_on_commit_callbacks)
    assert counts["email"] == {"skipped": 2, "queued": 0, "requeued": 0}
    assert mail.outbox == []
    notice = Notification.objects.get(recipient=inspector_user)
    assert notice.email_state == Notification.EmailState.SKIPPED
    assert notice.email_error == "用户未登记电子邮箱"
    assert notice.read_at is None


def test_the_scan_on_demand_emails_too(
    make_record, addresses, users, client_for, eager, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    make_record(check_end=D(2026, 10, 3))
    with frozen(D(2026, 11, 4)), django_capture_on_commit_callbacks(execute=True):
        response = client_for(Role.LEAD_SECTION).post(reverse("disclosure:scan_now"))
    assert response.status_code == 302
    assert len(inbox("head@wugang.example")) == 1


def test_the_lead_section_and_the_system_admin_see_whether_email_is_on(client_for, settings):
    from django.urls import reverse

    url = reverse("disclosure:publication_list")
    settings.NOTIFICATION_EMAIL_ENABLED = False
    for role in (Role.LEAD_SECTION, Role.SYSTEM_ADMIN):
        assert "邮件通知未启用" in client_for(role).get(url).content.decode()
    assert "邮件通知未启用" not in client_for(Role.SECTION_STAFF).get(url).content.decode()
    settings.NOTIFICATION_EMAIL_ENABLED = True
    body = client_for(Role.LEAD_SECTION).get(url).content.decode()
    assert "邮件通知未启用" not in body and "通知同时以电子邮件发送" in body


# --- against a real Redis broker and a real Celery worker -------------------------------------


@pytest.fixture
def worker(celery_worker_threads):
    return celery_worker_threads


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs a real Redis (set REDIS_URL) for the broker",
)
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_emails_the_daily_reminder_once(worker, make_record, addresses):
    import time

    from disclosure.tasks import deadline_scan

    record = make_record(check_end=D(2026, 10, 3))  # deadline 2026-11-03
    counts = deadline_scan.delay("2026-10-28").get(timeout=60)
    assert counts["email"]["queued"] == 2  # the inspector's notice and the section digest
    sent = Notification.objects.filter(email_state=Notification.EmailState.SENT)
    for _ in range(120):
        if sent.count() == 2:
            break
        time.sleep(0.25)
    assert sent.count() == 2
    (reminder,) = inbox("inspector@wugang.example")
    assert f"/disclosure/publications/{record.pk}/" in reminder.body
    assert len(inbox("staff@wugang.example")) == 1
    deadline_scan.delay("2026-10-28").get(timeout=60)  # again: nothing new
    time.sleep(1)
    assert len(mail.outbox) == 2
