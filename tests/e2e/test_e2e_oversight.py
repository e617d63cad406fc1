"""The discipline group in a real browser: the draws page shows a verified draw in green; after
the draw's stored manifest is altered directly in the database (triggers bypassed, as someone
with database rights would), a reload shows the same draw in red."""

import io

import pytest
from django.db import connection

from inspections.models import Draw

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
def demo_draws(demo_users, settings):
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
    return Draw.objects.filter(status=Draw.Status.COMPLETED).order_by("-id").first()


def _alter_manifest(draw: Draw) -> None:
    forged = bytes(draw.manifest).replace(b"\n", b"\n9", 1)  # one USCC changed
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As the table's owner (the suite's role) would: triggers off for one statement.
            cursor.execute("ALTER TABLE inspections_draw DISABLE TRIGGER USER")
            cursor.execute(
                "UPDATE inspections_draw SET manifest = %s WHERE id = %s", [forged, draw.pk]
            )
            cursor.execute("ALTER TABLE inspections_draw ENABLE TRIGGER USER")
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type='trigger' "
                "AND name='inspections_draw_completed_only_void'"
            )
            (create,) = cursor.fetchone()
            cursor.execute("DROP TRIGGER inspections_draw_completed_only_void")
            cursor.execute(
                "UPDATE inspections_draw SET manifest = %s WHERE id = %s", [forged, draw.pk]
            )
            cursor.execute(create)


def test_discipline_sees_a_verified_draw_turn_red_after_the_manifest_is_altered(
    page, demo_draws, e2e
):
    draw = demo_draws
    assert draw is not None
    e2e.login(page, "discipline")
    page.get_by_role("link", name="抽取核验").first.click()
    page.wait_for_load_state()
    row = page.locator(f"#draw-{draw.pk}")
    assert "通过" in row.locator("td.verify .verify-ok").inner_text()
    assert row.locator(".verify-bad").count() == 0
    assert row.locator("code.hash").get_attribute("title") == draw.manifest_sha256
    e2e.shot(page, "verified", full_page=True)

    _alter_manifest(draw)
    page.reload()
    page.wait_for_load_state()
    row = page.locator(f"#draw-{draw.pk}")
    assert "未通过" in row.locator("td.verify .verify-bad").inner_text()
    assert row.locator(".verify-ok").count() == 0
    e2e.shot(page, "altered-red", full_page=True)

    # The dashboard's red flags now count it, with a link to the failing draws.
    page.goto("/")
    e2e.shot(page, "dashboard")
    flag = page.locator("#flag-failing-draws")
    assert flag.locator(".tag-bad").inner_text().strip() == "1"
    flag.get_by_role("link").click()
    page.wait_for_load_state()
    assert page.locator(f"#draw-{draw.pk} .verify-bad").count() == 1
    e2e.shot(page, "red-flag")


def test_discipline_opens_records_and_deadlines_and_exports(page, demo_draws, e2e):
    e2e.login(page, "discipline")
    page.goto("/oversight/records/")
    assert page.locator("h1").inner_text() == "记录修改与更正"
    page.get_by_role("link", name="公示期限").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "公示期限"
    assert page.locator("#overdue-count").inner_text().isdigit()
    e2e.shot(page, "deadlines", full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出 Excel").click()
    from openpyxl import load_workbook

    assert download_info.value.suggested_filename.endswith(".xlsx")
    with open(download_info.value.path(), "rb") as fh:
        workbook = load_workbook(io.BytesIO(fh.read()), read_only=True)
    header = next(workbook.worksheets[0].iter_rows(values_only=True))
    assert header[0] == "抽查任务" and "公示期限" in header
