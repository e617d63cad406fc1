"""Roster import / export: real xlsx files, preview → confirm, all or nothing, the command."""

import io
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from accounts.roles import Role
from audit.models import AuditEvent
from enterprises.models import CheckItem, ImportBatch, Trade
from inspectors import services
from inspectors.importers import COLUMNS, write_roster
from inspectors.models import Certificate, Inspector

from . import test_enterprises_import_uploads as uploads

HEADERS = [c.header for c in COLUMNS]


def xlsx(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h, "") for h in headers])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def refs(section, users):
    trade = Trade.objects.create(code="oil", name="成品油零售", section=section)
    item = CheckItem.objects.create(
        code="GX-001", name="成品油零售经营资格检查", legal_basis="x", section=section
    )
    return {"trade": trade, "item": item}


def row(**overrides):
    data = {
        "人员编号": "WG001", "姓名": "张伟", "身份证号": "410481198503121238", "股室": "市场运行股",
        "手机号": "13937500001", "职务": "科员", "从事执法工作日期": "2015-03-01",
        "可检查行业": "成品油零售", "可检查事项": "GX-001", "专业资质": "成品油安全、危险化学品",
        "业务专家": "否", "可任组长": "是", "执法证号": "豫41001", "发证日期": date(2024, 1, 1),
        "有效期至": "2029年1月1日", "登录账户": "u_inspector",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_import_creates_everything(tmp_path, refs, users, capsys):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx([row(), row(**{"人员编号": "WG002", "姓名": "王芳", "身份证号": "",
                                          "执法证号": "豫41002", "登录账户": "", "可任组长": ""})]))  # fmt: skip
    call_command("import_inspectors", str(path))
    out = capsys.readouterr().out
    assert "共 2 行：新增 2" in out and "已导入：新增 2，更新 0" in out
    zhang = Inspector.objects.get(staff_number="WG001")
    assert zhang.id_number == "410481198503121238" and zhang.user == users[Role.INSPECTOR]
    assert list(zhang.trades.all()) == [refs["trade"]]
    assert list(zhang.check_items.all()) == [refs["item"]]
    assert sorted(zhang.professional_qualifications) == ["hazchem", "refined_oil"]
    assert zhang.can_lead and not zhang.is_expert and zhang.joined_on == date(2015, 3, 1)
    cert = zhang.certificates.get()
    assert (cert.number, cert.issued_on, cert.expires_on) == (
        "豫41001",
        date(2024, 1, 1),
        date(2029, 1, 1),
    )
    event = AuditEvent.objects.get(event_type="inspector.imported")
    assert event.detail["counts"]["new"] == 2 and len(event.detail["sha256"]) == 64
    assert "410481198503121238" not in str(event.detail)


def test_dry_run_writes_nothing(tmp_path, refs, capsys):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx([row()]))
    call_command("import_inspectors", str(path), "--dry-run")
    assert "试运行：未写入任何数据" in capsys.readouterr().out
    assert not Inspector.objects.exists()


def test_one_bad_row_refuses_the_whole_file(tmp_path, refs, capsys):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(
        xlsx([
            row(),
            row(**{"人员编号": "WG002", "身份证号": "410481198503121239", "股室": "不存在股",
                   "执法证号": "豫41002", "有效期至": "2023-01-01", "可任组长": "也许",
                   "登录账户": ""}),
            row(**{"人员编号": "wg001", "执法证号": "豫41003", "登录账户": ""}),
        ])
    )  # fmt: skip
    with pytest.raises(CommandError, match="处错误，未写入任何数据"):
        call_command("import_inspectors", str(path))
    err = capsys.readouterr().err
    assert "第3行 “身份证号”列：身份证号格式或校验位不正确" in err
    assert "第3行 “股室”列：未知的股室：不存在股" in err
    assert "第3行 “有效期至”列：有效期早于发证日期" in err
    assert "第3行 “可任组长”列：应填“是”或“否”，不是“也许”" in err
    assert "第4行 “人员编号”列：与第2行重复（WG001）" in err
    assert not Inspector.objects.exists() and not Certificate.objects.exists()


