"""The draw in a real browser: the lead section starts a draw, shows the hashes, enters the
witnesses and the dice, sees the result with teams, prints the certificate, downloads the
evidence package — and verify.py from that zip says OK with a bare Python. The discipline group
then sees the verification re-computed on view."""

import io
import subprocess
import sys
import zipfile

import pytest

from inspections.models import Draw, DrawSelection, Plan

pytestmark = pytest.mark.browser


def _default_rates():
    """The rates of migration inspections.0001 (a flush between browser tests removes them)."""
    import datetime
    from decimal import Decimal

    from inspections.models import SamplingRate

    for tier, rate in (("A", "0.01"), ("B", "0.03"), ("C", "0.10"), ("D", "0.20")):
        SamplingRate.objects.get_or_create(
            tier=tier,
            defaults={
                "rate": Decimal(rate),
                "effective_from": datetime.date(2025, 4, 1),
                "basis": "实施细则第八条",
            },
        )


@pytest.fixture
def demo_world(demo_users, settings):
    from cryptography.fernet import Fernet

    from enterprises import demo as enterprises_demo
    from inspections import demo as inspections_demo
    from inspectors import demo as inspectors_demo

    _default_rates()
    if not getattr(settings, "FIELD_ENCRYPTION_KEY", ""):
        settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    for module in (enterprises_demo, inspectors_demo):
        module.seed(stdout=io.StringIO())
    inspections_demo.seed(stdout=io.StringIO(), with_visits=False)
    plan = Plan.objects.get()
    # the last task of the demo plan is left undrawn for a hands-on draw
    return plan.tasks.exclude(draws__isnull=False).order_by("seq").first()


