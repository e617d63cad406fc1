"""The annual plan in a real browser: the lead section drafts a plan, is told it cannot be filed
without a task, adds a task, files the plan, and sees it frozen."""

import datetime as dt

import pytest
from django.utils import timezone

from inspections.models import Plan

pytestmark = pytest.mark.browser


@pytest.fixture
def reference(demo_users):
    from enterprises.demo import seed_reference

    seed_reference()
    return demo_users


def _submit(page, name):
    page.locator("main form.form").get_by_role("button", name=name).click()
    page.wait_for_load_state()


def test_lead_drafts_adds_a_task_and_files_the_plan(page, reference, e2e):
    today = timezone.localdate()
    year = today.year + 1
    e2e.login(page, "lead")
    page.goto("/inspections/plans/new/")
    page.locator("#id_year").fill(str(year))
    page.locator("#id_number").fill(f"舞工信商〔{year}〕1号")
    page.locator("#id_name").fill(f"{year}年度工信商务领域“双随机、一公开”抽查计划")
    page.locator("#id_scope").fill("成品油零售、单用途预付卡发卡企业")
    _submit(page, "保存")
    plan = Plan.objects.get(year=year)
    assert plan.status == Plan.Status.DRAFT
    assert "草稿" in page.locator("main").inner_text()
    e2e.shot(page, "draft")

    # Filing without a task is refused with the reason, and nothing changes.
    page.get_by_role("link", name="备案", exact=True).click()
    page.locator("#id_filed_on").fill(today.isoformat())
    page.locator("#id_filing_number").fill(f"舞政备〔{year}〕3号")
    _submit(page, "确认备案")
    assert "计划中还没有抽查任务，不能备案。" in page.locator("main").inner_text()
    e2e.shot(page, "refused-without-task")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.DRAFT

    page.goto(f"/inspections/plans/{plan.pk}/")
    page.get_by_role("link", name="新增抽查任务").click()
    page.wait_for_load_state()
    page.locator("#id_name").fill("成品油零售企业经营行为抽查")
    page.locator("input[name=check_items]").first.check()
    page.locator("input[name=kind]").first.check()  # 定向: needs at least one filter
    page.locator("input[name=scales]").first.check()
    page.locator("#id_lead_section").select_option(label="市场运行股")
    page.locator("#id_window_start").fill(dt.date(year, 3, 1).isoformat())
    page.locator("#id_window_end").fill(dt.date(year, 11, 30).isoformat())
    page.locator("input[name=methods]").first.check()
    _submit(page, "保存")
    assert plan.tasks.count() == 1, page.locator("main").inner_text()[:800]
    e2e.shot(page, "task", full_page=True)

    page.goto(f"/inspections/plans/{plan.pk}/file/")
    page.locator("#id_filed_on").fill(today.isoformat())
    page.locator("#id_filing_number").fill(f"舞政备〔{year}〕3号")
    _submit(page, "确认备案")
    assert "计划已备案" in page.locator(".messages").inner_text()
    plan.refresh_from_db()
    assert plan.status == Plan.Status.FILED and plan.filing_number == f"舞政备〔{year}〕3号"
    # Filed: the draft-only actions are gone, a change now needs a recorded reason.
    assert page.get_by_role("link", name="备案", exact=True).count() == 0
    assert page.get_by_role("link", name="变更计划").count() == 1
    e2e.shot(page, "filed")
