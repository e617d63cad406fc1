"""oversight.reports: each figure on the hand-built data of tests/reports_fixtures.py (the
expected numbers are worked out in its docstring), in a constant number of queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inspections.models import Task
from oversight import reports
from oversight.figures import visit_figures_refresh

pytestmark = pytest.mark.usefixtures("visits_today")


def test_task_figures_by_hand(report_data):
    f = reports.task_figures([report_data["t1"].pk])[report_data["t1"].pk]
    assert (f.population, f.due, f.voided_draws) == (5, 4, 1)
    assert (f.visits, f.checked, f.approved) == (4, 4, 3)
    assert (f.published, f.on_time) == (2, 1)
    assert (f.records, f.records_published, f.records_overdue_open) == (4, 3, 1)
    assert f.completion_rate == Decimal("50.0")
    assert f.on_time_rate == Decimal("50.0")
    assert f.problems == 2
    assert (f.follow_up_visits, f.follow_up_closed) == (2, 1)
    assert f.closure_rate == Decimal("50.0")
    assert (f.transfers, f.non_cooperation) == (2, 1)
    assert f.unpublished == 2


def test_task_without_anything_is_zero_and_rates_undefined(report_data):
    f = reports.task_figures([report_data["t2"].pk])[report_data["t2"].pk]
    assert all(getattr(f, name) == 0 for name in f.COUNTS)
    assert f.completion_rate is None and f.closure_rate is None and f.on_time_rate is None
    assert f.completion_text == "—"


def test_a_late_record_makes_the_enterprise_late_and_an_open_one_unpublished(report_data):
    """Publication is counted per enterprise: v1 has one record on time and one late."""
    from disclosure.models import PublicationRecord

    v1 = report_data["visits"][0]
    PublicationRecord.objects.filter(visit_id=v1.pk).update(first_published_on=None)
    visit_figures_refresh(visit_ids=[v1.pk])  # what the publication services do
    f = reports.task_figures([report_data["t1"].pk])[report_data["t1"].pk]
    assert (f.published, f.on_time) == (1, 1)  # only v2 is left, and it was on time


def test_category_mix_counts_approved_results_only(report_data):
    mix = {b.label: b.count for b in reports.category_mix([report_data["t1"].pk])}
    assert mix == {
        "未发现问题": 1,
        "发现问题已责令改正": 1,
        "发现问题待后续处理": 1,
        "发现问题待后续处理（未按规定公示应当公示的信息）": 1,
    }


def test_problems_by_tier_trade_township(report_data):
    by = reports.problems_by([report_data["t1"].pk])
    tiers = {b.key: (b.count, b.extra) for b in by["tiers"]}
    assert tiers == {"A": (1, 1), "B": (1, 0), "C": (1, 1)}
    assert {b.label for b in by["tiers"]} == {"A 低风险", "B 中风险", "C 中高风险"}
    trades = {b.label: (b.count, b.extra) for b in by["trades"]}
    assert trades == {"成品油零售": (3, 2), "危险化学品经营": (1, 1)}
    townships = [(b.label, b.count, b.extra) for b in by["townships"]]
    assert townships == [("垭口街道", 2, 2), ("尚店镇", 1, 0)]


def test_transfers_and_non_cooperation_breakdowns(report_data):
    ids = [report_data["t1"].pk]
    assert {b.label: b.count for b in reports.transfers_by_status(ids)} == {
        "待移送": 1,
        "已移送": 1,
    }
    assert [(b.key, b.count) for b in reports.non_cooperation_by_case(ids)] == [
        ("refused_entry", 1)
    ]


def test_plan_report_adds_tasks_and_splits_by_section(report_data, lead_section, section):
    report = reports.plan_report(report_data["plan"])
    assert [row.task.pk for row in report.tasks] == [report_data["t1"].pk, report_data["t2"].pk]
    assert report.title == "2026年度抽查工作总结"
    assert (report.totals.due, report.totals.published, report.totals.problems) == (4, 2, 2)
    by_section = {f.label: (f.due, f.published) for f in report.sections}
    assert by_section == {lead_section.name: (4, 2), section.name: (0, 0)}
    only_own = reports.plan_report(report_data["plan"], section=section)
    assert [row.task.pk for row in only_own.tasks] == [report_data["t2"].pk]
    assert only_own.totals.due == 0


def test_task_and_plan_exist_only_within_a_visit_joint_task(report_data):
    """A visit counts for every task it covers (Visit.tasks): adding T2 to v2 gives T2 one
    checked and approved visit, T1 unchanged."""
    t1, t2 = report_data["t1"], report_data["t2"]
    report_data["visits"][1].tasks.add(t2)
    visit_figures_refresh(visit_ids=[report_data["visits"][1].pk])
    figures = reports.task_figures([t1.pk, t2.pk])
    assert (figures[t1.pk].checked, figures[t1.pk].approved) == (4, 3)
    assert (figures[t2.pk].checked, figures[t2.pk].approved) == (1, 1)


def test_query_count_does_not_grow_with_tasks(report_data, make_task):
    def count(tasks):
        with CaptureQueriesContext(connection) as ctx:
            report = reports.build_report(tasks, title="x")
            reports.report_charts(report, by="section")
        return len(ctx.captured_queries)

    one = count(Task.objects.filter(pk=report_data["t1"].pk))
    for _n in range(3):
        make_task()
    many = count(Task.objects.all())
    assert Task.objects.count() == 5
    assert one == many
    assert many <= 15


def test_scope_filters_tasks_by_period_section_and_visibility(
    report_data, users, own_head, section, lead_section
):
    import datetime

    from accounts.roles import Role
    from oversight.filters import Scope

    t1, t2 = report_data["t1"], report_data["t2"]
    everything = Scope(
        start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31), section=None, task=None
    )
    lead = users[Role.LEAD_SECTION]
    assert set(reports.scoped_tasks(lead, everything)) == {t1, t2}
    assert set(reports.scoped_tasks(users[Role.DISCIPLINE], everything)) == {t1, t2}
    assert set(reports.scoped_tasks(users[Role.AUDIT_ADMIN], everything)) == {t1, t2}
    assert set(reports.scoped_tasks(own_head, everything)) == {t1}
    assert set(reports.scoped_tasks(users[Role.SECTION_HEAD], everything)) == {t2}
    assert not reports.scoped_tasks(users[Role.INSPECTOR], everything).exists()
    november = Scope(
        start=datetime.date(2026, 11, 1), end=datetime.date(2026, 11, 30), section=None, task=None
    )
    assert set(reports.scoped_tasks(lead, november)) == {t2}  # T1 runs 1–20 December
    by_section = Scope(start=everything.start, end=everything.end, section=lead_section, task=None)
    assert set(reports.scoped_tasks(lead, by_section)) == {t1}


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(1, 3, Decimal("33.3")), (2, 3, Decimal("66.7")), (1, 8, Decimal("12.5")), (0, 0, None)],
)
def test_rate_rounds_half_up_to_one_decimal(part, whole, expected):
    assert reports.rate(part, whole) == expected


def test_computed_figures_are_reused_until_something_changes(report_data, lead):
    from inspections.models import FollowUp

    tasks = Task.objects.filter(pk=report_data["t1"].pk)
    with CaptureQueriesContext(connection) as first:
        report = reports.build_report(tasks, title="x")
    with CaptureQueriesContext(connection) as second:
        again = reports.build_report(tasks, title="x")
    assert len(second.captured_queries) < len(first.captured_queries)
    assert again.generated_at == report.generated_at
    assert again.totals.follow_up_visits == report.totals.follow_up_visits == 2
    # A new follow-up (here without an audit event: the ids are part of the fingerprint too).
    FollowUp.objects.create(visit=report_data["visits"][1], measure="other", created_by=lead)
    visit_figures_refresh(visit_ids=[report_data["visits"][1].pk])  # as follow_up_add does
    fresh = reports.build_report(tasks, title="x")
    assert fresh.totals.follow_up_visits == 3
    assert fresh.totals.follow_up_closed == 1


def test_an_audited_change_invalidates_the_cached_figures(report_data, lead):
    from audit.services import audit_record
    from inspections.models import FollowUp

    tasks = Task.objects.filter(pk=report_data["t1"].pk)
    assert reports.build_report(tasks, title="x").totals.follow_up_closed == 1
    # Closing v1's open follow-up changes no id; the service's audit event changes the key.
    FollowUp.objects.filter(visit=report_data["visits"][0], closed=False).update(
        closed=True, closed_on="2026-12-03"
    )
    visit_figures_refresh(visit_ids=[report_data["visits"][0].pk])  # as follow_up_close does
    assert reports.build_report(tasks, title="x").totals.follow_up_closed == 1  # still cached
    audit_record(event_type="visit.follow_up_closed", actor=lead, object_type="x", object_id=1)
    assert reports.build_report(tasks, title="x").totals.follow_up_closed == 2
    # Viewing reports (oversight.* events) does not throw the cache away.
    audit_record(event_type="oversight.view", actor=lead, object_type="x", object_id=1)
    with CaptureQueriesContext(connection) as ctx:
        reports.build_report(tasks, title="x")
    assert len(ctx.captured_queries) <= 2  # the tasks and the fingerprint
