"""The fairness pages (oversight/views/fairness.py) on real and on seeded draws: expected
assignments, the flag of a favoured inspector, enterprise frequency and repeats, realised vs
configured rates, filters, xlsx exports, audit events and role access."""

import datetime
import io
import math
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from enterprises.models import Enterprise
from inspections.drawing import verify as engine
from inspections.models import Draw, DrawSelection, TaskRateOverride
from inspections.services import draws as services
from oversight import fairness
from oversight.navigation import OVERSIGHT_READERS
from tests.draws_fixtures import DICE, WITNESSES, uscc, void_approved
from tests.permissions import assert_role_access

TODAY = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
INSPECTORS = reverse("oversight:fairness_inspectors")
ENTERPRISES = reverse("oversight:fairness_enterprises")
RATES = reverse("oversight:fairness_rates")
PAGES = [INSPECTORS, ENTERPRISES, RATES]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def complete(task, actor, dice=DICE):
    draw = services.draw_commit(actor=actor, task=task)
    return services.draw_perform(
        actor=actor, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=dice
    )


def seeded_draw(task, operator, inspectors, teams, *, k=2):
    """A completed draw row written directly, as if its teams had been tampered with: every
    inspector in the pool (no capacity, no recusal), the given teams (uscc → staff numbers)."""
    manifest = engine.build_manifest([{"uscc": u, "tier": "D"} for u, _team in teams])
    pool = engine.build_inspector_manifest(
        [{"staff_number": i.staff_number, "section": "shichang"} for i in inspectors]
    )
    experts = engine.build_expert_manifest([])
    secret = "0" * 64
    tiers = {t: {"population": 0, "rate": "0", "count": 0} for t in "ABC"}
    tiers["D"] = {"population": len(teams), "rate": "1", "count": len(teams)}
    document = {
        "inspectors_per_enterprise": k,
        "required_qualifications": [],
        "tiers": tiers,
        "teams": [{"uscc": u, "drawn": list(t), "inspectors": list(t)} for u, t in teams],
    }
    return Draw.objects.create(
        task=task,
        operator=operator,
        status=Draw.Status.COMPLETED,
        draw_date=timezone.localdate(),
        window_start=task.window_start,
        window_end=task.window_end,
        rounding="ceil",
        inspectors_per_enterprise=k,
        tiers=tiers,
        manifest=manifest,
        manifest_sha256=engine.sha256_hex(manifest),
        population_count=len(teams),
        inspectors_manifest=pool,
        inspectors_sha256=engine.sha256_hex(pool),
        experts_manifest=experts,
        experts_sha256=engine.sha256_hex(experts),
        secret=secret,
        secret_sha256=engine.sha256_hex(secret.encode()),
        seed_string="seeded-for-test",
        document=document,
        completed_at=timezone.now(),
    )


# ------------------------------------------------------------------------------- access
@pytest.mark.parametrize("url", PAGES)
def test_only_the_oversight_readers_see_the_pages(users, url):
    assert_role_access(users, url, OVERSIGHT_READERS, ok_statuses=(200,))


@pytest.mark.parametrize("url", PAGES)
def test_the_pages_change_nothing(client_for, url):
    # The discipline group's POST is refused by the read-only middleware; the audit admin's by
    # the view, which answers GET/HEAD only.
    assert client_for(Role.DISCIPLINE).post(url).status_code == 403
    assert client_for(Role.AUDIT_ADMIN).post(url).status_code == 405
    assert not AuditEvent.objects.filter(event_type__startswith="oversight.").exists()


# --------------------------------------------------------------------------- inspectors
def test_real_draw_expected_counts_follow_k_over_n(
    client_for, lead, make_task, make_enterprises, roster
):
    # One enterprise per tier, rates 1/3/10/20 % rounded up → 4 selected, teams of 2 from the
    # 6 eligible inspectors: each is expected 4 × 2/6 = 4/3 times; 8 assignments in all.
    make_enterprises({"A": 1, "B": 1, "C": 1, "D": 1})
    complete(make_task(), lead)
    response = client_for(Role.DISCIPLINE).get(INSPECTORS)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.draws == 1 and report.teams == 4 and report.slots == 8
    assert len(report.rows) == 6
    for row in report.rows:
        assert row.stat.expected == pytest.approx(4 / 3)
        assert row.stat.eligible_teams == 4
    assert sum(r.stat.observed for r in report.rows) == 8
    assert not report.test.applicable  # 4/3 per person: too few to test
    assert not report.flagged
    assert "未发现单个人员明显偏高" in response.content.decode()


