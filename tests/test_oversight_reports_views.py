"""The report pages, their xlsx and PDF exports: who may see what, the numbers as shown and as
read back from the files, the audit events of viewing and exporting, constant query counts."""

import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.roles import Role
from audit.models import AuditEvent
from oversight.reports import ALL_SECTIONS_ROLES, REPORT_ROLES
from tests.permissions import assert_role_access

pytestmark = pytest.mark.usefixtures("visits_today")

INDEX = reverse("oversight:report_index")


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_index_role_access(report_data, users):
    assert_role_access(users, INDEX, REPORT_ROLES)


def test_task_report_role_access(report_data, users, own_head):
    t1 = report_data["t1"]
    # users[SECTION_HEAD] heads 市场运行股, which does not lead T1: refused like other roles.
    for name in ("oversight:report_task", "oversight:report_task_pdf"):
        assert_role_access(users, reverse(name, args=[t1.pk]), ALL_SECTIONS_ROLES)
    assert (
        client_of(own_head).get(reverse("oversight:report_task", args=[t1.pk])).status_code == 200
    )


def test_plan_report_role_access(report_data, users):
    url = reverse("oversight:report_plan", args=[report_data["plan"].pk])
    assert_role_access(users, url, REPORT_ROLES)  # the section head's section leads T2


def test_section_head_of_a_section_without_tasks_in_the_plan_is_refused(
    report_data, make_user, other_section
):
    head = make_user(Role.SECTION_HEAD, section=other_section)
    url = reverse("oversight:report_plan", args=[report_data["plan"].pk])
    assert client_of(head).get(url).status_code == 403


def test_discipline_cannot_post(report_data, client_for):
    response = client_for(Role.DISCIPLINE).post(INDEX, {"from": "2026-01-01"})
    assert response.status_code == 403


def test_index_shows_the_figures_and_charts(report_data, client_for):
    response = client_for(Role.LEAD_SECTION).get(INDEX, {"from": "2026-01-01", "to": "2026-12-31"})
    assert response.status_code == 200
    html = response.content.decode()
    t1, t2 = report_data["t1"], report_data["t2"]
    assert t1.number in html and t2.number in html
    assert "50.0%" in html  # completion, on-time and closure rates of T1
    assert html.count("<svg") >= 4
    assert "style=" not in html  # strict CSP: no inline styles, charts use attributes
    assert "<script>" not in html
    assert "2026年度双随机抽查计划" in html  # the plan's annual summary is linked


def test_section_head_sees_only_own_section(report_data, client_for, lead_section):
    t1, t2 = report_data["t1"], report_data["t2"]
    client = client_for(Role.SECTION_HEAD)  # head of 市场运行股, which leads T2 only
    html = client.get(INDEX, {"from": "2026-01-01", "to": "2026-12-31"}).content.decode()
    assert t2.number in html and t1.number not in html
    # Asking for another section changes nothing: the filter is fixed to the own section.
    html = client.get(
        INDEX, {"from": "2026-01-01", "to": "2026-12-31", "section": lead_section.pk}
    ).content.decode()
    assert t1.number not in html
    assert client.get(INDEX, {"task": t1.pk}).status_code == 403
    plan_html = client.get(
        reverse("oversight:report_plan", args=[report_data["plan"].pk])
    ).content.decode()
    assert t2.number in plan_html and t1.number not in plan_html


def test_views_and_exports_are_audited(report_data, client_for, users):
    t1 = report_data["t1"]
    discipline = client_for(Role.DISCIPLINE)
    discipline.get(INDEX, {"from": "2026-01-01", "to": "2026-12-31"})
    view = AuditEvent.objects.get(event_type="oversight.view")
    assert view.object_id == "reports.summary"
    assert view.actor == users[Role.DISCIPLINE]
    assert (view.detail["from"], view.detail["to"]) == ("2026-01-01", "2026-12-31")

    discipline.get(reverse("oversight:report_task", args=[t1.pk]), {"format": "xlsx"})
    discipline.get(reverse("oversight:report_task_pdf", args=[t1.pk]))
    discipline.get(INDEX, {"format": "xlsx"})
    exports = list(AuditEvent.objects.filter(event_type="oversight.export").order_by("seq"))
    assert [(e.object_id, e.detail.get("format", "xlsx")) for e in exports] == [
        ("reports.task", "xlsx"),
        ("reports.task", "pdf"),
        ("reports.summary", "xlsx"),
    ]
    assert exports[0].detail["task"] == t1.number
    assert exports[1].detail["filename"].endswith(".pdf")
    # An export is not also a view.
    assert AuditEvent.objects.filter(event_type="oversight.view").count() == 1


