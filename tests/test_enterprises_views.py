"""Register pages: role access, filters, keyset pagination without COUNT(*), edit forms, the
browser's upload → preview → confirm flow, export and templates."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from enterprises.models import CheckItem, Enterprise, ImportBatch, RiskAssessment, Trade
from enterprises.views import PAGE_SIZE

from .permissions import assert_role_access
from .test_enterprises_factories import code, make_enterprises
from .test_enterprises_import import row, xlsx

READERS = {
    Role.LEAD_SECTION,
    Role.SECTION_STAFF,
    Role.INSPECTOR,
    Role.SECTION_HEAD,
    Role.DISCIPLINE,
    Role.SYSTEM_ADMIN,
}
EDITORS = {Role.LEAD_SECTION, Role.SECTION_STAFF}
EXPORTERS = {Role.LEAD_SECTION, Role.SECTION_STAFF, Role.SECTION_HEAD, Role.DISCIPLINE}


@pytest.fixture
def one(users, other_section):
    return make_enterprises(1)[0]


def test_read_pages_access(users, one):
    item = CheckItem.objects.first()
    for url in (
        reverse("enterprises:list"),
        reverse("enterprises:detail", args=[one.pk]),
        reverse("enterprises:check_item_list"),
        reverse("enterprises:check_item_detail", args=[item.pk]),
    ):
        assert_role_access(users, url, READERS)


def test_edit_pages_access(users, one):
    for url in (
        reverse("enterprises:add"),
        reverse("enterprises:edit", args=[one.pk]),
        reverse("enterprises:check_item_add"),
        reverse("enterprises:import_index"),
        reverse("enterprises:import_start", args=["tiers"]),
        reverse("enterprises:template", args=["licences"]),
    ):
        assert_role_access(users, url, EDITORS)
    assert_role_access(users, reverse("enterprises:export"), EXPORTERS)


def test_write_posts_access(users, one):
    url = reverse("enterprises:tier_add", args=[one.pk])
    data = {"tier": "B", "effective_date": "2026-01-01", "source": "股室评定"}
    assert_role_access(users, url, EDITORS, method="post", data=data)
    assert RiskAssessment.objects.filter(enterprise=one).count() == len(EDITORS)
    url = reverse("enterprises:licence_add", args=[one.pk])
    assert_role_access(
        users, url, EDITORS, method="post", data={"licence_type": "x", "number": "1"}
    )


def test_list_filters_keyset_and_constant_queries(client_for, users, other_section):
    make_enterprises(PAGE_SIZE + 5)
    salt = Trade.objects.get(code="salt")
    target = Enterprise.objects.get(uscc=code(3))
    target.trades.add(salt)
    RiskAssessment.objects.create(
        enterprise=target, tier="D", effective_date=dt.date(2020, 1, 1), source="x"
    )
    client = client_for(Role.INSPECTOR)
    url = reverse("enterprises:list")
    with CaptureQueriesContext(connection) as ctx:
        page1 = client.get(url)
    assert page1.status_code == 200 and page1.content.decode().count("<tr>") == PAGE_SIZE + 1
    register_sql = [
        q["sql"].upper() for q in ctx.captured_queries if "ENTERPRISES_" in q["sql"].upper()
    ]
    assert register_sql and not any("COUNT(" in sql for sql in register_sql)
    next_url = page1.context["next_url"]
    assert next_url
    with CaptureQueriesContext(connection) as ctx2:
        page2 = client.get(url + next_url)
    assert len(ctx2.captured_queries) == len(ctx.captured_queries)
    assert len(page2.context["rows"]) == 5 and not page2.context["next_url"]
    assert page2.context["prev_url"]
    back = client.get(url + page2.context["prev_url"])
    assert [e.uscc for e in back.context["rows"]] == [e.uscc for e in page1.context["rows"]]
    for params in ({"trade": salt.pk}, {"tier": "D"}, {"q": "测试3有"}, {"q": code(3)[:12]}):
        rows = client.get(url, params).context["rows"]
        assert target in rows, params
    assert [e.uscc for e in client.get(url, {"tier": "D"}).context["rows"]] == [target.uscc]
    assert not client.get(url, {"status": "revoked"}).context["rows"]


def test_detail_shows_tier_history_licences_and_audit(client_for, users, one):
    client = client_for(Role.SECTION_STAFF)
    client.post(
        reverse("enterprises:tier_add", args=[one.pk]),
        {"tier": "C", "effective_date": "2026-01-01", "source": "股室评定", "reason": "投诉"},
    )
    client.post(
        reverse("enterprises:licence_add", args=[one.pk]),
        {"licence_type": "成品油零售经营批准证书", "number": "油001", "expires_on": "2020-01-01"},
    )
    page = client.get(reverse("enterprises:detail", args=[one.pk])).content.decode()
    assert "C 中高风险" in page and "投诉" in page and "油001" in page and "已过期" in page
    assert "enterprise.tier_add" in page and "enterprise.licence_save" in page


def test_edit_form_with_check_digit_override(client_for, users, one):
    from enterprises.models import Township

    client = client_for(Role.LEAD_SECTION)
    data = {
        "uscc": "91350203M0001QKT19",
        "name": "舞钢市改名有限公司",
        "township": Township.objects.first().pk,
        "trades": [Trade.objects.get(code="salt").pk],
        "enterprise_type": "company",
        "status": "active",
    }
    response = client.post(reverse("enterprises:edit", args=[one.pk]), data)
    assert response.status_code == 200 and "校验位不符" in response.content.decode()
    response = client.post(
        reverse("enterprises:edit", args=[one.pk]), {**data, "uscc_override_reason": "登记机关核实"}
    )
    assert response.status_code == 302
    one.refresh_from_db()
    assert one.uscc == "91350203M0001QKT19" and one.name == "舞钢市改名有限公司"
    event = AuditEvent.objects.filter(event_type="enterprise.update").latest("seq")
    assert event.detail["changes"]["name"] == ["舞钢市测试0有限公司", "舞钢市改名有限公司"]


def test_check_item_edit_bumps_version(client_for, users, one):
    item = CheckItem.objects.get(code="WG-SW-001")
    client = client_for(Role.SECTION_STAFF)
    form = client.get(reverse("enterprises:check_item_edit", args=[item.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        trades=[t.pk for t in item.trades.all()],
        methods=item.methods,
        section=item.section_id,
        key_points="新的检查要点",
        licence_types="成品油零售经营批准证书",
    )
    response = client.post(reverse("enterprises:check_item_edit", args=[item.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    item.refresh_from_db()
    assert item.version == 2 and item.key_points == "新的检查要点"


def upload(client, kind, data, name="f.xlsx"):
    return client.post(
        reverse("enterprises:import_start", args=[kind]),
        {"file": SimpleUploadedFile(name, data)},
    )


def test_browser_preview_then_confirm(client_for, users, other_section):
    make_enterprises(1)
    client = client_for(Role.SECTION_STAFF)
    response = upload(client, "enterprises", xlsx([row(0, 法定代表人="新代表"), row(1)]))
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("enterprises:import_preview", args=[batch.pk])
    page = client.get(response["Location"])
    text = page.content.decode()
    assert page.context["counts"]["new"] == 1 and page.context["counts"]["updated"] == 1
    assert "确认导入" in text and "新代表" in text
    assert Enterprise.objects.count() == 1, "preview writes nothing"
    response = client.post(reverse("enterprises:import_confirm", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    assert Enterprise.objects.count() == 2
    assert Enterprise.objects.get(uscc=code(0)).legal_representative == "新代表"
    # confirming twice does nothing
    client.post(reverse("enterprises:import_confirm", args=[batch.pk]))
    assert AuditEvent.objects.filter(event_type="enterprises.import").count() == 1


def test_browser_preview_lists_errors_and_cannot_confirm(client_for, users, other_section):
    from enterprises.demo import seed_reference

    seed_reference()
    client = client_for(Role.LEAD_SECTION)
    upload(client, "enterprises", xlsx([row(1, **{"乡镇/街道": "舞阳镇"}), row(1)]))
    batch = ImportBatch.objects.get()
    page = client.get(reverse("enterprises:import_preview", args=[batch.pk]))
    text = page.content.decode()
    assert "未知的乡镇/街道：舞阳镇" in text and "确认导入" not in text
    assert client.post(reverse("enterprises:import_confirm", args=[batch.pk])).status_code == 302
    assert not Enterprise.objects.exists()


def test_browser_upload_size_cap(client_for, users, settings, other_section):
    settings.UPLOAD_MAX_BYTES = 100
    client = client_for(Role.LEAD_SECTION)
    response = upload(client, "enterprises", b"x" * 200)
    assert response.status_code == 200 and "文件过大" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_big_upload_goes_to_the_worker_with_progress(client_for, users, monkeypatch, other_section):
    from enterprises import views
    from enterprises.demo import seed_reference

    seed_reference()
    queued = []
    monkeypatch.setattr(views, "SYNC_MAX_BYTES", 10)
    monkeypatch.setattr(views.import_batch_run, "delay", lambda *a: queued.append(a))
    client = client_for(Role.SECTION_STAFF)
    upload(client, "enterprises", xlsx([row(1)]))
    batch = ImportBatch.objects.get()
    assert queued == [(batch.pk, "preview")]
    poll = client.get(
        reverse("enterprises:import_preview", args=[batch.pk]), HTTP_HX_REQUEST="true"
    )
    assert "<progress" in poll.content.decode() and "every 1s" in poll.content.decode()
    from enterprises.tasks import import_batch_run

    import_batch_run(batch.pk, "preview")
    done = client.get(
        reverse("enterprises:import_preview", args=[batch.pk]), HTTP_HX_REQUEST="true"
    )
    assert done["HX-Refresh"] == "true"
    client.post(reverse("enterprises:import_confirm", args=[batch.pk]))
    assert queued[-1] == (batch.pk, "apply")
    import_batch_run(batch.pk, "apply")
    import_batch_run(batch.pk, "apply")  # safe to run twice
    assert Enterprise.objects.filter(uscc=code(1)).count() == 1
    assert ImportBatch.objects.get().status == ImportBatch.Status.APPLIED


def test_template_download_has_chinese_headers_and_reimports(client_for, users, one):
    client = client_for(Role.SECTION_STAFF)
    response = client.get(reverse("enterprises:template", args=["enterprises"]))
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert [c.value for c in wb.worksheets[0][1]][:2] == ["统一社会信用代码", "企业名称"]
    assert wb.sheetnames[1] == "说明"


def test_export_view_uses_filters(client_for, users, one):
    make_enterprises(3, start=1)
    client = client_for(Role.DISCIPLINE)
    response = client.get(reverse("enterprises:export"), {"q": code(2)})
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(wb.active.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [code(2)]
    assert "风险等级" not in [c.value for c in wb.active[1]]


def test_name_search_same_as_substring_on_both_databases(db, section):
    from enterprises.models import Township
    from enterprises.selectors import enterprise_search

    make_enterprises(1)
    township = Township.objects.first()
    names = ["舞钢市恒通加油站", "舞钢市通恒商贸有限公司", "舞钢市恒禾美容美发店", "恒"]
    for i, name in enumerate(names):
        Enterprise.objects.create(uscc=code(100 + i), name=name, township=township)
    for q in ["恒通", "通恒", "恒", "美容美发", "舞钢市恒", "不存在", "加油站"]:
        expected = set(Enterprise.objects.filter(name__contains=q).values_list("uscc", flat=True))
        found = set(
            enterprise_search(params={"q": q}, on=dt.date(2026, 1, 1)).values_list(
                "uscc", flat=True
            )
        )
        assert found == expected, q