def test_missing_header_and_missing_file(tmp_path, refs):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx([{"人员编号": "WG001"}], headers=["人员编号", "姓名"]))
    with pytest.raises(CommandError):
        call_command("import_inspectors", str(path))
    with pytest.raises(CommandError, match="无法打开文件"):
        call_command("import_inspectors", str(tmp_path / "none.xlsx"))


def test_export_round_trip_is_unchanged(tmp_path, refs, users, section):
    admin = users[Role.SYSTEM_ADMIN]
    inspector = services.inspector_create(
        actor=admin,
        staff_number="WG001",
        name="张伟",
        section=section,
        id_number="410481198503121238",
        trades=[refs["trade"]],
        can_lead=True,
        professional_qualifications=["hazchem"],
    )
    Certificate.objects.create(
        inspector=inspector,
        number="=豫41001",
        issued_on=date(2024, 1, 1),
        expires_on=date(2029, 1, 1),
    )
    path = tmp_path / "export.xlsx"
    write_roster(str(path), unmasked=True)
    sheet = load_workbook(path).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:3] == ["人员编号", "姓名", "身份证号"] and header[-1] == "今日状态"
    values = [c.value for c in next(iter(sheet.iter_rows(min_row=2, max_row=2)))]
    assert values[2] == "410481198503121238" and values[15] == "'=豫41001"
    preview, written = services.inspector_import(actor=admin, source=str(path))
    assert preview.counts["unchanged"] == 1 and written == {"created": 0, "updated": 0}
    # A change to one cell is an update with a before/after.
    wb = load_workbook(path)
    wb.active["E2"] = "13900000000"
    wb.save(path)
    preview, written = services.inspector_import(actor=admin, source=str(path))
    assert written == {"created": 0, "updated": 1}
    assert preview.results[0].changes == {"mobile": ["", "13900000000"]}
    assert Inspector.objects.get().mobile == "13900000000"


def test_export_masks_for_readers(client_for, users, section):
    services.inspector_create(
        actor=users[Role.SYSTEM_ADMIN],
        staff_number="WG001",
        name="张伟",
        section=section,
        id_number="410481198503121238",
    )
    for role, expected in ((Role.SECTION_STAFF, "410481********1238"),
                           (Role.SYSTEM_ADMIN, "410481198503121238")):  # fmt: skip
        response = client_for(role).get(reverse("inspectors:export"))
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet["C2"].value == expected
    assert AuditEvent.objects.filter(event_type="inspector.exported").count() == 2


def test_browser_preview_then_confirm(client_for, refs):
    client = client_for(Role.SYSTEM_ADMIN)
    upload = io.BytesIO(xlsx([row()]))
    upload.name = "名录.xlsx"
    response = client.post(reverse("inspectors:import"), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 200 and "共 1 行：新增 1" in html and "确认导入" in html
    assert not Inspector.objects.exists()  # preview writes nothing
    file_id = response.context["batch"].pk
    sha = response.context["preview"].sha256
    bad = client.post(
        reverse("inspectors:import_confirm"), {"file_id": file_id, "sha256": "0" * 64}
    )
    assert bad.status_code == 302 and not Inspector.objects.exists()
    ok = client.post(reverse("inspectors:import_confirm"), {"file_id": file_id, "sha256": sha})
    assert ok.status_code == 302 and ok["Location"] == reverse("inspectors:list")
    assert Inspector.objects.get().name == "张伟"


def test_browser_refuses_non_xlsx_and_shows_errors(client_for, refs):
    client = client_for(Role.SYSTEM_ADMIN)
    fake = io.BytesIO(b"%PDF-1.4 not a sheet")
    fake.name = "roster.xlsx"
    response = client.post(reverse("inspectors:import"), {"file": fake})
    assert "内容不是允许的类型" in response.content.decode()
    upload = io.BytesIO(xlsx([row(**{"姓名": ""})]))
    upload.name = "名录.xlsx"
    html = client.post(reverse("inspectors:import"), {"file": upload}).content.decode()
    assert "姓名不能为空" in html and "确认导入" not in html


def test_template_download(client_for):
    response = client_for(Role.SYSTEM_ADMIN).get(reverse("inspectors:import_template"))
    book = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in book.active[1]] == HEADERS
    assert book.sheetnames == ["执法检查人员", "说明"]


