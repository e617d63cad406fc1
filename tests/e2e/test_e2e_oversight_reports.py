"""Summaries and reports in a real browser, on the demo data: the discipline group opens
抽查统计与报告 from the navigation, sees the figures and the SVG charts (no CSP report), opens
the annual summary, and the PDF it downloads has the Chinese title, the figures and the chart
titles; a section head sees only their own section."""

import io

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.browser


def test_discipline_reads_the_summary_and_the_annual_pdf(page, demo_all, e2e):
    e2e.login(page, "discipline")
    page.get_by_role("navigation").get_by_role("link", name="抽查统计与报告").click()
    page.wait_for_load_state()
    page.goto("/oversight/reports/?from=2026-01-01&to=2026-12-31")
    assert page.get_by_role("heading", name="抽查工作统计").is_visible()
    assert page.locator("svg.chart").count() >= 4
    assert page.get_by_role("heading", name="按股室").is_visible()
    e2e.shot(page, "summary", full_page=True)

    page.locator("a[href^='/oversight/reports/plans/']").first.click()
    page.wait_for_load_state()
    assert "年度抽查工作总结" in page.locator("h1").inner_text()
    pdf_url = page.get_by_role("link", name="下载 PDF").get_attribute("href")
    response = page.request.get(pdf_url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)
    for expected in ("舞钢市工业信息化和商务局", "2026年度抽查工作总结", "完成率", "各股室完成率"):
        assert expected in text, expected


def test_section_head_sees_own_section(page, demo_all, e2e):
    from accounts.models import User

    head = User.objects.get(username="head")
    e2e.login(page, "head")
    page.goto("/oversight/reports/?from=2026-01-01&to=2026-12-31")
    heading = page.locator("h1").inner_text()
    assert head.section.name in heading
    rows = page.locator("table.report-figures").first.locator("tbody tr")
    labels = [rows.nth(i).locator("td, th").first.inner_text() for i in range(rows.count())]
    assert labels[0] == head.section.name
    assert labels[1:] == ["合计"]  # no other section
