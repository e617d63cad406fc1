"""The register in a real browser: section staff upload a file with a mistake, the preview names
the row and the reason and offers no confirm button; they fix the file, upload it again, confirm,
and find the enterprises in the register."""

import pytest

from enterprises.models import Enterprise
from tests.test_enterprises_import import row, xlsx

pytestmark = pytest.mark.browser


@pytest.fixture
def reference(demo_users):
    from enterprises.demo import seed_reference

    seed_reference()
    return demo_users


def _upload(page, path):
    page.goto("/enterprises/import/")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_load_state()


def test_staff_import_with_preview_fix_and_confirm(page, reference, e2e, tmp_path):
    before = Enterprise.objects.count()
    bad = tmp_path / "名录-有误.xlsx"
    bad.write_bytes(xlsx([row(9101), row(9102, 统一社会信用代码="91410481MA0000000X"), row(9103)]))
    e2e.login(page, "staff")
    _upload(page, bad)

    # The preview names the bad row as Excel numbers it (header = row 1) and writes nothing.
    assert "文件有错误，不能导入" in page.locator("main").inner_text()
    error_rows = page.locator(".errorlist-box + table tbody tr")
    assert error_rows.count() >= 1
    assert error_rows.first.locator("td").first.inner_text().strip() == "3"
    assert page.get_by_role("button", name="确认导入").count() == 0
    e2e.shot(page, "preview-with-error", full_page=True)
    assert Enterprise.objects.count() == before

    good = tmp_path / "名录.xlsx"
    good.write_bytes(xlsx([row(9101), row(9102), row(9103)]))
    _upload(page, good)
    assert "新增 3" in page.locator("main").inner_text()
    e2e.shot(page, "preview-ok", full_page=True)
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_load_state()
    assert "导入完成" in page.locator(".messages").inner_text()
    e2e.shot(page, "applied")
    assert Enterprise.objects.count() == before + 3

    page.goto("/enterprises/?q=舞钢市导入9102")
    assert "舞钢市导入9102有限公司" in page.locator("main").inner_text()
    e2e.shot(page, "register")


@pytest.mark.postgres  # the worker's thread and the live server each need their own connection
def test_import_of_10000_rows_shows_progress_then_applies(
    page, reference, e2e, tmp_path, monkeypatch
):
    """Issue 21, item 2: a county register (10^4 rows) imports from the browser. The worker's
    preview is held after 5,000 rows so the test sees the bar and the row count move."""
    import threading

    from django.db import connection

    from enterprises import services, views
    from enterprises.tasks import import_batch_run
    from tests.test_enterprises_import_batches import big_xlsx

    held, release = threading.Event(), threading.Event()
    bumper = services._progress_bumper

    def held_bumper(batch_id, *, ceiling):
        bump = bumper(batch_id, ceiling=ceiling)

        def report(rows):
            bump(rows)
            if rows == 5000 and not release.is_set():
                held.set()
                release.wait(60)

        return report

    workers = []

    def run_in_a_thread(batch_id, stage):
        def run():
            try:
                import_batch_run(batch_id, stage)
            finally:
                connection.close()

        workers.append(threading.Thread(target=run))
        workers[-1].start()

    monkeypatch.setattr(services, "_progress_bumper", held_bumper)
    monkeypatch.setattr(views, "SYNC_MAX_BYTES", 1024)  # 10^4 rows go to the "worker"
    monkeypatch.setattr(views.import_batch_run, "delay", run_in_a_thread)
    before = Enterprise.objects.count()
    path = tmp_path / "县级名录.xlsx"
    path.write_bytes(big_xlsx(10000, start=20000))

    e2e.login(page, "staff")
    _upload(page, path)
    assert held.wait(60), "the preview reached 5,000 rows"
    progress = page.locator("#import-progress")
    progress.get_by_text("已读取 5000 行").wait_for()
    assert int(progress.locator("progress").get_attribute("value")) > 0
    e2e.shot(page, "big-import-progress")
    release.set()
    page.get_by_role("button", name="确认导入").wait_for(timeout=60_000)
    assert "新增 10000" in page.locator("main").inner_text()
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("已导入").first.wait_for(timeout=120_000)
    for worker in workers:
        worker.join(60)
    assert Enterprise.objects.count() == before + 10000
