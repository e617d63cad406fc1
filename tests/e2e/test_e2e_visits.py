"""A visit end to end in a real browser, at tablet size (1024×768): the inspector opens today's
visit, records a two-person on-site check with a refused signature and a witness (autosaved),
attaches a photo and submits; the section head returns it once, the inspector corrects and
resubmits, the head approves; the archive lists every document and the PDFs print in Chinese."""

import io

import pytest
from pypdf import PdfReader

from inspections.models import Visit

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_visit(demo_users, settings):
    from cryptography.fernet import Fernet

    from accounts.models import User
    from enterprises import demo as enterprises_demo
    from inspections import demo as inspections_demo
    from inspections.demo import visits as demo_visits
    from inspections.models import Draw
    from inspections.services import visits as services
    from inspectors import demo as inspectors_demo

    if not getattr(settings, "FIELD_ENCRYPTION_KEY", ""):
        settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    for module in (enterprises_demo, inspectors_demo):
        module.seed(stdout=io.StringIO())
    inspections_demo.seed(stdout=io.StringIO(), with_visits=False)
    lead = User.objects.get(username="lead")
    head = User.objects.get(username="head")
    visits = []
    for draw in Draw.objects.filter(status=Draw.Status.COMPLETED):
        visits += services.visits_create_for_draw(actor=lead, draw=draw)
    visit = next(v for v in visits if v.section_id == head.section_id and v.members.count() >= 2)
    recorder = demo_visits._recorder(visit)
    return visit, recorder


def photo(tmp_path):
    from PIL import Image

    path = tmp_path / "现场照片.jpg"
    Image.new("RGB", (320, 240), (60, 120, 180)).save(path, format="JPEG")
    return path


def wait_saved(page):
    page.wait_for_function(
        "() => /草稿已自动保存|已是最新/.test(document.getElementById('autosave-status').textContent)"
    )


def test_inspector_records_head_returns_then_approves_and_archive_lists_all(
    page, demo_visit, e2e, tmp_path
):
    visit, recorder = demo_visit
    members = list(visit.members.select_related("inspector").order_by("position"))[:2]
    e2e.login(page, recorder.username)

    # Today's visits: open this one
    page.goto("/inspections/visits/today/")
    card = page.locator(".visit-card", has_text=visit.enterprise.name)
    e2e.shot(page, "today")
    card.get_by_role("button", name="开始检查").click()
    page.wait_for_url(f"**/inspections/visits/{visit.pk}/record/")

    # Two inspectors present, certificates as shown
    for member in members:
        from django.utils import timezone

        today = timezone.localdate()
        number = next(
            c.number for c in member.inspector.certificates.all() if c.covers(today, today)
        )
        page.locator(f"#id_m{member.pk}_present").check()
        page.locator(f"#id_m{member.pk}_cert").fill(number)
    page.locator("#id_place").fill("舞钢市垭口街道建设路1号")
    page.locator("#id_check_end").fill(today.isoformat())
    for result in visit.results.all():
        page.locator(f"#id_r{result.pk}_method").select_option("onsite")
        page.locator(f"#id_r{result.pk}_checked").fill("查看经营许可证、进货台账和公示信息")
        page.locator(f"#id_r{result.pk}_finding").fill("经营资格合法有效")
        page.locator(f"input[name=r{result.pk}_cats]").first.check()  # 未发现问题
    page.locator("input[name=signing_form][value=unsigned]").check()
    page.locator("#id_unsigned_reason").fill("法定代表人外出，现场负责人拒绝签字")
    page.locator("#id_witness_name").fill("刘建华")
    page.locator("#id_witness_detail").fill("社区网格员")
    page.locator("#id_witness_detail").blur()
    wait_saved(page)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.IN_PROGRESS and visit.witness_name == "刘建华"
    e2e.shot(page, "recorded", full_page=True)

    # A photo
    page.locator("form.upload-form #id_file").set_input_files(str(photo(tmp_path)))
    page.locator("form.upload-form #id_description").fill("经营场所外景")
    page.locator("form.upload-form button[type=submit]").click()
    page.wait_for_load_state()
    assert visit.evidence.count() == 1

    # Submit
    page.locator("#submit-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/inspections/visits/{visit.pk}/"), page.locator(
        ".messages"
    ).all_inner_texts()
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SUBMITTED, page.locator(".messages").all_inner_texts()
    e2e.logout(page)

    # The head returns it once
    e2e.login(page, "head")
    page.goto("/inspections/visits/review/")
    page.get_by_role("link", name=visit.notice_number).click()
    page.locator("#id_decision").select_option("return")
    page.locator("#id_reason").fill("请补充进销存台账的核查情况")
    page.get_by_role("button", name="提交审核意见").click()
    page.wait_for_load_state()
    visit.refresh_from_db()
    assert visit.status == Visit.Status.RETURNED
    e2e.logout(page)

    # The inspector corrects and resubmits
    e2e.login(page, recorder.username)
    page.goto("/inspections/visits/today/")
    page.locator(".visit-card", has_text=visit.enterprise.name).get_by_role(
        "link", name="修改（已退回）"
    ).click()
    assert "请补充进销存台账的核查情况" in page.content()
    result = visit.results.first()
    page.locator(f"#id_r{result.pk}_checked").fill(
        "查看经营许可证、进货台账和公示信息；核查了1—11月进销存台账"
    )
    page.locator("#id_place").click()
    wait_saved(page)
    page.locator("#submit-form button[type=submit]").click()
    page.wait_for_url(f"**/inspections/visits/{visit.pk}/")
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SUBMITTED
    e2e.logout(page)

    # The head approves: archived with its number and document list
    e2e.login(page, "head")
    page.goto(f"/inspections/visits/{visit.pk}/")
    page.locator("#id_decision").select_option("approve")
    page.get_by_role("button", name="提交审核意见").click()
    page.wait_for_load_state()
    visit.refresh_from_db()
    assert visit.status == Visit.Status.ARCHIVED
    archive_text = page.locator("table.archive-list").inner_text()
    for title in ("检查通知书", "企业执法检查登记表", "实地核查记录表", "现场照片"):
        assert title in archive_text
    assert visit.archive.number in page.content()
    e2e.shot(page, "archived", full_page=True)

    # The documents print, in Chinese
    response = page.request.get(f"/inspections/visits/{visit.pk}/pdf/all/")
    assert response.ok
    text = "".join(
        "".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.body())).pages
    )
    for expected in (
        "检查通知书",
        "企业执法检查登记表",
        "实地核查记录表",
        "刘建华",
        visit.enterprise.name,
    ):
        assert expected in text


