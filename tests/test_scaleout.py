"""Scale-out: two web processes (gunicorn) and two Celery workers against one PostgreSQL and one
Redis, as docs/deploy.md ("Scale-out") describes them.

- Two lead-section users press 开始抽取 for the same task at the same moment, each on a
  different web process: exactly one draw is committed; the other gets the "already started"
  answer. (A session created on one node is valid on the other: sessions live in the database.)
- The daily deadline scan is sent twice at once and each worker runs one: one notice per event,
  not two.

PostgreSQL and Redis only (SQLite has one writer and a filesystem broker: no scale-out).
Real processes, so the data is committed (transactional test) and the processes read the test
database; about 20–40 s on two cores.
"""

import datetime
import os
import re
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from core.models import Notification
from disclosure.models import PublicationRecord
from inspections.models import Draw
from tests.disclosure_publication_fixtures import D

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="needs a real Redis (REDIS_URL) shared by the worker processes",
    ),
    pytest.mark.django_db(transaction=True),
]

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 50


@pytest.fixture
def reference_data(transactional_db):
    """Role groups and default sampling rates (a flush by an earlier transactional test may
    have removed the data migrations' rows)."""
    from django.contrib.auth.models import Group

    from inspections.models import SamplingRate

    for role in Role:
        Group.objects.get_or_create(name=role)
    for tier, rate in (("A", "0.01"), ("B", "0.03"), ("C", "0.10"), ("D", "0.20")):
        SamplingRate.objects.get_or_create(
            tier=tier,
            defaults={
                "rate": Decimal(rate),
                "effective_from": datetime.date(2025, 4, 1),
                "basis": "实施细则第八条",
            },
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path) -> dict:
    s = connection.settings_dict
    auth = quote(s["USER"] or "postgres")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url,  # the test database, which this test's rows are committed to
        # REDIS_URL as the controller was given it (inherited above): the processes' test
        # settings add this xdist worker's offset themselves, as this process's did.
        "MEDIA_ROOT": str(tmp_path / "media"),
        "VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
    }


class Cluster:
    """Two gunicorn masters (one sync worker each, own port) and two Celery workers."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.env = _env(tmp_path)
        self.procs: list[subprocess.Popen] = []
        self.ports = [_free_port(), _free_port()]
        self.worker_logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]

    def _start(self, args: list[str], log: Path) -> None:
        handle = open(log, "w")  # noqa: SIM115 - closed with the process
        self.procs.append(
            subprocess.Popen(
                args,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        )

    def start(self) -> None:
        for n, port in enumerate(self.ports, 1):
            self._start(
                [
                    str(BIN / "gunicorn"),
                    "config.wsgi:application",
                    f"--bind=127.0.0.1:{port}",
                    "--workers=1",
                    "--timeout=60",
                ],
                self.tmp / f"web{n}.log",
            )
        for n, log in enumerate(self.worker_logs, 1):
            self._start(
                [
                    str(BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--pool=solo",
                    "--prefetch-multiplier=1",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=INFO",
                    f"--hostname=scaleout{n}@%h",
                ],
                log,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        pending_web = set(self.ports)
        while time.monotonic() < deadline:
            for port in list(pending_web):
                try:
                    requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=10)
                    pending_web.discard(port)
                except requests.RequestException:
                    pass  # not listening yet, or still importing the app
            workers_ready = all(" ready." in log.read_text() for log in self.worker_logs)
            if not pending_web and workers_ready:
                return
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.3)
        raise AssertionError("processes did not start:\n" + self.logs())

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(self.tmp.glob("*.log"))
        )

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def cluster(django_db_setup, tmp_path_factory):
    """Started once for the module: the processes only need the test database to exist."""
    from config.celery_app import app

    app.control.purge()
    running = Cluster(tmp_path_factory.mktemp("scaleout"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _session(user, port: int) -> requests.Session:
    """A browser-like session of ``user`` on the web process at ``port``: the session row is
    written here, in the database both web processes share."""
    client = Client()
    client.force_login(user)
    http = requests.Session()
    http.cookies.set(
        settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    http.base = f"http://127.0.0.1:{port}"
    return http


def _csrf(http: requests.Session, path: str) -> str:
    page = http.get(http.base + path, timeout=30)
    assert page.status_code == 200, page.text[:500]
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, "no CSRF token on the draw page"
    return match.group(1)


def test_two_web_processes_commit_one_draw_for_simultaneous_requests(
    cluster, reference_data, lead, lead2, make_task, make_enterprises, roster
):
    make_enterprises({"A": 4, "D": 2})
    drawn_task = make_task()
    page = reverse("inspections:draw_task", args=[drawn_task.pk])
    commit = reverse("inspections:draw_commit", args=[drawn_task.pk])
    sessions = [_session(lead, cluster.ports[0]), _session(lead2, cluster.ports[1])]
    tokens = [_csrf(http, page) for http in sessions]

    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def press(n: int) -> None:
        http = sessions[n]
        barrier.wait()
        answers[n] = http.post(
            http.base + commit,
            data={"csrfmiddlewaretoken": tokens[n]},
            headers={"Referer": http.base + page},
            allow_redirects=False,
            timeout=60,
        )

    threads = [threading.Thread(target=press, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [a.status_code for a in answers] == [302, 302], cluster.logs()
    draws = list(Draw.objects.filter(task=drawn_task))
    assert len(draws) == 1, cluster.logs()
    detail = reverse("inspections:draw_detail", args=[draws[0].pk])
    assert sorted(a.headers["Location"] for a in answers) == sorted([detail, page])
    assert (
        AuditEvent.objects.filter(event_type="draw.committed", object_id=str(draws[0].pk)).count()
        == 1
    )


def test_two_workers_scanning_at_once_notify_once(
    cluster, reference_data, make_record, users, inspector_user
):
    from config.celery_app import app

    record = make_record(check_end=D(2026, 10, 3))  # deadline 2026-11-03: overdue on 11-04
    head = users[Role.SECTION_HEAD]
    for _ in range(2):
        app.send_task("disclosure.tasks.deadline_scan", args=["2026-11-04"])

    deadline = time.monotonic() + 40
    done = [0, 0]
    while time.monotonic() < deadline:
        done = [log.read_text().count("succeeded in") for log in cluster.worker_logs]
        if sum(done) >= 2:
            break
        time.sleep(0.3)
    assert done == [1, 1], cluster.logs()  # each worker ran the scan once

    record.refresh_from_db()
    assert record.alert == PublicationRecord.Alert.OVERDUE
    assert Notification.objects.filter(key__startswith="disclosure:overdue:").count() == 1
    assert (
        Notification.objects.filter(recipient=inspector_user, key__contains="overdue").count() == 1
    )
    escalation = Notification.objects.filter(recipient=head, key__startswith="disclosure:overdue")
    assert escalation.count() == 1
