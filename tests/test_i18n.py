import datetime
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from enterprises.models import Enterprise
from inspections.services import draws as services
from inspections.tasks.draws import draw_commit_background


def test_chinese_is_the_default_language(db):
    body = Client().get("/accounts/login/").content.decode()
    assert "登录" in body and 'lang="zh-hans"' in body


def test_english_is_available(db):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    body = client.get("/accounts/login/").content.decode()
    assert "Log in" in body and 'lang="en"' in body


def test_an_english_browser_still_gets_chinese_until_the_user_switches(db):
    body = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/accounts/login/").content.decode()
    assert 'lang="zh-hans"' in body


# --- the background commit step (冻结名单) in English ------------------------------------------

# the task's window (tests/draws_fixtures.WINDOW) is still ahead on this day
TODAY = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture
def english_lead(client_for):
    client = client_for(Role.LEAD_SECTION)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


def test_the_background_commit_page_and_its_status_fragment_are_in_english(
    settings, time_machine, english_lead, lead, make_task, make_enterprises, roster
):
    """Every stage of the polled fragment is translated: with the user's name taken out, no
    Chinese is left (only the service's failure reason stays Chinese, as it is stored)."""
    time_machine.move_to(TODAY, tick=False)
    settings.DRAW_COMMIT_BACKGROUND_MIN_REGISTER = 1  # every register counts as large
    cache.clear()
    make_enterprises({"A": 3, "B": 2, "C": 2, "D": 1})
    task = make_task()
    commit_url = reverse("inspections:draw_commit", args=[task.pk])
    status_url = reverse("inspections:draw_commit_status", args=[task.pk])
    task_url = reverse("inspections:draw_task", args=[task.pk])

    page = english_lead.get(task_url).content.decode()
    assert "the lists will be frozen in the background" in page
    assert "Start the draw: freeze the lists" in page
    assert "名录库企业较多" not in page

    # the task is only queued on commit, which never happens inside the test's transaction
    submitted = english_lead.post(commit_url, follow=True).content.decode()
    assert "Submitted. The lists are being frozen in the background" in submitted
    assert "Queued for freezing the lists in the background" in submitted
    assert "已提交，名单正在后台冻结" not in submitted

    request = AuditEvent.objects.get(event_type="draw.commit_requested")
    for stage in services.COMMIT_STAGES:
        cache.set(
            services.COMMIT_PROGRESS_KEY.format(task.pk), {"stage": stage, "request": request.seq}
        )
        body = english_lead.get(status_url).content.decode()
        assert "The lists are being frozen in the background" in body
        assert not CJK.findall(body.replace(lead.display_name, "")), stage

    draw_commit_background(task.pk, lead.pk)
    done = english_lead.get(status_url).content.decode()
    assert "The lists are frozen." in done and "Go to the draw page" in done
    assert not CJK.findall(done)


def test_a_failed_background_commit_is_introduced_in_english(
    settings, time_machine, english_lead, lead, make_task, make_enterprises, roster, township, trade
):
    """The reason itself is the service's Chinese message (kept as recorded in the audit chain);
    the sentence around it and the button are translated."""
    time_machine.move_to(TODAY, tick=False)
    settings.DRAW_COMMIT_BACKGROUND_MIN_REGISTER = 1
    cache.clear()
    make_enterprises({"A": 3, "B": 2, "C": 2, "D": 1})
    unrated = Enterprise.objects.create(
        uscc="91350200776049653A", name="无评级企业", township=township
    )
    unrated.trades.add(trade)
    task = make_task()
    services.draw_commit_request(actor=lead, task=task)
    assert draw_commit_background(task.pk, lead.pk) == "failed"
    body = english_lead.get(reverse("inspections:draw_commit_status", args=[task.pk]))
    body = body.content.decode()
    assert f"Freezing the lists, submitted by {lead.display_name} at " in body
    assert "did not succeed: " in body and "无评级企业" in body
    assert "Start the draw: freeze the lists" in body
    assert "提交的冻结名单没有成功" not in body
