"""Import uploads are checked as a whole before anything is written (issue 21, items 5 and 6):
a renamed executable, zip bombs (one member, many small members, a member lying about its
size), an XXE workbook and a broken file are refused with the file's name and the reason, and
leave no file under MEDIA_ROOT and no ImportBatch row. Files of batches never confirmed are
removed by the daily job after ``IMPORT_FILE_MAX_AGE_HOURS``."""

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from enterprises import services
from enterprises.models import ImportBatch

from .test_enterprises_import import row, xlsx

# --- hostile files (shared with the roster's tests) -------------------------------------------


def renamed_exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"PE\x00\x00"


def _with_members(base: bytes, members: dict[str, bytes], *, replace=False) -> bytes:
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in src.infolist():
            if not (replace and info.filename in members):
                out.writestr(info, src.read(info))
        for name, data in members.items():
            out.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buf.getvalue()


def zip_bomb_member(base: bytes) -> bytes:
    """Members of 5 MB each (under the old 10 MB threshold) at ~1000:1."""
    return _with_members(base, {f"xl/worksheets/sheet{i}.xml": b"\0" * (5 << 20) for i in (9, 10)})


def zip_bomb_many_small(base: bytes) -> bytes:
    """400 members of 200 KB of zeros: each under the ratio floor, the whole ~1000:1."""
    return _with_members(base, {f"xl/media/pad{i}.bin": b"\0" * 200_000 for i in range(400)})


def zip_member_lying_about_its_size(base: bytes) -> bytes:
    """A member whose local and central headers declare 1 KB while it inflates to 4 MB."""
    data = bytearray(_with_members(base, {"xl/media/liar.bin": b"\0" * (4 << 20)}))
    real = (4 << 20).to_bytes(4, "little")
    small = (1024).to_bytes(4, "little")
    # The uncompressed size sits in both headers; patch every occurrence of the real one.
    start = 0
    while (at := data.find(real, start)) != -1:
        data[at : at + 4] = small
        start = at + 4
    return bytes(data)


def xxe_xlsx(base: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(base)) as src:
        workbook = src.read("xl/workbook.xml").decode()
    _decl, _, rest = workbook.partition("?>")
    evil = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + rest.replace("Sheet", "&xxe;")
    )
    return _with_members(base, {"xl/workbook.xml": evil.encode()}, replace=True)


def broken_xlsx(base: bytes) -> bytes:
    return base[: len(base) // 2]


def files_under(root) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file())


@pytest.fixture
def ref(db, section, lead_section, other_section):
    from enterprises.demo import seed_reference

    seed_reference()


def _upload(client, data, name="名录.xlsx"):
    return client.post(
        reverse("enterprises:import_start", args=["enterprises"]),
        {"file": SimpleUploadedFile(name, data)},
    )


HOSTILE = [
    ("renamed exe", lambda good: renamed_exe(), "不是 Excel"),
    ("zip bomb, 5 MB members", zip_bomb_member, "压缩炸弹"),
    ("zip bomb, many small members", zip_bomb_many_small, "压缩炸弹"),
    ("member lying about its size", zip_member_lying_about_its_size, "无法解压"),
    ("XXE workbook", xxe_xlsx, "DTD"),
    ("broken file", broken_xlsx, "损坏"),
]