# --- uploads checked before anything is written (issue 21, items 5 and 6) ----------------------


@pytest.mark.parametrize(
    ("label", "build", "reason"),
    uploads.HOSTILE,
    ids=[h[0] for h in uploads.HOSTILE],
)
def test_a_refused_roster_upload_leaves_no_file_and_no_row(
    client_for, refs, settings, label, build, reason
):
    client = client_for(Role.SYSTEM_ADMIN)
    before_files = uploads.files_under(settings.MEDIA_ROOT)
    before_rows = ImportBatch.objects.count()
    upload = io.BytesIO(build(xlsx([row()])))
    upload.name = "坏名录.xlsx"
    page = client.post(reverse("inspectors:import"), {"file": upload}).content.decode()
    assert "坏名录.xlsx" in page, label
    assert reason in page or "内容不是允许的类型" in page, label
    assert ImportBatch.objects.count() == before_rows
    assert uploads.files_under(settings.MEDIA_ROOT) == before_files
    assert not Inspector.objects.exists()


def test_roster_row_limit_refused_before_storing(client_for, refs, settings):
    settings.IMPORT_MAX_ROWS = {**settings.IMPORT_MAX_ROWS, "inspectors": 2}
    rows = [
        row(**{"人员编号": f"WG{i:03}", "执法证号": f"豫{i}", "登录账户": ""}) for i in range(3)
    ]
    upload = io.BytesIO(xlsx(rows))
    upload.name = "名录.xlsx"
    page = client_for(Role.SYSTEM_ADMIN).post(reverse("inspectors:import"), {"file": upload})
    assert "超过上限 2 行" in page.content.decode()
    assert not ImportBatch.objects.filter(kind="inspectors").exists()


def test_roster_preview_is_streamed_and_bounded(client_for, refs, monkeypatch):
    """The preview keeps counts of every row but only a bounded sample for display (1,000,000
    rows once took 92 s and 2.9 GB and returned a 63 MB page)."""
    monkeypatch.setattr(services, "ROSTER_PREVIEW_ROWS", 5)
    rows = [
        row(**{"人员编号": f"WG{i:03}", "执法证号": f"豫{i}", "登录账户": ""}) for i in range(40)
    ]
    upload = io.BytesIO(xlsx(rows))
    upload.name = "名录.xlsx"
    response = client_for(Role.SYSTEM_ADMIN).post(reverse("inspectors:import"), {"file": upload})
    preview = response.context["preview"]
    assert preview.counts["total"] == 40 and preview.counts["new"] == 40
    assert len(preview.results) == 5
    html = response.content.decode()
    assert "下表只列出 5 行" in html and html.count("WG0") == 5
    assert "确认导入" in html


def test_a_roster_of_200000_rows_is_refused_before_the_sheet_is_loaded(
    client_for, refs, monkeypatch
):
    """The probe's 1,000,000-row roster (2.5 MB) took 92 s and 2.9 GB: the rows are counted in
    the sheet's XML as it streams, and the file is refused before calamine loads the sheet."""
    import zipfile

    from core.spreadsheets import reading

    base = xlsx([row()])
    with zipfile.ZipFile(io.BytesIO(base)) as src:
        sheet = src.read("xl/worksheets/sheet1.xml")
    head, _, _ = sheet.partition(b"<sheetData>")
    header, _, _ = sheet.partition(b"<sheetData>")[2].partition(b"</row>")
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>WG%d</t></is></c></row>' % (n, n, n)
        for n in range(2, 200_002)
    )
    _, _, tail = sheet.partition(b"</sheetData>")
    big = head + b"<sheetData>" + header + b"</row>" + rows + b"</sheetData>" + tail
    data = uploads._with_members(base, {"xl/worksheets/sheet1.xml": big}, replace=True)

    def never(*args, **kwargs):
        raise AssertionError("the sheet was loaded")

    monkeypatch.setattr(reading.CalamineWorkbook, "from_filelike", never)
    upload = io.BytesIO(data)
    upload.name = "大名录.xlsx"
    page = client_for(Role.SYSTEM_ADMIN).post(reverse("inspectors:import"), {"file": upload})
    assert "超过上限 10000 行" in page.content.decode()
    assert not ImportBatch.objects.filter(kind="inspectors").exists()


