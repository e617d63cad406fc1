"""Export batches to the 公示系统协同监管平台: the exact columns, xlsx + JSON, formula escaping,
byte-identical re-download, platform feedback, corrections in the next batch, the command."""

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from core.spreadsheets import write_xlsx
from disclosure import services as svc
from disclosure.exports import COLUMNS, HEADERS, JSON_KEYS, ExportRow, JsonExporter, XlsxExporter
from disclosure.models import ExportBatch, PublicationRecord
from tests.disclosure_publication_fixtures import D, frozen
from tests.permissions import assert_role_access

Status = PublicationRecord.Status
EXPECTED_HEADERS = [
    "抽查计划编号",
    "抽查计划名称",
    "抽查任务编号",
    "抽查任务名称",
    "抽查类型",
    "抽查机关",
    "抽查完成日期",
    "统一社会信用代码",
    "企业名称",
    "检查事项",
    "检查结果",
    "备注",
]
PROBLEM = "发现问题待后续处理（未按规定公示应当公示的信息）"


def _sheet(data: bytes):
    book = openpyxl.load_workbook(io.BytesIO(data))
    return list(book.worksheets[0].iter_rows(values_only=True))


def _download(client, stored_id) -> bytes:
    response = client.get(reverse("core:file_download", args=[stored_id]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_the_column_mapping_is_the_platform_template():
    assert HEADERS == EXPECTED_HEADERS
    assert len(set(JSON_KEYS)) == len(COLUMNS) == 12
    assert JSON_KEYS[:3] == ["plan_number", "plan_name", "task_number"]


def test_batch_xlsx_has_the_exact_columns_one_row_per_enterprise_and_item(
    make_record, make_enterprise, users, client_for
):
    first = make_enterprise(name="舞钢市垭口加油站")
    make_record(enterprise=first, result=PROBLEM, check_end=D(2026, 10, 3))
    make_record(
        enterprise=first,
        check_item="成品油零售安全管理检查",
        result="未发现问题；其他",
        check_end=D(2026, 10, 3),
    )
    make_record(check_end=D(2026, 10, 9))
    batch = svc.batch_create(actor=users[Role.SECTION_STAFF])
    svc.batch_start(batch)
    batch.refresh_from_db()
    assert batch.status == ExportBatch.Status.DONE and batch.row_count == 3

    data = _download(client_for(Role.SECTION_STAFF), batch.xlsx_file_id)
    assert hashlib.sha256(data).hexdigest() == batch.xlsx_sha256  # byte-identical, hash recorded
    rows = _sheet(data)
    assert list(rows[0]) == EXPECTED_HEADERS
    assert len(rows) == 4
    by_item = {(r[8], r[9]): r for r in rows[1:]}
    row = by_item[("舞钢市垭口加油站", "成品油零售经营资格检查")]
    assert row[0] == "WGJH-2026-01" and row[1] == "2026年度双随机抽查计划"
    assert row[2] == "舞工信商抽〔2026〕1号" and row[4] == "不定向"
    assert row[5] == "舞钢市工业信息化和商务局"
    assert isinstance(row[6], dt.datetime) and row[6].date() == D(2026, 10, 3)  # a date cell
    assert row[10] == PROBLEM and row[11] is None
    assert by_item[("舞钢市垭口加油站", "成品油零售安全管理检查")][10] == "未发现问题；其他"

    assert set(PublicationRecord.objects.values_list("status", flat=True)) == {Status.SENT}
    assert batch.items.count() == 3
    assert AuditEvent.objects.filter(event_type="publication_batch.build", object_id=str(batch.pk))
    # Downloading again gives the same bytes.
    assert _download(client_for(Role.DISCIPLINE), batch.xlsx_file_id) == data
    assert svc.batch_create(actor=users[Role.SECTION_STAFF]) is None  # nothing left to send


def test_json_export_has_documented_english_keys(make_record, users, client_for):
    make_record(result=PROBLEM)
    batch = svc.batch_create(actor=users[Role.LEAD_SECTION])
    svc.batch_build(batch_id=batch.pk)
    batch.refresh_from_db()
    data = _download(client_for(Role.LEAD_SECTION), batch.json_file_id)
    assert hashlib.sha256(data).hexdigest() == batch.json_sha256
    doc = json.loads(data)
    assert doc["batch"] == batch.number and doc["inspecting_body"] == "舞钢市工业信息化和商务局"
    assert [c["header"] for c in doc["columns"]] == EXPECTED_HEADERS
    row = doc["rows"][0]
    assert list(row) == JSON_KEYS
    assert row["completion_date"] == "2026-10-03" and row["check_type"] == "不定向"
    assert row["result"] == PROBLEM


def test_every_text_cell_is_formula_escaped(tmp_path):
    nasty = ExportRow(
        plan_number='=HYPERLINK("http://x")',
        plan_name="+1",
        task_number="-2",
        task_name="@SUM(A1)",
        task_kind="directed",
        completion_date=D(2026, 10, 3),
        uscc="91410481000000001L",
        enterprise_name="=cmd|' /C calc'!A0",
        check_item="'=already quoted",
        result="未发现问题",
        remarks="=1+1",
    )
    target = tmp_path / "x.xlsx"
    XlsxExporter().write(target, [nasty])
    book = openpyxl.load_workbook(target)
    sheet = book.worksheets[0]
    values = [c.value for c in sheet[2]]
    for cell in sheet[2]:
        assert cell.data_type != "f"  # no formula cells at all
    assert values[0] == '\'=HYPERLINK("http://x")'
    assert values[1] == "'+1" and values[2] == "'-2" and values[3] == "'@SUM(A1)"
    assert values[8] == "'=cmd|' /C calc'!A0" and values[9] == "''=already quoted"
    assert values[11] == "'=1+1"
    buffer = io.BytesIO()
    JsonExporter().write(buffer, [nasty], batch="B1")
    row = json.loads(buffer.getvalue())["rows"][0]
    assert row["plan_number"].startswith("'=") and row["remarks"] == "'=1+1"


def _feedback_file(rows, name="反馈.xlsx") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    write_xlsx(
        buffer,
        headers=[
            "抽查任务编号",
            "统一社会信用代码",
            "检查事项",
            "处理结果",
            "错误信息",
            "公示日期",
        ],
        rows=rows,
    )
    return SimpleUploadedFile(name, buffer.getvalue())


def test_feedback_with_one_rejected_row_updates_both_records_and_resends_the_rejected(
    make_record, users
):
    ok = make_record(check_end=D(2026, 10, 3))
    bad = make_record(check_end=D(2026, 10, 3))
    staff = users[Role.SECTION_STAFF]
    with frozen(D(2026, 10, 20)):
        batch = svc.batch_create(actor=staff)
        svc.batch_build(batch_id=batch.pk)
        feedback = svc.feedback_import(
            actor=staff,
            batch=batch,
            upload=_feedback_file(
                [
                    [ok.task_number, ok.uscc, ok.check_item, "接收", "", D(2026, 10, 22)],
                    [
                        bad.task_number,
                        bad.uscc,
                        bad.check_item,
                        "退回",
                        "统一社会信用代码与企业名称不符",
                        None,
                    ],
                    ["舞工信商抽〔2026〕99号", bad.uscc, bad.check_item, "接收", "", None],
                ]
            ),
        )
    assert (feedback.accepted, feedback.rejected, len(feedback.unmatched)) == (1, 1, 1)
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert ok.status == Status.PUBLISHED and ok.published_on == D(2026, 10, 22)
    assert ok.published_version == ok.current_version and ok.on_time is True
    assert bad.status == Status.REJECTED
    assert bad.rejection_error == "统一社会信用代码与企业名称不符"
    assert batch.items.get(record=bad).outcome == "rejected"
    # The rejected record goes into the next batch; the published one does not.
    with frozen(D(2026, 10, 23)):
        second = svc.batch_create(actor=staff)
    assert list(second.items.values_list("record_id", flat=True)) == [bad.pk]
    bad.refresh_from_db()
    assert bad.status == Status.SENT and bad.rejection_error == ""


def test_feedback_file_with_a_formula_is_refused(make_record, users, settings):
    from django.core.exceptions import ValidationError

    record = make_record()
    batch = svc.batch_create(actor=users[Role.SECTION_STAFF])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["抽查任务编号", "统一社会信用代码", "检查事项", "处理结果"])
    ws.append([record.task_number, record.uscc, "=1+1", "接收"])
    buffer = io.BytesIO()
    wb.save(buffer)
    files_before = sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())
    with pytest.raises(ValidationError, match="公式"):
        svc.feedback_import(
            actor=users[Role.SECTION_STAFF],
            batch=batch,
            upload=SimpleUploadedFile("f.xlsx", buffer.getvalue()),
        )
    record.refresh_from_db()
    assert record.status == Status.SENT
    # Refused before it was stored: no file left behind (issue 21 item 5).
    assert sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()) == files_before


