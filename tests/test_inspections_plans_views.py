"""Views of plans, tasks, the scheme and sampling rates: permissions for every role, and the
lead section's path through drafting, filing, amending and printing."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from accounts.roles import Role
from inspections.models import Plan, PlanAmendment, SamplingRate, Task, TaskRateOverride
from inspections.services import plans as services
from tests.pdf_text import text_of
from tests.permissions import assert_role_access
from tests.plans_fixtures import make_enterprise, make_task
from tests.test_core_uploads import pdf_bytes

RECEIPT = pdf_bytes()

READERS = {
    Role.LEAD_SECTION,
    Role.SECTION_STAFF,
    Role.INSPECTOR,
    Role.SECTION_HEAD,
    Role.DISCIPLINE,
    Role.SYSTEM_ADMIN,
}
LEAD = {Role.LEAD_SECTION}


@pytest.fixture
def plan(users, lead_section):
    return services.plan_create(
        actor=users[Role.LEAD_SECTION],
        year=2026,
        number="舞工信商〔2026〕12号",
        name="2026年度“双随机、一公开”抽查计划",
        scope="本局监管的工信和商务企业",
    )


@pytest.fixture
def task(users, register, section, plan):
    make_enterprise(register, tier="A")
    make_enterprise(register, tier="D")
    return make_task(users, register, section, plan)


def embedded_fonts(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    names = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(k.startswith("/FontFile") for k in descriptor), font["/BaseFont"]
            names.append(str(font["/BaseFont"]))
    return names


class TestPermissions:
    def test_read_pages(self, users, plan, task):
        for url in [
            reverse("inspections:plan_list"),
            reverse("inspections:plan_detail", args=[plan.pk]),
            reverse("inspections:task_list"),
            reverse("inspections:task_detail", args=[task.pk]),
            reverse("inspections:task_scheme", args=[task.pk]),
            reverse("inspections:sampling_rates"),
        ]:
            assert_role_access(users, url, READERS)

    def test_pdfs(self, users, plan, task, monkeypatch):
        # Who may print is the question here; the PDFs themselves are tested below.
        monkeypatch.setattr("inspections.views.plans.render_pdf", lambda *a, **k: b"%PDF-1.7")
        for url in [
            reverse("inspections:plan_pdf", args=[plan.pk]),
            reverse("inspections:task_scheme_pdf", args=[task.pk]),
        ]:
            assert_role_access(users, url, READERS)

    def test_lead_only_forms(self, users, plan, task):
        for url in [
            reverse("inspections:plan_create"),
            reverse("inspections:plan_update", args=[plan.pk]),
            reverse("inspections:plan_file", args=[plan.pk]),
            reverse("inspections:task_create"),
            reverse("inspections:task_update", args=[task.pk]),
        ]:
            assert_role_access(users, url, LEAD)

    def test_lead_only_posts(self, users, plan, task):
        for url in [
            reverse("inspections:plan_start", args=[plan.pk]),
            reverse("inspections:plan_complete", args=[plan.pk]),
            reverse("inspections:task_rate_override", args=[task.pk]),
            reverse("inspections:task_rate_override_remove", args=[task.pk, "A"]),
            reverse("inspections:sampling_rate_set"),
        ]:
            assert_role_access(users, url, LEAD, method="post")
        assert_role_access(
            users, reverse("inspections:task_delete", args=[task.pk]), LEAD, method="post"
        )

    def test_scheme_edit_for_lead_and_the_tasks_section(self, users, task):
        assert_role_access(
            users,
            reverse("inspections:task_scheme_edit", args=[task.pk]),
            {Role.LEAD_SECTION, Role.SECTION_STAFF},
        )

    def test_scheme_edit_refused_to_another_sections_staff(
        self, client, make_user, other_section, task
    ):
        outsider = make_user(Role.SECTION_STAFF, section=other_section)
        client.force_login(outsider)
        url = reverse("inspections:task_scheme_edit", args=[task.pk])
        assert client.get(url).status_code == 403

    def test_posts_refused_on_get(self, client_for, plan):
        client = client_for(Role.LEAD_SECTION)
        assert client.get(reverse("inspections:plan_start", args=[plan.pk])).status_code == 405

    def test_filing_document_download(self, users, plan, task, client_for):
        with time_machine.travel("2026-03-01 10:00 +0800"):
            services.plan_file(
                actor=users[Role.LEAD_SECTION],
                plan=plan,
                filed_on=datetime.date(2026, 2, 1),
                filing_number="平工信备〔2026〕3号",
                document=SimpleUploadedFile("回执.pdf", RECEIPT, "application/pdf"),
            )
        plan.refresh_from_db()
        url = reverse("core:file_download", args=[plan.filing_file_id])
        assert_role_access(users, url, READERS)
        response = client_for(Role.DISCIPLINE).get(url)
        assert b"".join(response.streaming_content) == RECEIPT


class TestLeadSectionPath:
    @time_machine.travel("2026-03-10 09:00 +0800")
    def test_draft_add_tasks_file_amend(self, client_for, register, section, lead_section):
        client = client_for(Role.LEAD_SECTION)
        for tier in "ABCD":
            make_enterprise(register, tier=tier)
        response = client.post(
            reverse("inspections:plan_create"),
            {
                "year": 2026,
                "number": "舞工信商〔2026〕12号",
                "name": "2026年度抽查计划",
                "scope": "全部",
            },
        )
        plan = Plan.objects.get()
        assert response.status_code == 302 and plan.status == "draft"

        response = client.post(
            reverse("inspections:task_create") + f"?plan={plan.pk}",
            {
                "plan": plan.pk,
                "name": "成品油零售定向抽查",
                "check_items": [register["fuel"].pk],
                "kind": "directed",
                "townships": [register["towns"]["yakou"].pk],
                "lead_section": section.pk,
                "window_start": "2026-05-01",
                "window_end": "2026-06-30",
                "methods": ["onsite"],
                "inspectors_per_enterprise": 2,
                "rounding": "ceil",
                "same_item_once_per_year": "on",
                "publish_selected_list": "on",
            },
        )
        task = Task.objects.get()
        assert response.status_code == 302, response.content.decode()[:3000]
        assert task.number == "舞工信商抽〔2026〕1号"
        assert list(task.townships.all()) == [register["towns"]["yakou"]]

        detail = client.get(reverse("inspections:task_detail", args=[task.pk])).content.decode()
        assert "⌈N × 比例⌉" in detail  # the rule is on screen
        assert "舞工信商抽〔2026〕1号" in detail

        response = client.post(
            reverse("inspections:plan_file", args=[plan.pk]),
            {
                "filed_on": "2026-03-09",
                "filing_number": "平工信备〔2026〕3号",
                "filing_authority": "平顶山市工业和信息化局",
                "document": SimpleUploadedFile("回执.pdf", RECEIPT, "application/pdf"),
            },
        )
        plan.refresh_from_db()
        assert response.status_code == 302 and plan.status == "filed"

        # The edit form now asks for the amendment reason and refuses without it.
        form = client.get(reverse("inspections:plan_update", args=[plan.pk])).content.decode()
        assert "变更理由" in form
        data = {
            "year": 2026,
            "number": plan.number,
            "name": "2026年度抽查计划（修订）",
            "scope": "全部",
        }
        response = client.post(reverse("inspections:plan_update", args=[plan.pk]), data)
        assert response.status_code == 200 and not PlanAmendment.objects.exists()
        data["amendment_reason"] = "根据上级意见修订名称"
        client.post(reverse("inspections:plan_update", args=[plan.pk]), data)
        assert PlanAmendment.objects.get().reason == "根据上级意见修订名称"
        detail = client.get(reverse("inspections:plan_detail", args=[plan.pk])).content.decode()
        assert "根据上级意见修订名称" in detail

    def test_directed_task_needs_a_filter(self, client_for, register, section, plan):
        client = client_for(Role.LEAD_SECTION)
        response = client.post(
            reverse("inspections:task_create"),
            {
                "plan": plan.pk,
                "name": "x",
                "check_items": [register["fuel"].pk],
                "kind": "directed",
                "lead_section": section.pk,
                "window_start": "2026-05-01",
                "window_end": "2026-06-30",
                "methods": ["onsite"],
                "inspectors_per_enterprise": 2,
                "rounding": "ceil",
            },
        )
        assert response.status_code == 200
        assert "定向抽查须至少设置一个筛选条件" in response.content.decode()
        assert not Task.objects.exists()

    def test_adhoc_task_form_requires_reason(self, client_for, register, section, lead_section):
        client = client_for(Role.LEAD_SECTION)
        data = {
            "name": "投诉核查",
            "check_items": [register["fuel"].pk],
            "kind": "non_directed",
            "lead_section": section.pk,
            "window_start": "2026-05-01",
            "window_end": "2026-06-30",
            "methods": ["onsite"],
            "inspectors_per_enterprise": 2,
            "rounding": "ceil",
        }
        response = client.post(reverse("inspections:task_create"), data)
        assert response.status_code == 200 and not Task.objects.exists()
        data["adhoc_reason"] = "群众投诉举报"
        response = client.post(reverse("inspections:task_create"), data)
        assert response.status_code == 302 and Task.objects.get().is_adhoc

    def test_counts_shown_per_tier(self, client_for, task):
        page = client_for(Role.DISCIPLINE).get(reverse("inspections:task_detail", args=[task.pk]))
        rows = page.context["tier_rows"]
        assert [(r["tier"], r["population"], r["count"]) for r in rows] == [
            ("A", 1, 1),
            ("B", 0, 0),
            ("C", 0, 0),
            ("D", 1, 1),
        ]

    def test_rate_override_via_form(self, client_for, task):
        client = client_for(Role.LEAD_SECTION)
        url = reverse("inspections:task_rate_override", args=[task.pk])
        client.post(url, {"tier": "D", "rate": "50", "legal_basis": ""})
        assert not TaskRateOverride.objects.exists()
        client.post(url, {"tier": "D", "rate": "50", "legal_basis": "《某规章》第十条"})
        override = TaskRateOverride.objects.get()
        assert override.rate == Decimal("0.5000") and override.legal_basis == "《某规章》第十条"

    def test_sampling_rate_form_keeps_history(self, client_for, lead_section):
        client = client_for(Role.LEAD_SECTION)
        client.post(
            reverse("inspections:sampling_rate_set"),
            {"tier": "C", "rate": "12.5", "effective_from": "2026-07-01", "basis": "局务会纪要"},
        )
        assert SamplingRate.objects.filter(tier="C").count() == 2
        assert SamplingRate.objects.get(tier="C", basis="局务会纪要").rate == Decimal("0.125")
        page = client.get(reverse("inspections:sampling_rates")).content.decode()
        assert "12.5%" in page and "局务会纪要" in page

    def test_scheme_edit_by_section_staff(self, client_for, task):
        client = client_for(Role.SECTION_STAFF)
        response = client.post(
            reverse("inspections:task_scheme_edit", args=[task.pk]),
            {"methods": ["onsite", "written"], "content": "核查许可证", "schedule": "5月实地核查"},
        )
        assert response.status_code == 302
        task.refresh_from_db()
        assert task.schedule == "5月实地核查"
        page = client.get(reverse("inspections:task_scheme", args=[task.pk])).content.decode()
        assert "5月实地核查" in page and "书面检查" in page


class TestPdf:
    @time_machine.travel("2026-11-26 10:00 +0800")
    def test_plan_pdf_has_the_chinese_text_and_embedded_fonts(self, client_for, plan, task):
        response = client_for(Role.DISCIPLINE).get(reverse("inspections:plan_pdf", args=[plan.pk]))
        assert response["Content-Type"] == "application/pdf"
        pdf = response.content
        assert pdf.startswith(b"%PDF-")
        text = text_of(pdf)
        for expected in [
            "舞钢市工业信息化和商务局",
            "2026年度“双随机、一公开”抽查计划",
            "舞工信商〔2026〕12号",
            "舞工信商抽〔2026〕1号",
            "成品油零售经营资格检查",
            "二〇二六年十一月二十六日",
            "20%",
        ]:
            assert expected in text, expected
        assert any("CJK" in name for name in embedded_fonts(pdf))

    def test_scheme_pdf(self, client_for, task):
        services.task_scheme_update(
            actor=task.created_by, task=task, methods=["onsite"], content="", schedule="分三批实施"
        )
        response = client_for(Role.INSPECTOR).get(
            reverse("inspections:task_scheme_pdf", args=[task.pk])
        )
        text = text_of(response.content)
        assert "检查方案" in text and "分三批实施" in text and "《成品油市场管理办法》" in text
        embedded_fonts(response.content)


class TestDashboardAndNavigation:
    @time_machine.travel("2026-05-10 10:00 +0800")
    def test_panel_shows_this_years_plan_and_running_tasks(self, client_for, plan, task):
        page = client_for(Role.LEAD_SECTION).get(reverse("core:dashboard")).content.decode()
        assert "本年度抽查计划与任务" in page
        assert plan.name in page and "尚未备案" in page
        assert task.number in page  # its window 05-01—06-30 covers today

    def test_panel_hidden_from_admins_outside_business(self, client_for, plan):
        page = client_for(Role.SECURITY_ADMIN).get(reverse("core:dashboard")).content.decode()
        assert "本年度抽查计划与任务" not in page

    def test_nav_links(self, client_for):
        page = client_for(Role.DISCIPLINE).get(reverse("core:dashboard")).content.decode()
        assert reverse("inspections:plan_list") in page and reverse("inspections:task_list") in page


def test_scheme_states_scope_filters_and_rates(client_for, users, register, section, plan):
    task = make_task(
        users,
        register,
        section,
        plan,
        kind="directed",
        enterprise_types=["individual"],
        m2m={"townships": [register["towns"]["bataizhen"]]},
    )
    services.task_rate_override_set(
        actor=users[Role.LEAD_SECTION],
        task=task,
        tier="D",
        rate=Decimal("0.25"),
        legal_basis="《某规章》第三条",
    )
    page = client_for(Role.INSPECTOR).get(reverse("inspections:task_scheme", args=[task.pk]))
    html = page.content.decode()
    assert "主体类型：个体工商户" in html and "乡镇/街道：八台镇" in html
    assert "25%" in html and "特别比例：《某规章》第三条" in html
    assert "⌈N × 比例⌉" in html
    assert "抽取完成后自动列入本方案" in html  # no draw yet
    detail = client_for(Role.INSPECTOR).get(reverse("inspections:task_detail", args=[task.pk]))
    assert "主体类型：个体工商户" in detail.content.decode()


def test_edit_form_of_a_drawn_task_locks_the_draw_fields(client_for, task, monkeypatch):
    monkeypatch.setattr("inspections.forms.plans.task_has_draws", lambda t: True)
    client = client_for(Role.LEAD_SECTION)
    url = reverse("inspections:task_update", args=[task.pk])
    form = client.get(url).context["form"]
    assert form.fields["rounding"].disabled and form.fields["check_items"].disabled
    assert not form.fields["name"].disabled
    response = client.post(
        url,
        {
            "name": "新名称",
            "rounding": "half_up",  # ignored: the field is locked
            "lead_section": task.lead_section_id,
            "methods": ["onsite"],
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.name == "新名称" and task.rounding == "ceil"
