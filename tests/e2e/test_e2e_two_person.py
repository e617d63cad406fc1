"""Two-person rules on the one approvals flow, in a real browser: a publication correction asked
by the inspector and approved by the section head in their own session; the calendar's
publication asked by the system admin and approved by the security admin."""

import pytest
from django.urls import reverse

from accounts.roles import Role

pytestmark = pytest.mark.browser


def test_a_correction_is_asked_by_the_inspector_and_approved_by_the_section_head(
    make_record, demo_users, page, e2e
):
    inspector, head = demo_users[Role.INSPECTOR], demo_users[Role.SECTION_HEAD]
    record = make_record(result="未发现问题", inspectors=[inspector], section=head.section)
    detail = reverse("disclosure:publication_detail", args=[record.pk])

    e2e.login(page, "inspector")
    page.goto(detail)
    page.locator("summary", has_text="提出更正").click()
    page.locator("#id_result_text").fill("未发现开展本次抽查涉及的经营活动")
    page.locator("#id_reason").fill("企业已停业")
    page.get_by_role("button", name="提交更正").click()
    page.wait_for_load_state()
    assert "更正申请已提交" in page.locator(".messages").inner_text()
    assert "更正待审批" in page.locator("main").inner_text()
    e2e.shot(page, "correction-requested")
    e2e.logout(page)

    e2e.login(page, "head")
    panel = page.locator("section.panel", has_text="待我审批")
    panel.get_by_role("link", name=f"公示记录 #{record.pk}").click()
    page.wait_for_load_state()
    assert "未发现开展本次抽查涉及的经营活动" in page.locator("main").inner_text()
    page.locator("input[name=decision][value=approve]").check()
    page.get_by_role("button", name="提交审批").click()
    page.wait_for_load_state()
    assert "已批准" in page.locator("main").inner_text()
    page.goto(detail)
    versions = page.locator("section.panel", has_text="结果版本").inner_text()
    assert "未发现开展本次抽查涉及的经营活动" in versions and "更正待审批" not in versions
    e2e.shot(page, "correction-approved")
    record.refresh_from_db()
    assert record.current_version.number == 2
    assert record.current_version.approved_by == head


def test_the_calendar_is_asked_for_by_the_system_admin_and_published_by_the_security_admin(
    demo_users, page, e2e
):
    from io import StringIO

    from workdays import demo
    from workdays.models import CalendarYear

    demo.seed(stdout=StringIO())  # the 2027 draft, its publication asked for by sysadmin
    draft = CalendarYear.objects.get(year=2027)

    e2e.login(page, "sysadmin")  # the entrant and requester: no decision
    page.goto(reverse("workdays:calendar_revision", args=[draft.pk]))
    page.get_by_role("link", name="发布申请待审批").click()
    page.wait_for_load_state()
    assert page.locator("form[action$='/decide/']").count() == 0
    e2e.logout(page)

    e2e.login(page, "secadmin")
    panel = page.locator("section.panel", has_text="待我审批")
    panel.get_by_role("link", name="2027 年节假日安排第 1 版").click()
    page.wait_for_load_state()
    page.locator("input[name=decision][value=approve]").check()
    page.get_by_role("button", name="提交审批").click()
    page.wait_for_load_state()
    assert "已批准" in page.locator("main").inner_text()
    e2e.shot(page, "calendar-approved")
    draft.refresh_from_db()
    assert draft.is_published and draft.approved_by == demo_users[Role.SECURITY_ADMIN]