def test_seeded_favourite_is_flagged_on_the_page(client_for, lead, make_task, make_inspector):
    # Ten inspectors, 20 teams of two: expected 20 × 2/10 = 4 each, but WG001 is in every team.
    people = [make_inspector() for _ in range(10)]
    favourite = people[0]
    teams = [
        (uscc(100 + j), [favourite.staff_number, people[1 + j % 9].staff_number]) for j in range(20)
    ]
    seeded_draw(make_task(), lead, people, teams)
    response = client_for(Role.DISCIPLINE).get(INSPECTORS)
    report = response.context["report"]
    assert [r.staff_number for r in report.flagged] == [favourite.staff_number]
    top = report.rows[0]
    assert top.staff_number == favourite.staff_number
    assert top.stat.observed == 20 and top.stat.expected == pytest.approx(4)
    assert top.stat.p_high == pytest.approx(0.2**20)
    html = response.content.decode()
    assert f"{favourite.name}的分配次数明显高于预期（期望 4.0 次，实际 20 次）" in html
    # Expected 4 < 5 each: pooled in staff-number order into five pairs of expected 8:
    # (20+3, 8), (3+2, 8), (2+2, 8) × 3 → χ² = (15² + 3² + 3 · 4²) / 8 = 35.25, df 4,
    # p = Q(2, x/2) = e^(−x/2) (1 + x/2).
    assert report.test.applicable and report.test.categories == 5 and report.test.df == 4
    assert report.test.statistic == pytest.approx(35.25)
    assert report.test.p_value == pytest.approx(math.exp(-35.25 / 2) * (1 + 35.25 / 2))


def test_seeded_fair_allocation_is_not_flagged_and_the_test_applies(
    client_for, lead, make_task, make_inspector
):
    # Six inspectors, 30 teams of two, each inspector exactly 10 times (expected 30 × 2/6 = 10).
    people = [make_inspector() for _ in range(6)]
    teams = [
        (uscc(200 + j), [people[(2 * j) % 6].staff_number, people[(2 * j + 1) % 6].staff_number])
        for j in range(30)
    ]
    seeded_draw(make_task(), lead, people, teams)
    report = client_for(Role.DISCIPLINE).get(INSPECTORS).context["report"]
    assert all(r.stat.observed == 10 for r in report.rows)
    assert report.test.applicable and report.test.df == 5
    assert report.test.statistic == pytest.approx(0) and report.test.p_value == pytest.approx(1)
    assert report.verdict == [("ok", "未发现异常（卡方检验 p = 1.0000）")]


def test_filters_by_period_section_and_task(
    client_for, lead, make_task, make_inspector, other_section
):
    people = [make_inspector() for _ in range(4)]
    first, second = make_task(), make_task()
    seeded_draw(
        first, lead, people, [(uscc(300), [people[0].staff_number, people[1].staff_number])]
    )
    seeded_draw(
        second, lead, people, [(uscc(301), [people[2].staff_number, people[3].staff_number])]
    )
    client = client_for(Role.DISCIPLINE)

    def teams(**query):
        return client.get(INSPECTORS, query).context["report"].teams

    assert teams() == 2
    assert teams(task=first.pk) == 1
    assert teams(section=first.lead_section.pk) == 2
    assert teams(section=other_section.pk) == 0
    assert teams(**{"from": "2026-11-27", "to": "2026-12-31"}) == 0
    assert teams(**{"from": "2026-11-26", "to": "2026-11-26"}) == 2


def test_voided_draws_do_not_count(client_for, lead, lead2, make_task, make_enterprises, roster):

    make_enterprises({"D": 2})
    draw = complete(make_task(), lead)
    void_approved(requester=lead, draw=draw, reason="测试作废", approver=lead2)
    assert client_for(Role.DISCIPLINE).get(INSPECTORS).context["report"].draws == 0


