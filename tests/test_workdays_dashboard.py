"""The dashboard panel, the 待定 display helper and the demo (today is 2026-11-26; 2027 is not
published in the seed)."""

import datetime as dt
import io

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse

from accounts.roles import Role
from tests.calendar_helpers import calendar_approved
from workdays.demo import DEMO_2027
from workdays.models import CalendarYear
from workdays.services import calendar_draft_create

D = dt.date


def at(year, month, day, hour=10):
    # 10:00 in Asia/Shanghai
    return time_machine.travel(
        dt.datetime(year, month, day, hour - 8, 0, tzinfo=dt.UTC), tick=False
    )


def _dashboard(client):
    response = client.get(reverse("core:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.LEAD_SECTION])
def test_warns_admins_and_lead_section_from_october(client_for, role):
    with at(2026, 11, 26):
        body = _dashboard(client_for(role))
    assert "2027 年节假日安排尚未发布" in body
    assert "今天（2026-11-26 星期四）是工作日。" in body
    assert "下一个工作日：2026-11-27（星期五）。" in body


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.DISCIPLINE, Role.SECURITY_ADMIN])
def test_others_see_only_the_today_line(client_for, role):
    with at(2026, 11, 26):
        body = _dashboard(client_for(role))
    assert "2027 年节假日安排尚未发布" not in body
    assert "是工作日" in body


def test_no_warning_before_october(client_for):
    with at(2026, 9, 30):
        body = _dashboard(client_for(Role.SYSTEM_ADMIN))
    assert "节假日安排尚未发布" not in body
    assert "下一个工作日：2026-10-08（星期四）。" in body


def test_warning_mentions_the_pending_draft_and_stops_when_published(users, client_for):
    with at(2026, 11, 26):
        draft = calendar_draft_create(
            actor=users[Role.SYSTEM_ADMIN],
            year=2027,
            notice_title="通知",
            notice_number="",
            arrangement=DEMO_2027,
        )
        body = _dashboard(client_for(Role.LEAD_SECTION))
        assert "已录入草稿，待另一位管理员审批" in body
        assert reverse("workdays:calendar_revision", args=[draft.pk]) in body
        calendar_approved(approver=users[Role.SECURITY_ADMIN], calendar_year=draft)
        body = _dashboard(client_for(Role.LEAD_SECTION))
    assert "节假日安排尚未发布" not in body


def test_holiday_today_and_pending_next_workday(client_for):
    with at(2026, 10, 3):
        body = _dashboard(client_for(Role.INSPECTOR))
    assert "是法定节假日（国庆节）。" in body
    assert "下一个工作日：2026-10-08（星期四）。" in body
    with at(2026, 12, 31):
        body = _dashboard(client_for(Role.INSPECTOR))
    assert "下一个工作日：待定（2027年节假日安排未发布）。" in body
    with at(2026, 10, 10):
        assert "是调休上班日。" in _dashboard(client_for(Role.INSPECTOR))


@pytest.mark.django_db
def test_deadline_filter_renders_date_or_pending():
    template = Template(
        "{% load workdays %}[{{ a|workday_deadline }}][{{ b|workday_deadline }}]"
        "[{{ a|workday_deadline:1 }}][{{ none|workday_deadline }}]"
    )
    out = template.render(Context({"a": D(2026, 10, 3), "b": D(2026, 12, 10), "none": None}))
    assert out == "[2026-11-03][待定（2027年节假日安排未发布）][2026-10-08][]"


@pytest.mark.django_db
def test_demo_leaves_2027_as_a_draft_awaiting_approval():
    from accounts import demo as accounts_demo
    from workdays import demo
    from workdays.calendar import deadline_or_pending

    with at(2026, 11, 26):
        accounts_demo.seed(stdout=io.StringIO())
        demo.seed(stdout=io.StringIO())
        demo.seed(stdout=io.StringIO())  # idempotent
    draft = CalendarYear.objects.get(year=2027)
    assert draft.is_draft and draft.entered_by.username == "sysadmin"
    assert str(deadline_or_pending(D(2026, 12, 10))) == "待定（2027年节假日安排未发布）"
