"""Large draws in the background: above the size threshold the witnesses' inputs are recorded
once on the draw and a Celery task (eager here) performs it; the draw page polls a small status
fragment with a progress bar; the task takes the draw id and is safe to run twice; small draws
stay synchronous."""

import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from inspections.models import Draw, DrawSelection, ImmutableError
from inspections.selectors import draws as selectors
from inspections.services import draws as services
from inspections.tasks.draws import draw_perform_background
from tests.draws_fixtures import DICE, WITNESSES, void_approved
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
SEED_POST = {
    "witness_1": "王见证",
    "witness_2": "李见证",
    "witness_2_org": "纪检派驻组",
    "dice_kind": "d6",
    "dice": "31415 26531 23456 26153",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def background(settings):
    """Every draw counts as large."""
    settings.DRAW_BACKGROUND_MIN_POPULATION = 1
    cache.clear()


@pytest.fixture
def committed(make_task, make_enterprises, roster, lead):
    make_enterprises({"A": 30, "B": 10, "C": 4, "D": 3})
    return services.draw_commit(actor=lead, task=make_task())


def request_draw(draw, lead):
    return services.draw_perform_request(
        actor=lead, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=DICE
    )


def sync_twin(make_task, lead, dice=DICE):
    """The same kind of draw performed in the request, for comparison."""
    draw = services.draw_commit(actor=lead, task=make_task(same_item_once_per_year=False))
    return services.draw_perform(
        actor=lead, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=dice
    )


def events(draw, kind):
    return AuditEvent.objects.filter(
        event_type=kind, object_type="inspections.draw", object_id=str(draw.pk)
    )


def test_large_draw_goes_to_the_task_and_shows_progress_then_the_result(
    background, eager, committed, client_for, django_capture_on_commit_callbacks
):
    client = client_for(Role.LEAD_SECTION)
    url = reverse("inspections:draw_perform", args=[committed.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, SEED_POST)
    assert response.status_code == 302
    draw = Draw.objects.get(pk=committed.pk)
    # recorded, not yet computed: the page shows the polling progress fragment, no seed form
    assert draw.status == Draw.Status.COMMITTED
    assert draw.perform_request == {
        "witnesses": [
            {"name": "王见证", "organisation": ""},
            {"name": "李见证", "organisation": "纪检派驻组"},
        ],
        "dice_kind": "d6",
        "dice": DICE,
    }
    assert events(draw, "draw.perform_requested").get().detail["dice"] == DICE
    page = client.get(response["Location"]).content.decode()
    status_url = reverse("inspections:draw_status", args=[draw.pk])
    assert f'hx-get="{status_url}"' in page and 'hx-trigger="every 2s"' in page
    assert "<progress" in page and 'name="dice"' not in page
    assert "<script" not in page.split("</head>")[1]  # no inline script in the body
    fragment = client.get(status_url)
    assert fragment.status_code == 200 and "HX-Refresh" not in fragment
    assert 'id="draw-progress-bar"' in fragment.content.decode()
    # the task runs when the transaction commits (eager here)
    assert len(callbacks) == 1
    callbacks[0]()
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMPLETED and draw.dice == DICE
    assert draw.document["witness_details"] == draw.perform_request["witnesses"]
    assert selectors.draw_verification(draw) == []
    done = client.get(status_url)
    assert done["HX-Refresh"] == "true"
    assert "核验通过" in client.get(response["Location"]).content.decode()


def test_background_result_equals_the_synchronous_draw(
    settings, eager, committed, lead, make_task, django_capture_on_commit_callbacks
):
    """Same engine, same inputs: the background path records what the request path would."""
    settings.DRAW_BACKGROUND_MIN_POPULATION = 1
    with django_capture_on_commit_callbacks(execute=True):
        request_draw(committed, lead)
    background = Draw.objects.get(pk=committed.pk)
    from inspections.drawing import document

    twin = document.perform(
        draw_id=background.pk,
        manifest=bytes(background.manifest),
        inspectors=bytes(background.inspectors_manifest),
        experts=bytes(background.experts_manifest),
        rates={t: i["rate"] for t, i in background.tiers.items()},
        rounding=background.rounding,
        k=background.inspectors_per_enterprise,
        required=background.required_qualifications,
        secret=background.secret,
        dice_kind="d6",
        dice=DICE,
        witnesses=WITNESSES,
    )
    assert background.document["seed_string"] == twin["seed_string"]
    assert background.document["selected"] == twin["selected"]
    assert background.document["teams"] == twin["teams"]
    assert DrawSelection.objects.filter(draw=background).count() == len(twin["selected"])


def test_the_task_is_safe_to_run_twice(background, committed, lead):
    request_draw(committed, lead)  # on_commit never fires here: run the task by hand
    assert draw_perform_background(committed.pk) == Draw.Status.COMPLETED
    first = Draw.objects.get(pk=committed.pk)
    assert draw_perform_background(committed.pk) == Draw.Status.COMPLETED
    again = Draw.objects.get(pk=committed.pk)
    assert again.document == first.document and again.completed_at == first.completed_at
    assert events(again, "draw.completed").count() == 1
    assert DrawSelection.objects.filter(draw=again).count() == len(first.document["selected"])


def test_a_task_for_a_draw_without_request_or_voided_does_nothing(
    background, committed, lead, lead2
):
    assert draw_perform_background(committed.pk) == Draw.Status.COMMITTED

    request_draw(committed, lead)
    void_approved(
        requester=lead,
        draw=committed,
        reason="见证人未到场",
        approver=lead2,
    )
    assert draw_perform_background(committed.pk) == Draw.Status.VOIDED
    assert not DrawSelection.objects.filter(draw=committed).exists()


def test_recorded_inputs_can_never_change(background, committed, lead):
    request_draw(committed, lead)
    draw = Draw.objects.get(pk=committed.pk)
    draw.perform_request = dict(draw.perform_request, dice="6" * 20)
    with pytest.raises(ImmutableError):
        draw.save()
    with pytest.raises(services.DrawError, match="不能重复提交"):
        request_draw(committed, lead)
    with pytest.raises(services.DrawError, match="后台计算"):
        services.draw_perform(
            actor=lead, draw=committed, witnesses=WITNESSES, dice_kind="d6", dice="6" * 20
        )
    # the database refuses it too (a trigger), even behind the model's back
    with (
        pytest.raises(DatabaseError, match="cannot change"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE inspections_draw SET perform_requested_at = NULL WHERE id = %s",
            [committed.pk],
        )


def test_shortfall_in_the_background_is_recorded_and_ends_the_polling(
    background, make_task, make_enterprises, make_inspector, lead, client_for
):
    make_enterprises({"D": 3})
    make_inspector()  # one inspector, two needed per enterprise
    draw = services.draw_commit(actor=lead, task=make_task())
    request_draw(draw, lead)
    assert draw_perform_background(draw.pk) == "failed"
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMMITTED
    assert events(draw, "draw.perform_failed").get().detail["dice"] == DICE
    assert selectors.draw_progress(draw) is None
    client = client_for(Role.LEAD_SECTION)
    assert client.get(reverse("inspections:draw_status", args=[draw.pk]))["HX-Refresh"] == "true"
    page = client.get(reverse("inspections:draw_detail", args=[draw.pk])).content.decode()
    assert "本次抽取已停止" in page and 'name="dice"' not in page
    # and it is never retried by another run of the task
    assert draw_perform_background(draw.pk) == Draw.Status.COMMITTED
    assert events(draw, "draw.perform_failed").count() == 1


def test_small_draws_stay_synchronous(committed, client_for):
    response = client_for(Role.LEAD_SECTION).post(
        reverse("inspections:draw_perform", args=[committed.pk]), SEED_POST
    )
    assert response.status_code == 302
    draw = Draw.objects.get(pk=committed.pk)
    assert draw.status == Draw.Status.COMPLETED and draw.perform_requested_at is None
    assert not events(draw, "draw.perform_requested").exists()


def test_the_same_dice_cannot_be_reused_after_a_background_request(
    background, committed, lead, lead2, make_task
):

    request_draw(committed, lead)
    void_approved(requester=lead, draw=committed, reason="重新抽取", approver=lead2)
    again = services.draw_commit(actor=lead, task=committed.task)
    with pytest.raises(services.DrawError, match="新的骰子数字"):
        request_draw(again, lead)


def test_progress_percent_from_the_recorded_stage(background, committed, lead):
    committed = request_draw(committed, lead)
    assert selectors.draw_progress(committed)["percent"] == 0
    cache.set(
        services.PROGRESS_KEY.format(committed.pk), {"stage": "tickets", "done": 50, "total": 100}
    )
    assert selectors.draw_progress(committed)["percent"] == 40
    cache.set(services.PROGRESS_KEY.format(committed.pk), {"stage": "teams", "done": 1, "total": 2})
    assert selectors.draw_progress(committed)["percent"] == 90


def test_the_engine_reports_progress_to_the_recorder(background, committed, lead):
    seen = []
    recorder = services._progress_recorder(committed.pk)

    def spy(stage, done, total):
        seen.append((stage, done, total))
        recorder(stage, done, total)

    from inspections.drawing import verify as engine

    _, usccs, tiers = engine.read_manifest(bytes(committed.manifest))
    counts = {t: i["count"] for t, i in committed.tiers.items()}
    selected = engine.select_table("S", usccs, tiers, counts, progress=spy)
    pool = engine.parse_inspectors(bytes(committed.inspectors_manifest))
    engine.build_teams("S", selected, pool, 2, [], progress=spy)
    assert seen[0] == ("tickets", 0, committed.population_count)
    assert ("tickets", committed.population_count, committed.population_count) in seen
    assert seen[-1] == ("teams", len(selected), len(selected))
    assert cache.get(services.PROGRESS_KEY.format(committed.pk))["stage"] == "teams"


def test_status_fragment_permissions(users, background, committed, lead):
    request_draw(committed, lead)
    assert_role_access(users, reverse("inspections:draw_status", args=[committed.pk]), READERS)


def test_forked_ticket_workers_are_opt_in_and_only_for_large_populations(settings):
    import os
    from types import SimpleNamespace

    from inspections.drawing import verify as engine

    large = SimpleNamespace(population_count=engine.FORK_MIN_ROWS)
    small = SimpleNamespace(population_count=engine.FORK_MIN_ROWS - 1)
    assert services._ticket_workers(large) == 1
    settings.DRAW_TICKET_WORKERS = 2
    assert services._ticket_workers(large) == min(2, os.cpu_count() or 1)
    assert services._ticket_workers(small) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_record_one_and_two_task_runs_complete_once(
    settings, lead, lead2, make_task, make_enterprises, roster
):
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    settings.DRAW_BACKGROUND_MIN_POPULATION = 1
    make_enterprises({"A": 20, "D": 4})
    draw = services.draw_commit(actor=lead, task=make_task())

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

    results = at_once(
        [
            lambda actor=actor, dice=dice: services.draw_perform_request(
                actor=actor, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=dice
            )
            for actor, dice in ((lead, DICE), (lead2, "6" * 20))
        ]
    )
    assert sum(isinstance(r, Draw) for r in results) == 1
    assert sum(isinstance(r, services.DrawError) for r in results) == 1
    assert events(draw, "draw.perform_requested").count() == 1
    runs = at_once([lambda: draw_perform_background(draw.pk)] * 2)
    assert runs == [Draw.Status.COMPLETED, Draw.Status.COMPLETED]
    assert events(draw, "draw.completed").count() == 1
    done = Draw.objects.get(pk=draw.pk)
    assert done.dice == done.perform_request["dice"]
    assert DrawSelection.objects.filter(draw=done).count() == len(done.document["selected"])


def test_broker_down_at_perform_says_so_and_the_lead_can_queue_it_again(
    background, eager, committed, client_for, django_capture_on_commit_callbacks
):
    """The queue is down when the witnesses' inputs are submitted: no 500; the draw page says
    the inputs are recorded and nothing is computed yet, and offers the lead section 重新提交后台
    计算, which runs the draw from the very inputs recorded."""
    from unittest import mock

    from kombu.exceptions import OperationalError

    client = client_for(Role.LEAD_SECTION)
    with (
        mock.patch.object(
            draw_perform_background, "delay", side_effect=OperationalError("connection refused")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("inspections:draw_perform", args=[committed.pk]), SEED_POST)
    assert response.status_code == 302
    draw = Draw.objects.get(pk=committed.pk)
    assert draw.status == Draw.Status.COMMITTED and draw.perform_request["dice"] == DICE
    failed = events(draw, "draw.perform_enqueue_failed").get()
    assert failed.reason == services.PERFORM_QUEUE_DOWN_MESSAGE
    status_url = reverse("inspections:draw_status", args=[draw.pk])
    requeue_url = reverse("inspections:draw_perform_requeue", args=[draw.pk])
    fragment = client.get(status_url).content.decode()
    assert "后台任务队列暂时不可用" in fragment and f'action="{requeue_url}"' in fragment
    # the discipline group sees why, never the button
    watched = client_for(Role.DISCIPLINE).get(status_url).content.decode()
    assert "后台任务队列暂时不可用" in watched and requeue_url not in watched

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(requeue_url)
    assert response.status_code == 302
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMPLETED and draw.dice == DICE
    assert events(draw, "draw.perform_requeued").count() == 1
    assert selectors.draw_verification(draw) == []


def test_a_draw_still_computing_is_not_queued_again_until_it_stalls(
    background, committed, lead, frozen
):
    draw = request_draw(committed, lead)
    assert draw.perform_requested_at is not None
    assert services.draw_perform_queue_state(draw) == {"failed": "", "requeue": False}
    with pytest.raises(services.DrawError, match="不需要重新提交"):
        services.draw_perform_requeue(actor=lead, draw=draw)
    frozen.shift(services.PERFORM_STALLED_AFTER)
    assert services.draw_perform_queue_state(draw)["requeue"] is True
    services.draw_perform_requeue(actor=lead, draw=draw)
    # queued again just now: not again until it stalls once more
    assert services.draw_perform_queue_state(draw)["requeue"] is False


def test_only_the_lead_section_may_queue_a_draw_again(users, background, committed, lead):
    request_draw(committed, lead)
    url = reverse("inspections:draw_perform_requeue", args=[committed.pk])
    for role in (Role.DISCIPLINE, Role.SECTION_STAFF, Role.INSPECTOR, Role.SECTION_HEAD):
        client = Client()
        client.force_login(users[role])
        assert client.post(url).status_code == 403, role
    assert Client().post(url).status_code == 302  # anonymous: to the login page
    assert not events(committed, "draw.perform_requeued").exists()