def test_a_correction_of_a_published_result_is_exported_marked_as_correction(
    make_record, users, inspector_user, client_for, correct
):
    record = make_record(result="未发现问题")
    staff = users[Role.SECTION_STAFF]
    with frozen(D(2026, 10, 20)):
        first = svc.batch_create(actor=staff)
        first = svc.batch_build(batch_id=first.pk)
        svc.batch_mark_published(actor=staff, batch=first, published_on=D(2026, 10, 20))
    record.refresh_from_db()
    assert record.status == Status.PUBLISHED and record.first_published_on == D(2026, 10, 20)

    correct(actor=inspector_user, record=record, result_text=PROBLEM, reason="漏选检查结果")
    second = svc.batch_create(actor=staff)
    svc.batch_build(batch_id=second.pk)
    second.refresh_from_db()
    assert second.correction_count == 1
    rows = _sheet(_download(client_for(Role.SECTION_STAFF), second.xlsx_file_id))
    assert rows[1][10] == PROBLEM and rows[1][11] == "更正：漏选检查结果"
    # The first batch's file is unchanged (re-downloads byte-identical).
    data = _download(client_for(Role.SECTION_STAFF), first.xlsx_file_id)
    assert hashlib.sha256(data).hexdigest() == first.xlsx_sha256
    assert _sheet(data)[1][10] == "未发现问题"