def test_inspector_view_and_export_are_audited_and_the_xlsx_reads_back(
    client_for, users, lead, make_task, make_inspector
):
    people = [make_inspector() for _ in range(10)]
    teams = [
        (uscc(400 + j), [people[0].staff_number, people[1 + j % 9].staff_number]) for j in range(20)
    ]
    task = make_task()
    seeded_draw(task, lead, people, teams)
    client = client_for(Role.AUDIT_ADMIN)
    assert client.get(INSPECTORS, {"task": task.pk}).status_code == 200
    view = AuditEvent.objects.get(event_type="oversight.view")
    assert view.object_id == "fairness.inspectors"
    assert view.actor == users[Role.AUDIT_ADMIN]
    assert view.detail["task"] == task.number

    response = client.get(INSPECTORS, {"task": task.pk, "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == (
        "人员编号",
        "姓名",
        "所在股室",
        "有资格的检查组数",
        "实际分配次数",
        "期望分配次数",
    )
    first = rows[1]
    assert first[0] == people[0].staff_number and first[4] == 20 and first[5] == pytest.approx(4)
    assert first[-1] == "明显偏高"
    assert len(rows) == 11
    export = AuditEvent.objects.get(event_type="oversight.export")
    assert export.object_id == "fairness.inspectors" and export.detail["rows"] == 10
    assert AuditEvent.objects.filter(event_type="oversight.view").count() == 1


# ---------------------------------------------------------------------------- enterprises
@pytest.fixture
def repeat_draws(lead, make_task, make_enterprises, roster, township):
    """2026: task 1 draws A1 and D1 (1 of 1 per tier); then C1 is added and task 2 draws all
    three. One more active enterprise outside the tasks' trade is never drawn."""
    a, d = make_enterprises({"A": 1, "D": 1}, start=1)
    complete(make_task(same_item_once_per_year=False), lead)
    (c,) = make_enterprises({"C": 1}, start=3)
    complete(make_task(same_item_once_per_year=False), lead)
    Enterprise.objects.create(
        uscc=uscc(9), name="舞钢市未抽中企业", township=township, legal_representative="某某"
    )
    return a, d, c


def test_enterprise_frequency_and_repeats(client_for, repeat_draws):
    a, d, _c = repeat_draws
    response = client_for(Role.DISCIPLINE).get(ENTERPRISES)
    assert response.status_code == 200
    (year,) = response.context["years"]
    # Register: 4 active; drawn: A1 twice, D1 twice, C1 once; the fourth never.
    assert (year.year, year.register, year.zero, year.once, year.twice, year.three_plus) == (
        2026,
        4,
        1,
        1,
        2,
        0,
    )
    assert year.draws == 2
    repeats = response.context["repeats"]
    assert sorted(r.uscc for r in repeats) == sorted([a.uscc, d.uscc])
    assert all(r.times == 2 and len(r.draws) == 2 and not r.joint for r in repeats)
    assert all(r.draws[0]["date"] == datetime.date(2026, 11, 26) for r in repeats)
    scope = response.context["scope"]
    assert len(fairness.repeat_inspections(scope=scope, limit=1)) == 1
    assert fairness.repeat_count(scope=scope) == 2
    html = response.content.decode()
    assert reverse("enterprises:detail", args=[a.pk]) in html  # the discipline group may open it
    assert "<svg" in html
    # The audit admin sees the list without links into business records it may not open.
    admin_html = client_for(Role.AUDIT_ADMIN).get(ENTERPRISES).content.decode()
    assert a.name in admin_html
    assert reverse("enterprises:detail", args=[a.pk]) not in admin_html


def test_repeats_are_paged_keeping_the_scope(client_for, repeat_draws, monkeypatch):
    from oversight.views import fairness as views_fairness

    a, d, _c = repeat_draws
    monkeypatch.setattr(views_fairness, "REPEATS_PER_PAGE", 1)
    client = client_for(Role.DISCIPLINE)
    first = client.get(ENTERPRISES, {"from": "2026-01-01"})
    second = client.get(ENTERPRISES, {"from": "2026-01-01", "page": 2})
    shown = [r.uscc for r in first.context["repeats"]] + [r.uscc for r in second.context["repeats"]]
    assert sorted(shown) == sorted([a.uscc, d.uscc])  # one per page, none twice
    html = first.content.decode()
    assert "年内重复抽查的企业（2 户）" in html and "第 1 / 2 页" in html
    assert "?from=2026-01-01&amp;page=2#fairness-repeats" in html
    assert "page=1&amp;page" not in second.content.decode()
    beyond = client.get(ENTERPRISES, {"from": "2026-01-01", "page": 9})
    assert [r.uscc for r in beyond.context["repeats"]] == [shown[1]]  # the last page


def test_a_joint_visit_is_marked_on_the_repeat(client_for, lead, repeat_draws):
    a, d, _c = repeat_draws
    selection = DrawSelection.objects.filter(enterprise=a).order_by("-draw_id").first()
    services.joint_visit_merge(actor=lead, selection=selection)
    repeats = client_for(Role.DISCIPLINE).get(ENTERPRISES).context["repeats"]
    assert {r.uscc: r.joint for r in repeats} == {a.uscc: True, d.uscc: False}


def test_enterprise_exports(client_for, repeat_draws):
    a, d, _c = repeat_draws
    client = client_for(Role.DISCIPLINE)
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(ENTERPRISES, {"format": "xlsx"}).content)
    ).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == (2026, 4, 1, 1, 2, 0, 2)
    response = client.get(ENTERPRISES, {"format": "xlsx", "table": "repeats"})
    rows = list(
        openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    )
    assert sorted(r[1] for r in rows[1:]) == sorted([a.uscc, d.uscc])
    assert all(r[3] == 2 and r[5] == "否" for r in rows[1:])
    pages = sorted(
        AuditEvent.objects.filter(event_type="oversight.export").values_list("object_id", flat=True)
    )
    assert pages == ["fairness.enterprises", "fairness.repeats"]


