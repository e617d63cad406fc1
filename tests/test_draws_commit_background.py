"""The commit step (冻结名单) of a large register in the background: above the size threshold
(an estimate, never a COUNT of the register) the POST records who asked and queues a Celery
task (eager here, or called by hand) that runs the same ``draw_commit``; the task page polls a
status fragment that sends the page to the draw once it exists, or shows the service's reason
and the button again. Safe to run twice; small registers stay in the request."""

import datetime
import os
from contextlib import contextmanager
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from kombu.exceptions import OperationalError

from accounts.roles import Role
from audit.models import AuditEvent
from enterprises import fastpath
from enterprises.models import Enterprise
from inspections.models import Draw
from inspections.services import draws as services
from inspections.tasks.draws import draw_commit_background
from tests.draws_fixtures import void_approved
from tests.permissions import assert_role_access

TODAY = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
READERS = {
    Role.LEAD_SECTION,
    Role.SECTION_STAFF,
    Role.INSPECTOR,
    Role.SECTION_HEAD,
    Role.DISCIPLINE,
    Role.SYSTEM_ADMIN,
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def background(settings):
    """Every register counts as large."""
    settings.DRAW_COMMIT_BACKGROUND_MIN_REGISTER = 1
    cache.clear()


@pytest.fixture
def task(make_task, make_enterprises, roster):
    make_enterprises({"A": 30, "B": 10, "C": 4, "D": 3})
    return make_task()


def task_events(task, kind):
    return AuditEvent.objects.filter(
        event_type=kind, object_type="inspections.task", object_id=str(task.pk)
    )


def urls(task):
    return (
        reverse("inspections:draw_commit", args=[task.pk]),
        reverse("inspections:draw_commit_status", args=[task.pk]),
        reverse("inspections:draw_task", args=[task.pk]),
    )


def add_unrated(township, trade):
    unrated = Enterprise.objects.create(
        uscc="91350200776049653A", name="无评级企业", township=township
    )
    unrated.trades.add(trade)


def test_large_register_is_queued_then_the_task_freezes_it_and_the_page_goes_to_the_draw(
    background, eager, task, lead, client_for, django_capture_on_commit_callbacks
):
    commit_url, status_url, task_url = urls(task)
    client = client_for(Role.LEAD_SECTION)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(commit_url)
    # asked, not done: no draw in the request; who asked is recorded
    assert response.status_code == 302 and response["Location"] == task_url
    assert not Draw.objects.exists()
    requested = task_events(task, "draw.commit_requested").get()
    assert requested.actor == lead and requested.detail["task"] == task.number
    page = client.get(task_url).content.decode()
    assert f'hx-get="{status_url}"' in page and 'hx-trigger="every 2s"' in page
    assert 'id="draw-commit-progress-bar"' in page
    assert f'action="{commit_url}"' not in page  # no second button while it runs
    fragment = client.get(status_url)
    assert fragment.status_code == 200 and "HX-Redirect" not in fragment
    assert "排队等待后台冻结名单" in fragment.content.decode()
    # the task is queued when the transaction commits (eager here)
    assert len(callbacks) == 1
    callbacks[0]()
    draw = Draw.objects.get()
    assert draw.task == task and draw.operator == lead and draw.status == Draw.Status.COMMITTED
    assert draw.population_count == 47
    detail_url = reverse("inspections:draw_detail", args=[draw.pk])
    done = client.get(status_url)
    assert done["HX-Redirect"] == detail_url
    assert f'href="{detail_url}"' in done.content.decode()
    assert client.get(task_url)["Location"] == detail_url


def test_the_task_is_safe_to_run_twice_and_never_makes_a_second_draw(background, task, lead, lead2):
    services.draw_commit_request(actor=lead, task=task)  # on_commit never fires here
    assert draw_commit_background(task.pk, lead.pk) == Draw.Status.COMMITTED
    first = Draw.objects.get()
    assert draw_commit_background(task.pk, lead.pk) == Draw.Status.COMMITTED
    assert Draw.objects.get() == first
    assert AuditEvent.objects.filter(event_type="draw.committed").count() == 1
    assert not task_events(task, "draw.commit_failed").exists()
    # even after the draw is voided, a late rerun of the served request makes no new draw

    void_approved(requester=lead, draw=first, reason="见证人未到场", approver=lead2)
    assert draw_commit_background(task.pk, lead.pk) == "none"
    assert Draw.objects.count() == 1
    assert services.draw_commit_status(task=task) is None  # the button is offered again


def test_a_refused_commit_shows_the_reason_and_the_button_again(
    background, task, lead, client_for, township, trade
):
    add_unrated(township, trade)
    commit_url, status_url, task_url = urls(task)
    services.draw_commit_request(actor=lead, task=task)
    assert draw_commit_background(task.pk, lead.pk) == "failed"
    assert not Draw.objects.exists()
    failed = task_events(task, "draw.commit_failed").get()
    assert failed.outcome == AuditEvent.Outcome.FAILURE and "无评级企业" in failed.reason
    fragment = client_for(Role.LEAD_SECTION).get(status_url)
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "HX-Redirect" not in fragment
    assert "没有风险等级" in body and "无评级企业" in body
    assert "hx-trigger" not in body  # the polling stops
    assert f'action="{commit_url}"' in body  # and the button is back
    # the discipline group sees the reason but never gets a button
    seen = client_for(Role.DISCIPLINE).get(task_url).content.decode()
    assert "无评级企业" in seen and f'action="{commit_url}"' not in seen
    # a rerun of the failed request changes nothing (no retry, no second failure)
    assert draw_commit_background(task.pk, lead.pk) == "none"
    assert task_events(task, "draw.commit_failed").count() == 1
    # once the cause is fixed, asking again works
    task.unrated_tier = "D"
    task.save()
    services.draw_commit_request(actor=lead, task=task)
    assert draw_commit_background(task.pk, lead.pk) == Draw.Status.COMMITTED
    assert Draw.objects.get().tiers["D"]["population"] == 4


def test_a_second_request_while_one_runs_is_refused_and_told_why(
    background, task, lead, lead2, client_for
):
    commit_url, _, task_url = urls(task)
    services.draw_commit_request(actor=lead, task=task)
    with pytest.raises(services.DrawError, match="正在后台进行"):
        services.draw_commit_request(actor=lead2, task=task)
    assert task_events(task, "draw.commit_requested").count() == 1
    # through the page: the loser is told who is already freezing it
    from django.test import Client

    client = Client()
    client.force_login(lead2)
    response = client.post(commit_url, follow=True)
    assert response.redirect_chain[-1][0] == task_url
    assert "正在后台进行，不能重复提交" in response.content.decode()
    assert lead.display_name in response.content.decode()
    assert task_events(task, "draw.commit_requested").count() == 1
    # two queued runs of the one request: one draw
    draw_commit_background(task.pk, lead.pk)
    draw_commit_background(task.pk, lead2.pk)
    assert Draw.objects.count() == 1
    # and once the draw exists, asking again is refused by the service's rule
    with pytest.raises(services.DrawError, match="已有进行中或已完成的抽取"):
        services.draw_commit_request(actor=lead2, task=task)


def test_a_run_that_finds_a_draw_frozen_meanwhile_returns_it_without_a_failure(
    background, task, lead, lead2
):
    """E.g. the threshold changed and someone froze the list in the request meanwhile."""
    services.draw_commit_request(actor=lead, task=task)
    other = services.draw_commit(actor=lead2, task=task)
    assert draw_commit_background(task.pk, lead.pk) == Draw.Status.COMMITTED
    assert Draw.objects.get() == other
    assert not task_events(task, "draw.commit_failed").exists()
    assert services.draw_commit_status(task=task)["draw"] == other


def test_a_run_that_loses_the_race_inside_the_service_returns_the_winner(
    background, task, lead, lead2, monkeypatch
):
    """The run saw the request pending, then ``draw_commit`` found a live draw under the row
    lock (another run won): the winner's draw answers; no failure recorded or raised."""
    services.draw_commit_request(actor=lead, task=task)
    winner = services.draw_commit(actor=lead2, task=task)
    real, calls = services._commit_outcome, []

    def pending_at_first(task, request):
        calls.append(request)
        return None if len(calls) == 1 else real(task, request)

    monkeypatch.setattr(services, "_commit_outcome", pending_at_first)
    assert draw_commit_background(task.pk, lead.pk) == Draw.Status.COMMITTED
    assert Draw.objects.get() == winner
    assert not task_events(task, "draw.commit_failed").exists()


def test_stages_are_reported_and_shown_for_the_current_request_only(
    background, task, lead, make_task
):
    seen = []
    services.draw_commit(actor=lead, task=task, progress=seen.append)
    assert seen == ["population", "manifest", "inspectors", "saving"]
    other = make_task(same_item_once_per_year=False)
    key = services.COMMIT_PROGRESS_KEY.format(other.pk)
    cache.set(key, {"stage": "manifest", "request": -1})  # left from an earlier request
    request = services.draw_commit_request(actor=lead, task=other)
    assert services.draw_commit_status(task=other)["stage"] == "queued"
    cache.set(key, {"stage": "manifest", "request": request.seq})
    status = services.draw_commit_status(task=other)
    assert status["state"] == "running" and status["percent"] == 55
    assert str(status["label"]) == "生成企业名单并计算哈希值"


def test_a_request_lost_for_over_an_hour_offers_the_button_again(
    background, task, lead, client_for, frozen
):
    commit_url, status_url, _ = urls(task)
    services.draw_commit_request(actor=lead, task=task)  # never run: the worker was down
    frozen.shift(datetime.timedelta(minutes=61))
    status = services.draw_commit_status(task=task)
    assert status["state"] == "failed" and status["message"] == services.COMMIT_LOST_MESSAGE
    body = client_for(Role.LEAD_SECTION).get(status_url).content.decode()
    assert "后台任务可能已中断" in body and f'action="{commit_url}"' in body
    services.draw_commit_request(actor=lead, task=task)
    assert draw_commit_background(task.pk, lead.pk) == Draw.Status.COMMITTED


def test_broker_down_gives_a_clear_message_not_a_500(
    background, task, lead, client_for, django_capture_on_commit_callbacks
):
    commit_url, _, task_url = urls(task)
    client = client_for(Role.LEAD_SECTION)
    with (
        mock.patch.object(
            draw_commit_background, "delay", side_effect=OperationalError("connection refused")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(commit_url)
    assert response.status_code == 302 and response["Location"] == task_url
    assert not Draw.objects.exists()
    failed = task_events(task, "draw.commit_failed").get()
    assert failed.reason == services.BROKER_DOWN_MESSAGE and failed.actor == lead
    page = client.get(task_url).content.decode()
    assert "后台任务队列暂时不可用，名单未冻结" in page
    assert f'action="{commit_url}"' in page and "hx-trigger" not in page


def test_small_registers_stay_in_the_request(task, lead, client_for, settings, monkeypatch):
    settings.DRAW_COMMIT_BACKGROUND_MIN_REGISTER = 48  # the register holds 47
    # (PostgreSQL's estimate of a small table moves with autovacuum; its own test is below)
    monkeypatch.setattr(services, "register_size_estimate", lambda: 47)
    commit_url, _, task_url = urls(task)
    assert (
        "冻结名单将在后台进行" not in client_for(Role.LEAD_SECTION).get(task_url).content.decode()
    )
    response = client_for(Role.LEAD_SECTION).post(commit_url)
    draw = Draw.objects.get()
    assert response["Location"] == reverse("inspections:draw_detail", args=[draw.pk])
    assert not task_events(task, "draw.commit_requested").exists()


def test_the_task_page_says_in_advance_that_a_large_register_runs_in_the_background(
    background, task, client_for
):
    _, _, task_url = urls(task)
    assert "冻结名单将在后台进行" in client_for(Role.LEAD_SECTION).get(task_url).content.decode()


def test_commit_post_permissions(users, background, task):
    commit_url, _, _ = urls(task)
    assert_role_access(users, commit_url, {Role.LEAD_SECTION}, method="post")
    # only the lead section's request was recorded; the others never reached the service
    assert task_events(task, "draw.commit_requested").get().actor == users[Role.LEAD_SECTION]


def test_commit_post_from_a_lead_role_in_another_section_still_needs_the_role(
    background, task, make_user, other_section, client_for
):
    """Drawing is a role (art. 6(2)), not a section: staff of any business section get 403."""
    from django.test import Client

    commit_url, _, _ = urls(task)
    client = Client()
    client.force_login(make_user(Role.SECTION_STAFF, section=other_section, username="biz"))
    assert client.post(commit_url).status_code == 403
    assert not task_events(task, "draw.commit_requested").exists()


def test_status_fragment_permissions(users, background, task):
    services.draw_commit_request(actor=users[Role.LEAD_SECTION], task=task)
    _, status_url, _ = urls(task)
    assert_role_access(users, status_url, READERS)


def test_the_service_refuses_anyone_but_the_lead_section(background, task, users):
    from django.core.exceptions import PermissionDenied

    for role in (Role.SECTION_STAFF, Role.DISCIPLINE, Role.SYSTEM_ADMIN):
        with pytest.raises(PermissionDenied):
            services.draw_commit_request(actor=users[role], task=task)
    assert not task_events(task, "draw.commit_requested").exists()


# --- the size estimate --------------------------------------------------------------------------


def test_the_estimate_on_sqlite_is_a_plain_count(task):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite / other databases")
    assert fastpath.register_size_estimate() == Enterprise.objects.count() == 47


@contextmanager
def _register_statistics(reltuples: int):
    """The register's planner statistics set to ``reltuples`` for the block, then put back.
    ANALYZE would write pg_class in place, outside the test's transaction, and leave the value
    behind for the tests that run after this one; and only a superuser may write pg_class.
    When the suite runs as the non-superuser owner role (make test's two roles), the write goes
    through the role that created them (TEST_DATABASE_ADMIN_URL), on its own connection."""
    sql = "UPDATE pg_class SET reltuples = %s WHERE oid = 'enterprises_enterprise'::regclass"
    read = "SELECT reltuples FROM pg_class WHERE oid = 'enterprises_enterprise'::regclass"
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
    if superuser:
        with connection.cursor() as cursor:
            cursor.execute(read)
            (before,) = cursor.fetchone()
            cursor.execute(sql, [reltuples])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(sql, [before])
        return
    admin_url = os.environ.get("TEST_DATABASE_ADMIN_URL", "")
    if not admin_url:
        pytest.skip("writing pg_class needs a superuser (TEST_DATABASE_ADMIN_URL)")
    import psycopg

    name = connection.settings_dict["NAME"]
    with psycopg.connect(admin_url, dbname=name, autocommit=True) as admin:
        (before,) = admin.execute(read).fetchone()
        admin.execute(sql, [reltuples])
        try:
            yield
        finally:
            admin.execute(sql, [before])


@pytest.mark.postgres
def test_the_estimate_on_postgresql_reads_the_statistics_never_counts(task):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL statistics")
    with CaptureQueriesContext(connection) as queries:
        assert fastpath.register_size_estimate() >= 0  # never analysed: the planner's guess
    with _register_statistics(47), CaptureQueriesContext(connection) as analysed:
        assert fastpath.register_size_estimate() == 47  # what ANALYZE would record
    sql = " ".join(q["sql"].lower() for q in [*queries.captured_queries, *analysed])
    assert "reltuples" in sql
    assert "count(" not in sql
    # a table never analysed (reltuples -1): the planner's estimate of a scan, still no COUNT
    with _register_statistics(-1), CaptureQueriesContext(connection) as unanalysed:
        assert fastpath.register_size_estimate() > 0
    sql = " ".join(q["sql"].lower() for q in unanalysed.captured_queries)
    assert "explain" in sql and "count(" not in sql
    # and the decision itself never counts the register either
    with CaptureQueriesContext(connection) as decided:
        services.draw_commit_runs_in_background()
    assert not any("count(" in q["sql"].lower() for q in decided.captured_queries)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_record_one_request_and_two_runs_make_one_draw(
    settings, lead, lead2, make_task, make_enterprises, roster
):
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    settings.DRAW_COMMIT_BACKGROUND_MIN_REGISTER = 1
    cache.clear()
    make_enterprises({"A": 20, "D": 4})
    task = make_task()

    def at_once(calls):
        barrier = threading.Barrier(len(calls))
        results = []

        def run(call):
            try:
                barrier.wait()
                results.append(call())
            except services.DrawError as exc:
                results.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(c,)) for c in calls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    with mock.patch.object(draw_commit_background, "delay"):  # queued, not run
        results = at_once(
            [
                lambda actor=actor: services.draw_commit_request(actor=actor, task=task)
                for actor in (lead, lead2)
            ]
        )
    assert sum(isinstance(r, AuditEvent) for r in results) == 1
    loser = next(r for r in results if isinstance(r, services.DrawError))
    assert "正在后台进行" in loser.messages[0]
    assert task_events(task, "draw.commit_requested").count() == 1
    runs = at_once([lambda: draw_commit_background(task.pk, lead.pk)] * 2)
    assert runs == [Draw.Status.COMMITTED, Draw.Status.COMMITTED]
    assert Draw.objects.filter(task=task).count() == 1
    assert AuditEvent.objects.filter(event_type="draw.committed").count() == 1
    assert not task_events(task, "draw.commit_failed").exists()
