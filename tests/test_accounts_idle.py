"""The idle logout (等保 登录超时, issue 21 finding 12): 30 minutes without the user's activity end
the session whatever a page polls or autosaves by itself; the page is told how long is left and
warns first (static/js/app.js; the browser journey is in tests/e2e/test_e2e_accounts.py)."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from tests.conftest import PASSWORD

START = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
STATUS = "/accounts/session/"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def inspector(clock, make_user, section):
    make_user(Role.INSPECTOR, section=section, username="zhangwei")
    client = Client()
    assert client.post("/accounts/login/", {"username": "zhangwei", "password": PASSWORD})
    return client


def test_asking_how_long_is_left_is_not_activity(clock, inspector):
    assert inspector.get(STATUS).json() == {"idle_remaining": 1800}
    for minute in range(1, 30):
        clock.move_to(START + dt.timedelta(minutes=minute), tick=False)
        response = inspector.get(STATUS)
        assert response.json() == {"idle_remaining": 1800 - 60 * minute}
        assert response["X-Idle-Remaining"] == str(1800 - 60 * minute)
    clock.move_to(START + dt.timedelta(minutes=30), tick=False)
    response = inspector.get(STATUS)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert AuditEvent.objects.filter(event_type="auth.logout", reason="空闲超时").exists()


def test_the_warnings_continue_button_is_activity(clock, inspector):
    clock.move_to(START + dt.timedelta(minutes=29), tick=False)
    assert inspector.get(STATUS + "?touch=1").json() == {"idle_remaining": 1800}
    clock.move_to(START + dt.timedelta(minutes=58), tick=False)
    assert inspector.get("/").status_code == 200


def test_every_page_says_how_long_is_left_and_carries_the_warning(inspector):
    response = inspector.get("/")
    assert response["X-Idle-Remaining"] == "1800"
    body = response.content.decode()
    assert 'id="idle-warning"' in body and 'data-idle-seconds="1800"' in body
    assert 'data-idle-warning="120"' in body
    anonymous = Client().get("/accounts/login/")
    assert "X-Idle-Remaining" not in anonymous and 'id="idle-warning"' not in anonymous.text


def test_the_pages_idle_logout_is_audited_and_returns_to_the_page(clock, inspector):
    response = inspector.post(
        "/accounts/logout/", {"reason": "idle", "next": "/inspections/visits/7/record/"}
    )
    assert response["Location"] == (
        reverse("accounts:login") + "?next=%2Finspections%2Fvisits%2F7%2Frecord%2F"
    )
    event = AuditEvent.objects.get(event_type="auth.logout")
    assert event.reason.startswith("空闲超时")
    page = inspector.get(response["Location"]).content.decode()
    assert "因长时间没有操作，您已退出登录" in page


def test_the_idle_logout_ignores_a_foreign_next(inspector):
    response = inspector.post(
        "/accounts/logout/", {"reason": "idle", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("accounts:login")


def test_a_logout_after_the_session_ended_goes_to_the_login_page(db):
    response = Client().post("/accounts/logout/", {"reason": "idle", "next": "/"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_user_who_must_change_the_password_may_ask_too(make_user):
    make_user(Role.INSPECTOR, username="newbie", must_change_password=True)
    client = Client()
    client.post("/accounts/login/", {"username": "newbie", "password": PASSWORD})
    assert client.get(STATUS).status_code == 200