def test_roster_preview_is_paged(client_for, refs, users):
    rows = [
        row(**{"人员编号": f"WG{i:03}", "执法证号": f"豫{i}", "登录账户": ""}) for i in range(120)
    ]
    upload = io.BytesIO(xlsx(rows))
    upload.name = "名录.xlsx"
    admin = client_for(Role.SYSTEM_ADMIN)
    first = admin.post(reverse("inspectors:import"), {"file": upload})
    assert [r.number for r in first.context["page"].object_list] == list(range(2, 52))
    file_id = first.context["batch"].pk
    assert f"?file={file_id}&page=2" in first.content.decode()
    third = admin.get(reverse("inspectors:import"), {"file": file_id, "page": 3})
    assert [r.key for r in third.context["page"].object_list] == [
        f"WG{i:03}" for i in range(100, 120)
    ]
    assert third.context["preview"].counts["total"] == 120
    for bad in ("not-a-number", "²", "9" * 30):
        assert admin.get(reverse("inspectors:import"), {"file": bad}).status_code == 404
    # Another role, and nobody logged in, see no preview.
    response = client_for(Role.SECTION_STAFF).get(reverse("inspectors:import"), {"file": file_id})
    assert response.status_code == 403
    anonymous = Client().get(reverse("inspectors:import"), {"file": file_id})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_preview_finds_a_certificate_repeated_far_apart_like_the_confirm(
    client_for, refs, monkeypatch
):
    """The streamed preview classifies the whole roster together: a certificate number given
    to two people in different chunks is an error in the preview, not only at the confirm."""
    from core.spreadsheets import preview as preview_module

    monkeypatch.setattr(preview_module, "STREAM_CHUNK", 2)  # chunks far smaller than the file
    rows = [
        row(**{"人员编号": f"WG{i:03}", "执法证号": f"豫{i}", "登录账户": ""}) for i in range(5)
    ]
    rows[4]["执法证号"] = "豫0"
    upload = io.BytesIO(xlsx(rows))
    upload.name = "名录.xlsx"
    response = client_for(Role.SYSTEM_ADMIN).post(reverse("inspectors:import"), {"file": upload})
    assert "与人员 WG000 的执法证号重复" in response.content.decode()
    assert not response.context["preview"].ok


# --- the pending roster file is an import batch: bound to its uploader, pruned when abandoned ---


def _upload(client, rows, name="名录.xlsx"):
    upload = io.BytesIO(xlsx(rows))
    upload.name = name
    response = client.post(reverse("inspectors:import"), {"file": upload})
    return response.context["batch"], response.context["preview"].sha256


def test_a_roster_upload_is_previewed_and_confirmed_only_by_its_uploader(
    client_for, refs, make_user
):
    client = client_for(Role.SYSTEM_ADMIN)
    batch, sha = _upload(client, [row()])
    assert batch.kind == "inspectors" and batch.status == ImportBatch.Status.PREVIEWED
    other = Client()
    other.force_login(make_user(Role.SYSTEM_ADMIN, username="admin2"))
    assert other.get(reverse("inspectors:import"), {"file": batch.pk}).status_code == 404
    confirm = reverse("inspectors:import_confirm")
    assert other.post(confirm, {"file_id": batch.pk, "sha256": sha}).status_code == 404
    # The registers' import screens do not open the roster's batch either.
    preview = reverse("enterprises:import_preview", args=[batch.pk])
    assert client_for(Role.SECTION_STAFF).get(preview).status_code == 404
    assert not Inspector.objects.exists()
    assert client.post(confirm, {"file_id": batch.pk, "sha256": sha}).status_code == 302
    batch.refresh_from_db()
    assert (
        batch.status == ImportBatch.Status.APPLIED and batch.confirmed_by_id == batch.created_by_id
    )
    assert Inspector.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="inspector.imported").count() == 1