@pytest.mark.parametrize(("label", "build", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_refused_upload_leaves_no_file_and_no_row(
    client_for, ref, settings, label, build, reason
):
    client = client_for(Role.SECTION_STAFF)
    before = files_under(settings.MEDIA_ROOT)
    response = _upload(client, build(xlsx([row(1)])), name="坏文件.xlsx")
    assert response.status_code == 200  # the form again, with the error
    page = response.content.decode()
    assert "坏文件.xlsx" in page and reason in page, label
    assert not ImportBatch.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == before


def test_zip_bombs_are_refused_before_parsing(ref, monkeypatch):
    """The guard answers before calamine is ever asked to open the workbook."""
    from core.spreadsheets import reading

    def never(*args, **kwargs):
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(reading.CalamineWorkbook, "from_filelike", never)
    for build in (zip_bomb_member, zip_bomb_many_small, xxe_xlsx):
        with pytest.raises(reading.SpreadsheetError):
            reading.zip_guard(build(xlsx([row(1)])))


def test_a_file_expanding_about_160_times_is_refused_fast(ref):
    """The probe's 2.4 MB file expanding to 400 MB (~166:1): members under the old 10 MB
    threshold and under the old 250:1 limit passed; now refused from the directory alone."""
    import random
    import time

    from core.spreadsheets import SpreadsheetError, zip_guard

    rng = random.Random(1)
    members = {}
    for n in range(3):
        block = bytearray(4 << 20)
        for i in range(0, len(block), 700):  # compresses ~158:1
            block[i] = rng.randrange(256)
        members[f"xl/worksheets/sheet{n + 5}.xml"] = bytes(block)
    data = _with_members(xlsx([row(1)]), members)
    started = time.monotonic()
    with pytest.raises(SpreadsheetError, match="压缩炸弹"):
        zip_guard(data)
    assert time.monotonic() - started < 1


@override_settings(IMPORT_ZIP_MAX_MEMBERS=20)
def test_too_many_members_refused(ref):
    from core.spreadsheets import SpreadsheetError, zip_guard

    data = _with_members(xlsx([row(1)]), {f"xl/media/{i}.bin": b"x" for i in range(30)})
    with pytest.raises(SpreadsheetError, match="压缩成员"):
        zip_guard(data)


@override_settings(IMPORT_MAX_ROWS={"enterprises": 3})
def test_row_limit_refused_before_storing_and_in_the_preview(client_for, ref, settings):
    client = client_for(Role.SECTION_STAFF)
    response = _upload(client, xlsx([row(i) for i in range(4)]))
    assert "超过上限 3 行" in response.content.decode()
    assert not ImportBatch.objects.exists()
    # The preview (and the commands) count every row as they read: refused, nothing written.
    with pytest.raises(services.ImportRefused) as exc:
        services.import_apply(
            actor=None, kind="enterprises", source=xlsx([row(i) for i in range(4)])
        )
    assert "超过上限 3 行" in exc.value.preview.errors[0].message


def test_a_good_upload_is_stored_byte_for_byte(client_for, ref, settings):
    client = client_for(Role.SECTION_STAFF)
    data = xlsx([row(1)])
    assert _upload(client, data).status_code == 302
    batch = ImportBatch.objects.get()
    assert Path(batch.stored_path).read_bytes() == data
    assert batch.status == ImportBatch.Status.PREVIEWED


def _batch(users, tmp_path, status, *, age_hours):
    path = tmp_path / f"{status}-{age_hours}.upload"
    path.write_bytes(b"x")
    batch = ImportBatch.objects.create(
        kind="enterprises",
        filename="名录.xlsx",
        stored_path=str(path),
        created_by=users[Role.SECTION_STAFF],
        status=status,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=age_hours)
    )
    return batch, path


@override_settings(IMPORT_FILE_MAX_AGE_HOURS=24)
def test_abandoned_import_files_are_removed_after_their_age(users, tmp_path):
    Status = ImportBatch.Status
    old_previewed = _batch(users, tmp_path, Status.PREVIEWED, age_hours=30)
    old_failed = _batch(users, tmp_path, Status.FAILED, age_hours=30)
    old_applied = _batch(users, tmp_path, Status.APPLIED, age_hours=30)
    young = _batch(users, tmp_path, Status.PREVIEWED, age_hours=2)
    from enterprises.tasks import import_files_remove_abandoned

    assert import_files_remove_abandoned() == 2
    for batch, path in (old_previewed, old_failed):
        batch.refresh_from_db()
        assert not path.exists() and batch.stored_path == ""
        assert batch.status == Status.FAILED
    old_previewed[0].refresh_from_db()
    assert "未确认导入，文件已删除" in old_previewed[0].message
    assert old_applied[1].exists() and young[1].exists()
    assert services.import_files_prune() == 0  # nothing left to do


def test_the_preview_is_shown_a_page_at_a_time(client_for, ref):
    from .test_enterprises_import_batches import big_xlsx

    client = client_for(Role.SECTION_STAFF)
    assert _upload(client, big_xlsx(130)).status_code == 302
    batch = ImportBatch.objects.get()
    url = reverse("enterprises:import_preview", args=[batch.pk])
    first = client.get(url)
    assert len(first.context["rows"]) == 50 and first.context["rows"][0]["row"] == 2
    last = client.get(url, {"page": 3})
    assert [r["row"] for r in last.context["rows"]] == list(range(102, 132))
    assert "第 3 页" in last.content.decode() and "上一页" in last.content.decode()


@override_settings(IMPORT_SYNC_MAX_BYTES=10)
def test_a_big_upload_is_checked_by_structure_in_the_request(
    client_for, ref, settings, monkeypatch
):
    """A file for the worker is not parsed in the web request, but its structure is checked
    there: every hostile file above is still refused before anything is written."""
    from enterprises import views

    monkeypatch.setattr(views, "SYNC_MAX_BYTES", 10)
    monkeypatch.setattr(views.import_batch_run, "delay", lambda *a: None)
    client = client_for(Role.SECTION_STAFF)
    before = files_under(settings.MEDIA_ROOT)
    for label, build, reason in HOSTILE:
        page = _upload(client, build(xlsx([row(1)])), name="坏文件.xlsx").content.decode()
        assert "坏文件.xlsx" in page and reason in page, label
    assert not ImportBatch.objects.exists()
    assert files_under(settings.MEDIA_ROOT) == before


@override_settings(IMPORT_SYNC_MAX_BYTES=10)
def test_a_big_upload_whose_preview_fails_loses_its_file_at_once(
    client_for, ref, settings, monkeypatch
):
    from enterprises import views

    queued = []
    monkeypatch.setattr(views, "SYNC_MAX_BYTES", 10)
    monkeypatch.setattr(views.import_batch_run, "delay", lambda *a: queued.append(a))
    client = client_for(Role.SECTION_STAFF)
    no_header = xlsx([["x"] * 3], headers=["甲", "乙", "丙"])  # passes the structure check
    assert _upload(client, no_header).status_code == 302
    batch = ImportBatch.objects.get()
    stored = Path(batch.stored_path)
    assert stored.exists() and queued == [(batch.pk, "preview")]
    services.import_batch_preview(batch_id=batch.pk)  # what the worker runs
    batch.refresh_from_db()
    assert batch.errors and "缺少表头列" in batch.errors[0]["message"]
    assert batch.stored_path == "" and not stored.exists()