# ---------------------------------------------------------------------------------- rates
def test_realised_rates_against_configured(client_for, lead, make_task, make_enterprises, roster):
    # Population A 2, B 3, C 10, D 4 with the default rates 1 %, 3 %, 10 %, 20 % rounded up:
    # A ceil(0.02)=1, B ceil(0.09)=1, C ceil(1.0)=1, D ceil(0.8)=1.
    make_enterprises({"A": 2, "B": 3, "C": 10, "D": 4})
    task = make_task()
    draw = complete(task, lead)
    client = client_for(Role.DISCIPLINE)
    summary = {t.tier: t for t, *_rest in client.get(RATES).context["summary"]}
    assert (summary["A"].population, summary["A"].drawn, summary["A"].required) == (2, 1, 1)
    assert summary["A"].realised == pytest.approx(1 / 2)
    assert summary["C"].realised == pytest.approx(1 / 10)
    assert summary["D"].configured == [Decimal("0.2")]
    assert all(t.problems == 0 for t in summary.values())

    # A special rate for D set after the draw: 50 % needs ceil(4 × 0.5) = 2, one was drawn.
    TaskRateOverride.objects.create(
        task=task, tier="D", rate=Decimal("0.5"), legal_basis="测试依据"
    )
    response = client.get(RATES)
    summary = {t.tier: t for t, *_rest in response.context["summary"]}
    assert summary["D"].problems == 1 and summary["D"].required == 2
    detail = [d for d, *_rest in response.context["detail"] if d.tier == "D"]
    assert detail[0].draw_id == draw.pk and detail[0].rate_differs and detail[0].short

    book = openpyxl.load_workbook(io.BytesIO(client.get(RATES, {"format": "xlsx"}).content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "风险等级"
    assert rows[4][:4] == ("D", 1, 4, 1) and rows[4][5] == "50%" and rows[4][-1] == 1
    detail_rows = list(
        openpyxl.load_workbook(
            io.BytesIO(client.get(RATES, {"format": "xlsx", "table": "draws"}).content)
        ).active.iter_rows(values_only=True)
    )
    assert len(detail_rows) == 1 + 4
    assert "抽中户数少于配置比例要求" in detail_rows[4][-1]


def test_the_active_register_is_counted_once_per_recorded_change(db, lead):
    """The "never drawn" base is an exact count of the active register, kept in the cache
    until the next recorded change: a second page view runs no COUNT of the register, an
    audited change of an enterprise's status counts again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit.services import audit_record
    from tests.test_enterprises_factories import make_enterprises as register

    first, *_ = register(3)
    assert fairness.active_register_size() == 3
    with CaptureQueriesContext(connection) as queries:
        assert fairness.active_register_size() == 3
    assert not [q for q in queries if "enterprises_enterprise" in q["sql"]]

    first.status = Enterprise.Status.CANCELLED
    first.save()
    audit_record(event_type="enterprise.update", actor=lead, obj=first, detail={})
    assert fairness.active_register_size() == 2
