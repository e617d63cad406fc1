"""The public results page (一公开): no login, published results only, never personal data,
risk tiers, evidence or unpublished records."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from disclosure import services as svc
from disclosure.models import PublicationRecord
from enterprises.models import RiskAssessment
from tests.disclosure_publication_fixtures import D, frozen

URL = "/disclosure/public/"


def _publish(record, version=None, on=None):
    on = on or D(2026, 10, 20)
    record.published_version = version or record.current_version
    record.first_published_on = record.first_published_on or on
    record.published_on = on
    record.status = PublicationRecord.Status.PUBLISHED
    record.save()


@pytest.fixture
def records(make_record, make_enterprise):
    published_ent = make_enterprise(
        name="舞钢市公开加油站", legal_representative="王大法", contact_phone="13912345678"
    )
    RiskAssessment.objects.create(
        enterprise=published_ent, tier="D", effective_date=D(2026, 1, 1), source="测试"
    )
    published = make_record(enterprise=published_ent, result="未发现问题")
    _publish(published)
    hidden = make_record(
        enterprise=make_enterprise(name="舞钢市未公示商行"), result="发现问题待后续处理"
    )
    return published, hidden


def test_the_public_page_needs_no_login_and_lives_at_disclosure_public(db):
    assert reverse("disclosure:public_results") == URL
    assert Client().get(URL).status_code == 200


def test_public_page_shows_published_results_only(records):
    published, hidden = records
    body = Client().get(URL).content.decode()
    assert "舞钢市公开加油站" in body and published.uscc in body
    assert published.task_number in body and published.task_name in body
    assert "不定向" in body and published.check_item in body and "2026-10-20" in body
    assert "舞钢市未公示商行" not in body and hidden.uscc not in body


def test_public_page_never_shows_personal_data_tiers_or_evidence(records, inspector_user):
    body = Client().get(URL).content.decode()
    assert "王大法" not in body  # the legal representative
    assert "13912345678" not in body  # phones
    assert inspector_user.full_name not in body  # inspectors
    assert "风险等级" not in body and "D类" not in body  # risk tiers
    assert "/files/" not in body  # no stored file (evidence, batches) is linked
    assert "法定代表人" not in body


def test_public_search_by_enterprise(records, make_record, make_enterprise):
    other = make_record(enterprise=make_enterprise(name="舞钢市另一家加油站"))
    _publish(other)
    client = Client()
    body = client.get(URL, {"q": "公开"}).content.decode()
    assert "舞钢市公开加油站" in body and "舞钢市另一家加油站" not in body
    body = client.get(URL, {"q": other.uscc}).content.decode()
    assert "舞钢市另一家加油站" in body and "舞钢市公开加油站" not in body


def test_public_page_shows_the_published_version_until_a_correction_is_published(
    records, users, inspector_user, correct
):
    published, _hidden = records
    correct(
        actor=inspector_user,
        record=published,
        result_text="未发现开展本次抽查涉及的经营活动",
        reason="企业已停业",
    )
    body = Client().get(URL).content.decode()
    assert "未发现问题" in body and "未发现开展本次抽查涉及的经营活动" not in body
    published.refresh_from_db()
    with frozen(D(2026, 11, 2)):
        batch = svc.batch_create(actor=users[Role.SECTION_STAFF])
        svc.batch_mark_published(
            actor=users[Role.SECTION_STAFF], batch=batch, published_on=D(2026, 11, 2)
        )
    body = Client().get(URL).content.decode()
    assert "未发现开展本次抽查涉及的经营活动" in body and "2026-11-02" in body


def test_a_record_rejected_by_the_platform_never_shows(make_record):
    record = make_record()
    record.status = PublicationRecord.Status.REJECTED
    record.save()
    assert record.enterprise_name not in Client().get(URL).content.decode()