def test_a_roster_batch_is_imported_once(client_for, refs):
    client = client_for(Role.SYSTEM_ADMIN)
    batch, sha = _upload(client, [row()])
    confirm = reverse("inspectors:import_confirm")
    client.post(confirm, {"file_id": batch.pk, "sha256": sha})
    again = client.post(confirm, {"file_id": batch.pk, "sha256": sha}, follow=True)
    assert "导入批次“名录.xlsx”已导入，不能重复导入" in again.content.decode()
    assert AuditEvent.objects.filter(event_type="inspector.imported").count() == 1


def test_abandoned_roster_uploads_are_removed_after_their_age(client_for, refs):
    """Issue 21 item 5: the daily prune removes the file of a roster upload never confirmed,
    like every import's; a younger one and a confirmed one keep their files."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from enterprises.tasks import import_files_remove_abandoned

    client = client_for(Role.SYSTEM_ADMIN)
    abandoned, abandoned_sha = _upload(client, [row()], name="放弃.xlsx")
    young, _ = _upload(client, [row()], name="新.xlsx")
    confirmed, confirmed_sha = _upload(client, [row()], name="已导入.xlsx")
    client.post(
        reverse("inspectors:import_confirm"), {"file_id": confirmed.pk, "sha256": confirmed_sha}
    )
    hours = settings.IMPORT_FILE_MAX_AGE_HOURS
    ImportBatch.objects.filter(pk__in=[abandoned.pk, confirmed.pk]).update(
        created_at=timezone.now() - timedelta(hours=hours + 1)
    )
    paths = {b.pk: Path(b.stored_path) for b in (abandoned, young, confirmed)}
    assert all(p.exists() for p in paths.values())

    assert import_files_remove_abandoned() == 1
    assert not paths[abandoned.pk].exists()
    assert paths[young.pk].exists() and paths[confirmed.pk].exists()
    abandoned.refresh_from_db()
    assert abandoned.status == ImportBatch.Status.FAILED and abandoned.stored_path == ""
    assert f"超过 {hours} 小时未确认导入，文件已删除" in abandoned.message
    # Its preview page and its confirm now say why, and nothing is imported.
    page = client.get(reverse("inspectors:import"), {"file": abandoned.pk}, follow=True)
    assert f"超过 {hours} 小时未确认导入" in page.content.decode()
    refused = client.post(
        reverse("inspectors:import_confirm"),
        {"file_id": abandoned.pk, "sha256": abandoned_sha},
        follow=True,
    )
    assert f"导入批次“放弃.xlsx”不能再导入：超过 {hours} 小时未确认导入" in refused.content.decode()
    assert Inspector.objects.count() == 1  # the confirmed file's one row only
    assert import_files_remove_abandoned() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_confirmations_of_one_roster_batch_at_once_import_it_once(users, refs):
    """Issue 21 item 8: simultaneous confirmations gave a 500; the batch is locked, so one
    imports and the other is told the batch was imported."""
    import threading

    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    admin = users[Role.SYSTEM_ADMIN]
    batch = services.roster_upload_store(
        actor=admin, upload=SimpleUploadedFile("名录.xlsx", xlsx([row()]))
    )
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait()
            services.roster_import_confirm(
                actor=admin, batch_id=batch.pk, expected_sha256=batch.sha256
            )
            results.append("ok")
        except Exception as exc:  # a 500-style error too must show in the result
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 1 and len(results) == 2, results
    (refused,) = [r for r in results if r != "ok"]
    assert isinstance(refused, ValidationError) and "已导入，不能重复导入" in str(refused)
    assert Inspector.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="inspector.imported").count() == 1
