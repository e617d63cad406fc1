"""The browser's import of a big register (issue 21, item 2): a file of 5,000 rows or more moves
the progress bar instead of failing, a batch whose background work crashes ends failed with its
reason, and a batch nobody works on stops the page's polling and says why."""

import datetime as dt
import io
import os

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role
from enterprises import services
from enterprises.models import Enterprise, ImportBatch

from .test_enterprises_import import HEADERS, row


def big_xlsx(n: int, start: int = 0) -> bytes:
    """``n`` valid register rows, written in openpyxl's streaming mode (fast for 25,000)."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADERS)
    for i in range(start, start + n):
        ws.append(row(i))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def reference(users, other_section):
    from enterprises.demo import seed_reference

    seed_reference()


def _upload(client, data, name="名录.xlsx"):
    return client.post(
        reverse("enterprises:import_start", args=["enterprises"]),
        {"file": SimpleUploadedFile(name, data)},
    )


def _poll(client, batch):
    return client.get(
        reverse("enterprises:import_preview", args=[batch.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()


def test_6000_rows_preview_and_apply_in_the_request_with_progress(client_for, reference):
    """6,000 rows (≈350 KB, under the in-request size) raised TypeError at the first progress
    report and answered 500."""
    client = client_for(Role.SECTION_STAFF)
    response = _upload(client, big_xlsx(6000))
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.PREVIEWED
    assert batch.rows_read == 6000 and batch.counts["counts"]["new"] == 6000
    response = client.post(reverse("enterprises:import_confirm", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED, batch.message
    assert Enterprise.objects.count() == 6000


def test_progress_moves_with_the_rows_read(reference, users):
    client_batch = ImportBatch.objects.create(
        kind="enterprises",
        filename="x.xlsx",
        stored_path="",
        created_by=users[Role.SECTION_STAFF],
        status=ImportBatch.Status.QUEUED,
    )
    bump = services._progress_bumper(client_batch.pk, ceiling=90)
    seen = []
    for rows in range(1000, 25001, 1000):
        bump(rows)
        client_batch.refresh_from_db()
        seen.append(client_batch.progress)
    assert seen[:3] == [5, 10, 15]
    assert seen[-1] == 90, "never past the ceiling until done"
    assert client_batch.rows_read == 25000 and client_batch.heartbeat_at is not None


def test_a_crash_in_the_background_ends_the_batch_failed_with_its_reason(
    client_for, reference, monkeypatch
):
    from enterprises import services, views
    from enterprises.tasks import import_batch_run

    monkeypatch.setattr(views, "SYNC_MAX_BYTES", 10)
    monkeypatch.setattr(views.import_batch_run, "delay", lambda *a: None)
    client = client_for(Role.SECTION_STAFF)
    _upload(client, big_xlsx(3))
    batch = ImportBatch.objects.get()

    def crash(*args, **kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(services, "stream_preview", crash)
    import_batch_run(batch.pk, "preview")
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "后台处理出错（RuntimeError）" in batch.message
    fragment = _poll(client, batch)
    assert "every 1s" not in fragment
    page = client.get(reverse("enterprises:import_preview", args=[batch.pk])).content.decode()
    assert "后台处理出错" in page
    assert not Enterprise.objects.exists()


def test_a_crash_while_writing_rolls_back_and_ends_failed(client_for, reference, monkeypatch):
    from enterprises import importers

    client = client_for(Role.SECTION_STAFF)
    _upload(client, big_xlsx(3))
    batch = ImportBatch.objects.get()
    original = importers.IMPORTERS["enterprises"].writer

    def writer(self, *, actor):
        real = original(self, actor=actor)

        class Crashing:
            def __call__(self, chunk):
                real(chunk)
                raise RuntimeError("disk full")

            def finish(self):
                return real.finish()

        return Crashing()

    monkeypatch.setattr(importers.IMPORTERS["enterprises"], "writer", writer)
    client.post(reverse("enterprises:import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "RuntimeError" in batch.message
    assert not Enterprise.objects.exists(), "the import's transaction rolled back"


def test_a_batch_nobody_works_on_stops_polling_and_says_why(
    client_for, reference, monkeypatch, time_machine
):
    from enterprises import views

    time_machine.move_to(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), tick=False)
    monkeypatch.setattr(views, "SYNC_MAX_BYTES", 10)
    monkeypatch.setattr(views.import_batch_run, "delay", lambda *a: None)  # the worker is down
    client = client_for(Role.SECTION_STAFF)
    _upload(client, big_xlsx(3))
    batch = ImportBatch.objects.get()
    assert "every 1s" in _poll(client, batch)
    time_machine.move_to(dt.datetime(2026, 12, 7, 9, 9, tzinfo=dt.UTC), tick=False)
    assert "every 1s" in _poll(client, batch), "9 minutes: still waiting"
    time_machine.move_to(dt.datetime(2026, 12, 7, 9, 11, tzinfo=dt.UTC), tick=False)
    fragment = _poll(client, batch)
    assert "every 1s" not in fragment
    assert "超过 10 分钟没有进展" in fragment and "后台服务可能没有运行" in fragment


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs a real Redis (REDIS_URL) for the broker"
)
@pytest.mark.django_db(transaction=True)
def test_25000_rows_complete_in_a_real_worker(client_for, reference, celery_worker_threads):
    """Above the in-request size the worker previews and applies; the batch used to stay
    queued at 0% forever."""
    client = client_for(Role.SECTION_STAFF)
    data = big_xlsx(25000)
    assert len(data) > 1024 * 1024, "goes to the worker"
    _upload(client, data)
    batch = ImportBatch.objects.get()
    batch = _wait_for(batch, ImportBatch.Status.PREVIEWED)
    assert batch.rows_read == 25000 and batch.counts["counts"]["new"] == 25000
    client.post(reverse("enterprises:import_confirm", args=[batch.pk]))
    batch = _wait_for(batch, ImportBatch.Status.APPLIED)
    assert Enterprise.objects.count() == 25000


def _wait_for(batch, status, timeout=180):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.status == status:
            return batch
        assert batch.status != ImportBatch.Status.FAILED, batch.message
        time.sleep(0.5)
    raise AssertionError(f"batch still {batch.status} after {timeout} s")
