"""Roster screens: who may see and change what, masking, the admin's flows end to end."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from enterprises.models import Enterprise, Township
from inspectors import services
from inspectors.models import Agency, Certificate, Expert, Inspector, Recusal, StatusPeriod
from tests.permissions import assert_role_access

READERS = {
    Role.LEAD_SECTION, Role.SECTION_STAFF, Role.INSPECTOR, Role.SECTION_HEAD, Role.DISCIPLINE,
    Role.SYSTEM_ADMIN,
}  # fmt: skip
ADMIN = {Role.SYSTEM_ADMIN}
ID = "410481198503121238"


@pytest.fixture
def roster(users, section):
    admin = users[Role.SYSTEM_ADMIN]
    today = timezone.localdate()
    inspector = services.inspector_create(
        actor=admin, staff_number="WG001", name="张伟", section=section, id_number=ID
    )
    cert = Certificate.objects.create(
        inspector=inspector,
        number="豫41001",
        issued_on=today - timedelta(days=1000),
        expires_on=today + timedelta(days=10),
    )
    period = StatusPeriod.objects.create(
        inspector=inspector, status="suspended", start=today, created_by=admin
    )
    township = Township.objects.create(code="1", name="垭口街道")
    enterprise = Enterprise.objects.create(
        uscc="91350200776049653A",
        name="舞钢市华兴加油站",
        township=township,
        legal_representative="王建军",
    )
    recusal = Recusal.objects.create(
        inspector=inspector,
        enterprise=enterprise,
        reason="kinship",
        declared_on=today,
        approved_by=admin,
    )
    expert = Expert.objects.create(
        code="ZJ001", name="高峰", organisation="河南城建学院", field="成品油", valid_from=today
    )
    agency = Agency.objects.create(
        code="JG001",
        name="河南安信检测技术有限公司",
        uscc="91440101MA5CJQ4N59",
        field="成品油",
        contract_start=today,
        contract_end=today + timedelta(days=300),
    )
    return {
        "inspector": inspector, "cert": cert, "period": period, "recusal": recusal,
        "expert": expert, "agency": agency, "enterprise": enterprise,
    }  # fmt: skip


def test_read_pages_permissions(users, roster):
    pk = roster["inspector"].pk
    for url in [
        reverse("inspectors:list"),
        reverse("inspectors:detail", args=[pk]),
        reverse("inspectors:certificate_expiring"),
        reverse("inspectors:training_report"),
        reverse("inspectors:recusal_list"),
        reverse("inspectors:changes"),
        reverse("inspectors:expert_list"),
        reverse("inspectors:agency_list"),
        reverse("inspectors:export"),
    ]:
        assert_role_access(users, url, READERS)


def test_admin_pages_permissions(users, roster):
    r = roster
    for url in [
        reverse("inspectors:add"),
        reverse("inspectors:edit", args=[r["inspector"].pk]),
        reverse("inspectors:status_add", args=[r["inspector"].pk]),
        reverse("inspectors:status_end", args=[r["period"].pk]),
        reverse("inspectors:certificate_add", args=[r["inspector"].pk]),
        reverse("inspectors:certificate_edit", args=[r["cert"].pk]),
        reverse("inspectors:training_add", args=[r["inspector"].pk]),
        reverse("inspectors:recusal_add", args=[r["inspector"].pk]),
        reverse("inspectors:recusal_end", args=[r["recusal"].pk]),
        reverse("inspectors:expert_add"),
        reverse("inspectors:expert_edit", args=[r["expert"].pk]),
        reverse("inspectors:expert_recusal_add", args=[r["expert"].pk]),
        reverse("inspectors:agency_add"),
        reverse("inspectors:agency_edit", args=[r["agency"].pk]),
        reverse("inspectors:agency_recusal_add", args=[r["agency"].pk]),
        reverse("inspectors:import"),
        reverse("inspectors:import_template"),
    ]:
        assert_role_access(users, url, ADMIN)
        assert_role_access(users, url, ADMIN, method="post", ok_statuses=(200, 302))


def test_import_confirm_is_post_only_admin(users):
    url = reverse("inspectors:import_confirm")
    assert_role_access(users, url, ADMIN, method="post", ok_statuses=(404,))


def test_id_number_masked_except_for_admin(client_for, roster):
    url = reverse("inspectors:detail", args=[roster["inspector"].pk])
    for role in READERS - ADMIN:
        html = client_for(role).get(url).content.decode()
        assert "410481********1238" in html and ID not in html, role
    html = client_for(Role.SYSTEM_ADMIN).get(url).content.decode()
    assert ID in html


def test_detail_shows_status_history_and_no_edit_links_for_readers(client_for, roster):
    url = reverse("inspectors:detail", args=[roster["inspector"].pk])
    html = client_for(Role.DISCIPLINE).get(url).content.decode()
    assert "停职" in html and "新增人员" in html
    assert reverse("inspectors:edit", args=[roster["inspector"].pk]) not in html
    admin_html = client_for(Role.SYSTEM_ADMIN).get(url).content.decode()
    assert reverse("inspectors:edit", args=[roster["inspector"].pk]) in admin_html


def test_list_filters_and_expiry_tag(client_for, roster, section):
    Inspector.objects.create(staff_number="WG002", name="王芳", section=section)
    client = client_for(Role.SECTION_STAFF)
    html = client.get(reverse("inspectors:list")).content.decode()
    assert "张伟" in html and "王芳" in html and "剩10天" in html and "无有效执法证" in html
    html = client.get(reverse("inspectors:list"), {"state": "active"}).content.decode()
    assert "王芳" in html and "张伟" not in html
    html = client.get(reverse("inspectors:list"), {"q": "WG001"}).content.decode()
    assert "张伟" in html and "王芳" not in html


def test_admin_adds_inspector_in_browser_flow(client_for, section):
    client = client_for(Role.SYSTEM_ADMIN)
    response = client.post(
        reverse("inspectors:add"),
        {"staff_number": "WG010", "name": "李强", "section": section.pk, "id_number": "41048119900715123x",
         "professional_qualifications": ["hazchem"], "can_lead": "on"},
    )  # fmt: skip
    inspector = Inspector.objects.get(staff_number="WG010")
    assert response.status_code == 302 and response["Location"] == reverse(
        "inspectors:detail", args=[inspector.pk]
    )
    assert inspector.id_number == "41048119900715123X"
    assert inspector.professional_qualifications == ["hazchem"] and inspector.can_lead
    bad = client.post(
        reverse("inspectors:add"),
        {"staff_number": "WG010", "name": "重复", "section": section.pk, "id_number": "123"},
    )
    assert bad.status_code == 200
    html = bad.content.decode()
    assert "身份证号格式或校验位不正确" in html and "人员编号" in html


def test_admin_suspends_and_records(client_for, roster):
    client = client_for(Role.SYSTEM_ADMIN)
    inspector = roster["inspector"]
    today = timezone.localdate()
    response = client.post(
        reverse("inspectors:status_add", args=[inspector.pk]),
        {"status": "leave", "start": today.isoformat(), "end": ""},
    )
    assert response.status_code == 200 and "休假须填写结束日期" in response.content.decode()
    response = client.post(
        reverse("inspectors:status_end", args=[roster["period"].pk]),
        {"end": today.isoformat(), "reason": "调查结束"},
    )
    assert response.status_code == 302
    roster["period"].refresh_from_db()
    assert roster["period"].end == today
    response = client.post(
        reverse("inspectors:certificate_add", args=[inspector.pk]),
        {"cert_type": "河南省行政执法证", "number": "豫41777", "issued_on": today.isoformat(),
         "expires_on": (today + timedelta(days=1800)).isoformat(), "issuer": "河南省人民政府"},
    )  # fmt: skip
    assert response.status_code == 302 and inspector.certificates.count() == 2
    response = client.post(
        reverse("inspectors:training_add", args=[inspector.pk]),
        {"course": "执法实务", "held_on": today.isoformat(), "hours": "8"},
    )
    assert response.status_code == 302 and inspector.trainings.count() == 1
    response = client.post(
        reverse("inspectors:recusal_add", args=[inspector.pk]),
        {"enterprise_uscc": "", "legal_representative": "", "reason": "kinship",
         "declared_on": today.isoformat()},
    )  # fmt: skip
    assert "三选一" in response.content.decode()
    response = client.post(
        reverse("inspectors:recusal_add", args=[inspector.pk]),
        {"enterprise_uscc": "91350200776049653a", "reason": "former_employment",
         "declared_on": today.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    assert inspector.recusals.filter(enterprise=roster["enterprise"]).count() == 2
    response = client.post(
        reverse("inspectors:recusal_end", args=[roster["recusal"].pk]),
        {"ended_on": today.isoformat(), "end_reason": "亲属已离职"},
    )
    assert response.status_code == 302
    types = set(AuditEvent.objects.values_list("event_type", flat=True))
    assert {"inspector.status_ended", "inspector.certificate_added", "inspector.training_added",
            "recusal.declared", "recusal.ended"} <= types  # fmt: skip


def test_discipline_cannot_post(client_for, roster):
    response = client_for(Role.DISCIPLINE).post(
        reverse("inspectors:edit", args=[roster["inspector"].pk]), {"name": "x"}
    )
    assert response.status_code == 403
    assert Inspector.objects.get(pk=roster["inspector"].pk).name == "张伟"


def test_expert_and_agency_forms(client_for):
    client = client_for(Role.SYSTEM_ADMIN)
    response = client.post(
        reverse("inspectors:expert_add"),
        {"code": "ZJ009", "name": "孟凡", "organisation": "舞钢市应急管理局", "field": "危化品",
         "professional_qualifications": ["hazchem"], "valid_from": "2026-01-01", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Expert.objects.get(code="ZJ009").professional_qualifications == ["hazchem"]
    html = client.get(reverse("inspectors:expert_list")).content.decode()
    assert "孟凡" in html


def test_pages_render_with_demo_like_data(client_for, roster):
    client = client_for(Role.SYSTEM_ADMIN)
    html = client.get(reverse("inspectors:certificate_expiring")).content.decode()
    assert "豫41001" in html and "剩10天" in html
    html = client.get(reverse("inspectors:recusal_list")).content.decode()
    assert "舞钢市华兴加油站" in html
    html = client.get(reverse("inspectors:changes")).content.decode()
    assert "新增人员" in html and "张伟（WG001）" in html
    html = client.get(reverse("core:dashboard")).content.decode()
    assert "执法证到期提醒" in html
    year = date.today().year
    assert client.get(reverse("inspectors:training_report"), {"year": year}).status_code == 200
    assert client.get(reverse("inspectors:training_report"), {"year": "x"}).status_code == 200


def test_history_reads_as_before_after(client_for, roster, users):
    inspector = roster["inspector"]
    services.inspector_update(
        actor=users[Role.SYSTEM_ADMIN], inspector=inspector, position="副股长",
        professional_qualifications=["hazchem"], id_number="41048119900715123X",
    )  # fmt: skip
    url = reverse("inspectors:detail", args=[inspector.pk])
    html = client_for(Role.DISCIPLINE).get(url).content.decode()
    assert "修改人员信息" in html and "职务/岗位：" in html and "副股长" in html
    assert "专业资质：" in html and "危险化学品" in html
    assert "410481********123X" in html and "41048119900715123X" not in html
    html = client_for(Role.DISCIPLINE).get(reverse("inspectors:changes")).content.decode()
    assert "修改人员信息" in html and "<del>410481********1238</del>" in html


def test_eligibility_check_page(users, client_for, roster, section):
    from enterprises.models import CheckItem, Trade

    url = reverse("inspectors:eligibility")
    assert_role_access(users, url, READERS)
    trade = Trade.objects.create(code="oil", name="成品油零售", section=section)
    item = CheckItem.objects.create(
        code="GX-1", name="成品油检查", legal_basis="x", section=section
    )
    item.trades.add(trade)
    ok = Inspector.objects.create(staff_number="WG002", name="王芳", section=section)
    ok.trades.add(trade)
    today = timezone.localdate()
    Certificate.objects.create(
        inspector=ok, number="豫41002", issued_on=today, expires_on=today + timedelta(days=30)
    )
    response = client_for(Role.DISCIPLINE).get(
        url,
        {"start": today.isoformat(), "end": (today + timedelta(days=3)).isoformat(),
         "check_items": [item.pk], "enterprise_uscc": "91350200776049653A"},
    )  # fmt: skip
    html = response.content.decode()
    assert "可抽取 1 人 / 共 2 人" in html
    assert "停职" in html and "已申报回避（亲属关系：舞钢市华兴加油站）" in html


def test_certificate_form_validates_dates_and_duplicates(client_for, roster):
    client = client_for(Role.SYSTEM_ADMIN)
    url = reverse("inspectors:certificate_add", args=[roster["inspector"].pk])
    data = {"cert_type": "河南省行政执法证", "number": "豫41999", "issued_on": "2026-05-01",
            "expires_on": "2026-04-30", "issuer": "河南省人民政府"}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 200 and Certificate.objects.count() == 1
    response = client.post(url, {**data, "number": "豫41001", "expires_on": "2031-04-30"})
    assert response.status_code == 200 and Certificate.objects.count() == 1
    assert "执法证 已经存在" in response.content.decode()
    response = client.post(url, {**data, "expires_on": "2031-04-30"})
    assert response.status_code == 302 and Certificate.objects.count() == 2


def test_history_shows_names_not_ids(client_for, roster, users, section):
    from enterprises.models import Trade

    trade = Trade.objects.create(code="refined_oil", name="成品油零售", section=section)
    services.inspector_update(
        actor=users[Role.SYSTEM_ADMIN], inspector=roster["inspector"], trades=[trade],
        user=users[Role.INSPECTOR],
    )  # fmt: skip
    html = client_for(Role.DISCIPLINE).get(reverse("inspectors:changes")).content.decode()
    assert "可检查行业：成品油零售" in html and "所在股室：市场运行股" in html
    assert f"登录账户：{users[Role.INSPECTOR].display_name}" in html
    assert "回避企业：舞钢市华兴加油站" not in html  # the fixture's recusal bypassed the service
