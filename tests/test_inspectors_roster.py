"""Roster services: audit events with before/after, ID-number encryption and masking,
status periods, recusals that can be ended but not deleted, the certificate-expiry job."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.db.models import ProtectedError

from audit.models import AuditEvent
from core.models import Notification
from enterprises.models import Enterprise, Township, Trade
from inspectors import crypto, services
from inspectors.models import Certificate, Expert, Inspector, Recusal, Training
from inspectors.selectors import inspector_history, roster_changes, training_by_year
from inspectors.tasks import certificate_expiry_notify

ID = "410481198503121238"


@pytest.fixture
def admin(users):
    return users["系统管理员"]


@pytest.fixture
def inspector(admin, section):
    return services.inspector_create(
        actor=admin,
        staff_number="WG001",
        name="张伟",
        section=section,
        id_number=ID,
        mobile="13937500001",
    )


# --- Encryption and masking ------------------------------------------------------------------
def test_id_number_encrypted_at_rest(inspector):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number_encrypted FROM inspectors_inspector WHERE id = %s", [inspector.pk]
        )
        (stored,) = cursor.fetchone()
    assert ID not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert Inspector.objects.get(pk=inspector.pk).id_number == ID
    assert inspector.id_number_masked == "410481********1238"


def test_id_number_never_in_audit(inspector, admin):
    services.inspector_update(actor=admin, inspector=inspector, id_number="41048119900715123X")
    for event in AuditEvent.objects.filter(object_type="inspectors.inspector"):
        text = str(event.detail)
        assert ID not in text and "41048119900715123X" not in text
    event = AuditEvent.objects.filter(event_type="inspector.updated").get()
    assert event.detail["changes"]["id_number"] == ["410481********1238", "410481********123X"]


def test_invalid_id_number_refused(admin, section):
    with pytest.raises(ValidationError) as exc:
        services.inspector_create(
            actor=admin,
            staff_number="WG009",
            name="王芳",
            section=section,
            id_number="410481198503121239",
        )
    assert "校验位" in str(exc.value)
    assert not Inspector.objects.exists()


def test_key_required_outside_debug_and_tests(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    settings.DEBUG = False
    settings.SETTINGS_MODULE = "config.settings.production"
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        crypto.encrypt("x")
    from inspectors.apps import check_encryption_key

    assert [e.id for e in check_encryption_key()] == ["inspectors.E001"]
    settings.DEBUG = True
    assert crypto.decrypt(crypto.encrypt("x")) == "x"


def test_key_rotation(settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    token = crypto.encrypt(ID)
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    assert crypto.decrypt(token) == ID
    settings.FIELD_ENCRYPTION_KEY = new
    with pytest.raises(ImproperlyConfigured, match="密钥不符"):
        crypto.decrypt(token)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(ID, True), ("41048119900715123X", True), ("41048119900715123x", True),
     ("410481198503121239", False), ("41048119850312123", False), ("", False)],
)  # fmt: skip
def test_id_number_check_digit(value, ok):
    assert crypto.id_number_is_valid(value) is ok


# --- Audit events for every change -------------------------------------------------------------
def test_create_and_update_write_before_after(inspector, admin, section):
    trade = Trade.objects.create(code="oil", name="成品油零售", section=section)
    services.inspector_update(
        actor=admin, inspector=inspector, position="副股长", trades=[trade], can_lead=True
    )
    created = AuditEvent.objects.get(event_type="inspector.created")
    assert created.detail["after"]["name"] == "张伟"
    assert created.actor == admin
    updated = AuditEvent.objects.get(event_type="inspector.updated")
    assert updated.detail["changes"] == {
        "position": ["", "副股长"], "can_lead": [False, True], "trades": [[], ["oil"]],
    }  # fmt: skip
    # An update that changes nothing writes no event.
    services.inspector_update(actor=admin, inspector=inspector, position="副股长")
    assert AuditEvent.objects.filter(event_type="inspector.updated").count() == 1


def test_related_rows_audited_and_in_history(inspector, admin, users):
    cert = services.certificate_save(
        actor=admin,
        certificate=Certificate(
            inspector=inspector,
            number="豫41001",
            issued_on=date(2024, 1, 1),
            expires_on=date(2029, 1, 1),
        ),
    )
    cert.expires_on = date(2028, 12, 31)
    services.certificate_save(actor=admin, certificate=cert)
    period = services.status_period_add(
        actor=admin,
        inspector=inspector,
        status="suspended",
        start=date(2026, 5, 1),
        reason="接受调查",
    )
    services.status_period_end(actor=admin, period=period, end=date(2026, 5, 31))
    services.training_add(
        actor=admin,
        training=Training(
            inspector=inspector, course="执法培训", held_on=date(2026, 3, 1), hours=8
        ),
    )
    township = Township.objects.create(code="1", name="垭口街道")
    enterprise = Enterprise.objects.create(uscc="91350200776049653A", name="甲", township=township)
    recusal = services.recusal_declare(
        actor=admin,
        recusal=Recusal(inspector=inspector, enterprise=enterprise, reason="kinship",
                        declared_on=date(2026, 2, 1)),
    )  # fmt: skip
    services.recusal_end(actor=admin, recusal=recusal, ended_on=date(2026, 6, 1), reason="已离职")
    types = list(inspector_history(inspector).values_list("event_type", flat=True))
    assert types == [
        "recusal.ended", "recusal.declared", "inspector.training_added",
        "inspector.status_ended", "inspector.status_added", "inspector.certificate_updated",
        "inspector.certificate_added", "inspector.created",
    ]  # fmt: skip
    cert_update = AuditEvent.objects.get(event_type="inspector.certificate_updated")
    assert cert_update.detail["before"]["expires_on"] == "2029-01-01"
    assert cert_update.detail["after"]["expires_on"] == "2028-12-31"
    assert roster_changes().count() == 8
    # Another inspector's history stays separate.
    other = services.inspector_create(
        actor=admin, staff_number="WG002", name="王芳", section=inspector.section
    )
    assert list(inspector_history(other).values_list("event_type", flat=True)) == [
        "inspector.created"
    ]


def test_recusal_can_be_ended_never_deleted(inspector, admin):
    recusal = services.recusal_declare(
        actor=admin,
        recusal=Recusal(inspector=inspector, legal_representative=" 王建军 ", reason="interest",
                        declared_on=date(2026, 2, 1)),
    )  # fmt: skip
    assert recusal.legal_representative == "王建军"
    assert recusal.approved_by == admin
    with pytest.raises(ValidationError, match="终止理由"):
        services.recusal_end(actor=admin, recusal=recusal, ended_on=date(2026, 3, 1), reason=" ")
    services.recusal_end(actor=admin, recusal=recusal, ended_on=date(2026, 3, 1), reason="还清")
    with pytest.raises(ValidationError, match="已终止"):
        services.recusal_end(actor=admin, recusal=recusal, ended_on=date(2026, 4, 1), reason="x")
    with pytest.raises(ProtectedError):
        inspector.delete()  # the records protect the inspector
    assert Recusal.objects.count() == 1


def test_recusal_needs_exactly_one_target(inspector, admin):
    with pytest.raises(ValidationError):
        services.recusal_declare(
            actor=admin,
            recusal=Recusal(inspector=inspector, reason="kinship", declared_on=date(2026, 2, 1)),
        )
    assert not AuditEvent.objects.filter(event_type="recusal.declared").exists()


def test_leave_needs_end_and_transfer_is_open(inspector, admin):
    with pytest.raises(ValidationError, match="结束日期"):
        services.status_period_add(
            actor=admin, inspector=inspector, status="leave", start=date(2026, 5, 1)
        )
    period = services.status_period_add(
        actor=admin,
        inspector=inspector,
        status="transferred",
        start=date(2026, 5, 1),
        end=date(2026, 6, 1),
    )
    assert period.end is None
    with pytest.raises(ValidationError):
        services.status_period_end(actor=admin, period=period, end=date(2026, 4, 1))


def test_expert_audited(admin):
    expert = services.member_save(
        actor=admin,
        member=Expert(code="ZJ001", name="高峰", organisation="河南城建学院", field="成品油",
                      valid_from=date(2026, 1, 1)),
    )  # fmt: skip
    expert.field = "危化品"
    services.member_save(actor=admin, member=expert)
    event = AuditEvent.objects.get(event_type="expert.updated")
    assert event.detail["changes"] == {"field": ["成品油", "危化品"]}


def test_training_by_year(inspector, admin, section):
    other = services.inspector_create(
        actor=admin, staff_number="WG002", name="王芳", section=section
    )
    for held_on, hours in (
        (date(2026, 3, 1), "8"),
        (date(2026, 9, 1), "4.5"),
        (date(2025, 9, 1), "6"),
    ):
        Training.objects.create(inspector=inspector, course="培训", held_on=held_on, hours=hours)
    rows = training_by_year(year=2026)
    assert [(r["inspector"], str(r["hours"]), len(r["trainings"])) for r in rows] == [
        (inspector, "12.5", 2), (other, "0", 0),
    ]  # fmt: skip


# --- The daily expiry job ----------------------------------------------------------------------
@time_machine.travel(date(2026, 11, 26), tick=False)
def test_expiry_job_twice_gives_one_notification(inspector, admin, users, make_user):
    from accounts.roles import Role

    inspector_user = users[Role.INSPECTOR]
    inspector.user = inspector_user
    inspector.save()
    second_admin = make_user(Role.SYSTEM_ADMIN)
    Certificate.objects.create(
        inspector=inspector,
        number="豫41001",
        issued_on=date(2021, 12, 26),
        expires_on=date(2026, 12, 26),  # 30 days: inside the window
    )
    far = services.inspector_create(
        actor=admin, staff_number="WG002", name="王芳", section=inspector.section
    )
    Certificate.objects.create(
        inspector=far, number="豫41002", issued_on=date(2022, 1, 1), expires_on=date(2026, 12, 27)
    )  # 31 days: not yet
    assert certificate_expiry_notify.apply().get() == 3  # two admins + the inspector
    assert certificate_expiry_notify.apply().get() == 0
    assert Notification.objects.count() == 3
    assert set(Notification.objects.values_list("recipient", flat=True)) == {
        admin.pk, second_admin.pk, inspector_user.pk,
    }  # fmt: skip
    note = Notification.objects.filter(recipient=inspector_user).get()
    assert note.title == "执法证即将到期：张伟（2026-12-26，剩30天）"
    assert note.link == f"/inspectors/{inspector.pk}/"


def test_expiry_job_renewal_and_expired(inspector, admin):
    old = Certificate.objects.create(
        inspector=inspector,
        number="豫41001",
        issued_on=date(2021, 1, 1),
        expires_on=date(2026, 12, 1),
    )
    with time_machine.travel(date(2026, 11, 26), tick=False):
        assert services.certificate_expiry_notify() == 1
    with time_machine.travel(date(2026, 12, 2), tick=False):
        assert services.certificate_expiry_notify() == 1  # a new notice: now expired
        assert Notification.objects.filter(title__startswith="执法证已到期").count() == 1
    Certificate.objects.create(
        inspector=inspector,
        number="豫41002",
        issued_on=date(2026, 12, 1),
        expires_on=date(2031, 12, 1),
    )
    with time_machine.travel(date(2026, 12, 3), tick=False):
        assert services.certificate_expiry_notify() == 0  # renewed: the old one no longer nags
    assert old.pk


def test_expiry_job_scheduled():
    from config.celery_app import app

    entry = app.conf.beat_schedule["inspectors-certificate-expiry"]
    assert entry["task"] == "inspectors.tasks.certificate_expiry_notify"
