"""The discipline group in a real browser: the fairness page flags an inspector assigned far
more than expected (a draw row seeded with one inspector in every team), and the table
exports to xlsx."""

import io
from pathlib import Path

import openpyxl
import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def favoured(demo_users):
    """Ten inspectors; a completed draw of 20 teams of two with WG-F01 in every team
    (expected 20 × 2/10 = 4)."""
    import datetime

    from django.utils import timezone

    from accounts.models import Section, User
    from inspections.drawing import verify as engine
    from inspections.models import Draw, Task
    from inspectors.models import Inspector

    section = Section.objects.filter(is_lead=False).first()
    lead_section = Section.objects.filter(is_lead=True).first()
    people = [
        Inspector.objects.create(staff_number=f"WGF{n:02d}", name=f"检查员{n}号", section=section)
        for n in range(1, 11)
    ]
    task = Task.objects.create(
        adhoc_reason="浏览器测试",
        year=2026,
        seq=901,
        number="舞工信商抽〔2026〕901号",
        name="公平性测试任务",
        lead_section=lead_section,
        window_start=datetime.date(2026, 12, 1),
        window_end=datetime.date(2026, 12, 20),
        methods=["onsite"],
    )
    teams = [
        (f"91410481{900 + j:09d}X", ["WGF01", people[1 + j % 9].staff_number]) for j in range(20)
    ]
    manifest = engine.build_manifest([{"uscc": u, "tier": "D"} for u, _t in sorted(teams)])
    pool = engine.build_inspector_manifest([{"staff_number": p.staff_number} for p in people])
    experts = engine.build_expert_manifest([])
    secret = "0" * 64
    tiers = {t: {"population": 0, "rate": "0", "count": 0} for t in "ABC"}
    tiers["D"] = {"population": 20, "rate": "1", "count": 20}
    Draw.objects.create(
        task=task,
        operator=User.objects.get(username="lead"),
        status=Draw.Status.COMPLETED,
        draw_date=timezone.localdate(),
        window_start=task.window_start,
        window_end=task.window_end,
        rounding="ceil",
        inspectors_per_enterprise=2,
        tiers=tiers,
        manifest=manifest,
        manifest_sha256=engine.sha256_hex(manifest),
        population_count=20,
        inspectors_manifest=pool,
        inspectors_sha256=engine.sha256_hex(pool),
        experts_manifest=experts,
        experts_sha256=engine.sha256_hex(experts),
        secret=secret,
        secret_sha256=engine.sha256_hex(secret.encode()),
        seed_string="seeded-in-browser-test",
        document={
            "inspectors_per_enterprise": 2,
            "required_qualifications": [],
            "tiers": tiers,
            "teams": [{"uscc": u, "drawn": t, "inspectors": t} for u, t in teams],
        },
        completed_at=timezone.now(),
    )
    return people[0]


def test_discipline_sees_the_favoured_inspector_flagged(page, favoured, e2e):
    from audit.models import AuditEvent

    e2e.login(page, "discipline")
    assert "公平性统计" in e2e.nav_labels(page)
    page.goto("/oversight/fairness/")
    verdict = page.locator("#fairness-verdict")
    assert "检查员1号的分配次数明显高于预期（期望 4.0 次，实际 20 次）" in verdict.inner_text()
    first = page.locator("#fairness-inspectors tbody tr").first
    assert "WGF01" in first.inner_text() and "明显偏高" in first.inner_text()
    e2e.shot(page, "fairness-flagged", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Excel").click()
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[1][0] == "WGF01" and rows[1][-1] == "明显偏高"
    assert AuditEvent.objects.filter(
        event_type="oversight.view", object_id="fairness.inspectors"
    ).exists()
    assert AuditEvent.objects.filter(
        event_type="oversight.export", object_id="fairness.inspectors"
    ).exists()
    page.goto("/oversight/fairness/enterprises/")
    assert page.locator("#fairness-frequency").is_visible()
    page.goto("/oversight/fairness/rates/")
    assert page.locator("#fairness-rates").is_visible()
    e2e.shot(page, "fairness-rates", full_page=True)
