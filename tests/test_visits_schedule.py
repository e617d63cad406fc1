"""The scheme's visit schedule (检查方案 art. 6(4): the visit date of each enterprise): working
days from the holiday calendar, an even spread in ticket order, the per-inspector daily limit,
an unpublished year scheduled Monday to Friday and said so, the same dates before and after the
visits are created, and moving a visit by hand (who, which days, audited)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from core.models import Notification
from inspections import scheduling
from inspections.selectors import visits as selectors
from inspections.services import visits as services
from inspectors.models import StatusPeriod
from tests.pdf_text import text_of
from tests.visits_fixtures import (
    TODAY,
    complete_draw,
    recorders,
)

pytestmark = pytest.mark.usefixtures("visits_today")

D = datetime.date


# ------------------------------------------------------------------------------- the days
def test_days_follow_the_holiday_calendar_with_makeup_saturdays(db):
    span = scheduling.schedule_days(start=D(2026, 9, 28), end=D(2026, 10, 11))
    # 国庆节 1–7 October is off; Saturday 10 October is a 调休 working day; Sunday 11 is not.
    assert span.days == [
        D(2026, 9, 28),
        D(2026, 9, 29),
        D(2026, 9, 30),
        D(2026, 10, 8),
        D(2026, 10, 9),
        D(2026, 10, 10),
    ]
    assert span.provisional_years == []


def test_an_unpublished_year_is_scheduled_monday_to_friday_and_named(db):
    span = scheduling.schedule_days(start=D(2026, 12, 30), end=D(2027, 1, 5))
    assert span.days == [
        D(2026, 12, 30),
        D(2026, 12, 31),
        D(2027, 1, 1),
        D(2027, 1, 4),
        D(2027, 1, 5),
    ]
    assert span.provisional_years == [2027]


# ------------------------------------------------------------------------------ the spread
def test_visits_spread_evenly_in_the_given_order():
    days = [D(2026, 12, d) for d in (1, 2, 3, 4, 7, 8, 9, 10)]
    teams = [(k, [f"i{k}a", f"i{k}b"]) for k in range(4)]
    planned = scheduling.schedule_assign(teams=teams, days=days, per_day=2)
    assert [p.day for p in planned] == [days[0], days[2], days[4], days[6]]
    assert not any(p.over_capacity for p in planned)


def test_a_team_member_at_the_daily_limit_moves_the_visit_to_the_next_free_day():
    days = [D(2026, 12, 1), D(2026, 12, 2), D(2026, 12, 3)]
    teams = [("a", ["x", "y"]), ("b", ["x", "z"]), ("c", ["x", "w"])]
    busy = {("x", D(2026, 12, 1)): 1, ("x", D(2026, 12, 2)): 1}
    planned = scheduling.schedule_assign(teams=teams, days=days, busy=busy, per_day=1)
    # a: day 0 is full for x → day 1 full → day 2; b: ideal day 1, x busy on 1, 2 (now), 0 → over
    assert [(p.key, p.day, p.over_capacity) for p in planned] == [
        ("a", D(2026, 12, 3), False),
        ("b", D(2026, 12, 2), True),
        ("c", D(2026, 12, 3), True),
    ]
    assert busy == {("x", D(2026, 12, 1)): 1, ("x", D(2026, 12, 2)): 1}  # not modified


def test_wrapping_round_finds_an_earlier_free_day():
    days = [D(2026, 12, 1), D(2026, 12, 2)]
    teams = [("a", ["y"]), ("b", ["x"])]  # b's even-spread day is the 2nd, where x is busy
    planned = scheduling.schedule_assign(
        teams=teams, days=days, busy={("x", D(2026, 12, 2)): 1}, per_day=1
    )
    assert [p.day for p in planned] == [D(2026, 12, 1), D(2026, 12, 1)]
    assert [p.over_capacity for p in planned] == [False, False]


def test_no_working_day_left_gives_no_date():
    planned = scheduling.schedule_assign(teams=[("a", ["x"])], days=[], per_day=2)
    assert planned[0].day is None


# ------------------------------------------------------------------ the scheme and creation
@pytest.fixture
def five_drawn(lead, make_task, make_enterprises, roster, inspector_users):
    make_enterprises({"D": 25})  # 20% of 25 → 5 selected
    return complete_draw(make_task(), lead)


def test_scheme_proposes_dates_and_creation_stores_the_same_dates(five_drawn, lead):
    task = five_drawn.task
    before = selectors.task_scheme_schedule(task=task)
    assert len(before["rows"]) == 5 and before["proposed"] == 5
    proposed = [(row["enterprise"].pk, row["visit_date"]) for row in before["rows"]]
    working = scheduling.schedule_days(start=TODAY, end=task.window_end).days
    assert all(day in working for _e, day in proposed)
    assert len({day for _e, day in proposed}) == 5  # 5 visits over 12 working days: spread

    visits = services.visits_create_for_draw(actor=lead, draw=five_drawn)
    assert sorted((v.enterprise_id, v.planned_on) for v in visits) == sorted(proposed)
    after = selectors.task_scheme_schedule(task=task)
    assert after["proposed"] == 0
    assert [(row["enterprise"].pk, row["visit_date"]) for row in after["rows"]] == proposed
    created = AuditEvent.objects.filter(event_type="visit.create").first()
    assert created.detail["after"]["planned_on"] in {d.isoformat() for _e, d in proposed}


def test_scheme_page_and_pdf_show_the_dates_and_the_teams(five_drawn, users):
    task = five_drawn.task
    schedule = selectors.task_scheme_schedule(task=task)
    first = schedule["rows"][0]
    client = Client()
    client.force_login(users[Role.DISCIPLINE])
    html = client.get(reverse("inspections:task_scheme", args=[task.pk])).content.decode()
    assert first["enterprise"].name in html
    assert first["visit_date"].isoformat() in html and "拟定" in html
    assert "、".join(first["inspectors"]) in html
    pdf = client.get(reverse("inspections:task_scheme_pdf", args=[task.pk]))
    text = text_of(pdf.content)
    assert first["visit_date"].isoformat() in text and first["enterprise"].uscc in text


def test_scheme_says_when_a_year_has_no_holiday_notice(
    lead, make_task, make_enterprises, roster, inspector_users, users
):
    make_enterprises({"D": 5})
    draw = complete_draw(make_task(window_end=D(2027, 1, 29)), lead)
    schedule = selectors.task_scheme_schedule(task=draw.task)
    assert schedule["provisional_years"] == [2027]
    client = Client()
    client.force_login(users[Role.LEAD_SECTION])
    url = reverse("inspections:task_scheme", args=[draw.task.pk])
    html = client.get(url).content.decode()
    assert "2027年节假日安排尚未发布" in html and "户尚未生成检查记录，检查日期为系统拟定" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get(url).content.decode()
    assert "The 2027 holiday schedule has not been published" in english
    assert "1 enterprise has no visit record yet" in english and ">proposed<" in english
    assert "2027年节假日安排尚未发布" not in english


def test_the_daily_limit_counts_other_tasks_visits(
    lead, make_task, make_enterprises, make_inspector, roster, inspector_users, settings
):
    """Two inspectors only, one visit a day each: a second task's visit avoids the first's day."""
    settings.VISITS_PER_INSPECTOR_PER_DAY = 1
    for extra in roster[2:]:
        StatusPeriod.objects.create(inspector=extra, status="suspended", start=D(2026, 1, 1))
    make_enterprises({"D": 1})
    first = complete_draw(make_task(same_item_once_per_year=False), lead)
    (one,) = services.visits_create_for_draw(actor=lead, draw=first)
    second = complete_draw(make_task(same_item_once_per_year=False), lead, dice="6" * 20)
    (two,) = services.visits_create_for_draw(actor=lead, draw=second)
    assert one.planned_on == TODAY
    assert two.planned_on == D(2026, 12, 4)  # the next working day


# --------------------------------------------------------------------------- moving by hand
def test_the_team_moves_a_visit_to_another_working_day_and_it_is_audited(visit, inspector_users):
    inspector = recorders(visit, inspector_users)[0]
    old = visit.planned_on
    moved = services.visit_reschedule(
        actor=inspector, visit=visit, version=visit.version, planned_on=D(2026, 12, 18)
    )
    assert moved.planned_on == D(2026, 12, 18) and moved.version == visit.version + 1
    event = AuditEvent.objects.get(event_type="visit.reschedule")
    assert event.detail == {
        "before": {"planned_on": old.isoformat()},
        "after": {"planned_on": "2026-12-18"},
    }
    # the other team member is told; the one who moved it is not
    told = Notification.objects.filter(title__startswith="检查日期调整")
    others = [u for u in recorders(visit, inspector_users) if u != inspector]
    assert [n.recipient for n in told] == others
    assert "改为 2026-12-18" in told[0].title and old.strftime("%Y-%m-%d") in told[0].body


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (D(2026, 12, 19), "不是工作日"),  # Saturday
        (D(2026, 12, 21), "不在检查时间窗"),  # after the window
        (D(2026, 11, 30), "不在检查时间窗"),  # before it
    ],
)
def test_a_visit_cannot_move_to_a_day_off_or_out_of_its_window(visit, lead, day, reason):
    with pytest.raises(services.VisitError, match=reason):
        services.visit_reschedule(actor=lead, visit=visit, version=visit.version, planned_on=day)
    visit.refresh_from_db()
    assert visit.planned_on != day
    assert not AuditEvent.objects.filter(event_type="visit.reschedule").exists()


def test_a_started_visit_keeps_its_planned_day(visit, inspector_users):
    inspector = recorders(visit, inspector_users)[0]
    visit = services.visit_start(actor=inspector, visit=visit, version=visit.version)
    with pytest.raises(PermissionDenied):
        services.visit_reschedule(
            actor=inspector, visit=visit, version=visit.version, planned_on=D(2026, 12, 18)
        )


def test_another_sections_staff_cannot_move_a_visit(visit, make_user):
    from accounts.models import Section

    other = Section.objects.create(name="其他股室", code="other")
    staff = make_user(Role.SECTION_STAFF, section=other, username="other_staff")
    with pytest.raises(PermissionDenied):
        services.visit_reschedule(
            actor=staff, visit=visit, version=visit.version, planned_on=D(2026, 12, 18)
        )


def test_reschedule_page_for_team_lead_section_and_refused_to_others(visit, inspector_users, users):
    url = reverse("inspections:visit_reschedule", args=[visit.pk])
    detail = reverse("inspections:visit_detail", args=[visit.pk])
    team = Client()
    team.force_login(recorders(visit, inspector_users)[0])
    assert "调整为" in team.get(detail).content.decode()
    response = team.post(url, {"version": visit.version, "planned_on": "2026-12-17"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.planned_on == D(2026, 12, 17)

    for role in (Role.DISCIPLINE, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN):
        client = Client()
        client.force_login(users[role])
        assert "调整为" not in client.get(detail).content.decode()
        response = client.post(url, {"version": visit.version, "planned_on": "2026-12-18"})
        assert response.status_code == 403, role
    anonymous = Client().post(url, {"version": visit.version, "planned_on": "2026-12-18"})
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    visit.refresh_from_db()
    assert visit.planned_on == D(2026, 12, 17)


def test_the_inspectors_today_page_and_the_list_show_the_planned_day(visit, inspector_users):
    assert visit.planned_on == TODAY  # one enterprise: the first working day left
    client = Client()
    client.force_login(recorders(visit, inspector_users)[0])
    card = client.get(reverse("inspections:visit_today")).content.decode()
    assert "计划检查日期：<strong>12-03</strong>" in card and ">今天<" in card
    listed = client.get(reverse("inspections:visit_list")).content.decode()
    assert "2026-12-03" in listed