def test_lead_draws_with_witnesses_and_the_zip_verifies(page, demo_world, e2e, tmp_path):
    task = demo_world
    e2e.login(page, "lead")
    page.goto(f"/inspections/tasks/{task.pk}/draw/")
    e2e.shot(page, "start")
    page.get_by_role("button", name="开始抽取：冻结名单").click()
    page.wait_for_load_state()
    draw = Draw.objects.filter(task=task).first()
    assert draw is not None, page.locator(".messages").all_inner_texts()
    assert page.locator("#population-sha256").inner_text() == draw.manifest_sha256
    assert page.locator("#secret-sha256").inner_text() == draw.secret_sha256
    assert draw.secret not in page.content()
    e2e.shot(page, "hashes", full_page=True)

    page.locator("#id_witness_1").fill("王建设")
    page.locator("#id_witness_1_org").fill("企业代表")
    page.locator("#id_witness_2").fill("陈志刚")
    page.locator("#id_witness_2_org").fill("纪检派驻组")
    page.locator("#id_dice_kind").select_option("d6")
    page.locator("#id_dice").fill("35216 44126 53312 61425")
    page.get_by_role("button", name="确认并抽取").click()
    page.wait_for_load_state()
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMPLETED
    assert "核验通过" in page.locator("#verify-status").inner_text()
    assert page.locator("#seed-string").inner_text() == draw.seed_string
    e2e.shot(page, "result", full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载证据包（zip，内部）").click()
    with open(download_info.value.path(), "rb") as fh:
        data = fh.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(tmp_path)
    run = subprocess.run(
        [sys.executable, "-I", "verify.py"],
        cwd=tmp_path / f"draw-{draw.pk}",
        capture_output=True,
        text=True,
        check=False,
    )
    assert (run.returncode, run.stdout.strip()) == (0, "OK")

    pdf = page.request.get(f"/inspections/draws/{draw.pk}/certificate.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    # The scheme (检查方案) now lists every drawn enterprise with its proposed date and team.
    page.goto(f"/inspections/tasks/{task.pk}/scheme/")
    proposed = page.locator("tr", has=page.locator(".tag", has_text="拟定"))
    assert proposed.count() == DrawSelection.objects.filter(draw=draw).count() > 0
    e2e.shot(page, "scheme", full_page=True)

    e2e.logout(page)
    e2e.login(page, "discipline")
    page.goto(f"/inspections/draws/{draw.pk}/")
    assert "核验通过" in page.locator("#verify-status").inner_text()
    assert page.locator("button", has_text="确认并抽取").count() == 0
    page.goto("/inspections/draws/")
    assert "已作废" in page.content()  # the demo's voided draw stays visible
    e2e.shot(page, "discipline-list")


def test_large_draw_runs_in_the_background_with_a_progress_bar(
    page, demo_world, e2e, settings, monkeypatch
):
    """Above the size threshold the dice go to the background task; the page polls the status
    fragment (htmx, no inline script) and reloads by itself with the verified result."""
    from inspections.services import draws as services
    from inspections.tasks.draws import draw_perform_background

    settings.DRAW_BACKGROUND_MIN_POPULATION = 1
    queued = []
    monkeypatch.setattr(services, "_enqueue", queued.append)  # the worker is this test
    task = demo_world
    e2e.login(page, "lead")
    page.goto(f"/inspections/tasks/{task.pk}/draw/")
    page.get_by_role("button", name="开始抽取：冻结名单").click()
    page.wait_for_load_state()
    draw = Draw.objects.get(task=task, status=Draw.Status.COMMITTED)
    assert "提交后抽取在后台计算" in page.content()
    page.locator("#id_witness_1").fill("王建设")
    page.locator("#id_witness_2").fill("陈志刚")
    page.locator("#id_dice_kind").select_option("d10")
    page.locator("#id_dice").fill("0918 2736 4550 6172 8390")
    page.get_by_role("button", name="确认并抽取").click()
    page.wait_for_load_state()
    assert page.locator("#draw-progress-bar").count() == 1
    assert page.locator("#id_dice").count() == 0
    e2e.shot(page, "background-progress", full_page=True)
    assert queued == [draw.pk]
    draw_perform_background(draw.pk)
    page.locator("#verify-status").wait_for(timeout=15_000)  # the fragment asked for a reload
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMPLETED and draw.dice == "09182736455061728390"
    assert "核验通过" in page.locator("#verify-status").inner_text()
    e2e.shot(page, "background-result")


def test_a_void_and_a_recusal_are_asked_by_one_person_and_approved_by_another(
    page, demo_world, e2e
):
    """Issue 21 item 4: the operator asks on the draw page (no one's password anywhere); lead2
    approves the void and the section head the recusal, each in their own session."""
    draw = Draw.objects.filter(status=Draw.Status.COMPLETED, operator__username="lead").first()
    selection = DrawSelection.objects.filter(draw=draw).order_by("order").first()
    member = selection.members.order_by("position").first().inspector
    e2e.login(page, "lead")
    page.goto(f"/inspections/draws/{draw.pk}/selections/{selection.pk}/replace/")
    page.locator("#id_out").select_option(str(member.pk))
    page.locator("#id_reason").fill("该检查人员与企业负责人系同学")
    page.get_by_role("button", name="提交回避替补申请").click()
    page.wait_for_load_state()
    assert "回避替补申请已提交" in page.locator(".messages").inner_text()
    page.goto(f"/inspections/draws/{draw.pk}/")
    assert page.locator("input[type=password]").count() == 0
    page.locator("summary", has_text="申请作废本次抽取").click()
    page.locator("#id_reason").fill("（测试）见证人身份登记有误")
    page.get_by_role("button", name="提交作废申请").click()
    page.wait_for_load_state()
    assert "作废申请已提交" in page.locator(".messages").inner_text()
    assert page.locator("form[action$='/decide/']").count() == 0  # not by the requester
    e2e.logout(page)

    e2e.login(page, "head")  # the recusal: a section head approves
    panel = page.locator("section.panel", has_text="待我审批")
    panel.get_by_role("link", name=f"{selection.enterprise.name}").click()
    page.wait_for_load_state()
    assert str(member) in page.locator("main").inner_text()
    page.locator("input[name=decision][value=approve]").check()
    page.get_by_role("button", name="提交审批").click()
    page.wait_for_load_state()
    assert selection.replacements.filter(out=member).exists()
    e2e.logout(page)

    e2e.login(page, "lead2")  # the void: another lead-section member approves
    panel = page.locator("section.panel", has_text="待我审批")
    panel.get_by_role("link", name=f"抽取 #{draw.pk}").click()
    page.wait_for_load_state()
    e2e.shot(page, "void-to-approve")
    page.locator("input[name=decision][value=approve]").check()
    page.get_by_role("button", name="提交审批").click()
    page.wait_for_load_state()
    draw.refresh_from_db()
    assert draw.status == Draw.Status.VOIDED and draw.void_approver.username == "lead2"
    page.goto(f"/inspections/draws/{draw.pk}/")
    assert "已作废" in page.locator("main").inner_text()