def test_a_rejected_result_can_be_corrected_and_resent(make_record, users, inspector_user, correct):
    record = make_record(result="未发现问题")
    staff = users[Role.SECTION_STAFF]
    batch = svc.batch_create(actor=staff)
    svc.batch_build(batch_id=batch.pk)
    svc.feedback_import(
        actor=staff,
        batch=batch,
        upload=_feedback_file(
            [[record.task_number, record.uscc, record.check_item, "失败", "结果不规范", None]]
        ),
    )
    version = correct(
        actor=inspector_user, record=record, result_text="未发现问题；其他", reason="按平台要求修正"
    )
    record.refresh_from_db()
    assert record.status == Status.PENDING
    resend = svc.batch_create(actor=staff)
    item = resend.items.get()
    assert item.version == version


def test_big_batches_build_in_the_background_with_progress(
    make_record, users, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr("disclosure.services.batches.SYNC_BUILD_MAX_ROWS", 1)
    monkeypatch.setattr("disclosure.tasks.export_batch_build.delay", lambda pk: calls.append(pk))
    make_record()
    make_record()
    with django_capture_on_commit_callbacks(execute=True):
        batch = svc.batch_create(actor=users[Role.SECTION_STAFF])
        svc.batch_start(batch)
    assert calls == [batch.pk]
    batch.refresh_from_db()
    assert batch.status == ExportBatch.Status.BUILDING


def test_batch_pages_and_actions_permissions(make_record, users, client_for):
    make_record(inspectors=[users[Role.INSPECTOR]])  # the role's inspector checked it
    senders = [Role.LEAD_SECTION, Role.SECTION_STAFF]
    assert_role_access(users, reverse("disclosure:batch_create"), senders, method="post")
    batch = ExportBatch.objects.first()
    assert batch is not None and batch.status == ExportBatch.Status.DONE
    readers = [
        Role.LEAD_SECTION,
        Role.SECTION_STAFF,
        Role.INSPECTOR,
        Role.SECTION_HEAD,
        Role.DISCIPLINE,
        Role.SYSTEM_ADMIN,
    ]
    assert_role_access(users, reverse("disclosure:batch_detail", args=[batch.pk]), readers)
    assert_role_access(users, reverse("disclosure:batch_progress", args=[batch.pk]), readers)
    assert_role_access(
        users, reverse("disclosure:batch_feedback", args=[batch.pk]), senders, method="post"
    )
    assert_role_access(
        users, reverse("disclosure:batch_published", args=[batch.pk]), senders, method="post"
    )
    # The file itself: business readers only (the security and audit admins get 403).
    url = reverse("core:file_download", args=[batch.xlsx_file_id])
    assert client_for(Role.SECURITY_ADMIN).get(url).status_code == 403
    assert client_for(Role.DISCIPLINE).get(url).status_code == 200


def test_batch_and_feedback_through_the_browser(make_record, client_for):
    record = make_record()
    staff = client_for(Role.SECTION_STAFF)
    response = staff.post(reverse("disclosure:batch_create"), {"since": "2026-10-01"})
    batch = ExportBatch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/batches/{batch.pk}/")
    page = staff.get(response["Location"]).content.decode()
    assert "下载 xlsx" in page and batch.xlsx_sha256 in page
    upload = _feedback_file(
        [[record.task_number, record.uscc, record.check_item, "退回", "名称错误", None]]
    )
    staff.post(reverse("disclosure:batch_feedback", args=[batch.pk]), {"file": upload})
    record.refresh_from_db()
    assert record.status == Status.REJECTED
    page = staff.get(reverse("disclosure:batch_detail", args=[batch.pk])).content.decode()
    assert "名称错误" in page and "被平台退回的行" in page


# --- the command ----------------------------------------------------------------------------


def test_export_disclosure_command_prints_the_written_path(make_record, tmp_path, capsys):
    make_record(check_end=D(2026, 9, 1))
    make_record(check_end=D(2026, 10, 3))
    target = tmp_path / "batch.xlsx"
    call_command("export_disclosure", "--since", "2026-10-01", "--output", str(target))
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [str(target.resolve())]
    rows = _sheet(target.read_bytes())
    assert list(rows[0]) == EXPECTED_HEADERS and len(rows) == 2
    batch = ExportBatch.objects.get()
    assert hashlib.sha256(target.read_bytes()).hexdigest() == batch.xlsx_sha256

    call_command("export_disclosure")  # the rest, into the stored batch file
    path = Path(capsys.readouterr().out.strip())
    assert path.is_file() and path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert len(_sheet(path.read_bytes())) == 2


def test_export_disclosure_command_errors(make_record, tmp_path):
    with pytest.raises(CommandError, match="没有待报送的结果") as nothing:
        call_command("export_disclosure")
    assert nothing.value.returncode == 2
    with pytest.raises(CommandError, match="日期格式不正确"):
        call_command("export_disclosure", "--since", "2026-13-01")
    with pytest.raises(CommandError, match=r"\.xlsx"):
        call_command("export_disclosure", "--output", str(tmp_path / "x.csv"))
    existing = tmp_path / "exists.xlsx"
    existing.write_bytes(b"x")
    make_record()
    with pytest.raises(CommandError, match="不覆盖"):
        call_command("export_disclosure", "--output", str(existing))
    assert ExportBatch.objects.count() == 0  # checked before anything is written
