"""The roster in a real browser: the system admin adds an inspector, gives a certificate,
suspends and records training and a recusal, imports a file (preview → confirm); the
discipline group reads the roster with ID numbers masked and cannot change it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inspectors.models import Inspector
from tests.test_inspectors_import import row, xlsx

pytestmark = pytest.mark.browser


def _save(page):
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()


def test_admin_maintains_and_discipline_reads(page, demo_all, e2e, tmp_path):
    today = timezone.localdate()
    e2e.login(page, "sysadmin")
    page.locator("nav.sidenav").get_by_role("link", name="执法人员名录").click()
    assert "WG001" in page.locator("main").inner_text()
    e2e.shot(page, "roster", full_page=True)

    page.get_by_role("link", name="新增人员").click()
    page.locator("#id_staff_number").fill("WG100")
    page.locator("#id_name").fill("韩冬")
    page.locator("#id_id_number").fill("410481197802261236")
    page.locator("#id_section").select_option(label="市场运行股")
    page.get_by_role("checkbox", name="成品油零售", exact=True).check()
    page.get_by_label("可任检查组长").check()
    _save(page)
    assert "已新增执法检查人员 韩冬" in page.locator(".messages").inner_text()
    inspector = Inspector.objects.get(staff_number="WG100")
    assert inspector.id_number == "410481197802261236" and inspector.can_lead

    page.get_by_role("link", name="新增执法证").click()
    page.locator("#id_number").fill("豫41048100100")
    page.locator("#id_issued_on").fill((today - timedelta(days=10)).isoformat())
    page.locator("#id_expires_on").fill((today + timedelta(days=20)).isoformat())
    _save(page)
    assert "剩" not in page.locator("h1").inner_text()
    assert "豫41048100100" in page.locator("main").inner_text()

    page.get_by_role("link", name="停职/调离/退休").click()
    page.locator("#id_status").select_option("suspended")
    page.locator("#id_start").fill(today.isoformat())
    page.locator("#id_reason").fill("接受调查")
    _save(page)
    assert "停职" in page.locator("h1").inner_text()

    page.get_by_role("link", name="登记培训").click()
    page.locator("#id_course").fill("行政执法人员公共法律知识培训")
    page.locator("#id_held_on").fill(today.isoformat())
    page.locator("#id_hours").fill("16")
    _save(page)
    page.get_by_role("link", name="回避申报").first.click()
    page.locator("#id_legal_representative").fill("王建军")
    page.locator("#id_reason").select_option("interest")
    _save(page)
    main = page.locator("main").inner_text()
    assert "法定代表人“王建军”名下全部企业" in main and "行政执法人员公共法律知识培训" in main
    assert "登记状态" in main and "新增执法证" in main  # the change history, readable
    e2e.shot(page, "inspector", full_page=True)

    def upload(items):
        path = tmp_path / "名录.xlsx"
        path.write_bytes(
            xlsx(
                [
                    row(
                        **{
                            "人员编号": "WG200",
                            "姓名": "邓洁",
                            "身份证号": "",
                            "登录账户": "",
                            "执法证号": "豫41048100200",
                            "可检查事项": items,
                        }
                    )
                ]
            )
        )
        page.goto("/inspectors/import/")
        page.locator("input[type=file]").set_input_files(str(path))
        page.get_by_role("button", name="上传并预览").click()
        page.wait_for_load_state()
        return page.locator("main").inner_text()

    main = upload("GX-404")
    assert "未知的检查事项：GX-404" in main and "文件有错误，不能导入" in main
    assert page.get_by_role("button", name="确认导入").count() == 0
    assert "新增 1" in upload("WG-SW-001")
    e2e.shot(page, "import-preview", full_page=True)
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_load_state()
    assert "导入完成：新增 1 人" in page.locator(".messages").inner_text()
    assert Inspector.objects.filter(staff_number="WG200").exists()

    e2e.logout(page)
    e2e.login(page, "discipline")
    page.goto(f"/inspectors/{inspector.pk}/")
    main = page.locator("main").inner_text()
    assert "410481********1236" in main and "410481197802261236" not in main
    assert page.get_by_role("link", name="编辑").count() == 0
    page.goto("/inspectors/changes/")
    assert "批量导入名录" in page.locator("main").inner_text()
    e2e.shot(page, "changes", full_page=True)