def test_task_xlsx_read_back(report_data, client_for):
    t1 = report_data["t1"]
    response = client_for(Role.LEAD_SECTION).get(
        reverse("oversight:report_task", args=[t1.pk]), {"format": "xlsx"}
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames[:3] == ["汇总", "按股室", "检查结果构成"]
    rows = list(book["汇总"].iter_rows(values_only=True))
    header, task_row = rows[0], rows[1]
    values = dict(zip(header, task_row, strict=True))
    assert values["任务编号"] == t1.number
    assert values["应检查（抽中）户数"] == 4
    assert values["已检查户数"] == 4
    assert values["已审核户数"] == 3
    assert values["已公示户数"] == 2
    assert values["按期公示户数"] == 1
    assert values["完成率"] == 50.0
    assert values["闭环率"] == 50.0
    assert values["线索移送件数"] == 2
    assert values["不配合检查情节严重件数"] == 1
    tiers = list(book["按风险等级"].iter_rows(values_only=True))[1:]
    assert tiers == [("A 低风险", 1, 1), ("B 中风险", 1, 0), ("C 中高风险", 1, 1)]
    townships = list(book["按乡镇街道"].iter_rows(values_only=True))[1:]
    assert townships == [("垭口街道", 2, 2), ("尚店镇", 1, 0)]


def test_summary_xlsx_read_back(report_data, client_for):
    response = client_for(Role.AUDIT_ADMIN).get(
        INDEX, {"from": "2026-01-01", "to": "2026-12-31", "format": "xlsx"}
    )
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    by_number = {row[0]: row for row in rows[1:]}
    header = rows[0]
    due = header.index("应检查（抽中）户数")
    assert by_number[report_data["t1"].number][due] == 4
    assert by_number[report_data["t2"].number][due] == 0
    assert by_number["合计"][due] == 4


def test_task_pdf_has_chinese_text_numbers_and_charts(report_data, client_for):
    t1 = report_data["t1"]
    response = client_for(Role.LEAD_SECTION).get(reverse("oversight:report_task_pdf", args=[t1.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        "舞钢市工业信息化和商务局",
        "任务完成情况报告",
        t1.number,
        "从名单库5户企业中随机抽取应检查企业4户",
        "已检查4户",
        "检查结果已审核3户",
        "公示2户，完成率50.0%",
        "按期公示1户，按期公示率50.0%",
        "检查发现问题2户",
        "闭环率50.0%",
        "移送问题线索2件",
        "不配合检查情节严重1件",
        "应检查企业公示情况",  # the chart's title, drawn in the SVG
        "检查结果构成",
        "二〇二六年十二月三日",
    ):
        assert expected in text, expected


def test_annual_summary_pdf(report_data, client_for, lead_section, section):
    response = client_for(Role.DISCIPLINE).get(
        reverse("oversight:report_plan_pdf", args=[report_data["plan"].pk])
    )
    assert response.status_code == 200
    text = pdf_text(response.content)
    for expected in (
        "2026年度抽查工作总结",
        "2026年度共实施抽查任务2个",
        "各股室完成情况",
        lead_section.name,
        section.name,
        "各股室完成率",
        "垭口街道",
        "尚店镇",
    ):
        assert expected in text, expected
    # The task table's total row: due 4, checked 4, approved 3, published 2, on time 1, rates.
    assert "合计4432150.0%50.0%" in text


def test_page_query_count_is_constant(report_data, client_for, make_task):
    client = client_for(Role.LEAD_SECTION)
    params = {"from": "2026-01-01", "to": "2026-12-31"}

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(INDEX, params).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for _n in range(4):
        make_task()
    assert count() == before


@pytest.mark.parametrize("name", ["oversight:report_task", "oversight:report_plan"])
def test_unknown_object_is_404(name, report_data, client_for):
    assert client_for(Role.LEAD_SECTION).get(reverse(name, args=[999999])).status_code == 404


def test_section_head_without_a_section_sees_nothing(report_data, make_user):
    head = make_user(Role.SECTION_HEAD, section=None)
    client = client_of(head)
    html = client.get(INDEX, {"from": "2026-01-01", "to": "2026-12-31"}).content.decode()
    assert report_data["t1"].number not in html and report_data["t2"].number not in html
    plan_url = reverse("oversight:report_plan", args=[report_data["plan"].pk])
    assert client.get(plan_url).status_code == 403
    assert (
        client.get(reverse("oversight:report_task", args=[report_data["t1"].pk])).status_code == 403
    )


def test_plan_xlsx_by_section_and_escaped_text(report_data, client_for, lead_section, section):
    from inspections.models import Task

    Task.objects.filter(pk=report_data["t2"].pk).update(name='=HYPERLINK("http://x")')
    response = client_for(Role.LEAD_SECTION).get(
        reverse("oversight:report_plan", args=[report_data["plan"].pk]), {"format": "xlsx"}
    )
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    summary = list(book["汇总"].iter_rows(values_only=True))
    names = [row[1] for row in summary[1:]]
    assert '\'=HYPERLINK("http://x")' in names  # text, never a formula
    header, *rows = book["按股室"].iter_rows(values_only=True)
    by_section = {row[0]: row for row in rows}
    due, published = header.index("应检查（抽中）户数"), header.index("已公示户数")
    assert (by_section[lead_section.name][due], by_section[lead_section.name][published]) == (4, 2)
    assert (by_section[section.name][due], by_section[section.name][published]) == (0, 0)
    definitions = dict(list(book["指标说明"].iter_rows(values_only=True))[1:])
    assert definitions["完成率"] == "已公示户数 ÷ 应检查（抽中）户数。"