def test_signature_drawn_on_the_canvas_is_saved_and_autosave_continues(page, demo_visit, e2e):
    """The canvas posts a PNG; the new version reaches the form, so the next autosave is not a
    conflict."""
    visit, recorder = demo_visit
    e2e.login(page, recorder.username)
    page.goto(f"/inspections/visits/{visit.pk}/record/")
    page.locator("#signature-pad").scroll_into_view_if_needed()
    box = page.locator("#signature-pad").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 120)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 40 + step * 30, box["y"] + 120 - (step % 3) * 30)
    page.mouse.up()
    page.get_by_role("button", name="保存签名").click()
    status = page.locator("#signature-status")
    page.wait_for_function(
        "() => document.getElementById('signature-status').textContent.trim() !== ''"
    )
    assert "签名已保存" in status.inner_text()
    visit.refresh_from_db()
    assert visit.signature is not None and visit.signing_form == "signature"
    assert page.locator("#visit-version").input_value() == str(visit.version)
    page.locator("#id_summary").fill("签名后继续录入")
    page.locator("#id_place").click()
    wait_saved(page)
    visit.refresh_from_db()
    assert visit.summary == "签名后继续录入"
    e2e.shot(page, "signature")


def test_the_idle_logout_keeps_unsent_input_on_the_tablet(page, demo_visit, e2e, settings):
    """Typing that has not been sent when the idle logout comes stays on the device: after the
    next login the recording page offers it back (恢复本机输入)."""
    from inspections.services import visits as services

    visit, recorder = demo_visit
    services.visit_start(actor=recorder, visit=visit, version=visit.version)
    settings.SESSION_COOKIE_AGE = 10
    settings.SESSION_IDLE_WARNING_SECONDS = 6
    e2e.login(page, recorder.username)
    page.goto(f"/inspections/visits/{visit.pk}/record/")
    page.locator("#idle-warning").wait_for(state="visible", timeout=10000)
    # Typed during the warning; the autosave waits for a 5-second pause, the logout does not.
    page.locator("#id_summary").press_sequentially("核查了进货台账", delay=20)
    page.wait_for_url("**/accounts/login/**", timeout=20000)
    e2e.shot(page, "idle-logged-out")
    visit.refresh_from_db()
    assert "核查了进货台账" not in visit.summary  # never reached the server

    settings.SESSION_COOKIE_AGE = 1800
    page.locator("#id_username").fill(recorder.username)
    page.locator("#id_password").fill(e2e.password)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(f"**/inspections/visits/{visit.pk}/record/")  # back where it was
    page.locator("#local-restore").wait_for(state="visible")
    page.locator("#local-restore-btn").click()
    assert page.locator("#id_summary").input_value() == "核查了进货台账"
    wait_saved(page)
    visit.refresh_from_db()
    assert visit.summary == "核查了进货台账"
    e2e.shot(page, "restored")
